"""The text under analysis: plain text, speaker-labelled lines, or a stored transcript's segments.

Every analysis reports character offsets into ``Document.text``. For a transcript that text is the
segments' texts joined with single spaces, and each result also names its segment and speaker, so a
client can point back into the transcript either way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

# "Alice: ..." lines; the name part stays short so ordinary prose with a colon is not taken for one.
_SPEAKER_LINE = re.compile(r"^\s*([A-Z][\w.'\- ]{0,30}?)\s*:\s+(\S.*)$")


@dataclass
class Segment:
    """One stretch of the document attributed to a speaker (a transcript segment or a labelled line)."""

    index: int
    text: str
    start_char: int
    end_char: int
    speaker: str | None = None
    start: float | None = None  # seconds, for transcripts
    end: float | None = None


@dataclass
class Unit:
    """A sentence, never crossing a segment boundary: what per-sentence results are about."""

    text: str
    start_char: int
    end_char: int
    segment: int | None = None
    speaker: str | None = None


@dataclass
class Document:
    text: str
    segments: list[Segment] = field(default_factory=list)
    language: str | None = None
    source: str = "text"  # "text" | "labelled" | "transcript"

    @property
    def has_speakers(self) -> bool:
        return any(s.speaker for s in self.segments)

    @property
    def speakers(self) -> list[str]:
        seen: dict[str, None] = {}
        for seg in self.segments:
            if seg.speaker:
                seen.setdefault(seg.speaker)
        return list(seen)

    def segment_at(self, char: int) -> Segment | None:
        for seg in self.segments:
            if seg.start_char <= char < seg.end_char:
                return seg
        return None

    def within_one_segment(self, start: int, end: int) -> bool:
        seg = self.segment_at(start)
        return seg is not None and end <= seg.end_char

    # -- constructors ----------------------------------------------------------------------------
    @classmethod
    def from_text(cls, text: str, language: str | None = None) -> Document:
        """Plain text; lines that all look like ``Name: words`` become speaker turns.

        Offsets stay those of the text as sent: a turn's segment covers the words after the label.
        """
        segments: list[Segment] = []
        pos = 0
        for line in text.splitlines(keepends=True):
            if line.strip():
                match = _SPEAKER_LINE.match(line.rstrip("\r\n"))
                if match is None:
                    segments = []
                    break
                body = match.group(2).rstrip()
                start = pos + match.start(2)
                segments.append(Segment(len(segments), body, start, start + len(body),
                                        match.group(1).strip()))
            pos += len(line)
        if len(segments) >= 2:
            return cls(text=text, segments=segments, language=language, source="labelled")
        return cls(text=text, language=language)

    @classmethod
    def from_segments(cls, segments: Iterable[dict[str, Any]], language: str | None = None) -> Document:
        """A stored transcript's ``segments`` (dicts with text, speaker, start, end)."""
        parts = [
            (seg.get("speaker") or None, str(seg.get("text", "")).strip(), seg.get("start"), seg.get("end"))
            for seg in segments
        ]
        return cls._from_parts([p for p in parts if p[1]], language, source="transcript")

    @classmethod
    def _from_parts(cls, parts, language, source: str) -> Document:
        pieces: list[str] = []
        segments: list[Segment] = []
        pos = 0
        for i, (speaker, text, start, end) in enumerate(parts):
            if pieces:
                pos += 1  # the joining space
            segments.append(Segment(i, text, pos, pos + len(text), speaker, start, end))
            pieces.append(text)
            pos += len(text)
        return cls(text=" ".join(pieces), segments=segments, language=language, source=source)


def units_from_sentences(doc: Document, sentence_spans: list[tuple[int, int]]) -> list[Unit]:
    """Cut sentence spans at segment boundaries (a sentence never spans two speakers)."""
    text = doc.text
    units: list[Unit] = []

    def add(start: int, end: int, seg: Segment | None) -> None:
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            units.append(Unit(text[start:end], start, end,
                              seg.index if seg else None, seg.speaker if seg else None))

    for start, end in sentence_spans:
        if not doc.segments:
            add(start, end, None)
            continue
        for seg in doc.segments:
            lo, hi = max(start, seg.start_char), min(end, seg.end_char)
            if lo < hi:
                add(lo, hi, seg)
    return units


@dataclass
class Parsed:
    """A document after one spaCy pass: every analysis of a request reads from this."""

    doc: Document
    spacy_doc: Any
    units: list[Unit]


def parse(toolkit, doc: Document) -> Parsed:
    spacy_doc = toolkit.parse(doc.text)
    spans = [(s.start_char, s.end_char) for s in spacy_doc.sents]
    return Parsed(doc, spacy_doc, units_from_sentences(doc, spans))
