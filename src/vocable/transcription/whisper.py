"""The Whisper executor: how faster-whisper models load; the model pool shares and unloads them."""

from __future__ import annotations

import logging

from faster_whisper import WhisperModel

from vocable.config import Settings
from vocable.device import DeviceInfo, detect_device
from vocable.registry.pool import ModelPool
from vocable.registry.speech import FAMILY, ModelRegistry

log = logging.getLogger("vocable.transcription.whisper")


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

    def _load(self, model_id: str) -> WhisperModel:
        model = WhisperModel(
            str(self.registry.path(model_id)),
            device=self.device.kind,
            compute_type=self.compute_type,
            cpu_threads=self.settings.cpu_threads,
            num_workers=max(1, self.settings.workers),
        )
        log.info("%s runs on %s (%s)", model_id, self.device.kind, self.compute_type)
        return model

    def loaded(self) -> list[str]:
        return self.pool.loaded_ids(FAMILY)
