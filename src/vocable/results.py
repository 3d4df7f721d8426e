"""Small result types shared by the speech pipeline, the formatters and storage (as plain dicts)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Word:
    word: str
    start: float
    end: float
    probability: float = 1.0
    speaker: str | None = None


@dataclass
class Segment:
    start: float
    end: float
    text: str
    # Mean token probability of the segment (exp of faster-whisper's avg_logprob), 0..1.
    confidence: float = 1.0
    words: list[Word] = field(default_factory=list)
    speaker: str | None = None


@dataclass
class SpeakerTurn:
    """A stretch of audio attributed to one speaker by diarization (speaker ids are raw labels)."""

    start: float
    end: float
    speaker: str


@dataclass
class Transcription:
    text: str
    language: str
    duration: float
    segments: list[Segment]
    speakers: list[str] = field(default_factory=list)
    language_probability: float = 1.0
    model: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Transcription:
        segments = [
            Segment(**{**s, "words": [Word(**w) for w in s.get("words", [])]})
            for s in data.get("segments", [])
        ]
        return cls(**{**data, "segments": segments})
