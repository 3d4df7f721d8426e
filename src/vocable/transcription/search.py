"""Search over every transcript of an account (GET /api/v1/search/?q=): by words and by meaning.

* **Words**: SQL narrows the transcripts to those whose text holds every term of the query (LIKE,
  on SQLite and PostgreSQL alike); then each segment is matched in Python: the whole phrase
  (score 1) or every term (score 0.8), case- and punctuation-insensitively, at word boundaries.
* **Meaning**: the query's MiniLM vector against the segment embeddings chat already stores
  (``llm.chat.segment_vectors``: computed once per transcript, refreshed by text hash after an
  edit), cosine similarity, above ``MIN_MEANING_SCORE``.

A hit names the transcript, the segment (its index, as PATCH and chat name it), its start time
(the first matched word's start, so the page opens the audio there), the speaker, the segment's
text and the character ranges to highlight in that text.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import func, select

from vocable.llm.chat import segment_vectors
from vocable.llm.embed import Embedder
from vocable.storage.db import Database
from vocable.storage.models import Transcript
from vocable.transcription.store import TranscriptFilter, where_clauses

MODES = ("all", "words", "meaning")
MAX_QUERY_CHARS = 500
MAX_LIMIT = 100
MIN_MEANING_SCORE = 0.35
# Meaning search reads the vectors of at most this many transcripts (the newest that match the
# filters); words search has no such bound (SQL narrows it first).
MAX_MEANING_TRANSCRIPTS = 500
_TERM = re.compile(r"[\w']+")


class SearchInputError(ValueError):
    """A query the endpoint refuses: a 400."""


@dataclass
class SearchHit:
    transcript_id: str
    filename: str
    created_at: datetime
    language: str
    segment: int
    start: float
    end: float
    speaker: str | None
    text: str
    highlights: list[tuple[int, int]]
    match: str  # "words" | "meaning"
    score: float
    word: int | None = None  # index of the first matched word in the segment's words

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["highlights"] = [list(h) for h in self.highlights]
        data["score"] = round(self.score, 4)
        return data


@dataclass
class SearchResult:
    query: str
    mode: str
    results: list[SearchHit] = field(default_factory=list)


def _terms(text: str) -> list[str]:
    return [t.lower() for t in _TERM.findall(text)]


def _spans(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group().lower()) for m in _TERM.finditer(text)]


def match_segment(text: str, terms: list[str]) -> tuple[float, list[tuple[int, int]]]:
    """(score, highlight ranges) of the query terms in a segment's text; score 0: no match."""
    if not terms:
        return 0.0, []
    spans = _spans(text)
    tokens = [t for _, _, t in spans]
    n = len(terms)
    phrase = [
        (spans[i][0], spans[i + n - 1][1]) for i in range(len(tokens) - n + 1)
        if tokens[i : i + n] == terms
    ]
    if phrase:
        return 1.0, phrase
    wanted = set(terms)
    if wanted <= set(tokens):
        return 0.8, [(a, b) for a, b, t in spans if t in wanted]
    return 0.0, []


def _word_at(segment: dict[str, Any], text: str, offset: int) -> tuple[int | None, float]:
    """The index and start of the segment's word at character ``offset`` of its text."""
    words = segment.get("words") or []
    index = len(text[:offset].split()) if offset else 0
    if text[:offset] and not text[:offset][-1].isspace():
        index -= 1  # the offset falls inside a word already counted
    if words and len(words) == len(text.split()) and 0 <= index < len(words):
        return index, float(words[index]["start"])
    return None, float(segment.get("start") or 0.0)


class TranscriptSearch:
    def __init__(self, db: Database, embedder: Embedder):
        self.db = db
        self.embedder = embedder

    def search(self, account_id: int, q: str, *, mode: str = "all",
               flt: TranscriptFilter | None = None, limit: int = 20) -> SearchResult:
        q = " ".join((q or "").split())
        if not q:
            raise SearchInputError("'q' must not be empty.")
        if len(q) > MAX_QUERY_CHARS:
            raise SearchInputError(f"'q' is too long (at most {MAX_QUERY_CHARS} characters).")
        if mode not in MODES:
            raise SearchInputError(f"Invalid mode '{mode}': use one of {', '.join(MODES)}.")
        flt = flt or TranscriptFilter()
        flt = TranscriptFilter(("completed",), *[getattr(flt, f) for f in (
            "language", "created_after", "created_before", "min_duration", "max_duration")])
        terms = _terms(q)
        hits: list[SearchHit] = []
        if mode in ("all", "words") and terms:
            hits += self._words(account_id, terms, flt)
        if mode in ("all", "meaning"):
            seen = {(h.transcript_id, h.segment) for h in hits}
            hits += [h for h in self._meaning(account_id, q, terms, flt)
                     if (h.transcript_id, h.segment) not in seen]
        hits.sort(key=lambda h: (h.match != "words", -h.score, -h.created_at.timestamp(), h.start))
        return SearchResult(q, mode, hits[:limit])

    # -- by words ---------------------------------------------------------------------------------
    def _words(self, account_id: int, terms: list[str], flt: TranscriptFilter) -> list[SearchHit]:
        where = where_clauses(account_id, flt)
        lowered = func.lower(Transcript.text)
        for term in dict.fromkeys(terms):
            escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            where.append(lowered.like(f"%{escaped}%", escape="\\"))
        with self.db.session() as s:
            rows = s.scalars(select(Transcript).where(*where)
                             .order_by(Transcript.created_at.desc())).all()
        hits = []
        for row in rows:
            for order, seg in enumerate(row.segments or []):
                text = str(seg.get("text") or "").strip()
                score, ranges = match_segment(text, terms)
                if score:
                    word, start = _word_at(seg, text, ranges[0][0])
                    hits.append(_hit(row, order, seg, text, ranges, "words", score, start, word))
        return hits

    # -- by meaning -------------------------------------------------------------------------------
    def _meaning(self, account_id: int, q: str, terms: list[str],
                 flt: TranscriptFilter) -> list[SearchHit]:
        with self.db.session() as s:
            rows = s.scalars(select(Transcript).where(*where_clauses(account_id, flt))
                             .order_by(Transcript.created_at.desc())
                             .limit(MAX_MEANING_TRANSCRIPTS)).all()
        if not rows:
            return []
        query = self.embedder.embed([q])[0]
        hits = []
        for row in rows:
            segments = list(row.segments or [])
            orders, matrix = segment_vectors(self.db, self.embedder, row.id, segments)
            if not orders:
                continue
            scores = matrix @ query
            for n in np.flatnonzero(scores >= MIN_MEANING_SCORE):
                order = orders[int(n)]
                seg = segments[order]
                text = str(seg.get("text") or "").strip()
                wanted = set(terms)
                ranges = [(a, b) for a, b, t in _spans(text) if t in wanted and len(t) > 3]
                hits.append(_hit(row, order, seg, text, ranges, "meaning", float(scores[n]),
                                 float(seg.get("start") or 0.0), None))
        return hits


def _hit(row: Transcript, order: int, seg: dict[str, Any], text: str,
         ranges: list[tuple[int, int]], match: str, score: float, start: float,
         word: int | None) -> SearchHit:
    return SearchHit(
        transcript_id=row.id, filename=row.filename, created_at=row.created_at,
        language=row.language, segment=order, start=round(start, 3),
        end=round(float(seg.get("end") or start), 3), speaker=seg.get("speaker"), text=text,
        highlights=ranges, match=match, score=score, word=word,
    )
