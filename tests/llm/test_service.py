"""The LLM as a service: a full queue is a 503, and the seed's Python example runs unchanged."""

from __future__ import annotations

import contextlib
import io
import shutil
import threading

from sqlalchemy import select

from tests.conftest import LiveServer, make_settings
from tests.llm.conftest import new_key
from vocable.llm.runtime import LLMExecutor
from vocable.services import Services
from vocable.storage.models import Transcript

# The Python example of the reference documentation, verbatim but for the first two assignments.
SEED_EXAMPLE = '''
import requests

API_KEY = "YOUR_API_KEY"
BASE = "https://api.stt.ai"

# Transcribe a file
with open("meeting.mp3", "rb") as f:
    resp = requests.post(
        f"{BASE}/v1/transcribe",
        headers={"Authorization": f"Bearer {API_KEY}"},
        files={"file": ("meeting.mp3", f, "audio/mpeg")},
        data={"model": "large-v3-turbo", "language": "auto", "diarize": "true"},
    )

result = resp.json()
print(f"Language: {result['language']}, Duration: {result['duration']:.1f}s")

for seg in result["segments"]:
    print(f"[{seg['start']:.1f}s] {seg.get('speaker', '')}: {seg['text']}")

# Summarize the transcript
summary = requests.post(
    f"{BASE}/v1/summarize",
    headers={"Authorization": f"Bearer {API_KEY}"},
    json={"text": result["text"], "style": "bullet_points"},
).json()
print(summary["summary"])
'''


def test_full_queue_is_503_with_retry_after(tmp_path, registry, whisper, llm, embedder):
    settings = make_settings(tmp_path, llm_parallel=1, llm_queue_size=0)
    # Its own executor (own queue); the model never loads: the request is refused before that.
    busy = LLMExecutor(llm.registry, settings)
    services = Services.create(settings, registry=registry, whisper=whisper, llm=busy,
                               embedder=embedder)
    release = threading.Event()
    holding = threading.Event()

    def hold_the_only_slot():
        with busy.scheduler.slot("someone", timeout=5):
            holding.set()
            release.wait(30)

    holder = threading.Thread(target=hold_the_only_slot)
    holder.start()
    try:
        assert holding.wait(5)
        with LiveServer(services) as server, server.client() as client:
            response = client.post("/v1/summarize", json={"text": "Hello there. We met today."})
            assert response.status_code == 503
            assert "queue" in response.json()["error"] and response.headers["Retry-After"]
            response = client.post("/v1/generate", json={"text": "Hi there.", "type": "quiz"})
            assert response.status_code == 503
            health = client.get("/health").json()["llm"]
            assert health == {"model": "qwen2.5-coder-1.5b-instruct", "loaded": False,
                              "running": 1, "waiting": 0}
    finally:
        release.set()
        holder.join(10)
    assert busy.loaded() == []


def test_seed_python_example_runs_unchanged(tmp_path, data_dir, registry, whisper, llm, embedder,
                                             monkeypatch):
    # The example asks for large-v3-turbo, which needs a download: the best installed model
    # (base) serves it, and the answer names it.
    services = Services.create(make_settings(tmp_path), registry=registry, whisper=whisper,
                               llm=llm, embedder=embedder)
    shutil.copy(data_dir / "jfk.mp3", tmp_path / "meeting.mp3")
    monkeypatch.chdir(tmp_path)
    with LiveServer(services) as server:
        _, key = new_key(server, "seed@example.com")
        code = SEED_EXAMPLE.replace('"YOUR_API_KEY"', repr(key)).replace(
            '"https://api.stt.ai"', repr(server.url)
        )
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, "seed_example.py", "exec"), {})  # noqa: S102 - the docs example, verbatim
        with services.db.session() as s:  # the stored transcript names the model that served it
            assert list(s.scalars(select(Transcript.model))) == ["base"]
    printed = out.getvalue()
    assert "Language: en, Duration: 11.0s" in printed
    assert "ask not what your country can do for you" in printed.lower()
    summary = printed.split("\n")[2:]
    assert any(line.strip() for line in summary)
