"""Tiers and limits over real HTTP: anonymous IP limits, plan limits, credit rounding, 402/413/429,
and exact counting under concurrent requests, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import time
from concurrent.futures import ThreadPoolExecutor

import av
import numpy as np
import pytest
import sqlalchemy as sa

from vocable.accounts.keys import create_account, create_key
from vocable.audio import decode_audio
from vocable.config import default_plans
from vocable.storage.models import Account, Transcript, UsageRecord


def wav_bytes(audio: np.ndarray) -> bytes:
    buf = io.BytesIO()
    with av.open(buf, "w", format="wav") as out:
        stream = out.add_stream("pcm_s16le", rate=16000)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(
            (np.clip(audio, -1, 1) * 32767).astype(np.int16).reshape(1, -1), format="s16", layout="mono"
        )
        frame.sample_rate = 16000
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()


@pytest.fixture(scope="module")
def jfk(data_dir) -> bytes:
    return (data_dir / "jfk.wav").read_bytes()


def transcribe(server, content: bytes, key=None, ip="10.9.0.1", **data):
    with server.client(key, headers={"X-Forwarded-For": ip}) as client:
        return client.post("/v1/transcribe", files={"file": ("a.wav", content)}, data=data)


def account_with_key(server, plan="paid", credits=0):
    account = create_account(server.services.db, f"{plan}-{time.monotonic_ns()}@example.com", plan=plan, credits=credits)
    return account.id, create_key(server.services.db, account.id)[1]


def wait_for_jobs(server, account_id, timeout=600):
    """Let an account's async jobs finish, so no work outlives the test on the shared model."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with server.services.db.session() as s:
            live = s.scalar(
                sa.select(sa.func.count()).select_from(Transcript).where(
                    Transcript.account_id == account_id, Transcript.status.in_(("queued", "processing"))
                )
            )
        if not live:
            return
        time.sleep(0.2)
    raise AssertionError("async jobs did not finish")


def account_row(server, account_id) -> Account:
    with server.services.db.session() as s:
        return s.get(Account, account_id)


def test_anonymous_three_per_day_per_ip(start_server, jfk):
    server = start_server()
    for _ in range(3):
        assert transcribe(server, jfk, ip="10.9.1.1", diarize="false").status_code == 200
    refused = transcribe(server, jfk, ip="10.9.1.1")
    assert refused.status_code == 429
    assert "3 transcriptions per day" in refused.json()["error"]
    assert 0 < int(refused.headers["Retry-After"]) <= 86400
    assert transcribe(server, jfk, ip="10.9.1.2", diarize="false").status_code == 200


def test_failed_jobs_cost_nothing(start_server, jfk):
    server = start_server()
    for _ in range(4):  # bad input four times: none of them counts against the three a day
        assert transcribe(server, b"not audio" * 100, ip="10.9.2.1").status_code == 400
    account_id, key = account_with_key(server, credits=5)
    assert transcribe(server, b"not audio" * 100, key=key).status_code == 400
    assert account_row(server, account_id).credits == 5
    assert transcribe(server, jfk, ip="10.9.2.1", diarize="false").status_code == 200


def test_credits_rounded_up_and_usage_recorded(server, jfk, data_dir):
    account_id, key = account_with_key(server, credits=10)
    # 61 s of audio (real speech, then silence) costs 2 credits; 11 s costs 1.
    speech = decode_audio(data_dir / "jfk.wav")
    long = wav_bytes(np.concatenate([speech, np.zeros(16000 * 61 - len(speech), np.float32)]))
    response = transcribe(server, long, key=key, diarize="false")
    assert response.status_code == 200, response.text
    assert response.json()["duration"] == pytest.approx(61.0, abs=0.05)
    assert account_row(server, account_id).credits == 8
    assert transcribe(server, jfk, key=key, diarize="false").status_code == 200
    assert account_row(server, account_id).credits == 7
    with server.services.db.session() as s:
        usage = s.scalars(sa.select(UsageRecord).where(UsageRecord.account_id == account_id)).all()
    (row,) = usage
    assert (row.family, row.requests, row.transcriptions, row.minutes, row.credits_spent) == ("transcribe", 2, 2, 3, 3)


