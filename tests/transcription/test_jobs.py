"""The job lifecycle through the real queue: restart resumes queued jobs; failures are recorded."""

from __future__ import annotations

import shutil
import time

from tests.conftest import make_settings
from vocable.accounts.keys import Principal, create_account
from vocable.accounts.quota import Charge
from vocable.services import Services
from vocable.storage.blobs import transcript_audio_key
from vocable.storage.models import Account
from vocable.transcription.pipeline import TranscribeOptions


def wait_final(services, job_id, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = services.jobs.get(job_id)
        if job.status in ("completed", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError("job did not finish")


def test_restart_resumes_queued_jobs(tmp_path, registry, whisper, data_dir):
    settings = make_settings(tmp_path)
    first = Services.create(settings, registry=registry, whisper=whisper)
    account = create_account(first.db, "r@example.com", plan="paid", credits=5)
    principal = Principal(plan="paid", ip="127.0.0.1", account_id=account.id)
    uploads = settings.data_dir / "uploads"
    uploads.mkdir(parents=True)
    upload = uploads / "queued.wav"
    shutil.copy(data_dir / "jfk.wav", upload)
    charge = first.quota.reserve(principal, 11.0)
    first.quota.acquire_slot(principal)
    job_id = first.jobs.create(principal, upload, "jfk.wav", TranscribeOptions(model="base"), charge)
    first.close()  # the server stops before any worker picked the job up

    second = Services.create(settings, registry=registry, whisper=whisper)
    second.start()
    try:
        job = wait_final(second, job_id)
        assert job.status == "completed", job.error
        assert "ask not what your country" in job.text.lower()
        assert not upload.exists()
        # The received file became the job's blob, which an account's transcript keeps.
        assert job.audio_key == transcript_audio_key(job_id)
        assert second.blobs.size(job.audio_key) == (data_dir / "jfk.wav").stat().st_size
        with second.db.session() as s:
            row = s.get(Account, account.id)
            assert (row.credits, row.active_jobs) == (4, 0)
    finally:
        second.close()


def test_failed_job_is_marked_with_reason_and_refunded(tmp_path, registry, whisper):
    services = Services.create(make_settings(tmp_path), registry=registry, whisper=whisper)
    services.start()
    try:
        account = create_account(services.db, "f@example.com", plan="paid", credits=3)
        principal = Principal(plan="paid", ip="127.0.0.1", account_id=account.id)
        upload = tmp_path / "gone.wav"
        upload.write_bytes(b"RIFF....WAVEfmt garbage")
        services.quota.acquire_slot(principal)
        charge: Charge = services.quota.reserve(principal, 30.0)
        job_id = services.jobs.create(principal, upload, "gone.wav", TranscribeOptions(model="base"), charge)
        services.queue.submit(job_id)
        job = wait_final(services, job_id)
        assert job.status == "failed" and job.error_status == 400
        assert "not a readable audio" in job.error
        # A failed job keeps no audio.
        assert job.audio_key == "" and not upload.exists()
        assert not services.blobs.exists(transcript_audio_key(job_id))
        with services.db.session() as s:
            row = s.get(Account, account.id)
            assert (row.credits, row.active_jobs) == (3, 0)
    finally:
        services.close()
