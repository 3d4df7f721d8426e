"""SQLAlchemy 2 tables. Storage knows nothing of models or HTTP: it keeps rows."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any, ClassVar

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
    type_annotation_map: ClassVar = {datetime: UTCDateTime(), dict[str, Any]: JSON}


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
    # Where async jobs' events are POSTed unless a job names its own URL; the HMAC key of the
    # signature (made when first needed).
    webhook_url: Mapped[str] = mapped_column(Text, default="")
    webhook_secret: Mapped[str] = mapped_column(String(64), default="")
    # Sign-in (accounts/auth.py): an argon2id hash, or NULL for an account that has keys only.
    password_hash: Mapped[str | None] = mapped_column(String(200), default=None)
    email_verified_at: Mapped[datetime | None] = mapped_column(default=None)
    role: Mapped[str] = mapped_column(String(16), default="user")  # "user" | "admin"
    # A disabled account's keys, sessions and tickets are refused on their next use.
    disabled_at: Mapped[datetime | None] = mapped_column(default=None)

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
    # Bought with a key, or (a signed-in browser) with a session: exactly one of the two is set.
    key_id: Mapped[str | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="CASCADE"), index=True, default=None
    )
    session_hash: Mapped[str | None] = mapped_column(
        ForeignKey("web_sessions.id_hash", ondelete="CASCADE"), index=True, default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class WebSession(Base):
    """A signed-in browser (the session cookie holds the raw id; this row its SHA-256)."""

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    # The CSRF token of the session: state-changing calls made with the cookie must echo it in
    # the X-CSRF-Token header (a cross-site page can send the cookie but cannot read this).
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")


class AccountToken(Base):
    """A one-use link sent by email: address verification or password reset (SHA-256 stored)."""

    __tablename__ = "account_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))  # "verify" | "reset"
    # The address the link was sent to: a link for an address the account no longer has is void.
    email: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class Invite(Base):
    """An invite code for VOCABLE_SIGNUP=invite (the raw code is shown once; SHA-256 stored)."""

    __tablename__ = "invites"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    note: Mapped[str] = mapped_column(String(200), default="")
    max_uses: Mapped[int] = mapped_column(Integer, default=1)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


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
    # Where the job's completion or failure is POSTed (signed), if anywhere.
    webhook_url: Mapped[str] = mapped_column(Text, default="")
    # The worker running the job and until when its claim holds (renewed while it runs; NULL for
    # the in-process queue, whose jobs are resumed at restart instead); runs started so far.
    worker: Mapped[str] = mapped_column(String(200), default="")
    lease_until: Mapped[datetime | None] = mapped_column(default=None)
    # When the job's message reached the broker (Celery): NULL on a queued job means it may never
    # have (its node died in between), and a worker sends it.
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Edits (PATCH /api/v1/transcripts/:id/): the last one's time and a counter that each edit
    # raises by one (a client may send the version it read, to refuse a lost update).
    updated_at: Mapped[datetime | None] = mapped_column(default=None)
    version: Mapped[int] = mapped_column(Integer, default=0)


class WebhookDelivery(Base):
    """One event of a job for its webhook: the exact body signed and sent, and every attempt
    (``{"at", "status_code", "error", "duration_ms"}``) until it is delivered or given up."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    transcript_id: Mapped[str] = mapped_column(
        ForeignKey("transcripts.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(Text)
    event: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # delivered | failed
    attempts: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # When the next attempt is due (NULL once delivered or given up); also the claim of a sender.
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)


class WorkerNode(Base):
    """A running worker process as its last heartbeat described it."""

    __tablename__ = "worker_nodes"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    device: Mapped[str] = mapped_column(String(16))
    gpu_name: Mapped[str | None] = mapped_column(String(200), default=None)
    gpu_memory_mb: Mapped[int | None] = mapped_column(Integer, default=None)
    queues: Mapped[list[Any]] = mapped_column(JSON, default=list)
    models_loaded: Mapped[list[Any]] = mapped_column(JSON, default=list)
    concurrency: Mapped[int] = mapped_column(Integer, default=1)
    running_jobs: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_heartbeat: Mapped[datetime] = mapped_column(default=utcnow)


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


class Voiceprint(Base):
    """A named voice of an account (POST /api/v1/speakers/): a speaker embedding, never audio.
    Deleted with the account (the foreign key cascades)."""

    __tablename__ = "voiceprints"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    # float32 bytes of a unit vector; ``model`` names the embedding network that made it, so a
    # voiceprint is only compared with embeddings of the same network.
    embedding: Mapped[bytes] = mapped_column(LargeBinary)
    model: Mapped[str] = mapped_column(String(100))
    speech_s: Mapped[float] = mapped_column(Float, default=0.0)  # seconds of speech it pools
    source: Mapped[str] = mapped_column(String(300), default="")  # "clip ..." or "transcript ..."
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


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
