"""Stored transcripts of an account: listing with filters and pages, lookup, deletion.

Every query is scoped to one account: another account's transcript is simply not found, so the
HTTP layer answers 404 and never confirms that an id exists.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select

from vocable.results import Transcription
from vocable.storage.blobs import BlobNotFound, BlobStore, transcript_audio_key
from vocable.storage.db import Database
from vocable.storage.models import Transcript, new_id, utcnow

STATUSES = ("queued", "processing", "completed", "failed")
LIVE = ("queued", "processing")
PREVIEW_CHARS = 200


class TranscriptBusy(Exception):
    """The transcript's job is still queued or running; it cannot be changed yet."""

    def __init__(self, status: str):
        super().__init__(
            f"The transcript is still {status}; it can be deleted once it has completed or failed."
        )
        self.status = status


class TranscriptNotFound(LookupError):
    """No transcript of that id in the account (another account's is not found either)."""

    def __init__(self) -> None:
        super().__init__("No such transcript.")


class TranscriptNotCompleted(Exception):
    """The transcript has no result to work on yet (queued, processing or failed)."""

    def __init__(self, status: str):
        super().__init__(f"The transcript is {status}; it must be completed first.")
        self.status = status


@dataclass(frozen=True)
class TranscriptFilter:
    statuses: tuple[str, ...] = ()
    language: str | None = None
    created_after: datetime | None = None  # inclusive
    created_before: datetime | None = None  # exclusive
    min_duration: float | None = None  # seconds, inclusive
    max_duration: float | None = None  # seconds, inclusive


@dataclass(frozen=True)
class Page:
    count: int
    items: list[dict[str, Any]]


# The light columns of a listing: the segment JSON (the heavy part) is never read, and of the text
# only its first characters.
_SUMMARY_COLUMNS = (
    Transcript.id,
    Transcript.status,
    Transcript.error,
    Transcript.filename,
    Transcript.language,
    Transcript.duration,
    Transcript.model,
    Transcript.speakers,
    Transcript.created_at,
    Transcript.completed_at,
    Transcript.updated_at,
    func.substr(Transcript.text, 1, PREVIEW_CHARS).label("preview"),
    func.length(Transcript.text).label("text_length"),
)


def where_clauses(account_id: int, flt: TranscriptFilter) -> list:
    """The SQL conditions of ``flt`` on the account's transcripts (listing and search)."""
    clauses = [Transcript.account_id == account_id]
    if flt.statuses:
        clauses.append(Transcript.status.in_(flt.statuses))
    if flt.language:
        clauses.append(Transcript.language == flt.language)
    if flt.created_after is not None:
        clauses.append(Transcript.created_at >= flt.created_after)
    if flt.created_before is not None:
        clauses.append(Transcript.created_at < flt.created_before)
    if flt.min_duration is not None:
        clauses.append(Transcript.duration >= flt.min_duration)
    if flt.max_duration is not None:
        clauses.append(Transcript.duration <= flt.max_duration)
    return clauses


def list_transcripts(
    db: Database, account_id: int, flt: TranscriptFilter, page: int, page_size: int
) -> Page:
    """One page of the account's transcripts, newest first (id breaks ties so pages are stable)."""
    where = where_clauses(account_id, flt)
    with db.session() as s:
        count = s.scalar(select(func.count()).select_from(Transcript).where(*where)) or 0
        rows = s.execute(
            select(*_SUMMARY_COLUMNS)
            .where(*where)
            .order_by(Transcript.created_at.desc(), Transcript.id.desc())
            .limit(page_size)
            .offset((page - 1) * page_size)
        ).all()
    items = []
    for row in rows:
        item = row._asdict()
        text_length = item.pop("text_length") or 0
        preview = item.pop("preview") or ""
        item["preview"] = preview.strip() + ("…" if text_length > PREVIEW_CHARS else "")
        items.append(item)
    return Page(count=count, items=items)


def get_transcript(db: Database, account_id: int, transcript_id: str) -> Transcript | None:
    with db.session() as s:
        return s.scalar(
            select(Transcript).where(
                Transcript.id == transcript_id, Transcript.account_id == account_id
            )
        )


def completed_segments(db: Database, account_id: int, transcript_id: str) -> list[dict[str, Any]]:
    """The segments of a completed transcript of the account (``TranscriptNotFound``,
    ``TranscriptNotCompleted`` otherwise)."""
    transcript = get_transcript(db, account_id, transcript_id)
    if transcript is None:
        raise TranscriptNotFound()
    if transcript.status != "completed":
        raise TranscriptNotCompleted(transcript.status)
    return list(transcript.segments or [])


