"""Everything a running server (or the CLI) shares: settings, database, registry, executors, queue.

Built once per process by ``Services.create``; the HTTP app keeps it on ``app.state.services``.
Later parts (the job queue, the LLM, diarization...) hang their executors here too.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from vocable.accounts.quota import Quota
from vocable.accounts.ratelimit import RequestRateLimiter
from vocable.analysis import Analyzer
from vocable.config import Settings
from vocable.diarization.executor import DiarizationExecutor
from vocable.llm.embed import Embedder
from vocable.llm.runtime import LLMExecutor
from vocable.registry.llm import LLMRegistry
from vocable.registry.speech import ModelRegistry
from vocable.storage.db import Database
from vocable.streaming.policy import StreamScheduler
from vocable.transcription.jobs import InProcessQueue, JobQueue, TranscriptionJobs
from vocable.transcription.whisper import WhisperExecutor
from vocable.translation.translator import Translator


@dataclass
class Services:
    settings: Settings
    db: Database
    registry: ModelRegistry
    quota: Quota
    rate_limiter: RequestRateLimiter
    whisper: WhisperExecutor
    jobs: TranscriptionJobs
    queue: JobQueue
    # The local LLM (see llm.py for its API) and sentence embeddings; both load on first use.
    llm: LLMExecutor
    embedder: Embedder
    # Text analysis (spaCy, VADER, Presidio, MiniLM; action items on the LLM): tools load on use.
    analysis: Analyzer
    # /v1/translate: installed CTranslate2 NMT models, else the LLM with protected values.
    translator: Translator
    # Speaker diarization in its own worker process (started by the first job that diarizes).
    diarization: DiarizationExecutor
    _owns_diarization: bool = field(default=True, repr=False)
    _stop: threading.Event = field(default_factory=threading.Event)
    # WS /v1/stream decoding; built on first use (its worker thread starts with the first stream).
    _streaming: StreamScheduler | None = field(default=None, repr=False)

    @property
    def streaming(self) -> StreamScheduler:
        if self._streaming is None:
            self._streaming = StreamScheduler(
                self.whisper.model, max_batch=self.settings.stream_max_batch
            )
        return self._streaming

    @classmethod
    def create(cls, settings: Settings, **shared) -> Services:
        """Build every part from settings; ``shared`` passes ready parts in (e.g. a loaded
        WhisperExecutor reused by several apps in one test run)."""
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        db = Database(settings.resolved_database_url)
        db.migrate()
        registry = shared.pop("registry", None) or ModelRegistry(settings.resolved_model_dir)
        parts = dict(
            settings=settings,
            db=db,
            registry=registry,
            quota=Quota(db, settings.plans),
            rate_limiter=RequestRateLimiter(settings.rate_limit_storage, settings.plans),
        )
        parts.update(shared)
        whisper = parts.setdefault("whisper", WhisperExecutor(registry, settings))
        parts["_owns_diarization"] = "diarization" not in parts
        diarization = parts.setdefault(
            "diarization",
            DiarizationExecutor.for_settings(settings, tmp_dir=settings.data_dir),
        )
        jobs = parts.setdefault(
            "jobs",
            TranscriptionJobs(db, parts["quota"], whisper, diarizer_factory=lambda: diarization),
        )
        parts.setdefault(
            "queue",
            InProcessQueue(
                jobs.run, jobs.pending, settings.workers,
                describe=lambda: {"device": whisper.device.kind, "models_loaded": whisper.loaded()},
            ),
        )
        if "llm" not in parts:
            parts["llm"] = LLMExecutor(LLMRegistry(settings.resolved_model_dir), settings)
        parts.setdefault("embedder", Embedder(settings))
        if "analysis" not in parts:
            parts["analysis"] = Analyzer(parts["embedder"], parts["llm"])
        if "translator" not in parts:
            parts["translator"] = Translator(
                parts["llm"], settings.resolved_model_dir, whisper.device.kind,
                settings.translation_backend,
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
        while not self._stop.wait(interval):
            self.whisper.unload_idle()
            self.llm.unload_idle()

    def close(self) -> None:
        self._stop.set()
        if self._streaming is not None:
            self._streaming.shutdown()
        self.queue.stop()
        if self._owns_diarization:  # a shared executor (tests) outlives this server
            self.diarization.close()
        self.db.dispose()
