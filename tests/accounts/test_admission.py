"""The admission service on a real database with the real Quota and rate limiter: what a paid
endpoint is charged, refunded and released on each path (file jobs and streams)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest

from vocable.accounts.admission import (
    FORM_ENVELOPE_BYTES,
    MB,
    Admission,
    FileTooLarge,
    QueueFull,
    StreamsFull,
)
from vocable.accounts.keys import Principal, create_account
from vocable.accounts.quota import UNIT_S, Charge, LimitReached, NoCreditsLeft, Quota
from vocable.accounts.ratelimit import RequestRateLimiter
from vocable.accounts.usage import daily_usage
from vocable.config import default_plans
from vocable.storage.db import Database
from vocable.storage.models import Account, AnonymousClient

BYTES_PER_S = 32_000  # PCM int16 mono at 16 kHz, as WS /v1/stream meters it
MINUTE = UNIT_S * BYTES_PER_S


@dataclass
class Busy:
    """How full the server is: the queue's backlog and the open streams, set by each test."""

    queued: int = 0
    streams: int = 0


@pytest.fixture
def busy():
    return Busy()


@pytest.fixture
def admission(database_url, busy):
    db = Database(database_url)
    db.migrate()
    plans = default_plans()
    yield Admission(
        Quota(db, plans), RequestRateLimiter("memory://", plans),
        max_upload_mb=1024, max_queued_jobs=2, queued_jobs=lambda: busy.queued,
        max_open_streams=3, open_streams=lambda: busy.streams,
    )
    db.dispose()


_emails = itertools.count()


def paid(admission: Admission, credits: int, plan: str = "paid") -> Principal:
    account = create_account(admission.quota.db, f"{plan}-{next(_emails)}@example.com", plan=plan,
                             credits=credits)
    return Principal(plan=plan, ip="192.0.2.1", account_id=account.id)


def account(admission: Admission, principal: Principal) -> Account:
    with admission.quota.db.session() as s:
        return s.get(Account, principal.account_id)


def usage(admission: Admission, principal: Principal, family: str) -> dict:
    today = daily_usage(admission.quota.db, principal.account_id, days=1)["days"][0]
    return {
        "requests": today["requests_by_endpoint"].get(family, 0),
        "transcriptions": today["transcriptions"],
        "minutes": today["audio_minutes"],
        "credits": today["credits_spent"],
    }


# -- requests ---------------------------------------------------------------------------------------
def test_request_counts_against_the_minute_and_is_recorded(admission):
    principal = paid(admission, credits=0, plan="free")
    per_minute = admission.plan(principal).requests_per_minute
    for _ in range(per_minute):
        admission.request(principal, "llm")
    with pytest.raises(LimitReached) as refused:
        admission.request(principal, "llm")
    assert 0 < refused.value.retry_after <= 61
    admission.request(principal, "embed")  # each family has its own minute
    assert usage(admission, principal, "llm")["requests"] == per_minute  # the refusal is not counted
    assert usage(admission, principal, "embed")["requests"] == 1


# -- files ------------------------------------------------------------------------------------------
def test_admit_file_refuses_early(admission, busy):
    broke = paid(admission, credits=0)
    with pytest.raises(NoCreditsLeft):
        admission.admit_file(broke)
    rich = paid(admission, credits=10)
    upload = admission.admit_file(rich)
    assert (upload.limit.bytes, upload.limit.plan) == (1024 * MB, "paid")  # the server's cap
    upload.close()
    busy.queued = 2
    with pytest.raises(QueueFull):
        admission.admit_file(rich)
    assert usage(admission, rich, "transcribe")["requests"] == 2  # refused or not, each was a request
    assert account(admission, rich).active_jobs == 0


def test_declared_body_over_the_limit_is_refused_before_reading(admission):
    principal = paid(admission, credits=10, plan="free")  # 500 MB
    envelope_room = 500 * MB + FORM_ENVELOPE_BYTES
    with pytest.raises(FileTooLarge, match="the free plan accepts files up to 500 MB"):
        admission.admit_file(principal, body_bytes=envelope_room + 1)
    assert account(admission, principal).active_jobs == 0  # refused before the slot is taken
    admission.admit_file(principal, body_bytes=envelope_room).close()
    admission.admit_file(principal, body_bytes=None).close()  # chunked: counted as it arrives
    assert account(admission, principal).active_jobs == 0


