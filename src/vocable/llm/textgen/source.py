"""What the LLM reads: a ``Source`` of passages (plain text cut into sentences, or a stored
transcript's segments with times and speakers), and the [mm:ss] clock it is shown with."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from vocable.llm.grounding import sentences


class TextInputError(ValueError):
    """Input the endpoints refuse (empty text...): a 400."""


class NoContentError(TextInputError):
    """Text with nothing to summarize: a template's placeholder, lorem ipsum, dots."""


_PLACEHOLDER_TEXT = re.compile(
    r"^\W*(?:\[[^\]]*\]|<[^>]*>|\{[^}]*\})\W*$"  # "[transcript goes here]", "<text>"
    r"|\b(?:(?:full |your |the |insert |paste |put )?(?:transcript|text|content)(?: text)?"
    r" (?:goes )?here|lorem ipsum|placeholder|sample text|todo|tbd|insert (?:text|transcript))\b",
    re.IGNORECASE,
)


def no_content(text: str) -> str | None:
    """Why the text has nothing a summary could be about (None: it has content)."""
    words = re.findall(r"[A-Za-z]{2,}", text)
    if not words:
        return "the text has no words"
    if len(words) <= 8 and _PLACEHOLDER_TEXT.search(text):
        return f"it is a placeholder ({text.strip()[:60]!r}), not a transcript"
    if re.search(r"\blorem ipsum\b", text, re.IGNORECASE):
        return "it is placeholder text (lorem ipsum), not a transcript"
    return None


@dataclass
class Passage:
    text: str
    start: float | None = None
    speaker: str | None = None
    order: int | None = None  # segment order in a stored transcript


@dataclass
class Source:
    passages: list[Passage]
    timed: bool = False  # passages carry times (stored transcript)
    speakers: bool = False  # more than one speaker is labelled

    @classmethod
    def from_text(cls, text: str) -> Source:
        text = text.strip()
        if not text:
            raise TextInputError("'text' must not be empty.")
        reason = no_content(text)
        if reason:
            raise NoContentError(f"The text has no content to work on: {reason}.")
        return cls([Passage(s) for s in sentences(text)] or [Passage(text)])

    @classmethod
    def from_segments(cls, segments: Sequence[dict[str, Any]]) -> Source:
        passages = [
            Passage(
                str(seg.get("text") or "").strip(),
                float(seg.get("start") or 0.0),
                seg.get("speaker") or None,
                order,
            )
            for order, seg in enumerate(segments)
            if str(seg.get("text") or "").strip()
        ]
        if not passages:
            raise TextInputError("The transcript has no text.")
        reason = no_content(" ".join(p.text for p in passages))
        if reason:
            raise NoContentError(f"The transcript has no content to work on: {reason}.")
        labelled = {p.speaker for p in passages if p.speaker}
        return cls(passages, timed=True, speakers=len(labelled) > 1)

    @property
    def text(self) -> str:
        return " ".join(p.text for p in self.passages)

    def render(self, passages: Sequence[Passage] | None = None) -> str:
        """The text the model reads: one line per segment with [mm:ss] and speaker when known."""
        passages = self.passages if passages is None else passages
        if not self.timed:
            return " ".join(p.text for p in passages)
        lines = []
        for p in passages:
            who = f"{p.speaker}: " if self.speakers and p.speaker else ""
            lines.append(f"[{clock(p.start or 0.0)}] {who}{p.text}")
        return "\n".join(lines)


def clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def parse_clock(value: str) -> float | None:
    parts = value.strip().strip("[]").split(":")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        return None
    if not 2 <= len(numbers) <= 3:
        return None
    total = 0.0
    for n in numbers:
        total = total * 60 + n
    return total
