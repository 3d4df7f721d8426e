"""SQLAlchemy 2 tables. Storage knows nothing of models or HTTP: it keeps rows."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


class UTCDateTime(TypeDecorator):
    """A moment, stored in UTC and always read back as an aware UTC datetime.

    SQLite keeps no zone (its DateTime reads back naive) and PostgreSQL answers in the session's
    zone: without this, the same column would come back with and without a zone depending on the
    database and the query. Naive values given to it are taken as UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON}


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    plan: Mapped[str] = mapped_column(String(40), default="free")
    credits: Mapped[int] = mapped_column(BigInteger, default=0)
    # Free minutes used in `minutes_month` ("YYYY-MM"); a new month starts from zero.
    minutes_used: Mapped[int] = mapped_column(Integer, default=0)
    minutes_month: Mapped[str] = mapped_column(String(7), default="")
    # Jobs queued or running now; bounded by the plan's concurrency limit.
    active_jobs: Mapped[int] = mapped_column(Integer, default=0)
    email_preferences: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    keys: Mapped[list[ApiKey]] = relationship(back_populates="account", cascade="all, delete-orphan")


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    prefix: Mapped[str] = mapped_column(String(16))
    # SHA-256 of the raw key: keys are long random tokens, so a fast hash is enough and lets
    # every request find its key by index.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)

    account: Mapped[Account] = relationship(back_populates="keys")


class StreamTicket(Base):
    """A one-use pass for WS /v1/stream, bought with an API key (POST /v1/stream/ticket), so the
    long-lived key never rides in a URL. Kept in the database: any API node may redeem it."""

    __tablename__ = "stream_tickets"

    # SHA-256 of the raw ticket, as for keys.
    ticket_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class AnonymousClient(Base):
    """Per-IP counters for clients without a key."""

    __tablename__ = "anonymous_clients"

    ip: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    transcriptions: Mapped[int] = mapped_column(Integer, default=0)
    active_jobs: Mapped[int] = mapped_column(Integer, default=0)


class Transcript(Base):
    __tablename__ = "transcripts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    # NULL for anonymous jobs, which are removed once their answer is delivered.
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True, default=None
    )
    client_ip: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    error: Mapped[str] = mapped_column(Text, default="")
    # HTTP status a failure maps to: 400 for unusable input, 500 for our own failures.
    error_status: Mapped[int] = mapped_column(Integer, default=0)
    filename: Mapped[str] = mapped_column(String(500), default="")
    # The blob key of the uploaded audio (see storage/blobs.py): kept with an account's completed
    # transcript (the web page plays it), deleted with it; empty once nothing is kept.
    audio_key: Mapped[str] = mapped_column(Text, default="")
    # Request options: model, language, diarize, speakers.
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    language: Mapped[str] = mapped_column(String(16), default="")
    duration: Mapped[float] = mapped_column(Float, default=0.0)
    model: Mapped[str] = mapped_column(String(100), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    segments: Mapped[list[Any]] = mapped_column(JSON, default=list)
    speakers: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # Units reserved at submission (credits or free minutes) and how they were charged.
    charged_units: Mapped[int] = mapped_column(Integer, default=0)
    charge_kind: Mapped[str] = mapped_column(String(16), default="")
    charge_period: Mapped[str] = mapped_column(String(10), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    completed_at: Mapped[datetime | None] = mapped_column(default=None)
    # Edits (PATCH /api/v1/transcripts/:id/): the last one's time and a counter that each edit
    # raises by one (a client may send the version it read, to refuse a lost update).
    updated_at: Mapped[datetime | None] = mapped_column(default=None)
    version: Mapped[int] = mapped_column(Integer, default=0)


class UsageRecord(Base):
    """One row per account, day and endpoint family ("transcribe", "stream", "llm", ...)."""

    __tablename__ = "usage_records"
    __table_args__ = (UniqueConstraint("account_id", "day", "family"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
    family: Mapped[str] = mapped_column(String(32))
    requests: Mapped[int] = mapped_column(Integer, default=0)
    # Completed transcriptions (file or stream) and the audio minutes they were charged for.
    transcriptions: Mapped[int] = mapped_column(Integer, default=0)
    minutes: Mapped[int] = mapped_column(Integer, default=0)
    credits_spent: Mapped[int] = mapped_column(Integer, default=0)


class SegmentEmbedding(Base):
    """One vector per transcript segment, computed once (chat retrieval). ``vector`` is float32
    bytes, L2-normalised, so a dot product is the cosine similarity."""

    __tablename__ = "segment_embeddings"

    transcript_id: Mapped[str] = mapped_column(
        ForeignKey("transcripts.id", ondelete="CASCADE"), primary_key=True
    )
    segment_order: Mapped[int] = mapped_column(Integer, primary_key=True)
    model: Mapped[str] = mapped_column(String(100))
    # SHA-256 of the segment text: a changed transcript is re-embedded.
    text_hash: Mapped[str] = mapped_column(String(64))
    vector: Mapped[bytes] = mapped_column(LargeBinary)


class ChatSession(Base):
    __tablename__ = "chat_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    transcript_id: Mapped[str] = mapped_column(
        ForeignKey("transcripts.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChatMessage(Base):
    __tablename__ = "chat_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[str] = mapped_column(
        ForeignKey("chat_sessions.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(16))  # "user" | "assistant"
    content: Mapped[str] = mapped_column(Text)
    sources: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TranscriptEdit(Base):
    """One accepted PATCH of a transcript: the operations as sent, in order (the edit history)."""

    __tablename__ = "transcript_edits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transcript_id: Mapped[str] = mapped_column(
        ForeignKey("transcripts.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)  # the transcript's version after this edit
    key_id: Mapped[str | None] = mapped_column(String(32), default=None)
    operations: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MediaToken(Base):
    """A short-lived pass to read one transcript's audio (GET .../audio?token=), bought with an
    API key: an <audio> element cannot send headers. Unlike a stream ticket it may be used many
    times until it expires (a player asks for many byte ranges); revoking the key ends it."""

    __tablename__ = "media_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"), index=True)
    transcript_id: Mapped[str] = mapped_column(
        ForeignKey("transcripts.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
