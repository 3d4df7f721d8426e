"""Jobs on Celery with Redis, against a real `vocable worker` process: the API server here loads
no worker threads; sync requests wait for the worker's word on Redis, async ones report by
webhook; transient failures are retried then failed with a reason; a duplicate message charges
once; GET /api/v1/cloud/ lists the worker from its heartbeat."""

from __future__ import annotations

import json
import shutil
import time

import pytest

from tests.conftest import postgres_database
from tests.queues.cluster import BROKER, Cluster
from tests.webhooks.receiver import Receiver
from vocable.accounts.keys import Principal, create_account, create_key
from vocable.queues.celery import CeleryQueue
from vocable.storage.db import Database
from vocable.storage.models import Account
from vocable.transcription.pipeline import TranscribeOptions
from vocable.webhooks import verify

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    root = tmp_path_factory.mktemp("celery")
    with postgres_database() as url:
        db = Database(url)
        db.migrate()  # once, before any node starts
        db.dispose()
        cluster = Cluster(root, url, (root / "blobs").as_uri())
        try:
            cluster.worker("worker-1")
            cluster.wait_workers(1)
            yield cluster
        finally:
            cluster.stop()


@pytest.fixture
def api(cluster, start_server):
    env = cluster.settings()
    return start_server(
        cluster.database_url, queue="celery", broker_url=BROKER, broker_prefix=cluster.prefix,
        blob_url=cluster.blob_url, webhook_allow_private=True, webhook_backoff_s=0.3,
        webhook_poll_s=0.3, worker_stale_s=float(env["VOCABLE_WORKER_STALE_S"]),
    )


def _key(api, credits=10):
    account = create_account(api.services.db, f"q{time.monotonic_ns()}@example.com", plan="paid",
                             credits=credits)
    return account.id, create_key(api.services.db, account.id)[1]


def _credits(api, account_id):
    with api.services.db.session() as s:
        row = s.get(Account, account_id)
        return row.credits, row.active_jobs


def _post(client, data_dir, **fields):
    with open(data_dir / "jfk.wav", "rb") as f:
        return client.post("/v1/transcribe", files={"file": ("jfk.wav", f)},
                           data={"diarize": "false", **fields})


def test_sync_waits_for_the_worker_and_async_reports_by_webhook(api, cluster, data_dir):
    assert isinstance(api.services.queue, CeleryQueue)
    account_id, key = _key(api)
    with api.client(key) as client, Receiver([500, 200]) as receiver:
        answer = _post(client, data_dir)
        assert answer.status_code == 200, answer.text
        assert "ask not what your country" in answer.json()["text"].lower()
        job = api.services.jobs.get(answer.json()["id"])
        assert job.worker in cluster.wait_workers(1)
        assert _credits(api, account_id) == (9, 0)

        secret = client.get("/api/v1/account/webhook/").json()["secret"]
        queued = _post(client, data_dir, **{"async": "true", "webhook_url": receiver.url})
        assert queued.status_code == 202
        hits = receiver.wait_for(2)
        assert all(verify(secret, h.body, h.headers["x-vocable-timestamp"],
                          h.headers["x-vocable-signature"]) for h in hits)
        assert json.loads(hits[1].body)["transcript"]["id"] == queued.json()["id"]
        assert _credits(api, account_id) == (8, 0)


def test_cloud_lists_the_worker_from_its_heartbeat(api, cluster):
    _, key = _key(api)
    with api.client(key) as client:
        body = client.get("/api/v1/cloud/").json()
    [worker] = body["workers"]
    assert worker["id"] in cluster.wait_workers(1) and worker["kind"] == "celery"
    assert worker["host"] and worker["device"] == "cpu" and worker["models_loaded"] == ["base"]
    assert worker["queues"] == ["transcribe"] and worker["last_heartbeat"]
    assert worker["load"]["capacity"] == 1 and worker["load"]["running_jobs"] in (0, 1)


def _job(api, tmp_path, data_dir, account_id, model="base"):
    principal = Principal(plan="paid", ip="127.0.0.1", account_id=account_id)
    upload = tmp_path / f"{time.monotonic_ns()}.wav"
    shutil.copy(data_dir / "jfk.wav", upload)
    api.services.quota.acquire_slot(principal)
    charge = api.services.quota.reserve(principal, 11.0)
    return api.services.jobs.create(principal, upload, "jfk.wav",
                                    TranscribeOptions(model=model, diarize=False), charge)


def _final(api, job_id, timeout=180):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = api.services.jobs.get(job_id)
        if job.status in ("completed", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError("job did not finish")


def test_retried_with_backoff_then_failed_with_reason(api, tmp_path, data_dir):
    account_id, _ = _key(api)
    job_id = _job(api, tmp_path, data_dir, account_id, model="no-such-model")
    api.services.queue.submit(job_id)
    job = _final(api, job_id)
    assert job.status == "failed" and job.attempts == 3, job.error
    assert "after 3 attempts" in job.error
    assert _credits(api, account_id) == (10, 0)  # refunded, slot back


def test_a_duplicate_message_charges_once(api, tmp_path, data_dir):
    account_id, _ = _key(api)
    job_id = _job(api, tmp_path, data_dir, account_id)
    api.services.queue.submit(job_id)
    api.services.queue.submit(job_id)  # as a redelivery would
    job = _final(api, job_id)
    assert job.status == "completed" and job.attempts == 1
    time.sleep(3)  # the second message has run by now (one worker, one job at a time)
    assert _credits(api, account_id) == (9, 0)
    assert api.services.jobs.get(job_id).attempts == 1


def test_a_job_its_node_never_sent_is_sent_by_a_worker(api, tmp_path, data_dir):
    """An API node that made the job's row and died before the broker had the message: the
    worker's heartbeat finds the job queued, never sent, older than the lease, and sends it."""
    account_id, _ = _key(api)
    job_id = _job(api, tmp_path, data_dir, account_id)  # no submit: the node "died" here
    assert job_id in api.services.jobs.unsent(0)
    job = _final(api, job_id)
    assert job.status == "completed" and job.attempts == 1
    assert job_id not in api.services.jobs.unsent(0)
    assert _credits(api, account_id) == (9, 0)
