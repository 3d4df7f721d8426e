"""The model pool: one load per model id however many callers, other ids free meanwhile, idle
unload (never while in use), every family listed. Real loads: plain loaders and the real
analysis tools (VADER) and Whisper base."""

from __future__ import annotations

import threading
import time

import pytest

from tests.conftest import MODEL_DIR
from vocable.analysis.nlp import NlpToolkit
from vocable.config import Settings
from vocable.llm.embed import Embedder
from vocable.registry.pool import ModelPool
from vocable.registry.speech import ModelRegistry
from vocable.transcription.whisper import WhisperExecutor


class Loads:
    """A loader that records its calls; ``gate`` holds a load until the test releases it."""

    def __init__(self, gate: threading.Event | None = None, seconds: float = 0.0):
        self.calls = 0
        self.gate = gate
        self.seconds = seconds
        self.lock = threading.Lock()

    def __call__(self) -> object:
        with self.lock:
            self.calls += 1
        if self.gate is not None:
            assert self.gate.wait(10)
        time.sleep(self.seconds)
        return object()


def test_two_threads_loading_the_same_id_load_it_once():
    pool = ModelPool()
    load = Loads(seconds=0.3)
    start = threading.Barrier(4)
    got: list[object] = []

    def caller() -> None:
        start.wait()
        got.append(pool.get("speech", "base", load))

    threads = [threading.Thread(target=caller) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert load.calls == 1
    assert len(got) == 4 and all(m is got[0] for m in got)
    assert pool.get("speech", "base", load) is got[0] and load.calls == 1


def test_other_ids_stay_available_while_one_loads():
    pool = ModelPool()
    gate = threading.Event()
    slow = Loads(gate)
    loading = threading.Thread(target=pool.get, args=("llm", "slow", slow))
    loading.start()
    while slow.calls == 0:
        time.sleep(0.005)
    try:
        started = time.monotonic()
        fast = pool.get("speech", "fast", Loads())  # not held up by the other id's load
        assert time.monotonic() - started < 1.0
        assert pool.peek("speech", "fast") is fast and pool.peek("llm", "slow") is None
    finally:
        gate.set()
        loading.join(10)
    assert pool.peek("llm", "slow") is not None


def test_idle_models_are_unloaded_and_load_again_on_next_use():
    pool = ModelPool(idle_unload_s=0.05)
    load = Loads()
    disposed: list[object] = []
    first = pool.get("speech", "base", load, disposed.append)
    assert pool.unload_idle() == []  # just used
    time.sleep(0.1)
    assert pool.unload_idle() == [("speech", "base")]
    assert disposed == [first] and pool.loaded() == [] and pool.peek("speech", "base") is None
    second = pool.get("speech", "base", load)
    assert second is not first and load.calls == 2


def test_a_model_in_use_is_not_unloaded_for_idleness():
    pool = ModelPool(idle_unload_s=0.0)
    with pool.use("diarization", "worker", Loads()) as worker:
        time.sleep(0.02)
        assert pool.unload_idle() == []
        assert [m.users for m in pool.loaded()] == [1]
        assert pool.peek("diarization", "worker") is worker
    time.sleep(0.02)
    assert pool.unload_idle() == [("diarization", "worker")]


def test_a_failed_load_keeps_nothing_and_the_next_call_retries():
    pool = ModelPool()

    def broken() -> object:
        raise OSError("weights unreadable")

    with pytest.raises(OSError, match="unreadable"):
        pool.get("llm", "qwen", broken)
    assert pool.loaded() == []
    load = Loads()
    assert pool.get("llm", "qwen", load) is not None and load.calls == 1


def test_discard_drops_only_the_broken_model():
    pool = ModelPool()
    disposed: list[object] = []
    broken = pool.get("diarization", "worker", Loads(), disposed.append)
    assert not pool.discard("diarization", "worker", object())  # not the pooled one: kept
    assert pool.discard("diarization", "worker", broken)
    assert disposed == [broken]
    fresh = pool.get("diarization", "worker", Loads())
    assert fresh is not broken
    assert not pool.discard("diarization", "worker", broken)  # a replacement is kept


def test_loaded_lists_every_family_and_close_unloads_all():
    pool = ModelPool()
    disposed: list[object] = []
    pool.get("speech", "base", Loads(), disposed.append)
    pool.get("llm", "qwen", Loads(), disposed.append)
    pool.get("analysis", "vader", Loads(), disposed.append)
    assert [(m.family, m.id) for m in pool.loaded()] == [
        ("speech", "base"), ("llm", "qwen"), ("analysis", "vader")
    ]
    assert pool.loaded_ids("speech") == ["base"]
    assert pool.unload("llm", "qwen") and not pool.unload("llm", "qwen")
    pool.close()
    assert pool.loaded() == [] and len(disposed) == 3


def test_analysis_tools_load_once_through_the_pool():
    """The real VADER lexicon, from two request threads at once: one load, one shared object."""
    pool = ModelPool(idle_unload_s=0.05)
    toolkit = NlpToolkit(Embedder(Settings(model_dir=MODEL_DIR), pool), pool)
    start = threading.Barrier(2)
    got: list[object] = []

    def request() -> None:
        start.wait()
        got.append(toolkit.vader)

    threads = [threading.Thread(target=request) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(got) == 2 and got[0] is got[1]
    assert got[0].polarity_scores("What a great day!")["compound"] > 0.5
    assert toolkit.loaded() == ["vader"]
    time.sleep(0.1)
    assert pool.unload_idle() == [("analysis", "vader")]
    assert toolkit.vader is not got[0]  # loaded afresh on the next use


def test_whisper_models_share_the_pool_with_other_families(registry: ModelRegistry):
    """Whisper base through a fresh pool: listed under its family, unloaded by the one loop."""
    pool = ModelPool()
    whisper = WhisperExecutor(registry, Settings(model_dir=MODEL_DIR, default_model="base"), pool)
    model = whisper.model()
    assert whisper.model("base") is model
    assert whisper.loaded() == ["base"] and pool.loaded_ids("speech") == ["base"]
    assert pool.unload_idle(idle_s=0.0) == [("speech", "base")]
    assert whisper.loaded() == []
