"""Everything a running server (or the CLI) shares: settings, database, registry, executors, queue.

Built once per process by ``Services.create``; the HTTP app keeps it on ``app.state.services``.
Later parts (the job queue, the LLM, diarization...) hang their executors here too.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from vocable.accounts.admission import Admission
from vocable.accounts.auth import AuthService
from vocable.accounts.console import AdminConsole
from vocable.accounts.mailer import Mailer
from vocable.accounts.quota import Quota
from vocable.accounts.ratelimit import RequestRateLimiter
from vocable.analysis import Analyzer
from vocable.audio.denoise import DenoiseExecutor
from vocable.audio.tts import SpeakerEncoder, TTSService
from vocable.config import Settings
from vocable.diarization.executor import DiarizationExecutor
from vocable.diarization.speakers import Speakers
from vocable.llm.chat import TranscriptChat, segment_vectors
from vocable.llm.embed import Embedder
from vocable.llm.runtime import LLMExecutor
from vocable.llm.textgen import Writer
from vocable.registry.catalog import ModelCatalog
from vocable.registry.llm import LLMRegistry
from vocable.registry.pool import ModelPool
from vocable.registry.speech import ModelRegistry
from vocable.registry.tts import VoiceRegistry
from vocable.storage.blobs import BlobStore, blob_store_from_url
from vocable.storage.db import Database
from vocable.streaming.scheduler import StreamScheduler
from vocable.transcription.editing import TranscriptEditor
from vocable.transcription.jobs import InProcessQueue, JobQueue, TranscriptionJobs
from vocable.transcription.search import TranscriptSearch
from vocable.transcription.speech_models import SpeechModels
from vocable.transcription.whisper import WhisperExecutor
from vocable.translation.translator import Translator
from vocable.webhooks import Webhooks

ROLES = ("all", "api", "worker")


def _queue(settings: Settings, jobs: TranscriptionJobs, whisper: WhisperExecutor, db: Database):
    """The in-process queue (the default), or Celery workers (VOCABLE_QUEUE=celery)."""
    if settings.queue == "celery":
        from vocable.queues.celery import CeleryQueue, make_celery
        from vocable.queues.nodes import WorkerNodes

        nodes = WorkerNodes(db, settings.worker_stale_s)
        app = make_celery(
            settings.broker_url, visibility_timeout_s=settings.queue_visibility_timeout_s,
            restore_interval_s=settings.queue_restore_interval_s, prefix=settings.broker_prefix,
        )
        return CeleryQueue(
            app, settings.broker_url, status=jobs.status, queued=jobs.queued_count,
            workers=lambda: nodes.online(jobs.queued_count()), prefix=settings.broker_prefix,
            sent=jobs.mark_sent,
        )
    return InProcessQueue(
        jobs.run, jobs.pending, settings.workers,
        describe=lambda: {"device": whisper.device.kind, "models_loaded": whisper.loaded(),
                          "gpu_name": whisper.device.gpu_name,
                          "gpu_memory_mb": whisper.device.gpu_memory_mb},
    )


@dataclass
class Services:
    settings: Settings
    db: Database
    # Uploads and transcripts' audio, by key (a local directory unless VOCABLE_BLOB_URL says).
    blobs: BlobStore
    registry: ModelRegistry
    quota: Quota
    rate_limiter: RequestRateLimiter
    # What every paid endpoint does around its work: rate limit, allowance, slot, charges.
    admission: Admission
    whisper: WhisperExecutor
    # Which speech model and language a request runs with (files and streams alike).
    speech: SpeechModels
    jobs: TranscriptionJobs
    queue: JobQueue
    # WS /v1/stream decoding (its worker thread starts with the first stream).
    streaming: StreamScheduler
    # The local LLM (see llm.py for its API) and sentence embeddings; both load on first use.
    llm: LLMExecutor
    embedder: Embedder
    # Questions about a stored transcript (retrieval over its segments, answers from the LLM).
    chat: TranscriptChat
    # Text analysis (spaCy, VADER, Presidio, MiniLM; action items on the LLM): tools load on use.
    analysis: Analyzer
    # /v1/translate: installed CTranslate2 NMT models, else the LLM with protected values.
    translator: Translator
    # Speaker diarization in its own worker process (started by the first job that diarizes).
    diarization: DiarizationExecutor
    # /api/v1/speakers/: an account's enrolled voices, named in its diarized transcripts.
    speakers: Speakers
    # Noise removal (DTLN, ONNX) for /v1/enhance-audio and enhance=true; loads on first use.
    denoiser: DenoiseExecutor
    # Every loaded model, whatever its family (lazy, shared, unloaded when idle), and every
    # known model (installed or not) for `GET /v1/models`.
    pool: ModelPool
    catalog: ModelCatalog
    # Signed POSTs of async jobs' ends to the caller's URL (a sender thread, retries with backoff).
    webhooks: Webhooks
    # Sign-up, sign-in, sessions, email links (accounts/auth.py) and the operator console.
    mailer: Mailer
    auth: AuthService
    console: AdminConsole
    # /v1/tts and /v1/audio/speech: Piper voices, voice matching, an installed cloning model.
    tts: TTSService
    # "all" (one process does everything), "api" (no speech model: jobs go to Celery workers,
    # no streams) or "worker" (`vocable worker`: runs the jobs).
    role: str = "all"
    # PATCH of stored transcripts (edited segments are re-embedded) and search over them.
    editor: TranscriptEditor | None = None
    search: TranscriptSearch | None = None
    _owns_pool: bool = field(default=True, repr=False)
    _stop: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def create(cls, settings: Settings, role: str = "all", **shared) -> Services:
        """Build every part from settings; ``shared`` passes ready parts in (e.g. the model pool
        and loaded executors reused by several apps in one test run)."""
        if role not in ROLES:
            raise ValueError(f"Unknown role {role!r}: use one of {', '.join(ROLES)}.")
        if role != "all" and settings.queue != "celery":
            raise ValueError(f"The {role} role needs workers: set VOCABLE_QUEUE=celery.")
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        blobs = shared.pop("blobs", None) or blob_store_from_url(
            settings.resolved_blob_url, s3_endpoint_url=settings.blob_s3_endpoint_url,
            s3_region=settings.blob_s3_region,
        )
        db = Database(settings.resolved_database_url)
        db.migrate(blobs)
        registry = shared.pop("registry", None) or ModelRegistry(settings.resolved_model_dir)
        pool = shared.pop("pool", None)
        owns_pool = pool is None  # a pool passed in (tests) outlives this server
        pool = pool if pool is not None else ModelPool(settings.model_idle_unload_s)
        parts = {
            "settings": settings,
            "db": db,
            "blobs": blobs,
            "registry": registry,
            "pool": pool,
            "role": role,
            "_owns_pool": owns_pool,
            "quota": Quota(db, settings.plans),
            "rate_limiter": RequestRateLimiter(settings.rate_limit_storage, settings.plans),
        }
        parts.update(shared)
        whisper = parts.setdefault("whisper", WhisperExecutor(registry, settings, pool))
        parts.setdefault("speech", SpeechModels(whisper, settings.model_fallback))
        streaming = parts.setdefault(
            "streaming", StreamScheduler(whisper.stream_model, max_batch=settings.stream_max_batch,
                                         workers=whisper.stream_workers)
        )
        admission = parts.setdefault("admission", Admission(
            parts["quota"], parts["rate_limiter"],
            max_upload_mb=settings.max_upload_mb,
            max_queued_jobs=settings.max_queued_jobs,
            queued_jobs=lambda: queue.backlog(),  # the queue is built below, from the jobs
            max_open_streams=settings.stream_max_active,
            open_streams=lambda: streaming.active,
            serves_streams=role == "all",  # a stream needs the model close by
        ))
        diarization = parts.setdefault(
            "diarization",
            DiarizationExecutor.for_settings(settings, tmp_dir=settings.data_dir, pool=pool),
        )
        webhooks = parts.setdefault("webhooks", Webhooks(
            db, allow_private=settings.webhook_allow_private,
            max_attempts=settings.webhook_max_attempts, backoff_s=settings.webhook_backoff_s,
            backoff_max_s=settings.webhook_backoff_max_s, timeout_s=settings.webhook_timeout_s,
            poll_s=settings.webhook_poll_s,
        ))
        speakers = parts.setdefault("speakers", Speakers(db, blobs, diarization))
        denoiser = parts.setdefault("denoiser", DenoiseExecutor(pool))
        jobs = parts.setdefault(
            "jobs",
            TranscriptionJobs(
                db, admission, whisper, diarizer_factory=lambda: diarization, blobs=blobs,
                webhooks=webhooks,
                on_completed=lambda job_id: parts["auth"].transcript_ready(job_id),
                voices_of=speakers.voices,
                denoiser=denoiser,
            ),
        )
        if "queue" not in parts:
            parts["queue"] = _queue(settings, jobs, whisper, db)
        queue = parts["queue"]
        if "llm" not in parts:
            parts["llm"] = LLMExecutor(LLMRegistry(settings.resolved_model_dir), settings, pool)
        parts.setdefault("embedder", Embedder(settings, pool))
        if "analysis" not in parts:
            parts["analysis"] = Analyzer(parts["embedder"], parts["llm"], pool)
        parts.setdefault("chat", TranscriptChat(
            db, parts["llm"], parts["embedder"], settings.chat_top_k,
            parse=parts["analysis"].toolkit.parse,
        ))
        if "translator" not in parts:
            parts["translator"] = Translator(
                parts["llm"], settings.resolved_model_dir, whisper.device.kind,
                settings.translation_backend, pool,
            )
        mailer = parts.setdefault("mailer", Mailer.for_settings(settings))
        parts.setdefault("auth", AuthService(db, settings, parts["rate_limiter"], mailer))
        parts.setdefault("console", AdminConsole(db, settings.plans, blobs))
        if "tts" not in parts:
            parts["tts"] = tts_service(settings, pool, whisper)
        embedder = parts["embedder"]
        parts.setdefault("editor", TranscriptEditor(
            db, on_changed=lambda tid, segs: segment_vectors(db, embedder, tid, segs, only_if_stored=True)
        ))
        parts.setdefault("search", TranscriptSearch(db, embedder))
        parts.setdefault(
            "catalog", ModelCatalog(settings, pool, speech=registry, llm=parts["llm"].registry)
        )
        return cls(**parts)

    def writer(self, client: str) -> Writer:
        """Summaries and generation for one caller (a client of the LLM queue), their sentences
        checked against the transcript with the analysis toolkit's parse (who does what)."""
        return Writer(self.llm, self.embedder, client=client, settings=self.settings,
                      parse=self.analysis.toolkit.parse)

    def start(self) -> None:
        """Background parts (workers, idle unloading) start here, after the app is built."""
        if self.role != "worker":  # a worker neither takes uploads nor waits for jobs
            self.quota.recount_slots()
            self.queue.start()
        self.webhooks.start()
        self._stop.clear()
        threading.Thread(target=self._unload_idle_models, name="vocable-idle", daemon=True).start()

    def _unload_idle_models(self) -> None:
        interval = max(1.0, min(60.0, self.settings.model_idle_unload_s / 4))
        while not self._stop.wait(interval):  # one loop for every model family
            self.pool.unload_idle()

    def close(self) -> None:
        self._stop.set()
        self.streaming.shutdown()
        if self.role != "worker":
            self.queue.stop()
        self.webhooks.stop()
        self.mailer.close()
        if self._owns_pool:  # stops the diarization worker too; a shared pool (tests) lives on
            self.pool.close()
        self.db.dispose()


def tts_service(settings: Settings, pool: ModelPool, whisper: WhisperExecutor) -> TTSService:
    """Speech synthesis, with CAM++ (the diarization package's network) for voice matching and
    the server's own Whisper for what a reference says (cloning models need it)."""
    from vocable.diarization.networks import Models

    def transcribe(audio):
        from vocable.transcription.recognize import RecognitionOptions, recognize_windows

        options = RecognitionOptions(batched=False, word_timestamps=False, beam_size=1)
        return recognize_windows(whisper.model(), [audio], options).text

    return TTSService(
        VoiceRegistry(settings.resolved_model_dir), pool,
        SpeakerEncoder(lambda: Models("cpu"), pool), transcribe,
        max_chars=settings.tts_max_chars,
    )