def test_upload_in_progress_holds_the_slot(admission):
    principal = paid(admission, credits=10, plan="free")  # 2 concurrent jobs
    first, second = admission.admit_file(principal), admission.admit_file(principal)
    assert account(admission, principal).active_jobs == 2
    with pytest.raises(LimitReached, match="2 job"):  # before the third body is read
        admission.admit_file(principal)
    first.close()
    first.close()  # idempotent: one slot back, not two
    assert account(admission, principal).active_jobs == 1
    third = admission.admit_file(principal)
    for upload in (second, third):
        upload.close()
    assert account(admission, principal).active_jobs == 0


def test_anonymous_upload_holds_its_one_slot(admission):
    anon = Principal(plan="anonymous", ip="198.51.100.7")
    upload = admission.admit_file(anon)
    with pytest.raises(LimitReached):
        admission.admit_file(anon)
    upload.close()
    assert admission.slots(anon).active == 0
    with admission.quota.db.session() as s:
        assert s.get(AnonymousClient, anon.ip).transcriptions == 0  # nothing charged by admission


def test_job_takes_the_slot_over(admission):
    principal = paid(admission, credits=10)
    upload = admission.admit_file(principal)
    with admission.job(upload, 90.0) as charge:
        assert charge == Charge("credits", 2)
    assert not upload.holds_slot
    upload.close()  # the job's now: closing the upload leaves it alone
    assert account(admission, principal).active_jobs == 1
    with pytest.raises(RuntimeError), admission.job(upload, 10.0):
        pytest.fail("an upload's slot goes to one job only")
    admission.settle(principal, charge, 90.0)
    admission.release(principal)
    row = account(admission, principal)
    assert (row.credits, row.active_jobs) == (8, 0)


def test_job_that_is_not_created_gives_everything_back(admission):
    principal = paid(admission, credits=5)
    upload = admission.admit_file(principal)
    with pytest.raises(RuntimeError), admission.job(upload, 90.0) as charge:
        assert charge == Charge("credits", 2)
        assert (account(admission, principal).credits, account(admission, principal).active_jobs) == (3, 1)
        raise RuntimeError("the job row could not be written")
    assert upload.holds_slot  # the reservation is back; the slot is the upload's to give back
    upload.close()
    row = account(admission, principal)
    assert (row.credits, row.active_jobs) == (5, 0)


def test_refused_reservation_keeps_the_slot_with_the_upload(admission):
    principal = paid(admission, credits=1)
    upload = admission.admit_file(principal)
    with pytest.raises(NoCreditsLeft), admission.job(upload, 61.0):
        pytest.fail("two credits are not there: the body never runs")
    assert account(admission, principal).active_jobs == 1
    upload.close()
    row = account(admission, principal)
    assert (row.credits, row.active_jobs) == (1, 0)


def job(admission: Admission, principal: Principal, duration_s: float) -> Charge:
    """A job created for an upload of ``duration_s``: its charge (it holds the slot)."""
    upload = admission.admit_file(principal)
    with admission.job(upload, duration_s) as charge:
        return charge


def test_job_settles_on_the_real_duration(admission):
    principal = paid(admission, credits=10)
    declared = job(admission, principal, 150.0)  # 3 units reserved; the job owns them now
    assert account(admission, principal).active_jobs == 1
    final = admission.settle(principal, declared, 59.0)  # the audio was shorter: 1 unit
    admission.release(principal)
    assert final == Charge("credits", 1)
    row = account(admission, principal)
    assert (row.credits, row.active_jobs) == (9, 0)
    assert usage(admission, principal, "transcribe") == {
        "requests": 1, "transcriptions": 1, "minutes": 1, "credits": 1,
    }
    declared = job(admission, principal, 10.0)
    longer = admission.settle(principal, declared, 125.0)  # longer than declared: 3 units
    admission.release(principal)
    assert longer == Charge("credits", 3) and account(admission, principal).credits == 6


