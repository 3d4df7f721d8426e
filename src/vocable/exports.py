"""Stored transcripts as files: txt, srt, vtt, json (the shared formatter in ``formats``), and csv,
docx and pdf documents made here.

The documents carry a title, the date, duration, language and speakers, then the transcript as
timestamped, speaker-labelled paragraphs. The PDF embeds a subset of Noto Sans CJK (shipped by the
``noto-cjk-sans-otc`` PyPI package), which covers Latin with accents, Greek, Cyrillic, Chinese,
Japanese and Korean, so it reads the same on any machine and its text can be extracted.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from vocable import formats
from vocable.languages import WHISPER_LANGUAGES
from vocable.results import Segment, Transcription

DOCUMENT_FORMATS = ("csv", "docx", "pdf")
EXPORT_FORMATS = tuple(formats.FORMATS) + DOCUMENT_FORMATS
MEDIA_TYPES: dict[str, str] = {
    **formats.CONTENT_TYPES,
    "csv": "text/csv; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}
CSV_COLUMNS = ("start", "end", "speaker", "text", "confidence")
# A paragraph of a document is one speaker's turn, cut after this long so that a monologue still
# gets a timestamp now and then.
PARAGRAPH_MAX_S = 60.0


class UnknownFormat(ValueError):
    def __init__(self, fmt: str):
        super().__init__(f"Unknown export format '{fmt}'. Use one of: {', '.join(EXPORT_FORMATS)}.")


@dataclass(frozen=True)
class TranscriptInfo:
    """What a document says about its transcript besides the transcription itself."""

    id: str
    filename: str
    created_at: datetime

    @property
    def title(self) -> str:
        return Path(self.filename).stem if self.filename else f"Transcript {self.id[:8]}"


@dataclass(frozen=True)
class Export:
    content: bytes
    media_type: str
    filename: str

    @property
    def content_disposition(self) -> str:
        """attachment with an ASCII ``filename`` for old clients and the exact UTF-8 ``filename*``."""
        fallback = _ascii_name(self.filename)
        return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(self.filename)}"


@dataclass(frozen=True)
class Paragraph:
    start: float
    end: float
    speaker: str | None
    text: str


def export(info: TranscriptInfo, transcription: Transcription, fmt: str) -> Export:
    fmt = fmt.lower()
    if fmt in formats.FORMATS:
        content = formats.render(transcription, fmt).encode("utf-8")
    elif fmt == "csv":
        content = to_csv(transcription).encode("utf-8")
    elif fmt == "docx":
        content = to_docx(info, transcription)
    elif fmt == "pdf":
        content = to_pdf(info, transcription)
    else:
        raise UnknownFormat(fmt)
    return Export(content, MEDIA_TYPES[fmt], download_name(info, fmt))


def download_name(info: TranscriptInfo, fmt: str) -> str:
    stem = re.sub(r"[^\w\-. ]+", "", Path(info.filename).stem).strip(" .")
    stem = re.sub(r"\s+", "-", stem)[:100] or f"transcript-{info.id[:8]}"
    return f"{stem}.{fmt}"


def _ascii_name(name: str) -> str:
    """The ``filename`` fallback: accents dropped, other non-ASCII characters removed."""
    path = Path(name)
    stem = unicodedata.normalize("NFKD", path.stem).encode("ascii", "ignore").decode()
    stem = re.sub(r"[^A-Za-z0-9\-_.]+", "", stem).strip("-_.")
    return f"{stem or 'transcript'}{path.suffix}"


# -- shared document content ---------------------------------------------------------------------
def paragraphs(transcription: Transcription) -> list[Paragraph]:
    """Consecutive segments of one speaker joined, a new paragraph every PARAGRAPH_MAX_S."""
    out: list[Paragraph] = []
    current: list[Segment] = []
    for segment in transcription.segments:
        if not segment.text.strip():
            continue
        if current and (
            segment.speaker != current[0].speaker or segment.end - current[0].start > PARAGRAPH_MAX_S
        ):
            out.append(_paragraph(current))
            current = []
        current.append(segment)
    if current:
        out.append(_paragraph(current))
    return out


def _paragraph(segments: list[Segment]) -> Paragraph:
    text = " ".join(s.text.strip() for s in segments)
    return Paragraph(segments[0].start, segments[-1].end, segments[0].speaker, text)


def clock(seconds: float) -> str:
    total = int(seconds)
    return f"{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"


def language_name(code: str) -> str:
    name = WHISPER_LANGUAGES.get(code)
    return f"{name.title()} ({code})" if name else (code or "unknown")


def metadata(info: TranscriptInfo, transcription: Transcription) -> list[tuple[str, str]]:
    return [
        ("Date", info.created_at.strftime("%Y-%m-%d %H:%M UTC")),
        ("Duration", clock(transcription.duration)),
        ("Language", language_name(transcription.language)),
        ("Speakers", ", ".join(transcription.speakers) or "not identified"),
    ]


# -- csv -----------------------------------------------------------------------------------------
def to_csv(transcription: Transcription) -> str:
    """One row per segment; times in seconds, confidence 0..1."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for s in transcription.segments:
        writer.writerow(
            [f"{s.start:.3f}", f"{s.end:.3f}", s.speaker or "", s.text.strip(), f"{s.confidence:.3f}"]
        )
    return buffer.getvalue()


