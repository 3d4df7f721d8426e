"""A job's claim decides who runs it: a redelivered job is not run while its worker lives, is
taken over once that worker's lease lapsed, and never charges twice; transient failures are
tried again, then the job fails with its reason and a refund."""

from __future__ import annotations

import shutil
from datetime import timedelta

import pytest
from sqlalchemy import update

from tests.conftest import make_settings
from vocable.accounts.keys import Principal, create_account
from vocable.services import Services
from vocable.storage.models import Account, Transcript, UsageRecord, utcnow
from vocable.transcription.pipeline import TranscribeOptions


@pytest.fixture
def services(tmp_path, registry, whisper, database_url):
    services = Services.create(make_settings(tmp_path, database_url), registry=registry, whisper=whisper)
    yield services
    services.close()


def _job(services, tmp_path, data_dir, model="base"):
    account = create_account(services.db, f"c{utcnow().timestamp()}@example.com", plan="paid", credits=5)
    principal = Principal(plan="paid", ip="127.0.0.1", account_id=account.id)
    upload = tmp_path / f"up-{account.id}.wav"
    shutil.copy(data_dir / "jfk.wav", upload)
    services.quota.acquire_slot(principal)
    charge = services.quota.reserve(principal, 11.0)
    options = TranscribeOptions(model=model, diarize=False)
    return account.id, services.jobs.create(principal, upload, "jfk.wav", options, charge)


def _account(services, account_id):
    with services.db.session() as s:
        row = s.get(Account, account_id)
        usage = sum(u.transcriptions for u in s.query(UsageRecord).filter_by(account_id=account_id))
        return row.credits, row.active_jobs, usage


def test_redelivery_busy_takeover_and_once(services, tmp_path, data_dir):
    account_id, job_id = _job(services, tmp_path, data_dir)
    with services.db.session() as s:  # another worker claimed it and is alive
        s.execute(update(Transcript).where(Transcript.id == job_id).values(
            status="processing", worker="w0", lease_until=utcnow() + timedelta(seconds=60)))
    assert services.jobs.run(job_id, worker="w1", lease_s=30) == "busy"
    assert _account(services, account_id) == (4, 1, 0)
    with services.db.session() as s:  # ... and died: its lease lapsed
        s.execute(update(Transcript).where(Transcript.id == job_id).values(
            lease_until=utcnow() - timedelta(seconds=1)))
    assert services.jobs.run(job_id, worker="w1", lease_s=30) == "done"
    job = services.jobs.get(job_id)
    assert job.status == "completed" and job.worker == "w1" and job.attempts == 1
    assert "ask not what your country" in job.text.lower()
    assert _account(services, account_id) == (4, 0, 1)
    # A message delivered once more (the worker died before its ack): nothing happens again.
    assert services.jobs.run(job_id, worker="w2", lease_s=30) == "gone"
    assert _account(services, account_id) == (4, 0, 1)
    assert services.jobs.get(job_id).worker == "w1"


def test_lost_claim_discards_the_result(services, tmp_path, data_dir):
    """A worker whose lease lapsed mid-job (another took over) writes nothing and charges
    nothing when it finally finishes."""
    account_id, job_id = _job(services, tmp_path, data_dir)
    original = services.jobs._complete

    def taken_over(job_id_, worker, *args):
        with services.db.session() as s:
            s.execute(update(Transcript).where(Transcript.id == job_id_).values(worker="w-other"))
        return original(job_id_, worker, *args)

    services.jobs._complete = taken_over
    assert services.jobs.run(job_id, worker="w1", lease_s=30) == "gone"
    job = services.jobs.get(job_id)
    assert job.status == "processing" and job.text == ""
    assert _account(services, account_id) == (4, 1, 0)


def test_transient_failure_retried_then_failed_with_reason(services, tmp_path, data_dir):
    account_id, job_id = _job(services, tmp_path, data_dir, model="no-such-model")
    assert services.jobs.run(job_id, worker="w1", lease_s=30, max_attempts=2) == "retry"
    job = services.jobs.get(job_id)
    assert job.status == "queued" and job.attempts == 1 and services.blobs.exists(job.audio_key)
    assert _account(services, account_id) == (4, 1, 0)  # still reserved, slot still held
    assert services.jobs.run(job_id, worker="w2", lease_s=30, max_attempts=2) == "done"
    job = services.jobs.get(job_id)
    assert job.status == "failed" and job.error_status == 500
    assert "after 2 attempts" in job.error and "no-such-model" in job.error
    assert _account(services, account_id) == (5, 0, 0)  # refunded once, slot released


def test_orphans_of_a_dead_worker_are_queued_again_once(services, tmp_path, data_dir):
    _, alive = _job(services, tmp_path, data_dir)
    _, dead = _job(services, tmp_path, data_dir)
    with services.db.session() as s:
        for job_id, lease in ((alive, 60), (dead, -1)):
            s.execute(update(Transcript).where(Transcript.id == job_id).values(
                status="processing", worker="w0", lease_until=utcnow() + timedelta(seconds=lease)))
    assert services.jobs.requeue_orphans() == [dead]
    assert services.jobs.requeue_orphans() == []  # taken once
    assert services.jobs.status(dead) == "queued" and services.jobs.status(alive) == "processing"
    assert services.jobs.run(dead, worker="w1", lease_s=30) == "done"
