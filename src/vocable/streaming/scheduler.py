"""``StreamScheduler``: the decode work of every open stream, served fairly and in batches.

Decoding uses one shared faster-whisper model for all streams. ``StreamScheduler`` serves the decode
work of every open stream from ``workers`` threads (the model has as many CTranslate2 workers,
one thread each: on a CPU the many small decoder steps of a stream decode gain little from a
second thread and much from a second decode running beside it). Each worker, whenever it is free,
claims the streams that have work and no other worker holds, oldest-served first and its share of
them (so the other workers get theirs), takes at most one decode per stream and runs the decodes
of streams that share a model and language as one batch (one encoder call, one generate call).
A stream that sends faster than real time gets one decode per turn like everybody else, so it
cannot starve the others; its backlog is reported (``backlog_s``) so the transport can stop
reading from it (backpressure).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from vocable.streaming.decode import DecodeRequest, decode_batch
from vocable.streaming.policy import Event, Failed, Final, StreamOptions, StreamTranscriber

log = logging.getLogger("vocable.streaming.scheduler")


@dataclass
class _Entry:
    stream: StreamTranscriber
    on_events: Callable[[list[Event]], None]
    busy: bool = False  # a worker holds it: its prepare/apply never run on two threads at once


class StreamScheduler:
    """Serves every open stream's decode work from ``workers`` threads, fairly and in batches."""

    def __init__(
        self,
        models: Callable[[str], object],
        *,
        max_batch: int = 4,
        workers: int = 1,
        options: StreamOptions | None = None,
    ):
        self._models = models  # model id -> loaded faster-whisper model (shared)
        self.max_batch = max(1, max_batch)
        self.workers = max(1, workers)
        self.options = options or StreamOptions()
        self._entries: dict[int, _Entry] = {}
        self._cond = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._working = 0  # workers in a turn
        self._stopping = False
        self.decodes = 0  # counters, for tests and the bench
        self.batches = 0

    def open(
        self,
        model_id: str,
        language: str | None,
        on_events: Callable[[list[Event]], None],
        options: StreamOptions | None = None,
        hint: str = "",
    ) -> StreamTranscriber:
        stream = StreamTranscriber(model_id, language, options or self.options, hint)
        stream._wake = self._wake
        with self._cond:
            self._entries[id(stream)] = _Entry(stream, on_events)
            self._threads = [t for t in self._threads if t.is_alive()]
            if not self._threads:
                self._stopping = False
            while len(self._threads) < self.workers:
                thread = threading.Thread(target=self._run, name="vocable-stream", daemon=True)
                thread.start()
                self._threads.append(thread)
            self._cond.notify()
        return stream

    def detach(self, stream: StreamTranscriber) -> None:
        """Forget a stream (finished, failed or its client gone); idempotent."""
        with self._cond:
            self._entries.pop(id(stream), None)

    @property
    def active(self) -> int:
        with self._cond:
            return len(self._entries)

    def shutdown(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout=30)

    def _wake(self) -> None:
        with self._cond:
            self._cond.notify()

    def _ready(self) -> list[_Entry]:
        return [e for e in self._entries.values() if not e.busy and e.stream.has_work()]

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopping and not (ready := self._ready()):
                    self._cond.wait(timeout=1.0)
                if self._stopping:
                    return
                ready.sort(key=lambda e: e.stream.last_served)
                # this worker's share of the waiting streams: the idle workers split them
                share = min(self.max_batch, math.ceil(len(ready) / (self.workers - self._working)))
                claimed = ready[:share]
                for entry in claimed:
                    entry.busy = True
                self._working += 1
            try:
                self._round(claimed)
            except Exception:  # pragma: no cover - _round guards each stream
                log.exception("stream scheduler round failed")
                time.sleep(0.1)
            finally:
                with self._cond:
                    for entry in claimed:
                        entry.busy = False
                    self._working -= 1
                    self._cond.notify_all()

    def _round(self, entries: list[_Entry]) -> None:
        """One decode per claimed stream at most, oldest-served first; the first stream's (model,
        language, prompt, hint) group forms the batch, the rest wait for the next turn, first in
        line."""
        batch: list[tuple[_Entry, DecodeRequest]] = []
        key = None
        for entry in entries:
            if entry.stream.done or not entry.stream.has_work():
                continue
            try:
                request, events = entry.stream.prepare()
            except Exception as exc:
                log.exception("stream failed while preparing")
                self._fail(entry, f"Streaming failed: {exc}")
                continue
            if events:
                self._deliver(entry, events)
            if entry.stream.done:
                self.detach(entry.stream)
                continue
            if request is None:
                continue
            group = (entry.stream.model_id, request.language or f"auto:{id(entry)}",
                     bool(request.prompt.strip()), request.hint)
            if key is None:
                key = group
            if group == key and len(batch) < self.max_batch:
                batch.append((entry, request))
        if not batch:
            return
        started = time.monotonic()
        try:
            model = self._models(batch[0][0].stream.model_id)
            results = decode_batch(model, [r for _, r in batch], self.options)
        except Exception:
            log.exception("stream decode failed")
            for entry, _ in batch:
                self._fail(entry, "Speech recognition failed; the stream cannot continue.")
            return
        with self._cond:
            self.decodes += len(batch)
            self.batches += 1
        now = time.monotonic()
        log.debug("decoded %d stream(s), %.1f s of audio at most, in %.2f s", len(batch),
                  max(r.duration for _, r in batch), now - started)
        for (entry, request), result in zip(batch, results):
            entry.stream.last_served = now
            try:
                events = entry.stream.apply(request, result)
            except Exception:
                log.exception("stream failed while applying a decode")
                self._fail(entry, "Streaming failed unexpectedly.")
                continue
            if log.isEnabledFor(logging.DEBUG):  # one line per decode, to replay a stream by eye
                log.debug("stream %x %.2f-%.2f s%s prefix %r -> %r; finals %r", id(entry) % 65536,
                          request.offset, request.offset + request.duration,
                          " flush" if request.flush else "", request.prefix[-30:],
                          "".join(w.word for w in result.words),
                          [e.text for e in events if isinstance(e, Final)])
            if events:
                self._deliver(entry, events)

    def _deliver(self, entry: _Entry, events: list[Event]) -> None:
        try:
            entry.on_events(events)
        except Exception:  # the consumer is gone (closed loop, ...): drop the stream
            log.debug("stream consumer failed; detaching", exc_info=True)
            self.detach(entry.stream)

    def _fail(self, entry: _Entry, message: str) -> None:
        entry.stream.done = True
        self.detach(entry.stream)
        self._deliver(entry, [Failed(message)])
