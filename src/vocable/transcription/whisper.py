"""The Whisper executor: loads faster-whisper models lazily, shares them, unloads them when idle."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from faster_whisper import WhisperModel

from vocable.config import Settings
from vocable.device import DeviceInfo, detect_device
from vocable.registry.speech import ModelRegistry

log = logging.getLogger("vocable.transcription.whisper")


@dataclass
class _Loaded:
    model: WhisperModel
    last_used: float = field(default_factory=time.monotonic)


class WhisperExecutor:
    """One instance per process. ``model(id)`` is safe to call from any thread."""

    def __init__(self, registry: ModelRegistry, settings: Settings):
        self.registry = registry
        self.settings = settings
        self.device: DeviceInfo = detect_device(settings.device)
        self._models: dict[str, _Loaded] = {}
        self._lock = threading.Lock()
        self._load_locks: dict[str, threading.Lock] = {}

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
        model_id = self.resolve(model_id)
        with self._lock:
            loaded = self._models.get(model_id)
            if loaded:
                loaded.last_used = time.monotonic()
                return loaded.model
            load_lock = self._load_locks.setdefault(model_id, threading.Lock())
        with load_lock:  # one load per model, other models stay available meanwhile
            with self._lock:
                if model_id in self._models:
                    return self._models[model_id].model
            started = time.monotonic()
            model = WhisperModel(
                str(self.registry.path(model_id)),
                device=self.device.kind,
                compute_type=self.compute_type,
                cpu_threads=self.settings.cpu_threads,
                num_workers=max(1, self.settings.workers),
            )
            log.info("loaded %s on %s in %.1fs", model_id, self.device.kind, time.monotonic() - started)
            with self._lock:
                self._models[model_id] = _Loaded(model)
            return model

    def loaded(self) -> list[str]:
        with self._lock:
            return list(self._models)

    def unload_idle(self, idle_s: float | None = None) -> list[str]:
        idle_s = self.settings.model_idle_unload_s if idle_s is None else idle_s
        now = time.monotonic()
        with self._lock:
            idle = [m for m, l in self._models.items() if now - l.last_used > idle_s]
            for model_id in idle:
                del self._models[model_id]
        for model_id in idle:
            log.info("unloaded idle model %s", model_id)
        return idle
