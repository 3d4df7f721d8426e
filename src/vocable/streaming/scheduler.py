"""``StreamScheduler``: the decode work of every open stream, served fairly and in batches.

Decoding uses one shared faster-whisper model for all streams. ``StreamScheduler`` serves the decode
work of every open stream from one worker thread: each round takes at most one decode per stream,
oldest-served first, and runs the decodes of streams that share a model and language as batches
(one encoder call, one generate call each). With ``workers`` > 1 a round's streams are split into
that many batches decoded side by side (the model then has as many CTranslate2 workers, one
thread each): on a CPU the many small decoder steps of a stream decode gain little from a second
thread and much from a second decode. A stream that sends faster than real time gets one decode
per round like everybody else, so it cannot starve the others; its backlog is reported
(``backlog_s``) so the transport can stop reading from it (backpressure).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from vocable.streaming.decode import DecodeRequest, decode_batch
from vocable.streaming.policy import Event, Failed, StreamOptions, StreamTranscriber

log = logging.getLogger("vocable.streaming.scheduler")


@dataclass
class _Entry:
    stream: StreamTranscriber
    on_events: Callable[[list[Event]], None]


class StreamScheduler:
    """Serves every open stream's decode work from one worker thread, fairly and in batches."""

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
        self._decoders = (ThreadPoolExecutor(self.workers, thread_name_prefix="vocable-stream-decode")
                          if self.workers > 1 else None)
        self.options = options or StreamOptions()
        self._entries: dict[int, _Entry] = {}
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
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
            if self._thread is None or not self._thread.is_alive():
                self._stopping = False
                self._thread = threading.Thread(target=self._run, name="vocable-stream", daemon=True)
                self._thread.start()
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
        if self._thread is not None:
            self._thread.join(timeout=30)
        if self._decoders is not None:
            self._decoders.shutdown(wait=False, cancel_futures=True)

    def _wake(self) -> None:
        with self._cond:
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(
                    lambda: self._stopping or any(e.stream.has_work() for e in self._entries.values()),
                    timeout=1.0,
                )
                if self._stopping:
                    return
                entries = sorted(self._entries.values(), key=lambda e: e.stream.last_served)
            try:
                self._round(entries)
            except Exception:  # pragma: no cover - _round guards each stream
                log.exception("stream scheduler round failed")
                time.sleep(0.1)

    def _round(self, entries: list[_Entry]) -> None:
        """One decode per stream at most, oldest-served first; the first stream's (model,
        language, prompt, hint) group forms the round's batches, the rest wait for the next round,
        first in line."""
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
            if group == key and len(batch) < self.max_batch * self.workers:
                batch.append((entry, request))
        if not batch:
            return
        started = time.monotonic()
        try:
            model = self._models(batch[0][0].stream.model_id)
        except Exception:
            log.exception("stream model failed to load")
            for entry, _ in batch:
                self._fail(entry, "Speech recognition failed; the stream cannot continue.")
            return
        parts = self._split(batch)
        if self._decoders is None or len(parts) == 1:
            outcomes = [self._decode(model, part) for part in parts]
        else:
            outcomes = list(self._decoders.map(lambda part: self._decode(model, part), parts))
        decoded = []
        for part, results in zip(parts, outcomes):
            if results is None:
                for entry, _ in part:
                    self._fail(entry, "Speech recognition failed; the stream cannot continue.")
                continue
            decoded += list(zip(part, results))
        if not decoded:
            return
        self.decodes += len(decoded)
        self.batches += len(parts)
        now = time.monotonic()
        log.debug("decoded %d stream(s) in %d batch(es), %.1f s of audio at most, in %.2f s",
                  len(decoded), len(parts), max(r.duration for (_, r), _ in decoded), now - started)
        for (entry, request), result in decoded:
            entry.stream.last_served = now
            try:
                events = entry.stream.apply(request, result)
            except Exception:
                log.exception("stream failed while applying a decode")
                self._fail(entry, "Streaming failed unexpectedly.")
                continue
            if events:
                self._deliver(entry, events)

    def _split(self, batch: list[tuple[_Entry, DecodeRequest]]) -> list[list[tuple[_Entry, DecodeRequest]]]:
        """The round's decodes as up to ``workers`` batches of at most ``max_batch``, similar
        buffers together (a batch lasts as long as its longest row)."""
        count = min(self.workers, len(batch))
        ordered = sorted(batch, key=lambda item: len(item[1].prefix) + 20 * item[1].open_s)
        size = -(-len(ordered) // count)
        return [ordered[i:i + size] for i in range(0, len(ordered), size)]

    def _decode(self, model, part: list[tuple[_Entry, DecodeRequest]]):
        try:
            return decode_batch(model, [r for _, r in part], self.options)
        except Exception:
            log.exception("stream decode failed")
            return None

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
