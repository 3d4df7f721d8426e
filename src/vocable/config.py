"""One typed settings object, read from ``VOCABLE_*`` environment variables (and CLI flags)."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from platformdirs import user_data_dir
from pydantic import BaseModel, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Plan(BaseModel):
    """What a tier may do. ``monthly_minutes`` None means credit based (paid)."""

    name: str
    max_upload_mb: int
    concurrent_jobs: int
    monthly_minutes: int | None = None
    daily_transcriptions: int | None = None
    uses_credits: bool = False
    requests_per_minute: int = 60


def default_plans() -> dict[str, Plan]:
    return {
        "anonymous": Plan(
            name="anonymous", max_upload_mb=100, concurrent_jobs=1,
            daily_transcriptions=3, requests_per_minute=30,
        ),
        "free": Plan(
            name="free", max_upload_mb=500, concurrent_jobs=2,
            monthly_minutes=600, requests_per_minute=60,
        ),
        "paid": Plan(
            name="paid", max_upload_mb=2048, concurrent_jobs=5,
            uses_credits=True, requests_per_minute=300,
        ),
    }


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="VOCABLE_", env_nested_delimiter="__", extra="ignore"
    )

    data_dir: Path = Field(default_factory=lambda: Path(user_data_dir("vocable")))
    # Empty means "sqlite file in data_dir"; any SQLAlchemy URL otherwise (postgresql+psycopg://...).
    database_url: str = ""
    # Where uploads and transcripts' audio are kept: empty means the directory <data_dir>/blobs;
    # otherwise a directory path or file:// URL (shared by the nodes of a cluster: NFS), or
    # s3://bucket/prefix: an S3-compatible bucket at blob_s3_endpoint_url (empty: AWS) in
    # blob_s3_region, credentials from the usual AWS_* variables.
    blob_url: str = ""
    blob_s3_endpoint_url: str = ""
    blob_s3_region: str = ""
    # Empty means "<data_dir>/models".
    model_dir: Path | None = None
    # Empty means "best installed model".
    default_model: str = ""
    # A request for a model the registry knows but this server lacks (e.g. large-v3-turbo offline):
    # "best" serves it with the best installed model and names that model in the answer;
    # "strict" refuses it (400, listing the installed models).
    model_fallback: Literal["best", "strict"] = "best"
    device: Literal["auto", "cpu", "cuda"] = "auto"
    compute_type: str = "default"  # "default" = int8 on CPU, float16 on CUDA
    cpu_threads: int = 0  # 0 = let CTranslate2 decide
    workers: int = 1  # in-process transcription workers sharing one model
    max_queued_jobs: int = 100  # beyond this backlog, new transcriptions get a 503
    model_idle_unload_s: int = 1800
    host: str = "127.0.0.1"
    port: int = 8000
    # Hub downloads are off unless the operator asks (`vocable models pull`).
    allow_model_downloads: bool = False
    # Storage for the rate limiter: "memory://" or e.g. "redis://127.0.0.1:6379".
    rate_limit_storage: str = "memory://"
    plans: dict[str, Plan] = Field(default_factory=default_plans)
    # Hard cap for any upload, whatever the plan says.
    max_upload_mb: int = 2048
    # Behind a reverse proxy, take the client IP from X-Forwarded-For, and only when the peer is
    # one of ``trusted_proxies`` (IPs or CIDRs; VOCABLE_TRUSTED_PROXIES="10.0.0.0/8,127.0.0.1"):
    # the client is the right-most address of X-Forwarded-For that is not a trusted proxy.
    trust_forwarded_for: bool = False
    trusted_proxies: Annotated[list[str], NoDecode] = ["127.0.0.1", "::1"]
    # WS /v1/stream: close a stream that sends nothing for this long (config or audio).
    stream_idle_timeout_s: float = 30.0
    # Stop reading a stream's socket while this much of its audio awaits transcription.
    stream_max_backlog_s: float = 10.0
    # Streams decoded together in one batch; open streams allowed at once (0 = unlimited).
    stream_max_batch: int = 4
    stream_max_active: int = 16
    # Stream decodes run side by side, each on one thread (0 = one per core on a CPU, one on a
    # GPU): a stream decode is many small decoder steps, and on a 2-core CPU two one-thread
    # decodes of 2 streams each took 290 ms where one two-thread decode of 4 took 527 ms.
    stream_workers: int = 0
    # Largest WebSocket message a stream accepts (audio or text); larger ones end the stream with
    # 4413 and an {"error"}. 1 MiB is about 33 s of PCM; clients send 20-200 ms frames.
    stream_max_frame_bytes: int = 1024 * 1024
    # POST /v1/stream/ticket: how long a ticket may wait before WS /v1/stream?ticket= uses it.
    stream_ticket_ttl_s: int = 60
    # POST /api/v1/transcripts/:id/audio/token: how long a media token reads that audio (the
    # page's player asks for a new one when it expires).
    media_token_ttl_s: int = 900

    # -- local language model (GGUF via llama.cpp) and embeddings --------------------------------
    # Empty means "best installed LLM" (the bundled one unless the operator added a better one).
    llm_model: str = ""
    llm_threads: int = 0  # 0 = all cores
    llm_context: int = 8192  # tokens of context per parallel slot
    llm_parallel: int = 1  # generations decoded together; on CPU one is fastest per request
    llm_gpu_layers: int = -1  # -1 = all layers on the GPU when the device is cuda, none on CPU
    # Requests waiting for a slot beyond those running; one more waiting is a 503.
    llm_queue_size: int = 8
    llm_queue_timeout_s: float = 300.0  # longest wait for a slot before a 503
    llm_timeout_s: float = 300.0  # longest single generation
    llm_max_tokens: int = 1024  # hard cap on generated tokens per call
    # Map-reduce over long transcripts: transcript tokens read per map call, and the most
    # transcript tokens the map stage reads at all (longer inputs are first condensed
    # extractively, with embeddings, to this budget; 0 = read everything).
    llm_chunk_tokens: int = 3000
    llm_read_budget_tokens: int = 9000
    # "auto" = the best installed NMT model (`vocable models pull nllb-200-distilled-600M`),
    # else the LLM; or "llm", or an NMT model id.
    translation_backend: str = "auto"
    # /v1/analyze and /v1/translate input bounds.
    analyze_max_chars: int = 200_000
    translate_max_chars: int = 5_000  # per text
    translate_max_batch: int = 64
    embed_max_batch: int = 256
    embed_max_chars: int = 8000
    # /v1/tts and /v1/audio/speech: longest text in one request.
    tts_max_chars: int = 20_000
    chat_top_k: int = 4

    # -- webhooks (see webhooks.py) and the cluster (queues/, worker.py) ---------------------------
    # Webhooks may reach loopback/private addresses only if the operator says so (SSRF).
    webhook_allow_private: bool = False
    webhook_max_attempts: int = 10
    webhook_backoff_s: float = 10.0  # the first retry's delay; doubled each attempt after
    webhook_backoff_max_s: float = 3600.0
    webhook_timeout_s: float = 10.0
    webhook_poll_s: float = 5.0  # how often a sender looks for events other nodes added
    # Where transcription jobs run: "inprocess" (threads of this server) or "celery" (workers
    # started with `vocable worker`, on the broker below).
    queue: Literal["inprocess", "celery"] = "inprocess"
    broker_url: str = "redis://127.0.0.1:6379/0"
    # Prefix of every Redis key and channel of the queue (several deployments on one Redis).
    broker_prefix: str = ""
    # A message not acknowledged for this long (its worker died) goes to another worker; checked
    # every queue_restore_interval_s. Longer than most jobs: a job still running when it passes
    # is not run twice (its claim is alive), but the message is redelivered.
    queue_visibility_timeout_s: float = 3600.0
    queue_restore_interval_s: float = 10.0
    job_max_attempts: int = 3  # runs of a job before it ends failed (transient errors)
    job_retry_backoff_s: float = 5.0  # the first retry's delay; doubled each time
    job_lease_s: float = 60.0  # a worker's claim on a job, renewed at every heartbeat
    worker_heartbeat_s: float = 5.0
    worker_stale_s: float = 30.0  # a worker silent for longer is not listed (it is gone)
    # -- sign-up, sign-in, sessions, email (accounts/auth.py, accounts/mailer.py) ----------------
    # Who may open an account on the page / POST /api/v1/auth/signup: anyone, holders of an
    # invite code (`vocable invites create`, POST /api/v1/admin/invites/), or nobody (the CLI).
    signup: Literal["open", "invite", "closed"] = "open"
    signup_plan: str = "free"  # the plan a new account gets
    signup_credits: int = 0  # and its starting credits (for a credit-based signup_plan)
    session_ttl_s: int = 14 * 24 * 3600  # a browser session lasts this long after sign-in
    password_min_length: int = 8
    # argon2id cost (RFC 9106's second recommended profile by default: 64 MiB, 3 passes, 4 lanes).
    password_time_cost: int = 3
    password_memory_kib: int = 64 * 1024
    password_parallelism: int = 4
    # Sign-in attempts allowed per address and per client IP in each window, and sign-ups and
    # reset requests per IP: past them a 429 with Retry-After (brute force is slowed, not stopped).
    signin_attempts_per_account: int = 10
    signin_attempts_per_ip: int = 50
    signin_window_s: int = 15 * 60
    signups_per_ip_per_hour: int = 20
    # SMTP: empty host = no email (no address verification; passwords reset by the operator).
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_from: str = "Vocable <vocable@localhost>"
    smtp_security: Literal["starttls", "ssl", "none"] = "starttls"
    smtp_timeout_s: float = 20.0
    # With SMTP, new addresses must be verified before the account can sign in.
    email_verification: bool = True
    verify_link_ttl_s: int = 2 * 24 * 3600
    reset_link_ttl_s: int = 3600
    # The address people reach the server at, for links in emails (e.g. https://vocable.example);
    # empty = the address the request came to (set it behind a proxy that rewrites Host).
    public_url: str = ""

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxy_list(cls, value: object) -> object:
        """A comma- or space-separated string (the environment) or a list; each an IP or CIDR."""
        if isinstance(value, str):
            value = value.replace(",", " ").split()
        if isinstance(value, list | tuple):
            for item in value:
                ipaddress.ip_network(str(item).strip(), strict=False)  # ValueError: not an IP/CIDR
            return [str(item).strip() for item in value]
        return value

    @property
    def resolved_model_dir(self) -> Path:
        return self.model_dir or self.data_dir / "models"

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'vocable.db'}"

    @property
    def resolved_blob_url(self) -> str:
        return self.blob_url or (self.data_dir / "blobs").absolute().as_uri()

    @property
    def smtp_enabled(self) -> bool:
        return bool(self.smtp_host)

    def plan(self, name: str) -> Plan:
        return self.plans.get(name) or self.plans["free"]


@lru_cache
def get_settings() -> Settings:
    return Settings()