def test_no_credits_is_402(server, jfk):
    _, key = account_with_key(server, credits=0)
    response = transcribe(server, jfk, key=key)
    assert response.status_code == 402
    assert response.json() == {"error": "No credits remaining. Upgrade your plan."}


def test_free_minutes_run_out(start_server, jfk):
    plans = default_plans()
    plans["free"].monthly_minutes = 1
    server = start_server(plans=plans)
    account_id, key = account_with_key(server, plan="free")
    assert transcribe(server, jfk, key=key, diarize="false").status_code == 200
    refused = transcribe(server, jfk, key=key)
    assert refused.status_code == 402 and "free minutes" in refused.json()["error"]
    assert account_row(server, account_id).minutes_used == 1


def test_concurrent_spending_is_exact(start_server, database_url, jfk):
    """20 parallel requests against 3 remaining credits: exactly 3 succeed, on both databases."""
    plans = default_plans()
    plans["paid"].concurrent_jobs = 50
    plans["paid"].requests_per_minute = 1000
    server = start_server(database_url, plans=plans)
    account_id, key = account_with_key(server, credits=3)

    def attempt(_):
        return transcribe(server, jfk, key=key, **{"async": "true", "diarize": "false"}).status_code

    with ThreadPoolExecutor(20) as pool:
        codes = list(pool.map(attempt, range(20)))
    assert sorted(codes) == [202] * 3 + [402] * 17
    assert account_row(server, account_id).credits == 0
    wait_for_jobs(server, account_id)
    assert account_row(server, account_id).credits == 0


def test_concurrency_limit_is_429(start_server, data_dir, jfk):
    server = start_server()
    account_id, key = account_with_key(server, credits=100)
    plans = server.services.settings.plans
    plans["paid"].concurrent_jobs = 1
    first = transcribe(server, (data_dir / "call-2spk.wav").read_bytes(), key=key, **{"async": "true"})
    assert first.status_code == 202
    second = transcribe(server, jfk, key=key, **{"async": "true"})
    # The first job holds the only slot until it finishes.
    assert second.status_code == 429 and int(second.headers["Retry-After"]) > 0
    assert "1 job(s) at a time" in second.json()["error"]
    wait_for_jobs(server, account_id)
    third = transcribe(server, jfk, key=key, **{"async": "true"})
    assert third.status_code == 202  # the slot is free again
    wait_for_jobs(server, account_id)


def test_file_over_plan_limit_is_413(start_server, jfk):
    plans = default_plans()
    plans["anonymous"].max_upload_mb = 1
    server = start_server(plans=plans)
    big = jfk * 4  # 1.4 MB
    refused = transcribe(server, big, ip="10.9.3.1")
    assert refused.status_code == 413 and "1 MB" in refused.json()["error"]

    def chunks():  # no Content-Length: the limit is enforced while the bytes stream in
        boundary = b"xyz"
        yield b"--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\n\r\n"
        for i in range(0, len(big), 64 * 1024):
            yield big[i:i + 64 * 1024]
        yield b"\r\n--" + boundary + b"--\r\n"

    with server.client(headers={"X-Forwarded-For": "10.9.3.2"}) as client:
        streamed = client.post(
            "/v1/transcribe", content=chunks(),
            headers={"content-type": "multipart/form-data; boundary=xyz"},
        )
    assert streamed.status_code == 413
    uploads = server.services.settings.data_dir / "uploads"
    assert not list(uploads.iterdir()) if uploads.exists() else True
    assert transcribe(server, jfk, ip="10.9.3.1", diarize="false").status_code == 200


def test_full_queue_is_503(start_server, jfk):
    server = start_server(max_queued_jobs=0)
    response = transcribe(server, jfk, ip="10.9.4.1")
    assert response.status_code == 503 and "queue is full" in response.json()["error"]
    assert response.headers["Retry-After"] == "30"
