"""The LLM runtime: registry (bundled GGUF assembly, operator-added models), fair queue, real model."""

from __future__ import annotations

import hashlib
import threading
import time

import pytest
from pydantic import BaseModel, Field

from vocable.llm.runtime import Completion, FairScheduler, LLMBusy
from vocable.registry.llm import BUNDLED_LLM, InvalidModelFile, LLMRegistry
from vocable.registry.speech import ModelNotInstalled

BUNDLED_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"


def test_bundled_model_is_assembled_once_and_verified(llm):
    registry = llm.registry
    assert BUNDLED_LLM in registry.installed()
    path = registry.path(BUNDLED_LLM)
    assert path.stat().st_size == 1_117_320_768
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(16 * 1024 * 1024):
            digest.update(chunk)
    assert digest.hexdigest() == BUNDLED_SHA256
    mtime = path.stat().st_mtime_ns
    assert registry.path(BUNDLED_LLM) == path and path.stat().st_mtime_ns == mtime  # not redone


def test_operator_adds_a_gguf_by_path(llm, tmp_path):
    registry = LLMRegistry(tmp_path / "models")
    bundled = llm.registry.path(BUNDLED_LLM)
    model_id = registry.add(bundled, "my-instruct")
    assert model_id == "my-instruct" and "my-instruct" in registry.installed()
    assert registry.path("my-instruct") == bundled
    # Chosen in settings: the preferred id wins; a missing one names what is installed.
    assert registry.default_model("my-instruct") == "my-instruct"
    with pytest.raises(ModelNotInstalled, match="my-instruct"):
        registry.default_model("qwen2.5-7b-instruct")
    not_gguf = tmp_path / "notes.gguf"
    not_gguf.write_text("hello")
    with pytest.raises(InvalidModelFile):
        registry.add(not_gguf)
    assert registry.remove("my-instruct") and "my-instruct" not in registry.installed()


def test_scheduler_serves_clients_round_robin_and_refuses_when_full():
    scheduler = FairScheduler(slots=1, max_waiting=4)
    order: list[str] = []
    gate = threading.Event()

    def job(client: str) -> None:
        with scheduler.slot(client, timeout=30):
            order.append(client)
            gate.wait(10)

    first = threading.Thread(target=job, args=("a",))
    first.start()
    while scheduler.running == 0:
        time.sleep(0.005)
    threads = []
    for client in ("a", "a", "a", "b"):  # a's burst is queued before b arrives
        t = threading.Thread(target=job, args=(client,))
        t.start()
        threads.append(t)
        while scheduler.waiting < len(threads):
            time.sleep(0.005)
    with pytest.raises(LLMBusy), scheduler.slot("c", timeout=30):  # 4 waiting = full
        pass
    gate.set()
    for t in [first, *threads]:
        t.join(10)
    assert order == ["a", "a", "b", "a", "a"]  # b is served second in line, not last
    with (
        pytest.raises(LLMBusy, match="no slot"),
        scheduler.slot("x", timeout=30),
        scheduler.slot("y", timeout=0.05),
    ):
        pass


class Capital(BaseModel):
    country: str = Field(max_length=40)
    capital: str = Field(max_length=40)


def test_real_model_completes_and_follows_a_schema(llm):
    text = llm.complete(
        [{"role": "user", "content": "Reply with exactly one word: the capital of France."}],
        max_tokens=8,
    )
    assert "paris" in text.lower()
    answer = llm.complete_json(
        [{"role": "user", "content": "Give the capital of Italy as JSON."}], Capital, max_tokens=40
    )
    assert answer.capital.lower() == "rome"
    assert llm.count_tokens("Hello world") in (2, 3)


def test_streamed_generation_yields_pieces_then_the_completion(llm):
    messages = [{"role": "user", "content": "Count from 1 to 5, digits separated by commas."}]
    *pieces, done = list(llm.stream(messages, max_tokens=20, temperature=0.0))
    assert isinstance(done, Completion) and len(pieces) >= 3
    assert all(isinstance(p, str) for p in pieces)
    assert "".join(pieces).strip() == done.text and "3" in done.text
    assert done.prompt_tokens > 0 and done.completion_tokens >= len(pieces) - 1
    # Closing the stream early stops the generation: the slot is free at once, not after 300 tokens.
    stream = llm.stream([{"role": "user", "content": "Write a long story about a ship."}],
                        max_tokens=300)
    assert isinstance(next(stream), str)
    stream.close()
    deadline = time.monotonic() + 10
    while llm.scheduler.running and time.monotonic() < deadline:
        time.sleep(0.05)
    assert llm.scheduler.running == 0
