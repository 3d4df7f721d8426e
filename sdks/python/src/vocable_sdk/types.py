"""Typed results. Each keeps the full JSON it came from in ``raw``: the server may add fields
(the contract only promises never to remove or rename), and those stay reachable there."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal


def _dt(value: Any) -> datetime | None:
    if not value:
        return None
    if isinstance(value, datetime):
        return value
    text = str(value)
    if text.endswith("Z"):  # fromisoformat takes "Z" only from Python 3.11
        text = text[:-1] + "+00:00"
    return datetime.fromisoformat(text)


def _f(value: Any) -> float | None:
    return None if value is None else float(value)


# -- transcription ---------------------------------------------------------------------------------
@dataclass
class Word:
    word: str
    start: float
    end: float
    probability: float | None = None
    speaker: str | None = None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Word:
        return cls(
            word=d.get("word", ""),
            start=float(d.get("start", 0.0)),
            end=float(d.get("end", 0.0)),
            probability=_f(d.get("probability")),
            speaker=d.get("speaker"),
        )


@dataclass
class Segment:
    start: float
    end: float
    text: str
    speaker: str | None = None
    confidence: float | None = None
    words: list[Word] = field(default_factory=list)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Segment:
        return cls(
            start=float(d.get("start", 0.0)),
            end=float(d.get("end", 0.0)),
            text=d.get("text", ""),
            speaker=d.get("speaker"),
            confidence=_f(d.get("confidence")),
            words=[Word.from_dict(w) for w in d.get("words") or []],
        )


@dataclass(kw_only=True)
class Transcription:
    """The JSON answer of ``POST /v1/transcribe``. ``id`` is set when the call used an API key
    (the transcript is then stored in the account)."""

    text: str = ""
    language: str | None = None
    duration: float = 0.0
    segments: list[Segment] = field(default_factory=list)
    speakers: list[str] = field(default_factory=list)
    language_probability: float | None = None
    model: str | None = None
    id: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @staticmethod
    def _fields(d: dict[str, Any]) -> dict[str, Any]:
        return {
            "text": d.get("text") or "",
            "language": d.get("language"),
            "duration": float(d.get("duration") or 0.0),
            "segments": [Segment.from_dict(s) for s in d.get("segments") or []],
            "speakers": list(d.get("speakers") or []),
            "language_probability": _f(d.get("language_probability")),
            "model": d.get("model"),
            "id": d.get("id"),
            "raw": d,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Transcription:
        return cls(**cls._fields(d))


TranscriptStatus = Literal["queued", "processing", "completed", "failed"]


@dataclass
class TranscriptionJob:
    """The 202 answer of ``transcribe(..., async_=True)``: poll it with ``transcripts.wait(id)``."""

    id: str
    status: str
    url: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TranscriptionJob:
        return cls(id=d["id"], status=d.get("status", "queued"), url=d.get("url"), raw=d)


@dataclass(kw_only=True)
class Transcript(Transcription):
    """A stored transcript (``GET /api/v1/transcripts/:id/``): the transcription plus its job."""

    id: str
    status: str = "completed"
    error: str | None = None
    filename: str | None = None
    created_at: datetime | None = None
    completed_at: datetime | None = None
    options: dict[str, Any] = field(default_factory=dict)
    # Edits (PATCH): the last one's time, a counter each edit raises, whether audio is kept.
    updated_at: datetime | None = None
    version: int = 0
    has_audio: bool = False
    # After an edit: the indexes of the segments whose text changed.
    changed_segments: list[int] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return self.status in ("completed", "failed")

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Transcript:
        return cls(
            **cls._fields(d),
            status=d.get("status", "completed"),
            error=d.get("error"),
            filename=d.get("filename"),
            created_at=_dt(d.get("created_at")),
            completed_at=_dt(d.get("completed_at")),
            options=dict(d.get("options") or {}),
            updated_at=_dt(d.get("updated_at")),
            version=int(d.get("version") or 0),
            has_audio=bool(d.get("has_audio")),
            changed_segments=list(d.get("changed_segments") or []),
        )


@dataclass
class TranscriptSummary:
    """One item of a transcript listing (no segments; ``preview`` is the start of the text)."""

    id: str
    status: str
    error: str | None = None
    filename: str | None = None
    language: str | None = None
    duration: float | None = None
    model: str | None = None
    speakers: Any = None
    created_at: datetime | None = None
    completed_at: datetime | None = None
    preview: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TranscriptSummary:
        return cls(
            id=d["id"],
            status=d.get("status", ""),
            error=d.get("error") or None,
            filename=d.get("filename"),
            language=d.get("language"),
            duration=_f(d.get("duration")),
            model=d.get("model"),
            speakers=d.get("speakers"),
            created_at=_dt(d.get("created_at")),
            completed_at=_dt(d.get("completed_at")),
            preview=d.get("preview") or "",
            raw=d,
        )


@dataclass
class TranscriptPage:
    count: int
    page: int
    page_size: int
    results: list[TranscriptSummary]
    next: str | None = None
    previous: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def has_next(self) -> bool:
        return self.next is not None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TranscriptPage:
        return cls(
            count=int(d.get("count", 0)),
            page=int(d.get("page", 1)),
            page_size=int(d.get("page_size", 0)),
            results=[TranscriptSummary.from_dict(r) for r in d.get("results") or []],
            next=d.get("next"),
            previous=d.get("previous"),
            raw=d,
        )


# -- account ---------------------------------------------------------------------------------------
@dataclass
class PlanLimits:
    max_upload_mb: int | None = None
    concurrent_jobs: int | None = None
    requests_per_minute: int | None = None


@dataclass
class Account:
    id: int | str
    email: str | None
    plan: str
    credits: int = 0
    name: str | None = None
    uses_credits: bool = False
    month: str | None = None
    minutes_used: int = 0
    minutes_left: int | None = None
    monthly_minutes: int | None = None
    limits: PlanLimits = field(default_factory=PlanLimits)
    email_preferences: dict[str, bool] = field(default_factory=dict)
    created_at: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Account:
        limits = d.get("limits") or {}
        return cls(
            id=d.get("id", ""),
            email=d.get("email"),
            plan=d.get("plan", ""),
            credits=int(d.get("credits") or 0),
            name=d.get("name"),
            uses_credits=bool(d.get("uses_credits")),
            month=d.get("month"),
            minutes_used=int(d.get("minutes_used") or 0),
            minutes_left=d.get("minutes_left"),
            monthly_minutes=d.get("monthly_minutes"),
            limits=PlanLimits(
                **{
                    k: limits.get(k)
                    for k in ("max_upload_mb", "concurrent_jobs", "requests_per_minute")
                }
            ),
            email_preferences=dict(d.get("email_preferences") or {}),
            created_at=_dt(d.get("created_at")),
            raw=d,
        )


@dataclass
class ApiKey:
    id: str
    name: str
    prefix: str
    active: bool = True
    created_at: datetime | None = None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @staticmethod
    def _fields(d: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": d["id"],
            "name": d.get("name", ""),
            "prefix": d.get("prefix", ""),
            "active": bool(d.get("active", True)),
            "created_at": _dt(d.get("created_at")),
            "last_used_at": _dt(d.get("last_used_at")),
            "revoked_at": _dt(d.get("revoked_at")),
            "raw": d,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ApiKey:
        return cls(**cls._fields(d))


@dataclass
class CreatedApiKey(ApiKey):
    """A new key. ``key`` is the raw secret: the server shows it this once only."""

    key: str = ""

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CreatedApiKey:
        return cls(**cls._fields(d), key=d.get("key", ""))


@dataclass
class UsageDay:
    date: str | None
    audio_minutes: int = 0
    transcriptions: int = 0
    requests: int = 0
    credits_spent: int = 0
    requests_by_endpoint: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> UsageDay:
        return cls(
            date=d.get("date"),
            audio_minutes=int(d.get("audio_minutes") or 0),
            transcriptions=int(d.get("transcriptions") or 0),
            requests=int(d.get("requests") or 0),
            credits_spent=int(d.get("credits_spent") or 0),
            requests_by_endpoint=dict(d.get("requests_by_endpoint") or {}),
        )


@dataclass
class Usage:
    start: str
    end: str
    days: list[UsageDay]
    totals: UsageDay
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Usage:
        return cls(
            start=d.get("start", ""),
            end=d.get("end", ""),
            days=[UsageDay.from_dict(x) for x in d.get("days") or []],
            totals=UsageDay.from_dict({"date": None, **(d.get("totals") or {})}),
            raw=d,
        )


# -- meta ------------------------------------------------------------------------------------------
@dataclass
class Model:
    id: str
    name: str = ""
    languages: int | None = None
    speed: str | None = None
    installed: bool | None = None
    default: bool | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Model:
        return cls(
            id=d["id"],
            name=d.get("name", ""),
            languages=d.get("languages"),
            speed=d.get("speed"),
            installed=d.get("installed"),
            default=d.get("default"),
            raw=d,
        )


@dataclass
class Language:
    code: str
    name: str


@dataclass
class Health:
    status: str
    gpu_available: bool = False
    gpu_name: str | None = None
    gpu_memory_mb: int | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Health:
        return cls(
            status=d.get("status", ""),
            gpu_available=bool(d.get("gpu_available")),
            gpu_name=d.get("gpu_name"),
            gpu_memory_mb=d.get("gpu_memory_mb"),
            raw=d,
        )


# -- text AI ---------------------------------------------------------------------------------------
SummaryStyle = Literal["brief", "detailed", "action_items", "bullet_points"]
GenerateType = Literal[
    "blog_post",
    "social_media",
    "newsletter",
    "key_quotes",
    "show_notes",
    "meeting_notes",
    "study_guide",
    "flashcards",
    "quiz",
    "chapter_markers",
]
AnalysisType = Literal["sentiment", "topics", "entities", "action_items", "questions", "pii_redact"]
ExportFormat = Literal["txt", "srt", "vtt", "json", "csv", "docx", "pdf"]


@dataclass
class Summary:
    summary: str
    style: str
    model: str | None = None
    # style "action_items" only: the items the summary lists, as structured data.
    action_items: list[dict[str, Any]] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Summary:
        return cls(
            summary=d.get("summary", ""),
            style=d.get("style", ""),
            model=d.get("model"),
            action_items=d.get("action_items"),
            raw=d,
        )


@dataclass
class Generation:
    """Generated content. ``content`` is the text (markdown for prose types, a readable rendering
    for structured ones); structured types (flashcards, quiz, key_quotes, chapter_markers) also
    give their validated JSON in ``result``."""

    type: str
    content: str
    result: dict[str, Any] | None = None
    model: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Generation:
        result = d.get("result")
        return cls(
            type=d.get("type", ""),
            content=d.get("content") or "",
            result=result if isinstance(result, dict) else None,
            model=d.get("model"),
            raw=d,
        )


@dataclass
class Analysis:
    """``result``'s shape depends on ``type`` (see the server's documentation per type)."""

    type: str
    result: Any
    language: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Analysis:
        return cls(
            type=d.get("type", ""), result=d.get("result"), language=d.get("language"), raw=d
        )


@dataclass
class Translation:
    translated_text: str
    source_language: str | None = None
    target_language: str | None = None
    backend: str | None = None
    model: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Translation:
        return cls(
            translated_text=d.get("translated_text", ""),
            source_language=d.get("source_language"),
            target_language=d.get("target_language"),
            backend=d.get("backend"),
            model=d.get("model"),
            raw=d,
        )


@dataclass
class Embeddings:
    embeddings: list[list[float]]
    dimensions: int
    model: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Embeddings:
        embeddings = d.get("embeddings") or []
        dims = d.get("dimensions") or (len(embeddings[0]) if embeddings else 0)
        return cls(embeddings=embeddings, dimensions=int(dims), model=d.get("model"), raw=d)


@dataclass
class ChatSource:
    """A transcript segment the answer was drawn from."""

    segment_order: int
    text: str
    score: float | None = None
    start: float | None = None
    speaker: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class ChatAnswer:
    answer: str
    sources: list[ChatSource]
    # Pass it back (``session_id=``) to continue the conversation.
    session_id: str | None = None
    # False when the transcript does not contain the answer (``answer`` then says so).
    answered: bool | None = None
    model: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ChatAnswer:
        sources = [
            ChatSource(
                segment_order=int(s.get("segment_order", 0)),
                text=s.get("text", ""),
                score=_f(s.get("score")),
                start=_f(s.get("start")),
                speaker=s.get("speaker"),
                raw=s,
            )
            for s in d.get("sources") or []
        ]
        return cls(
            answer=d.get("answer", ""),
            sources=sources,
            session_id=d.get("session_id"),
            answered=d.get("answered"),
            model=d.get("model"),
            raw=d,
        )


# -- streaming -------------------------------------------------------------------------------------
StreamEventType = Literal["partial", "final", "done"]


@dataclass
class StreamEvent:
    """One message of a stream: ``partial`` (interim text, replaced by the next one), ``final``
    (a finalized segment, never revised) or ``done`` (the stream is complete)."""

    type: StreamEventType
    text: str = ""
    start: float | None = None
    end: float | None = None
    words: list[Word] = field(default_factory=list)
    duration: float | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def is_final(self) -> bool:
        return self.type == "done"

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StreamEvent | None:
        """None for a message that is none of the three (e.g. ``ready``)."""
        if d.get("is_final"):
            return cls(type="done", text=d.get("text") or "", duration=_f(d.get("duration")), raw=d)
        if "text" in d:
            return cls(
                type="final",
                text=d.get("text") or "",
                start=_f(d.get("start")),
                end=_f(d.get("end")),
                words=[Word.from_dict(w) for w in d.get("words") or []],
                raw=d,
            )
        if "partial" in d:
            return cls(type="partial", text=d.get("partial") or "", raw=d)
        return None


@dataclass
class Speaker:
    """An enrolled voice (``/api/v1/speakers/``): diarized transcripts of the account label a
    matching voice with ``name``. The server keeps a voiceprint (an embedding), never the audio."""

    id: str
    name: str
    speech_seconds: float = 0.0
    source: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Speaker:
        return cls(
            id=d["id"], name=d.get("name", ""), speech_seconds=float(d.get("speech_seconds") or 0),
            source=d.get("source", ""), created_at=_dt(d.get("created_at")),
            updated_at=_dt(d.get("updated_at")), raw=d,
        )


# -- editing, audio, search ------------------------------------------------------------------------
@dataclass
class TranscriptEdit:
    """One accepted edit (``GET /api/v1/transcripts/:id/edits/``): the operations, in order."""

    version: int
    created_at: datetime | None
    operations: list[dict[str, Any]]

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TranscriptEdit:
        return cls(int(d["version"]), _dt(d.get("created_at")), list(d.get("operations") or []))


@dataclass
class AudioToken:
    """A short-lived token to read one transcript's audio (``?token=`` on ``url``), for players
    that cannot send headers (an HTML ``<audio>`` element)."""

    token: str
    expires_in: int
    url: str

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AudioToken:
        return cls(d["token"], int(d["expires_in"]), d["url"])


@dataclass
class SearchHit:
    """A segment that matches: open ``transcript_id`` at ``start`` seconds. ``highlights`` are
    ``(start, end)`` character ranges of ``text``; ``match`` is ``words`` or ``meaning``."""

    transcript_id: str
    segment: int
    start: float
    end: float
    text: str
    highlights: list[tuple[int, int]]
    match: str
    score: float
    speaker: str | None = None
    filename: str | None = None
    language: str | None = None
    created_at: datetime | None = None
    word: int | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SearchHit:
        return cls(
            transcript_id=d["transcript_id"], segment=int(d["segment"]), start=float(d["start"]),
            end=float(d["end"]), text=d.get("text", ""),
            highlights=[(int(a), int(b)) for a, b in d.get("highlights") or []],
            match=d.get("match", "words"), score=float(d.get("score", 0.0)),
            speaker=d.get("speaker"), filename=d.get("filename"), language=d.get("language"),
            created_at=_dt(d.get("created_at")), word=d.get("word"), raw=d,
        )


@dataclass
class Speech:
    """Audio from ``tts``: the encoded bytes and what the server said about them."""

    audio: bytes
    content_type: str
    voice: str  # "bundled" | "matched" | "cloned"
    voice_id: str | None = None
    duration: float | None = None  # seconds of speech
    generation_time: float | None = None  # seconds the server spent
    speaker_similarity: float | None = None  # with a reference: cosine to it (CAM++)
    sample_rate: int | None = None

    def save(self, path: str) -> None:
        with open(path, "wb") as f:
            f.write(self.audio)


@dataclass
class EnhancedAudio:
    """What ``enhance_audio`` answers: the audio bytes and what the server measured."""

    audio: bytes
    content_type: str
    duration: float | None = None  # seconds (as long as the input)
    processing_time: float | None = None  # seconds the server spent
    loudness: float | None = None  # LUFS of the result (when normalised)
    true_peak: float | None = None  # dBTP of the result
    denoise: str | None = None  # the denoiser's model id, or "off"

    def save(self, path: str | os.PathLike) -> Path:
        """Write the audio to ``path``; returns it as a Path."""
        target = Path(path)
        target.write_bytes(self.audio)
        return target

    @classmethod
    def from_response(cls, headers: Any, content: bytes) -> EnhancedAudio:
        def number(name: str) -> float | None:
            value = headers.get(name)
            try:
                return float(value) if value is not None else None
            except ValueError:
                return None

        return cls(
            audio=content, content_type=headers.get("content-type", ""),
            duration=number("x-duration"), processing_time=number("x-processing-time"),
            loudness=number("x-loudness"), true_peak=number("x-true-peak"),
            denoise=headers.get("x-denoise"),
        )


@dataclass
class SearchResults:
    query: str
    mode: str
    results: list[SearchHit]

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SearchResults:
        return cls(d.get("query", ""), d.get("mode", "all"),
                   [SearchHit.from_dict(h) for h in d.get("results") or []])
