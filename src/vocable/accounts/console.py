"""The operator console: accounts seen and managed across the server (``/api/v1/admin/...``
and the same operations in the CLI).

Plan, credits, role and the disabled flag are read from the account on every request (keys and
sessions carry none of them), so a change here applies to the account's next request.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update

from vocable.accounts import sessions
from vocable.accounts.keys import AccountNotFound
from vocable.accounts.profile import ProfileError
from vocable.config import Plan
from vocable.storage.blobs import BlobStore
from vocable.storage.db import Database
from vocable.storage.models import Account, ApiKey, Transcript, UsageRecord, WebSession, utcnow

ROLES = ("user", "admin")
LIVE = ("queued", "processing")


class AccountBusy(Exception):
    def __init__(self, jobs: int):
        super().__init__(
            f"The account has {jobs} transcription job(s) queued or running: disable it, and "
            "delete it once they have ended."
        )


class AdminConsole:
    def __init__(self, db: Database, plans: dict[str, Plan], blobs: BlobStore):
        self.db = db
        self.plans = plans
        self.blobs = blobs

    # -- reading ------------------------------------------------------------------------------------
    def list_accounts(self, query: str = "", page: int = 1, page_size: int = 50) -> dict[str, Any]:
        page, page_size = max(1, page), min(max(1, page_size), 200)
        where = []
        if query:
            like = f"%{query.strip().lower()}%"
            where.append(or_(func.lower(Account.email).like(like), func.lower(Account.name).like(like),
                             Account.plan == query.strip().lower()))
        with self.db.session() as s:
            total = s.scalar(select(func.count()).select_from(Account).where(*where)) or 0
            rows = s.scalars(
                select(Account).where(*where).order_by(Account.id)
                .offset((page - 1) * page_size).limit(page_size)
            ).all()
            ids = [a.id for a in rows]
            keys = dict(s.execute(
                select(ApiKey.account_id, func.count()).where(
                    ApiKey.account_id.in_(ids), ApiKey.revoked_at.is_(None)
                ).group_by(ApiKey.account_id)
            ).all()) if ids else {}
            transcripts = dict(s.execute(
                select(Transcript.account_id, func.count()).where(Transcript.account_id.in_(ids))
                .group_by(Transcript.account_id)
            ).all()) if ids else {}
        return {
            "accounts": [self._out(a, keys.get(a.id, 0), transcripts.get(a.id, 0)) for a in rows],
            "total": total, "page": page, "page_size": page_size,
        }

    def account(self, account_id: int) -> dict[str, Any]:
        with self.db.session() as s:
            account = s.get(Account, account_id)
            if account is None:
                raise AccountNotFound(f"No account with id {account_id}.")
            keys = s.scalar(select(func.count()).where(
                ApiKey.account_id == account_id, ApiKey.revoked_at.is_(None))) or 0
            transcripts = s.scalar(select(func.count()).where(
                Transcript.account_id == account_id)) or 0
            live_sessions = s.scalar(select(func.count()).where(
                WebSession.account_id == account_id, WebSession.expires_at > utcnow())) or 0
        return {**self._out(account, keys, transcripts), "sessions": live_sessions}

    def find(self, email: str) -> int:
        with self.db.session() as s:
            account_id = s.scalar(select(Account.id).where(Account.email == email.strip().lower()))
        if account_id is None:
            raise AccountNotFound(f"No account for {email}.")
        return account_id

    def _out(self, a: Account, keys: int, transcripts: int) -> dict[str, Any]:
        plan = self.plans.get(a.plan)
        month = datetime.now(UTC).strftime("%Y-%m")
        return {
            "id": a.id, "email": a.email, "name": a.name, "plan": a.plan, "role": a.role,
            "credits": int(a.credits),
            "minutes_used": a.minutes_used if a.minutes_month == month else 0,
            "monthly_minutes": plan.monthly_minutes if plan else None,
            "active_jobs": a.active_jobs, "api_keys": keys, "transcripts": transcripts,
            "email_verified": a.email_verified_at is not None, "has_password": bool(a.password_hash),
            "disabled": a.disabled_at is not None, "disabled_at": a.disabled_at,
            "created_at": a.created_at,
        }

    # -- changing -----------------------------------------------------------------------------------
    def _update(self, account_id: int, **values) -> None:
        with self.db.session() as s:
            if s.execute(update(Account).where(Account.id == account_id).values(**values)).rowcount != 1:
                raise AccountNotFound(f"No account with id {account_id}.")

    def set_plan(self, account_id: int, plan: str) -> dict[str, Any]:
        if plan not in self.plans or plan == "anonymous":
            known = ", ".join(p for p in self.plans if p != "anonymous")
            raise ProfileError(f"Unknown plan '{plan}'. Plans: {known}.")
        self._update(account_id, plan=plan)
        return self.account(account_id)

    def grant_credits(self, account_id: int, credits: int) -> dict[str, Any]:
        """Add ``credits`` (negative takes some back, never below zero), in one update."""
        if credits == 0:
            raise ProfileError("Grant a non-zero number of credits.")
        new = Account.credits + credits
        floor = func.max(new, 0) if self.db.is_sqlite else func.greatest(new, 0)
        self._update(account_id, credits=floor)
        return self.account(account_id)

    def set_role(self, account_id: int, role: str) -> dict[str, Any]:
        if role not in ROLES:
            raise ProfileError(f"Unknown role '{role}'. Roles: {', '.join(ROLES)}.")
        self._update(account_id, role=role)
        return self.account(account_id)

    def set_disabled(self, account_id: int, disabled: bool) -> dict[str, Any]:
        """Disable (its keys and tickets are refused from the next request; its sessions end) or
        enable again (its keys work again; it signs in anew)."""
        self._update(account_id, disabled_at=utcnow() if disabled else None)
        if disabled:
            sessions.revoke_all(self.db, account_id)
        return self.account(account_id)

    def delete_account(self, account_id: int) -> None:
        """The account and everything it owns: keys, sessions, transcripts and whatever hangs off
        them (ON DELETE CASCADE), usage, and the transcripts' stored audio (blobs)."""
        with self.db.session() as s:
            if s.get(Account, account_id) is None:
                raise AccountNotFound(f"No account with id {account_id}.")
            live = s.scalar(select(func.count()).where(
                Transcript.account_id == account_id, Transcript.status.in_(LIVE))) or 0
            if live:
                raise AccountBusy(live)
            audio = [k for k in s.scalars(select(Transcript.audio_key).where(
                Transcript.account_id == account_id)) if k]
            s.execute(delete(Account).where(Account.id == account_id))
        for key in audio:
            self.blobs.delete(key)

    # -- usage across accounts ------------------------------------------------------------------------
    def usage(self, days: int = 30, today: date | None = None, top: int = 20) -> dict[str, Any]:
        today = today or datetime.now(UTC).date()
        first = today - timedelta(days=days - 1)
        in_range = (UsageRecord.day >= first, UsageRecord.day <= today)
        with self.db.session() as s:
            per_day = s.execute(
                select(UsageRecord.day, func.sum(UsageRecord.requests),
                       func.sum(UsageRecord.transcriptions), func.sum(UsageRecord.minutes),
                       func.sum(UsageRecord.credits_spent),
                       func.count(func.distinct(UsageRecord.account_id)))
                .where(*in_range).group_by(UsageRecord.day)
            ).all()
            per_account = s.execute(
                select(Account.id, Account.email, func.sum(UsageRecord.requests),
                       func.sum(UsageRecord.transcriptions), func.sum(UsageRecord.minutes),
                       func.sum(UsageRecord.credits_spent))
                .join(Account, Account.id == UsageRecord.account_id)
                .where(*in_range).group_by(Account.id, Account.email)
                .order_by(func.sum(UsageRecord.minutes).desc(), Account.id).limit(top)
            ).all()
            accounts = s.scalar(select(func.count()).select_from(Account)) or 0
        by_day = {
            first + timedelta(days=i): {"date": (first + timedelta(days=i)).isoformat(),
                                        "requests": 0, "transcriptions": 0, "audio_minutes": 0,
                                        "credits_spent": 0, "active_accounts": 0}
            for i in range(days)
        }
        for day, requests, transcriptions, minutes, credits, active in per_day:
            by_day[day].update(requests=int(requests or 0), transcriptions=int(transcriptions or 0),
                               audio_minutes=int(minutes or 0), credits_spent=int(credits or 0),
                               active_accounts=int(active or 0))
        entries = list(by_day.values())
        totals = {f: sum(e[f] for e in entries)
                  for f in ("requests", "transcriptions", "audio_minutes", "credits_spent")}
        return {
            "start": first.isoformat(), "end": today.isoformat(), "days": entries,
            "totals": {**totals, "accounts": accounts},
            "top_accounts": [
                {"id": i, "email": e, "requests": int(r or 0), "transcriptions": int(t or 0),
                 "audio_minutes": int(m or 0), "credits_spent": int(c or 0)}
                for i, e, r, t, m, c in per_account
            ],
        }
