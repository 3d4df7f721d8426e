"""The stream scheduler with two decode workers, on the real base model and real speech: every
stream completes with the right text, both workers decode at the same time, and no stream is
ever prepared or decoded on two threads at once."""

from __future__ import annotations

import threading
import time

import pytest

from tests.evaluation import wer
from vocable.streaming.client import pcm16_from_file
from vocable.streaming.policy import Done, Final, StreamTranscriber
from vocable.streaming.scheduler import StreamScheduler


@pytest.mark.slow
def test_two_workers_serve_four_streams_each_on_one_thread_at_a_time(whisper, data_dir, manifest,
                                                                     monkeypatch):
    inside: dict[int, int] = {}  # stream -> threads inside its prepare/apply right now
    overlap: list[int] = []
    threads_seen: set[int] = set()
    lock = threading.Lock()

    def watched(method):
        def run(self, *args):
            with lock:
                inside[id(self)] = inside.get(id(self), 0) + 1
                if inside[id(self)] > 1:
                    overlap.append(id(self))
                threads_seen.add(threading.get_ident())
            try:
                return method(self, *args)
            finally:
                with lock:
                    inside[id(self)] -= 1

        return run

    monkeypatch.setattr(StreamTranscriber, "prepare", watched(StreamTranscriber.prepare))
    monkeypatch.setattr(StreamTranscriber, "apply", watched(StreamTranscriber.apply))

    scheduler = StreamScheduler(whisper.stream_model, max_batch=4, workers=2)
    pcm = pcm16_from_file(data_dir / "jfk.wav")
    events: dict[int, list] = {}
    streams = []
    for i in range(4):
        events[i] = []
        streams.append(scheduler.open("base", "en", events[i].extend))
    try:
        # each stream fed in 0.5 s pieces as fast as the scheduler takes them
        for offset in range(0, len(pcm), 16000):
            for stream in streams:
                stream.push_pcm16(pcm[offset:offset + 16000])
        for stream in streams:
            stream.close_input()
        deadline = time.monotonic() + 300
        while scheduler.active and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        scheduler.shutdown()
    assert scheduler.active == 0
    reference = manifest["jfk.wav"]["reference"]
    for i in range(4):
        assert isinstance(events[i][-1], Done), events[i][-5:]
        text = " ".join(e.text for e in events[i] if isinstance(e, Final))
        assert wer(reference, text) <= 0.10, text
    assert not overlap
    assert len(threads_seen) == 2  # both workers decoded
    assert scheduler.decodes >= 4
