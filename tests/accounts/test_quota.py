"""Counting under real concurrency (threads, separate connections) on SQLite and PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from vocable.accounts.keys import Principal, create_account
from vocable.accounts.quota import LimitReached, NoCreditsLeft, Quota, audio_units
from vocable.config import default_plans
from vocable.storage.db import Database
from vocable.storage.models import Account, AnonymousClient


@pytest.fixture
def quota(database_url):
    db = Database(database_url)
    db.migrate()
    yield Quota(db, default_plans())
    db.dispose()


def parallel(fn, n=20):
    def attempt(_):
        try:
            return fn()
        except (NoCreditsLeft, LimitReached) as exc:
            return exc

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(attempt, range(n)))


@pytest.mark.parametrize("seconds,units", [(0.5, 1), (60, 1), (60.001, 2), (61, 2), (3600, 60), (3600.2, 61)])
def test_units_round_up(seconds, units):
    assert audio_units(seconds) == units


def test_anonymous_daily_counter_exact(quota):
    anon = Principal(plan="anonymous", ip="192.0.2.7")
    results = parallel(lambda: quota.reserve(anon, 10))
    assert sum(not isinstance(r, Exception) for r in results) == 3
    assert all(isinstance(r, LimitReached) for r in results if isinstance(r, Exception))
    with quota.db.session() as s:
        assert s.get(AnonymousClient, "192.0.2.7").transcriptions == 3


def test_slots_exact_and_released(quota):
    account = create_account(quota.db, "slots@example.com", plan="paid", credits=0)
    principal = Principal(plan="paid", ip="x", account_id=account.id)
    results = parallel(lambda: quota.acquire_slot(principal))
    assert sum(r is None for r in results) == 5  # the paid plan's concurrency
    for _ in range(5):
        quota.release_slot(principal)
    quota.release_slot(principal)  # never below zero
    with quota.db.session() as s:
        assert s.get(Account, account.id).active_jobs == 0


def test_free_minutes_exact_and_refunds(quota):
    account = create_account(quota.db, "free@example.com", plan="free")
    principal = Principal(plan="free", ip="x", account_id=account.id)
    results = parallel(lambda: quota.reserve(principal, 60 * 40))  # 40 min each, 600 allowed
    charges = [r for r in results if not isinstance(r, Exception)]
    assert len(charges) == 15
    quota.refund(principal, charges[0])
    with quota.db.session() as s:
        assert s.get(Account, account.id).minutes_used == 560
