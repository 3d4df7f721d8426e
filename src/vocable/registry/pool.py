"""The model pool: every loaded model of the process, whatever its family, in one place.

A model is named by ``(family, id)``: ``("speech", "base")``, ``("llm", "qwen2.5-…")``,
``("diarization", …)``. Each family keeps a small executor with its own API (``WhisperExecutor``,
``LLMExecutor``, ``Embedder``…) that says *how* to load one of its models; the pool decides *when*:

* lazily, on first use, with one lock per model (other models stay available while one loads);
* once, shared by every request (a second caller waits for the first load, it never loads twice);
* unloaded when idle for ``idle_unload_s`` (``unload_idle``, which ``Services`` runs in one loop
  for every family), never while a caller holds it with ``use``.

A model id names one loaded configuration: executors sharing a pool load an id the same way
(one process, one ``Settings``). Unloading drops the pool's reference and calls the model's
``dispose`` (stop a worker process, free a server); callers that still hold the object keep it
until they let go.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

log = logging.getLogger("vocable.registry.pool")

T = TypeVar("T")
Key = tuple[str, str]  # (family, model id)


@dataclass(frozen=True)
class LoadedModel:
    """One entry of ``ModelPool.loaded()`` (for /health and /v1/models)."""

    family: str
    id: str
    users: int  # callers inside ``use`` right now
    idle_s: float  # since it was last used
    load_seconds: float


@dataclass(eq=False)
class _Instance:
    model: Any
    dispose: Callable[[Any], None] | None
    load_seconds: float
    last_used: float = field(default_factory=time.monotonic)
    users: int = 0


@dataclass(eq=False)
class _Slot:
    load_lock: threading.Lock = field(default_factory=threading.Lock)
    instance: _Instance | None = None


class ModelPool:
    """Thread-safe; one per process (built by ``Services.create``), shared by every executor."""

    def __init__(self, idle_unload_s: float = 1800.0):
        self.idle_unload_s = idle_unload_s
        self._lock = threading.Lock()  # guards the slots and the instances' counters, never a load
        self._slots: dict[Key, _Slot] = {}

    # -- getting a model ---------------------------------------------------------------------------
    def get(
        self,
        family: str,
        model_id: str,
        load: Callable[[], T],
        dispose: Callable[[T], None] | None = None,
    ) -> T:
        """The loaded model, loading it with ``load()`` first if needed. ``dispose(model)`` runs
        when the pool unloads it. Errors from ``load`` reach the caller; nothing is kept."""
        return self._acquire((family, model_id), load, dispose, hold=False).model

    @contextmanager
    def use(
        self,
        family: str,
        model_id: str,
        load: Callable[[], T],
        dispose: Callable[[T], None] | None = None,
    ) -> Iterator[T]:
        """Like ``get``, and the model is not unloaded for idleness until the block ends."""
        instance = self._acquire((family, model_id), load, dispose, hold=True)
        try:
            yield instance.model
        finally:
            with self._lock:
                instance.users -= 1
                instance.last_used = time.monotonic()

    def peek(self, family: str, model_id: str) -> Any | None:
        """The model if it is loaded, else None; never loads, does not count as a use."""
        with self._lock:
            slot = self._slots.get((family, model_id))
            return slot.instance.model if slot is not None and slot.instance is not None else None

    def _acquire(self, key: Key, load: Callable[[], Any], dispose, hold: bool) -> _Instance:
        with self._lock:
            slot = self._slots.setdefault(key, _Slot())
            if slot.instance is not None:
                return self._touch(slot.instance, hold)
        with slot.load_lock:  # one load per model; other models' slots are not held
            with self._lock:
                if slot.instance is not None:  # loaded while this caller waited
                    return self._touch(slot.instance, hold)
            started = time.monotonic()
            model = load()
            instance = _Instance(model, dispose, time.monotonic() - started)
            with self._lock:
                slot.instance = instance
                self._touch(instance, hold)
        log.info("loaded %s %s in %.1fs", key[0], key[1], instance.load_seconds)
        return instance

    @staticmethod
    def _touch(instance: _Instance, hold: bool) -> _Instance:
        instance.last_used = time.monotonic()
        if hold:
            instance.users += 1
        return instance

    # -- what is loaded ----------------------------------------------------------------------------
    def loaded(self, family: str | None = None) -> list[LoadedModel]:
        now = time.monotonic()
        with self._lock:
            return [
                LoadedModel(f, m, s.instance.users, now - s.instance.last_used, s.instance.load_seconds)
                for (f, m), s in self._slots.items()
                if s.instance is not None and (family is None or f == family)
            ]

    def loaded_ids(self, family: str) -> list[str]:
        return [entry.id for entry in self.loaded(family)]

    # -- unloading ---------------------------------------------------------------------------------
    def unload_idle(self, idle_s: float | None = None) -> list[Key]:
        """Unload every model unused for longer than ``idle_s`` (default ``idle_unload_s``) and
        not in use. Returns what was unloaded."""
        idle_s = self.idle_unload_s if idle_s is None else idle_s
        now = time.monotonic()
        with self._lock:
            idle = [
                (key, slot) for key, slot in self._slots.items()
                if slot.instance is not None and slot.instance.users == 0
                and now - slot.instance.last_used > idle_s
            ]
            dropped = [(key, self._take(slot)) for key, slot in idle]
        for key, instance in dropped:
            self._dispose(key, instance, "idle")
        return [key for key, _ in dropped]

    def unload(self, family: str, model_id: str) -> bool:
        """Unload one model now, even in use (its users keep their reference)."""
        with self._lock:
            slot = self._slots.get((family, model_id))
            instance = self._take(slot) if slot is not None else None
        if instance is None:
            return False
        self._dispose((family, model_id), instance, "on request")
        return True

    def discard(self, family: str, model_id: str, model: Any) -> bool:
        """Drop ``model`` because it broke (a crashed worker): unloaded if it is still the pooled
        one, so the next caller loads a fresh one. A replacement already loaded is kept."""
        with self._lock:
            slot = self._slots.get((family, model_id))
            if slot is None or slot.instance is None or slot.instance.model is not model:
                return False
            instance = self._take(slot)
        self._dispose((family, model_id), instance, "broken")
        return True

    def close(self) -> None:
        """Unload everything (the owner is shutting down)."""
        with self._lock:
            dropped = [(key, self._take(slot)) for key, slot in self._slots.items() if slot.instance]
        for key, instance in dropped:
            self._dispose(key, instance, "closing")

    @staticmethod
    def _take(slot: _Slot) -> _Instance | None:
        instance, slot.instance = slot.instance, None
        return instance

    @staticmethod
    def _dispose(key: Key, instance: _Instance | None, why: str) -> None:
        if instance is None:
            return
        if instance.dispose is not None:
            try:
                instance.dispose(instance.model)
            except Exception:  # one model failing to stop must not stop the others
                log.exception("disposing of %s %s failed", *key)
        log.info("unloaded %s %s (%s)", key[0], key[1], why)
