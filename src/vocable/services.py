"""Everything a running server (or the CLI) shares: settings, database, registry, executors, queue.

Built once per process by ``Services.create``; the HTTP app keeps it on ``app.state.services``.
Later parts (the job queue, the LLM, diarization...) hang their executors here too.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from vocable.accounts.admission import Admission
from vocable.accounts.quota import Quota
from vocable.accounts.ratelimit import RequestRateLimiter
from vocable.analysis import Analyzer
from vocable.config import Settings
from vocable.diarization.executor import DiarizationExecutor
from vocable.llm.chat import TranscriptChat, segment_vectors
from vocable.llm.embed import Embedder
from vocable.llm.runtime import LLMExecutor
from vocable.registry.catalog import ModelCatalog
from vocable.registry.llm import LLMRegistry
from vocable.registry.pool import ModelPool
from vocable.registry.speech import ModelRegistry
from vocable.storage.blobs import BlobStore, blob_store_from_url
from vocable.storage.db import Database
from vocable.streaming.scheduler import StreamScheduler
from vocable.transcription.editing import TranscriptEditor
from vocable.transcription.jobs import InProcessQueue, JobQueue, TranscriptionJobs
from vocable.transcription.search import TranscriptSearch
from vocable.transcription.speech_models import SpeechModels
from vocable.transcription.whisper import WhisperExecutor
from vocable.translation.translator import Translator


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
    # Every loaded model, whatever its family (lazy, shared, unloaded when idle), and every
    # known model (installed or not) for `GET /v1/models`.
    pool: ModelPool
    catalog: ModelCatalog
    # PATCH of stored transcripts (edited segments are re-embedded) and search over them.
    editor: TranscriptEditor | None = None
    search: TranscriptSearch | None = None
    _owns_pool: bool = field(default=True, repr=False)
    _stop: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def create(cls, settings: Settings, **shared) -> Services:
        """Build every part from settings; ``shared`` passes ready parts in (e.g. the model pool
        and loaded executors reused by several apps in one test run)."""
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        blobs = shared.pop("blobs", None) or blob_store_from_url(settings.resolved_blob_url)
        db = Database(settings.resolved_database_url)
        db.migrate(blobs)
        registry = shared.pop("registry", None) or ModelRegistry(settings.resolved_model_dir)
        pool = shared.pop("pool", None)
        owns_pool = pool is None  # a pool passed in (tests) outlives this server
        pool = pool if pool is not None else ModelPool(settings.model_idle_unload_s)
        parts = dict(
            settings=settings,
            db=db,
            blobs=blobs,
            registry=registry,
            pool=pool,
            _owns_pool=owns_pool,
            quota=Quota(db, settings.plans),
            rate_limiter=RequestRateLimiter(settings.rate_limit_storage, settings.plans),
        )
        parts.update(shared)
        whisper = parts.setdefault("whisper", WhisperExecutor(registry, settings, pool))
        parts.setdefault("speech", SpeechModels(whisper, settings.model_fallback))
        streaming = parts.setdefault(
            "streaming", StreamScheduler(whisper.model, max_batch=settings.stream_max_batch)
        )
        admission = parts.setdefault("admission", Admission(
            parts["quota"], parts["rate_limiter"],
            max_upload_mb=settings.max_upload_mb,
            max_queued_jobs=settings.max_queued_jobs,
            queued_jobs=lambda: queue.backlog(),  # the queue is built below, from the jobs
            max_open_streams=settings.stream_max_active,
            open_streams=lambda: streaming.active,
        ))
        diarization = parts.setdefault(
            "diarization",
            DiarizationExecutor.for_settings(settings, tmp_dir=settings.data_dir, pool=pool),
        )
        jobs = parts.setdefault(
            "jobs",
            TranscriptionJobs(
                db, admission, whisper, diarizer_factory=lambda: diarization, blobs=blobs
            ),
        )
        queue = parts.setdefault(
            "queue",
            InProcessQueue(
                jobs.run, jobs.pending, settings.workers,
                describe=lambda: {"device": whisper.device.kind, "models_loaded": whisper.loaded()},
            ),
        )
        if "llm" not in parts:
            parts["llm"] = LLMExecutor(LLMRegistry(settings.resolved_model_dir), settings, pool)
        parts.setdefault("embedder", Embedder(settings, pool))
        parts.setdefault(
            "chat", TranscriptChat(db, parts["llm"], parts["embedder"], settings.chat_top_k)
        )
        if "analysis" not in parts:
            parts["analysis"] = Analyzer(parts["embedder"], parts["llm"], pool)
        if "translator" not in parts:
            parts["translator"] = Translator(
                parts["llm"], settings.resolved_model_dir, whisper.device.kind,
                settings.translation_backend, pool,
            )
        embedder = parts["embedder"]
        parts.setdefault("editor", TranscriptEditor(
            db, on_changed=lambda tid, segs: segment_vectors(db, embedder, tid, segs, only_if_stored=True)
        ))
        parts.setdefault("search", TranscriptSearch(db, embedder))
        parts.setdefault(
            "catalog", ModelCatalog(settings, pool, speech=registry, llm=parts["llm"].registry)
        )
        return cls(**parts)

    def start(self) -> None:
        """Background parts (workers, idle unloading) start here, after the app is built."""
        self.quota.recount_slots()
        self.queue.start()
        self._stop.clear()
        threading.Thread(target=self._unload_idle_models, name="vocable-idle", daemon=True).start()

    def _unload_idle_models(self) -> None:
        interval = max(1.0, min(60.0, self.settings.model_idle_unload_s / 4))
        while not self._stop.wait(interval):  # one loop for every model family
            self.pool.unload_idle()

    def close(self) -> None:
        self._stop.set()
        self.streaming.shutdown()
        self.queue.stop()
        if self._owns_pool:  # stops the diarization worker too; a shared pool (tests) lives on
            self.pool.close()
        self.db.dispose()
