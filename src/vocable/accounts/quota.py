"""Allowances, concurrency slots and usage: the counting that must stay exact under concurrency.

Every change is one conditional UPDATE (or upsert) so that the database, not Python, decides:
two requests racing for the last credit cannot both win, on SQLite or on PostgreSQL.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import case, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from vocable.accounts.keys import Principal
from vocable.config import Plan
from vocable.storage.db import Database
from vocable.storage.models import Account, AnonymousClient, Transcript, UsageRecord

CONCURRENCY_RETRY_AFTER_S = 10
UNIT_S = 60  # audio covered by one credit or free minute (a stream is metered in these units)


class QuotaError(Exception):
    """The caller's allowance or limits refuse the work. ``retry_after``: seconds until trying
    again can succeed, when that is known."""

    retry_after: int | None = None


class NoCreditsLeft(QuotaError):
    def __init__(self, message: str = "No credits remaining. Upgrade your plan."):
        super().__init__(message)


class LimitReached(QuotaError):
    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class AccountSuspended(QuotaError):
    """The account was disabled while it had work going (an open stream's next minute, a job
    admitted just before): nothing more is charged to it."""

    def __init__(self) -> None:
        super().__init__("This account is disabled. Contact the server's operator.")


@dataclass(frozen=True)
class Charge:
    """Units taken from an allowance; ``kind`` is "credits", "minutes" or "daily"."""

    kind: str
    units: int
    period: str = ""  # month ("YYYY-MM") of a minutes charge, day of a daily one


def audio_units(duration_s: float) -> int:
    """1 credit = 1 minute of audio, rounded up (a 61 s file costs 2); anything non-empty costs 1."""
    return max(1, math.ceil(round(duration_s, 3) / UNIT_S))


def _today() -> date:
    return datetime.now(UTC).date()


def _month() -> str:
    return _today().strftime("%Y-%m")


def seconds_until_tomorrow() -> int:
    now = datetime.now(UTC)
    tomorrow = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC)
    return max(1, int((tomorrow - now).total_seconds()))


def _insert(session: Session):
    return (postgresql if session.bind.dialect.name == "postgresql" else sqlite).insert


class Quota:
    def __init__(self, db: Database, plans: dict[str, Plan]):
        self.db = db
        self.plans = plans

    def plan(self, principal: Principal) -> Plan:
        return self.plans.get(principal.plan) or self.plans["free"]

    # -- allowance -------------------------------------------------------------------------------
    def check_allowance(self, principal: Principal) -> None:
        """Refuse early (before a large upload) when nothing at all is left."""
        plan = self.plan(principal)
        with self.db.session() as s:
            if principal.is_anonymous:
                row = s.get(AnonymousClient, principal.ip)
                if row and row.day == _today() and row.transcriptions >= (plan.daily_transcriptions or 0):
                    raise _daily_limit(plan)
                return
            account = s.get(Account, principal.account_id)
            if plan.monthly_minutes is not None:
                used = account.minutes_used if account.minutes_month == _month() else 0
                if used >= plan.monthly_minutes:
                    raise NoCreditsLeft("No free minutes remaining this month. Upgrade your plan.")
            elif account.credits <= 0:
                raise NoCreditsLeft()

    def reserve(self, principal: Principal, duration_s: float) -> Charge:
        """Take the cost of ``duration_s`` of audio from the caller's allowance, or raise."""
        plan = self.plan(principal)
        units = audio_units(duration_s)
        with self.db.session() as s:
            if principal.is_anonymous:
                return self._reserve_daily(s, principal.ip, plan)
            if plan.monthly_minutes is not None:
                month = _month()
                used = case((Account.minutes_month == month, Account.minutes_used), else_=0)
                result = s.execute(
                    update(Account)
                    .where(Account.id == principal.account_id, Account.disabled_at.is_(None),
                           used + units <= plan.monthly_minutes)
                    .values(minutes_used=used + units, minutes_month=month)
                )
                if result.rowcount != 1:
                    _refuse_if_disabled(s, principal)
                    raise NoCreditsLeft(
                        f"Not enough free minutes left this month for {units} minute(s) of audio. "
                        "Upgrade your plan."
                    )
                return Charge("minutes", units, month)
            result = s.execute(
                update(Account)
                .where(Account.id == principal.account_id, Account.disabled_at.is_(None),
                       Account.credits >= units)
                .values(credits=Account.credits - units)
            )
            if result.rowcount != 1:
                _refuse_if_disabled(s, principal)
                raise NoCreditsLeft()
            return Charge("credits", units)

    def _reserve_daily(self, s: Session, ip: str, plan: Plan) -> Charge:
        today = _today()
        limit = plan.daily_transcriptions or 0
        table = AnonymousClient.__table__
        stmt = _insert(s)(table).values(ip=ip, day=today, transcriptions=1, active_jobs=0)
        same_day = table.c.day == today
        stmt = stmt.on_conflict_do_update(
            index_elements=[table.c.ip],
            set_={
                "transcriptions": case((same_day, table.c.transcriptions + 1), else_=1),
                "day": today,
            },
            where=(table.c.day != today) | (table.c.transcriptions < limit),
        ).returning(table.c.ip)  # rowcount of an upsert is not reliable across drivers
        if limit < 1 or s.execute(stmt).first() is None:
            raise _daily_limit(plan)
        return Charge("daily", 1, today.isoformat())

    def refund(self, principal: Principal, charge: Charge, session: Session | None = None) -> None:
        """Give ``charge`` back; in ``session`` when given (one transaction with the job's end)."""
        if session is None:
            with self.db.session() as s:
                self._refund(s, principal, charge)
        else:
            self._refund(session, principal, charge)

    def _refund(self, s: Session, principal: Principal, charge: Charge) -> None:
        if charge.kind == "credits":
            s.execute(
                update(Account)
                .where(Account.id == principal.account_id)
                .values(credits=Account.credits + charge.units)
            )
        elif charge.kind == "minutes":
            s.execute(
                update(Account)
                .where(Account.id == principal.account_id, Account.minutes_month == charge.period)
                .values(minutes_used=func.max(Account.minutes_used - charge.units, 0)
                        if self.db.is_sqlite else
                        func.greatest(Account.minutes_used - charge.units, 0))
            )
        elif charge.kind == "daily":
            s.execute(
                update(AnonymousClient)
                .where(
                    AnonymousClient.ip == principal.ip,
                    AnonymousClient.day == date.fromisoformat(charge.period),
                    AnonymousClient.transcriptions > 0,
                )
                .values(transcriptions=AnonymousClient.transcriptions - 1)
            )

    # -- concurrency -----------------------------------------------------------------------------
    def acquire_slot(self, principal: Principal) -> None:
        limit = self.plan(principal).concurrent_jobs
        with self.db.session() as s:
            if principal.is_anonymous:
                table = AnonymousClient.__table__
                s.execute(
                    _insert(s)(table)
                    .values(ip=principal.ip, day=_today(), transcriptions=0, active_jobs=0)
                    .on_conflict_do_nothing(index_elements=[table.c.ip])
                )
                result = s.execute(
                    update(AnonymousClient)
                    .where(AnonymousClient.ip == principal.ip, AnonymousClient.active_jobs < limit)
                    .values(active_jobs=AnonymousClient.active_jobs + 1)
                )
            else:
                result = s.execute(
                    update(Account)
                    .where(Account.id == principal.account_id, Account.active_jobs < limit)
                    .values(active_jobs=Account.active_jobs + 1)
                )
            if result.rowcount != 1:
                raise LimitReached(
                    f"Concurrency limit reached: the {self.plan(principal).name} plan allows "
                    f"{limit} job(s) at a time.",
                    CONCURRENCY_RETRY_AFTER_S,
                )

    def active_jobs(self, principal: Principal) -> int:
        """Concurrency slots the caller holds now."""
        with self.db.session() as s:
            if principal.is_anonymous:
                row = s.get(AnonymousClient, principal.ip)
            else:
                row = s.get(Account, principal.account_id)
            return row.active_jobs if row is not None else 0

    def release_slot(self, principal: Principal, session: Session | None = None) -> None:
        """Give one slot back; in ``session`` when given (one transaction with the job's end)."""
        if session is None:
            with self.db.session() as s:
                self._release(s, principal)
        else:
            self._release(session, principal)

    @staticmethod
    def _release(s: Session, principal: Principal) -> None:
        if principal.is_anonymous:
            s.execute(
                update(AnonymousClient)
                .where(AnonymousClient.ip == principal.ip, AnonymousClient.active_jobs > 0)
                .values(active_jobs=AnonymousClient.active_jobs - 1)
            )
        else:
            s.execute(
                update(Account)
                .where(Account.id == principal.account_id, Account.active_jobs > 0)
                .values(active_jobs=Account.active_jobs - 1)
            )

    def recount_slots(self) -> None:
        """After a restart, slots are exactly the jobs still queued or running."""
        live = Transcript.status.in_(("queued", "processing"))
        with self.db.session() as s:
            per_account = dict(
                s.execute(
                    select(Transcript.account_id, func.count())
                    .where(live, Transcript.account_id.is_not(None))
                    .group_by(Transcript.account_id)
                ).all()
            )
            per_ip = dict(
                s.execute(
                    select(Transcript.client_ip, func.count())
                    .where(live, Transcript.account_id.is_(None))
                    .group_by(Transcript.client_ip)
                ).all()
            )
            s.execute(update(Account).values(active_jobs=0))
            s.execute(update(AnonymousClient).values(active_jobs=0))
            for account_id, n in per_account.items():
                s.execute(update(Account).where(Account.id == account_id).values(active_jobs=n))
            for ip, n in per_ip.items():
                s.execute(update(AnonymousClient).where(AnonymousClient.ip == ip).values(active_jobs=n))

    # -- usage -----------------------------------------------------------------------------------
    def record(
        self,
        account_id: int | None,
        family: str,
        *,
        requests: int = 0,
        transcriptions: int = 0,
        minutes: int = 0,
        credits: int = 0,
    ) -> None:
        if account_id is None:
            return
        with self.db.session() as s:
            table = UsageRecord.__table__
            stmt = _insert(s)(table).values(
                account_id=account_id, day=_today(), family=family, requests=requests,
                transcriptions=transcriptions, minutes=minutes, credits_spent=credits,
            )
            s.execute(
                stmt.on_conflict_do_update(
                    index_elements=[table.c.account_id, table.c.day, table.c.family],
                    set_={
                        "requests": table.c.requests + requests,
                        "transcriptions": table.c.transcriptions + transcriptions,
                        "minutes": table.c.minutes + minutes,
                        "credits_spent": table.c.credits_spent + credits,
                    },
                )
            )


def _refuse_if_disabled(s: Session, principal: Principal) -> None:
    if s.scalar(select(Account.disabled_at).where(Account.id == principal.account_id)) is not None:
        raise AccountSuspended()


def _daily_limit(plan: Plan) -> LimitReached:
    return LimitReached(
        f"Anonymous limit reached: {plan.daily_transcriptions} transcriptions per day per IP. "
        "Create an account and use an API key for more.",
        seconds_until_tomorrow(),
    )
