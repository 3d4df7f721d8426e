"""A real cluster on this machine: two `vocable serve --role api` processes and two `vocable
worker` processes on the machine's Redis and PostgreSQL, blobs in a local S3-compatible server.

Async and sync jobs go through both API nodes; a worker is SIGKILLed mid-job and its job
completes on the other, charged exactly once; an API node is SIGKILLed and the other keeps
serving; a webhook receiver gets signed deliveries, including a retry after it answered 500."""

from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import sqlalchemy as sa

from tests.conftest import postgres_database
from tests.queues.cluster import Cluster
from tests.s3server import new_bucket, s3_server
from tests.webhooks.receiver import Receiver
from vocable.accounts.keys import create_account, create_key
from vocable.storage.db import Database
from vocable.streaming.client import StreamRefused, pcm16_from_file, stream_pcm
from vocable.webhooks import verify

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

JFK = "ask not what your country"


def _post(url, key, path, **fields):
    with open(path, "rb") as f:
        return httpx.post(f"{url}/v1/transcribe", headers={"Authorization": f"Bearer {key}"},
                          files={"file": (path.name, f)}, data={"diarize": "false", **fields},
                          timeout=300)


def _row(engine, sql, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).one()


def _wait(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_cluster(tmp_path, data_dir):
    with s3_server() as endpoint, postgres_database() as url:
        db = Database(url)
        db.migrate()  # once, before four processes start
        account = create_account(db, "cluster@example.com", plan="paid", credits=20)
        key = create_key(db, account.id)[1]
        db.dispose()
        bucket = new_bucket(endpoint)
        cluster = Cluster(tmp_path, url, f"s3://{bucket}/vocable",
                          env_extra={"VOCABLE_BLOB_S3_ENDPOINT_URL": endpoint})
        engine = sa.create_engine(url)
        try:
            workers = {cluster.worker(f"worker-{i}").process.pid: i for i in (1, 2)}
            api1, api2 = cluster.api("api-1"), cluster.api("api-2")
            cluster.wait_api(api1)
            cluster.wait_api(api2)
            cluster.wait_workers(2)
            jfk, lecture = data_dir / "jfk.wav", data_dir / "long" / "lecture-60s.wav"

            with Receiver([500, 200]) as receiver, ThreadPoolExecutor(4) as pool:
                # Sync jobs through both API nodes at once, and an async one with a webhook.
                syncs = [pool.submit(_post, node.url, key, jfk) for node in (api1, api2)]
                queued = _post(api2.url, key, jfk, **{"async": "true", "webhook_url": receiver.url})
                assert queued.status_code == 202, queued.text
                for answer in syncs:
                    answer = answer.result()
                    assert answer.status_code == 200, answer.text
                    assert JFK in answer.json()["text"].lower()
                hits = receiver.wait_for(2)
                secret = httpx.get(f"{api1.url}/api/v1/account/webhook/",
                                   headers={"Authorization": f"Bearer {key}"}).json()["secret"]
                assert [h.status for h in hits] == [500, 200]
                for hit in hits:
                    assert verify(secret, hit.body, hit.headers["x-vocable-timestamp"],
                                  hit.headers["x-vocable-signature"])
                    assert json.loads(hit.body)["transcript"]["id"] == queued.json()["id"]

            # A worker dies mid-job (SIGKILL): the other one completes the job, charged once.
            before = _row(engine, "SELECT credits FROM accounts WHERE id = :a", a=account.id)[0]
            long_job = _post(api1.url, key, lecture, **{"async": "true"}).json()["id"]
            owner = _wait(lambda: (r := _row(
                engine, "SELECT status, worker FROM transcripts WHERE id = :j", j=long_job
            )).status == "processing" and r.worker, 120, "a worker to take the long job")
            pid = int(owner.rsplit("-", 2)[-2])
            victim = next(n for n in cluster.nodes if n.process.pid == pid)
            assert victim.process.pid in workers
            time.sleep(0.5)  # into the job
            assert _row(engine, "SELECT status FROM transcripts WHERE id = :j", j=long_job)[0] == "processing"
            victim.kill()
            done = _wait(lambda: (r := _row(
                engine, "SELECT status, worker, attempts, charged_units, text FROM transcripts "
                "WHERE id = :j", j=long_job)).status in ("completed", "failed") and r, 600,
                "the other worker to finish the killed job")
            assert done.status == "completed" and done.worker != owner and done.attempts == 2
            assert done.text.strip()
            credits, active = _row(engine, "SELECT credits, active_jobs FROM accounts WHERE id = :a",
                                   a=account.id)
            assert before - credits == done.charged_units == 1 and active == 0

            # An API node dies: the other keeps serving (sync, and the account API).
            api1.kill()
            answer = _post(api2.url, key, jfk)
            assert answer.status_code == 200 and JFK in answer.json()["text"].lower()
            detail = httpx.get(f"{api2.url}/api/v1/transcripts/{long_job}/",
                               headers={"Authorization": f"Bearer {key}"}).json()
            assert detail["status"] == "completed"
            # An API node serves no streams (no model): a clear refusal, not a model load.
            with pytest.raises(StreamRefused) as refused:
                asyncio.run(stream_pcm(api2.url, pcm16_from_file(jfk)[:32000], key=key, speed=0))
            assert refused.value.code == 4503 and "stream node" in str(refused.value)

            # The dead worker drops out of the listing; the survivor is there with its model.
            def listed():
                body = httpx.get(f"{api2.url}/api/v1/cloud/",
                                 headers={"Authorization": f"Bearer {key}"}).json()
                return body["workers"] if len(body["workers"]) == 1 else None

            [survivor] = _wait(listed, 30, "the dead worker to leave /api/v1/cloud/")
            assert survivor["id"] != owner and survivor["models_loaded"] == ["base"]

            # Five jobs, each charged exactly once (one credit each), one usage row each.
            credits, active = _row(engine, "SELECT credits, active_jobs FROM accounts WHERE id = :a",
                                   a=account.id)
            assert (credits, active) == (15, 0)
            used = _row(engine, "SELECT sum(transcriptions), sum(credits_spent) FROM usage_records "
                        "WHERE account_id = :a", a=account.id)
            assert tuple(used) == (5, 5)
        finally:
            engine.dispose()
            cluster.stop()
