"""Stored transcripts as files: txt, srt, vtt, json (the shared formatter in ``formats``), and csv,
docx and pdf documents made here.

The documents carry a title, the date, duration, language and speakers, then the transcript as
timestamped, speaker-labelled paragraphs. The PDF embeds subsets of Noto Sans and Noto Sans CJK
(see ``fonts``): accented Latin, Greek, Cyrillic, Chinese, Japanese and Korean read the same on
any machine, and the text can be extracted and searched.
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

from vocable.languages import WHISPER_LANGUAGES
from vocable.results import Segment, Transcription
from vocable.transcription import formats
from vocable.transcription.fonts import pdf_fonts

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
    text = "\n".join(
        [info.title, *(f"{k}: {v}" for k, v in meta)]
        + [f"[{clock(p.start)}] {p.speaker or ''} {p.text}" for p in paras]
    )
    fonts = pdf_fonts(text, transcription.language)
    pdf = FPDF(format="A4")
    pdf.set_title(info.title)
    pdf.set_creation_date(info.created_at)
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.set_margins(20, 18, 20)
    with tempfile.TemporaryDirectory(prefix="vocable-pdf-") as tmp:
        # fpdf2 reads fonts from files; they are read in full here, so the directory can go.
        for family, style, data in (
            ("sans", "", fonts.regular), ("sans", "B", fonts.bold), ("cjk", "", fonts.fallback),
        ):
            if data is not None:
                path = Path(tmp) / f"{family}{style}.ttf"
                path.write_bytes(data)
                pdf.add_font(family, style, str(path))
        if fonts.fallback is not None:
            pdf.set_fallback_fonts(["cjk"], exact_match=False)
        pdf.add_page()
        pdf.set_font("sans", "B", size=20)
        pdf.multi_cell(0, 10, info.title, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
        pdf.set_text_color(80, 80, 80)
        for label, value in meta:
            pdf.set_font("sans", "B", size=10)
            pdf.cell(24, 5.5, label)
            pdf.set_font("sans", "", size=10)
            pdf.multi_cell(0, 5.5, value, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
        pdf.set_draw_color(200, 200, 200)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
        pdf.ln(4)
        for p in paras:
            pdf.set_text_color(110, 110, 110)
            pdf.set_font("sans", "", size=9)
            pdf.cell(18, 5, f"[{clock(p.start)}]")
            pdf.set_font("sans", "B", size=9)
            pdf.multi_cell(0, 5, p.speaker or "", new_x="LMARGIN", new_y="NEXT")
            pdf.set_text_color(0, 0, 0)
            pdf.set_font("sans", "", size=11)
            pdf.multi_cell(0, 6, p.text, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(3)
        return bytes(pdf.output())