def delete_transcript(
    db: Database, account_id: int, transcript_id: str, *, blobs: BlobStore
) -> bool:
    """Delete a finished transcript. Rows derived from it (chat sessions, embeddings...) reference
    it with ON DELETE CASCADE, so the database removes them in the same statement; its blobs (the
    stored audio) go once the row is gone.

    A queued or running job is refused (``TranscriptBusy``): its worker still holds a
    concurrency slot and a reservation that only the job's own end settles.
    """
    with db.session() as s:
        found = s.execute(
            select(Transcript.status, Transcript.audio_key).where(
                Transcript.id == transcript_id, Transcript.account_id == account_id
            )
        ).first()
        if found is None:
            return False
        status, audio_key = found
        if status in LIVE:
            raise TranscriptBusy(status)
        result = s.execute(
            delete(Transcript).where(
                Transcript.id == transcript_id,
                Transcript.account_id == account_id,
                Transcript.status.not_in(LIVE),
            )
        )
        deleted = result.rowcount == 1
    if deleted and audio_key:
        blobs.delete(audio_key)
    return deleted


def save_transcript(
    db: Database, blobs: BlobStore, account_id: int, result: Transcription, *,
    filename: str, options: dict[str, Any], audio: Path | None = None,
) -> str:
    """Store a finished transcription made elsewhere than by a job (a saved live session): it is
    listed, exported, searched and chatted with like any other. The audio, if given, is moved
    into the blob store under the transcript's key."""
    transcript_id = new_id()
    key = transcript_audio_key(transcript_id) if audio is not None else ""
    if audio is not None:
        blobs.put_file(key, audio)
    try:
        with db.session() as s:
            s.add(Transcript(
                id=transcript_id, account_id=account_id, status="completed",
                filename=filename[:500], audio_key=key, options=options,
                language=result.language, duration=result.duration, model=result.model,
                text=result.text, segments=result.to_dict()["segments"], speakers=result.speakers,
                completed_at=utcnow(),
            ))
    except BaseException:
        if key:
            blobs.delete(key)
        raise
    return transcript_id


# -- stored audio (GET /api/v1/transcripts/:id/audio) -------------------------------------------
class AudioNotKept(LookupError):
    """The transcript has no stored audio (not kept, or not uploaded yet): a 404."""

    def __init__(self) -> None:
        super().__init__("This transcript has no stored audio.")


# What a browser's <audio> element is told each upload is; others are sent as they are.
AUDIO_MEDIA_TYPES = {
    "wav": "audio/wav", "mp3": "audio/mpeg", "flac": "audio/flac", "ogg": "audio/ogg",
    "oga": "audio/ogg", "opus": "audio/ogg", "m4a": "audio/mp4", "aac": "audio/aac",
    "mp4": "video/mp4", "webm": "audio/webm", "weba": "audio/webm", "mkv": "video/x-matroska",
    "mov": "video/quicktime", "wma": "audio/x-ms-wma", "avi": "video/x-msvideo",
    "mpg": "video/mpeg", "mpeg": "video/mpeg",
}
_RANGE_CHUNK = 64 * 1024


@dataclass(frozen=True)
class StoredAudio:
    key: str
    size: int
    media_type: str
    filename: str
    etag: str


def stored_audio(db: Database, blobs: BlobStore, account_id: int, transcript_id: str) -> StoredAudio:
    """The transcript's audio blob (``TranscriptNotFound``, ``AudioNotKept``)."""
    with db.session() as s:
        found = s.execute(
            select(Transcript.audio_key, Transcript.filename, Transcript.status).where(
                Transcript.id == transcript_id, Transcript.account_id == account_id
            )
        ).first()
    if found is None:
        raise TranscriptNotFound()
    key, filename, status = found
    if not key or status != "completed":
        raise AudioNotKept()
    try:
        size = blobs.size(key)
    except BlobNotFound:
        raise AudioNotKept() from None
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    media_type = AUDIO_MEDIA_TYPES.get(ext, "application/octet-stream")
    return StoredAudio(key, size, media_type, filename, f'"{transcript_id}-{size}"')


def iter_audio(blobs: BlobStore, audio: StoredAudio, start: int, stop: int) -> Iterator[bytes]:
    """Bytes ``start`` to ``stop`` (exclusive) of the audio, in chunks, read as they are sent."""
    with blobs.open_range(audio.key, start, stop) as stream:
        left = stop - start
        while left > 0:
            chunk = stream.read(min(_RANGE_CHUNK, left))
            if not chunk:
                break
            left -= len(chunk)
            yield chunk
