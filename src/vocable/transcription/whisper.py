"""The Whisper executor: how faster-whisper models load; the model pool shares and unloads them."""

from __future__ import annotations

import logging
import os

from faster_whisper import WhisperModel

from vocable.config import Settings
from vocable.device import DeviceInfo, detect_device
from vocable.registry.pool import ModelPool
from vocable.registry.speech import FAMILY, ModelRegistry

log = logging.getLogger("vocable.transcription.whisper")

# Live streams' instance of a speech model (CPU): its own threads, so file transcription keeps all
# cores for its large windows while streams decode side by side (``WhisperExecutor.stream_model``).
STREAM_FAMILY = "speech-stream"


class WhisperExecutor:
    """The speech family's executor. ``model(id)`` is safe to call from any thread.

    ``pool``: the process's model pool (``Services.create`` passes it); without one the executor
    keeps a pool of its own.
    """

    def __init__(self, registry: ModelRegistry, settings: Settings, pool: ModelPool | None = None):
        self.registry = registry
        self.settings = settings
        self.pool = pool if pool is not None else ModelPool(settings.model_idle_unload_s)
        self.device: DeviceInfo = detect_device(settings.device)

    @property
    def compute_type(self) -> str:
        if self.settings.compute_type != "default":
            return self.settings.compute_type
        return "float16" if self.device.kind == "cuda" else "int8"

    def resolve(self, model_id: str | None) -> str:
        """The model id to use: the requested one, or the best installed. Raises if missing."""
        if model_id:
            if not self.registry.is_installed(model_id):
                self.registry.path(model_id)  # raises ModelNotInstalled naming the installed ones
            return model_id
        return self.registry.default_model(self.settings.default_model)

    def model(self, model_id: str | None = None) -> WhisperModel:
        """The loaded model (loaded on first use; one load per model, others stay available)."""
        model_id = self.resolve(model_id)
        return self.pool.get(FAMILY, model_id, lambda: self._load(model_id))

    @property
    def stream_workers(self) -> int:
        """Stream decodes that run at once (``Settings.stream_workers``)."""
        if self.settings.stream_workers > 0:
            return self.settings.stream_workers
        if self.device.kind == "cuda":
            return 1  # a GPU batches the streams; side-by-side decodes would only queue
        return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)

    def stream_model(self, model_id: str | None = None) -> WhisperModel:
        """The model as live streams use it: on a CPU an instance of its own with one thread per
        decode and ``stream_workers`` decodes at once (CTranslate2 runs the small decoder steps
        of a stream decode faster on one thread each than on all cores together); on a GPU the
        shared model."""
        model_id = self.resolve(model_id)
        if self.device.kind == "cuda":
            return self.model(model_id)
        workers = self.stream_workers
        return self.pool.get(STREAM_FAMILY, model_id,
                             lambda: self._load(model_id, threads=1, workers=workers))

    def _load(self, model_id: str, threads: int | None = None, workers: int | None = None) -> WhisperModel:
        model = WhisperModel(
            str(self.registry.path(model_id)),
            device=self.device.kind,
            compute_type=self.compute_type,
            cpu_threads=self.settings.cpu_threads if threads is None else threads,
            num_workers=max(1, self.settings.workers if workers is None else workers),
        )
        log.info("%s runs on %s (%s)", model_id, self.device.kind, self.compute_type)
        return model

    def loaded(self) -> list[str]:
        return self.pool.loaded_ids(FAMILY)