# -- docx ----------------------------------------------------------------------------------------
def to_docx(info: TranscriptInfo, transcription: Transcription) -> bytes:
    from docx import Document
    from docx.shared import Pt, RGBColor

    doc = Document()
    doc.core_properties.title = info.title
    doc.core_properties.created = info.created_at
    doc.core_properties.language = transcription.language
    doc.add_heading(info.title, level=0)
    table = doc.add_table(rows=0, cols=2)
    for label, value in metadata(info, transcription):
        cells = table.add_row().cells
        cells[0].paragraphs[0].add_run(label).bold = True
        cells[1].text = value
    doc.add_heading("Transcript", level=1)
    for p in paragraphs(transcription):
        para = doc.add_paragraph()
        stamp = para.add_run(f"[{clock(p.start)}] ")
        stamp.font.color.rgb = RGBColor(0x66, 0x66, 0x66)
        stamp.font.size = Pt(9)
        if p.speaker:
            para.add_run(f"{p.speaker}: ").bold = True
        para.add_run(p.text)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


# -- pdf -----------------------------------------------------------------------------------------
def to_pdf(info: TranscriptInfo, transcription: Transcription) -> bytes:
    from fpdf import FPDF

    paras = paragraphs(transcription)
    meta = metadata(info, transcription)
    text = " ".join([info.title, "Transcript", *(f"{k}: {v}" for k, v in meta)] + [
        f"[{clock(p.start)}] {p.speaker or ''}: {p.text}" for p in paras
    ])
    pdf = FPDF(format="A4")
    pdf.set_title(info.title)
    pdf.set_creation_date(info.created_at)
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.set_margins(20, 18, 20)
    with tempfile.TemporaryDirectory(prefix="vocable-pdf-") as tmp:
        font_path = Path(tmp) / "font.ttf"
        font_path.write_bytes(unicode_font_subset(text, transcription.language))
        pdf.add_font("body", "", str(font_path))
        pdf.add_page()
        pdf.set_font("body", size=20)
        pdf.multi_cell(0, 10, info.title, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
        pdf.set_font("body", size=10)
        pdf.set_text_color(80, 80, 80)
        for label, value in meta:
            pdf.multi_cell(0, 5.5, f"{label}: {value}", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
        pdf.set_draw_color(200, 200, 200)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
        pdf.ln(4)
        for p in paras:
            pdf.set_font("body", size=9)
            pdf.set_text_color(110, 110, 110)
            label = f"[{clock(p.start)}]" + (f"  {p.speaker}" if p.speaker else "")
            pdf.multi_cell(0, 5, label, new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("body", size=11)
            pdf.set_text_color(0, 0, 0)
            pdf.multi_cell(0, 6, p.text, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(3)
        return bytes(pdf.output())


# Noto Sans CJK collection: JP, KR, SC, TC, HK faces share Latin/Cyrillic glyphs and differ in how
# Han characters are drawn; pick the face the language expects.
_CJK_FACE = {"ja": 0, "ko": 1, "zh": 2, "yue": 4}
_DEFAULT_FACE = 2


def _noto_cjk_path() -> Path:
    import noto_cjk_sans_otc

    return Path(noto_cjk_sans_otc.__file__).parent / "NotoSansCJK-Regular.ttc"


def unicode_font_subset(text: str, language: str = "") -> bytes:
    """A TrueType font with the glyphs ``text`` needs (plus printable ASCII).

    Noto Sans CJK ships with CFF (PostScript) outlines; PDF text extractors handle those poorly
    when embedded, so the subset is converted to TrueType outlines (fontTools' otf2ttf recipe):
    the PDF then uses plain CIDFontType2/Identity-H that every reader understands.
    """
    from fontTools import subset
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTFont, newTable

    font = TTFont(str(_noto_cjk_path()), fontNumber=_CJK_FACE.get(language, _DEFAULT_FACE), lazy=True)
    options = subset.Options()
    options.notdef_outline = True
    options.desubroutinize = True
    options.name_IDs = ["*"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=text + "".join(chr(c) for c in range(32, 127)) + "…")
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
    font["maxp"] = maxp  # recomputed from glyf when saved
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
    buffer = io.BytesIO()
    font.save(buffer)
    return buffer.getvalue()
