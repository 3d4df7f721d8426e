"""Fonts embedded in PDF exports, all from PyPI packages (nothing from the system):

* Noto Sans (``fontpkg-noto-sans``): Latin with every accent, Greek, Cyrillic; a variable font,
  cut here into static regular and bold instances;
* Noto Sans CJK (``noto-cjk-sans-otc``): Chinese, Japanese, Korean, used only when the text has
  characters that Noto Sans lacks.

Each document gets subsets holding just the glyphs its text needs, so building them stays around
a second and the PDF stays small.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont, newTable
from fontTools.varLib import instancer

# Always present, whatever the text: digits, punctuation and the labels of the document.
BASE_CHARS = "".join(chr(c) for c in range(32, 127)) + "…–—·"

# Noto Sans CJK faces in the collection share their Latin glyphs and differ in how Han characters
# are drawn; pick the face the language expects.
_CJK_FACE = {"ja": 0, "ko": 1, "zh": 2, "yue": 4}
_DEFAULT_CJK_FACE = 2


@dataclass(frozen=True)
class PdfFonts:
    regular: bytes
    bold: bytes
    fallback: bytes | None  # CJK, when the text needs it


def noto_sans_path() -> Path:
    import fontpkg

    return Path(fontpkg.path("Noto Sans"))


def noto_cjk_path() -> Path:
    import noto_cjk_sans_otc

    return Path(noto_cjk_sans_otc.__file__).parent / "NotoSansCJK-Regular.ttc"


@lru_cache(maxsize=1)
def _noto_sans_chars() -> frozenset[str]:
    return frozenset(chr(c) for c in TTFont(str(noto_sans_path()), lazy=True).getBestCmap())


def pdf_fonts(text: str, language: str = "") -> PdfFonts:
    chars = set(text) | set(BASE_CHARS)
    covered = {c for c in chars if c in _noto_sans_chars()}
    missing = {c for c in chars - covered if not c.isspace() and c.isprintable()}
    regular, bold = _static_instances("".join(sorted(covered)), (400, 700))
    fallback = _cjk_truetype("".join(sorted(missing)), language) if missing else None
    return PdfFonts(regular, bold, fallback)


def _static_instances(text: str, weights: tuple[int, ...]) -> list[bytes]:
    """Subset the variable font once (the slow part), then cut one static font per weight."""
    font = TTFont(str(noto_sans_path()))
    options = subset.Options()
    options.notdef_outline = True
    options.name_IDs = ["*"]
    options.hinting = False  # PDF viewers do their own rendering
    options.layout_features = ["kern", "liga", "ccmp", "mark", "mkmk"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=text)
    subsetter.subset(font)
    subset_bytes = _save(font)
    out = []
    for weight in weights:
        static = instancer.instantiateVariableFont(
            TTFont(io.BytesIO(subset_bytes)), {"wght": weight, "wdth": 100}
        )
        out.append(_save(static))
    return out


def _cjk_truetype(text: str, language: str) -> bytes:
    """A Noto Sans CJK subset with TrueType outlines.

    The CJK fonts ship with CFF (PostScript) outlines, which fpdf2 embeds in a way common PDF
    text extractors cannot read; converted to TrueType outlines (fontTools' otf2ttf recipe) the
    subset is embedded as plain CIDFontType2/Identity-H, which every reader understands.
    """
    font = TTFont(str(noto_cjk_path()), fontNumber=_CJK_FACE.get(language, _DEFAULT_CJK_FACE), lazy=True)
    options = subset.Options()
    options.notdef_outline = True
    options.desubroutinize = True
    options.name_IDs = ["*"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=text + BASE_CHARS)
    subsetter.subset(font)

    order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyph_set)
        # 1 font unit of tolerance; CFF contours run the other way round from TrueType ones.
        glyph_set[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
        glyf[name] = pen.glyph()
    font["glyf"] = glyf
    font["loca"] = newTable("loca")
    maxp = newTable("maxp")
    maxp.tableVersion = 0x00010000
    for attr in (
        "numGlyphs", "maxPoints", "maxContours", "maxCompositePoints", "maxCompositeContours",
        "maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
        "maxStackElements", "maxSizeOfInstructions", "maxComponentElements", "maxComponentDepth",
    ):
        setattr(maxp, attr, 0)
    maxp.maxZones = 1
    font["maxp"] = maxp  # the counts are recomputed from glyf when saved
    for tag in ("CFF ", "VORG"):
        if tag in font:
            del font[tag]
    font["head"].glyphDataFormat = 0
    post = font["post"]
    post.formatType = 2.0
    post.extraNames = []
    post.mapping = {}
    post.glyphOrder = order
    font.sfntVersion = "\x00\x01\x00\x00"
    return _save(font)


def _save(font: TTFont) -> bytes:
    buffer = io.BytesIO()
    font.save(buffer)
    return buffer.getvalue()