def test_failed_job_is_refunded(admission):
    principal = paid(admission, credits=4)
    charge = job(admission, principal, 30.0)
    admission.refund(principal, charge)
    admission.release(principal)
    row = account(admission, principal)
    assert (row.credits, row.active_jobs) == (4, 0)
    assert usage(admission, principal, "transcribe")["transcriptions"] == 0


# -- streams ----------------------------------------------------------------------------------------
def test_stream_is_metered_per_started_minute(admission):
    principal = paid(admission, credits=10)
    meter = admission.stream(principal, BYTES_PER_S)
    assert account(admission, principal).credits == 9  # the first minute, before any audio
    assert account(admission, principal).active_jobs == 1
    assert meter.take(MINUTE - 1) == MINUTE - 1
    assert not meter.needs_unit(1)
    assert meter.take(1) == 1 and meter.units == 1  # exactly one minute: still one unit
    assert meter.needs_unit(1)
    assert meter.take(BYTES_PER_S) == BYTES_PER_S  # the second minute begins
    assert meter.units == 2 and account(admission, principal).credits == 8
    meter.close()
    meter.close()  # idempotent
    row = account(admission, principal)
    assert (row.credits, row.active_jobs) == (8, 0)
    assert usage(admission, principal, "stream") == {
        "requests": 0, "transcriptions": 1, "minutes": 2, "credits": 2,
    }


def test_stream_that_sent_nothing_is_refunded(admission):
    principal = paid(admission, credits=3)
    meter = admission.stream(principal, BYTES_PER_S)
    meter.close()
    row = account(admission, principal)
    assert (row.credits, row.active_jobs) == (3, 0)
    assert usage(admission, principal, "stream")["minutes"] == 0


def test_stream_with_too_little_audio_for_speech_is_refunded(admission):
    principal = paid(admission, credits=3)
    meter = admission.stream(principal, BYTES_PER_S)
    assert meter.min_bytes == BYTES_PER_S // 10  # MIN_SPEECH_S = 0.1 s
    assert not meter.too_short  # nothing sent is not "too short": such a stream ends normally
    meter.take(2)  # one sample
    assert meter.too_short
    meter.take(meter.min_bytes - 2 - 1)
    assert meter.too_short
    meter.close()
    row = account(admission, principal)
    assert (row.credits, row.active_jobs) == (3, 0)
    assert usage(admission, principal, "stream")["minutes"] == 0
    enough = admission.stream(principal, BYTES_PER_S)
    enough.take(enough.min_bytes)
    assert not enough.too_short
    enough.close()
    assert account(admission, principal).credits == 2


def test_stream_allowance_runs_out_mid_minute(admission):
    principal = paid(admission, credits=1)
    meter = admission.stream(principal, BYTES_PER_S)
    assert meter.take(MINUTE - 1000) == MINUTE - 1000
    assert meter.take(BYTES_PER_S) == 1000  # only the rest of the paid minute
    assert isinstance(meter.refused, NoCreditsLeft)
    meter.close()
    row = account(admission, principal)
    assert (row.credits, row.active_jobs) == (0, 0)
    assert usage(admission, principal, "stream")["minutes"] == 1


def test_stream_refusals_before_ready_hold_nothing(admission, busy):
    broke = paid(admission, credits=0)
    with pytest.raises(NoCreditsLeft):
        admission.stream(broke, BYTES_PER_S)
    assert account(admission, broke).active_jobs == 0  # the slot taken first was given back
    busy.streams = 3
    rich = paid(admission, credits=5)
    with pytest.raises(StreamsFull):
        admission.stream(rich, BYTES_PER_S)
    row = account(admission, rich)
    assert (row.credits, row.active_jobs) == (5, 0)


def test_anonymous_stream_uses_daily_transcriptions_and_one_slot(admission):
    anon = Principal(plan="anonymous", ip="198.51.100.9")
    meter = admission.stream(anon, BYTES_PER_S)
    with pytest.raises(LimitReached):  # the anonymous plan has one slot
        admission.stream(anon, BYTES_PER_S)
    meter.take(MINUTE + 1)  # a second started minute: a second daily transcription
    meter.close()
    with admission.quota.db.session() as s:
        row = s.get(AnonymousClient, anon.ip)
        assert (row.transcriptions, row.active_jobs) == (2, 0)
    assert admission.slots(anon).active == 0
