"""Webhooks end to end: an async job over HTTP, a receiver started here that first answers 500,
signed deliveries retried with backoff, every attempt visible on the transcript."""

from __future__ import annotations

import json
import time

import httpx

from tests.webhooks.receiver import Receiver
from vocable.accounts.keys import create_account, create_key
from vocable.webhooks import verify

FAST = {"webhook_allow_private": True, "webhook_backoff_s": 0.3, "webhook_poll_s": 0.2}


def _key(server, **kw):
    account = create_account(server.services.db, f"w{time.monotonic_ns()}@example.com", **kw)
    return create_key(server.services.db, account.id)[1]


def _post(client, data_dir, name="jfk.wav", **fields):
    with open(data_dir / name, "rb") as f:
        return client.post("/v1/transcribe", files={"file": (name, f)},
                           data={"model": "base", "diarize": "false", **fields})


def _final(client, job_id, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/transcripts/{job_id}/").json()
        if body["status"] in ("completed", "failed"):
            return body
        time.sleep(0.2)
    raise AssertionError("job did not finish")


def test_signed_delivery_retried_after_500(start_server, data_dir):
    server = start_server(**FAST)
    key = _key(server, plan="paid", credits=10)
    with Receiver([500, 200]) as receiver, server.client(key) as client:
        secret = client.get("/api/v1/account/webhook/").json()["secret"]
        answer = _post(client, data_dir, **{"async": "true", "webhook_url": receiver.url})
        assert answer.status_code == 202, answer.text
        job_id = answer.json()["id"]
        first, second = receiver.wait_for(2)
        for hit in (first, second):
            assert hit.path == "/hook"
            assert verify(secret, hit.body, hit.headers["x-vocable-timestamp"],
                          hit.headers["x-vocable-signature"])
            assert hit.headers["x-vocable-event"] == "transcript.completed"
        assert first.body == second.body  # the same event, signed anew for each attempt
        event = json.loads(second.body)
        assert event["transcript"]["id"] == job_id and event["transcript"]["status"] == "completed"
        assert "ask not what your country" in event["transcript"]["text"].lower()
        # What the transcript shows: two attempts, the first a 500.
        deadline = time.monotonic() + 10
        while True:
            hook = _final(client, job_id)["webhook"]
            if hook["deliveries"] and hook["deliveries"][0]["status"] == "delivered":
                break
            assert time.monotonic() < deadline, hook
            time.sleep(0.1)
        delivery = hook["deliveries"][0]
        assert hook["url"] == receiver.url
        assert [a["status_code"] for a in delivery["attempts"]] == [500, 200]
        assert delivery["attempts"][0]["error"] == "HTTP 500"
        time.sleep(1)
        assert len(receiver.received) == 2  # nothing more once delivered


def test_failed_job_and_account_default_and_give_up(start_server, data_dir, tmp_path):
    server = start_server(**FAST, webhook_max_attempts=3)
    key = _key(server, plan="paid", credits=10)
    with Receiver([503]) as receiver, server.client(key) as client:
        assert client.put("/api/v1/account/webhook/", json={"url": receiver.url}).json()["url"] == receiver.url
        bad = tmp_path / "bad.wav"
        bad.write_bytes(b"RIFF....WAVEfmt not audio at all" * 100)
        with open(bad, "rb") as f:  # refused before any job: no webhook
            assert client.post("/v1/transcribe", files={"file": ("bad.wav", f)},
                               data={"async": "true"}).status_code == 400
        answer = _post(client, data_dir, **{"async": "true"})  # the account's default URL
        job_id = answer.json()["id"]
        hits = receiver.wait_for(3)
        assert all(json.loads(h.body)["transcript"]["id"] == job_id for h in hits)
        deadline = time.monotonic() + 10
        while (d := _final(client, job_id)["webhook"]["deliveries"][0])["status"] != "failed":
            assert time.monotonic() < deadline, d
            time.sleep(0.1)
        assert [a["status_code"] for a in d["attempts"]] == [503, 503, 503]
        time.sleep(1.5)
        assert len(receiver.received) == 3  # given up after webhook_max_attempts


def test_refused_urls_are_400_before_any_charge(start_server, data_dir):
    server = start_server()  # the operator allows no private targets (the default)
    key = _key(server, plan="paid", credits=10)
    with server.client(key) as client:
        for url in ("http://127.0.0.1:9/x", "ftp://example.com/", "http://169.254.169.254/"):
            answer = _post(client, data_dir, **{"async": "true", "webhook_url": url})
            assert answer.status_code == 400 and "webhook_url" in answer.json()["error"], answer.text
        assert _post(client, data_dir, webhook_url="https://93.184.216.34/").status_code == 400  # sync
        assert client.put("/api/v1/account/webhook/", json={"url": "http://localhost/"}).status_code == 400
        assert client.get("/api/v1/account/").json()["credits"] == 10
    assert httpx  # the client library the server's sender uses too


def test_python_sdk_webhook_calls_and_transcribe_options(start_server, data_dir):
    from vocable_sdk import Vocable

    server = start_server(**FAST)
    key = _key(server, plan="paid", credits=10)
    with Receiver([200]) as receiver, Vocable(api_key=key, base_url=server.url) as client:
        assert client.account.webhook()["url"] is None
        first = client.account.set_webhook(receiver.url)
        assert first["url"] == receiver.url
        secret = client.account.rotate_webhook_secret()["secret"]
        assert secret != first["secret"]
        job = client.transcribe(data_dir / "jfk.wav", model="base", diarize=False, async_=True,
                                vocabulary=["Kennedy", "inaugural"], prompt="An inaugural address.")
        (hit,) = receiver.wait_for(1)
        assert verify(secret, hit.body, hit.headers["x-vocable-timestamp"],
                      hit.headers["x-vocable-signature"])
        assert json.loads(hit.body)["transcript"]["id"] == job.id
        assert client.account.set_webhook(None)["url"] is None
