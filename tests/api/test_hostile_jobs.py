"""kill -9 while a job runs: after the restart the job finishes, once, charged once.

``vocable serve`` runs as a subprocess on its own data dir, as an operator runs it; the account
is made in that data dir's database before the start, as the CLI would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from tests.conftest import MODEL_DIR, SHARED_DATA, free_port
from vocable.accounts.keys import create_account, create_key
from vocable.storage.db import Database
from vocable.storage.models import Account, Transcript

LECTURE = SHARED_DATA / "long" / "lecture-60s.wav"  # long enough to be killed in the middle


def serve_vocable(data: Path, port: int) -> subprocess.Popen:
    """`vocable serve` as an operator starts it, on ``data``; returns once /health answers."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOCABLE_")}
    env.update(VOCABLE_DATA_DIR=str(data), VOCABLE_MODEL_DIR=str(MODEL_DIR),
               VOCABLE_DEFAULT_MODEL="base")
    process = subprocess.Popen(
        [sys.executable, "-m", "vocable", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError("the server did not start")


def _until(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
def test_a_job_killed_mid_run_finishes_after_restart_charged_once(tmp_path):
    data, port = tmp_path / "data", free_port()
    url = f"http://127.0.0.1:{port}"
    process = serve_vocable(data, port)  # creates and migrates the database
    db = Database(f"sqlite:///{data / 'vocable.db'}")
    try:
        account = create_account(db, "killed@example.com", plan="paid", credits=10)
        headers = {"Authorization": f"Bearer {create_key(db, account.id)[1]}"}
        with LECTURE.open("rb") as f:
            answer = httpx.post(
                f"{url}/v1/transcribe", headers=headers, timeout=60,
                files={"file": ("lecture.wav", f)}, data={"async": "true", "diarize": "false"},
            )
        assert answer.status_code == 202, answer.text
        job_id = answer.json()["id"]

        def status() -> str:
            return httpx.get(f"{url}/api/v1/transcripts/{job_id}/", headers=headers, timeout=10).json()["status"]

        def credits() -> int:
            with db.session() as s:
                return s.get(Account, account.id).credits

        # 60 s is 1 minute: reserved when the job was accepted.
        assert credits() == 9
        _until(lambda: status() == "processing", 60, "the job to start")
        time.sleep(1)  # in the middle of recognition
        os.kill(process.pid, signal.SIGKILL)
        process.wait(30)

        process = serve_vocable(data, port)
        done = _until(lambda: status() in ("completed", "failed") and status(), 300, "the job")
        assert done == "completed"
        result = httpx.get(f"{url}/api/v1/transcripts/{job_id}/", headers=headers, timeout=10).json()
        assert len(result["text"].split()) > 80 and result["duration"] > 59, result["text"][:200]
        # Charged once: neither refunded by the crash nor charged again by the re-run.
        assert credits() == 9
        with db.session() as s:
            rows = list(s.scalars(sa.select(Transcript).where(Transcript.account_id == account.id)))
        assert [r.id for r in rows] == [job_id]
        # The concurrency slot the killed run held was given back at the restart.
        with db.session() as s:
            assert s.get(Account, account.id).active_jobs == 0
    finally:
        db.dispose()
        process.kill()
        process.wait(30)
