"""What an account sees of itself (plan, allowance, this month's minutes) and what it may change.

A user may change their name, email address and email preferences. Plan and credits are the
operator's (CLI or billing), never the account's own API.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from vocable.config import Plan
from vocable.storage.db import Database
from vocable.storage.models import Account, UsageRecord

# Every preference an account has, with its default. Unknown keys are refused, so a typo is an
# error rather than a silently ignored setting.
EMAIL_PREFERENCES: dict[str, bool] = {
    "transcript_completed": False,
    "usage_alerts": True,
    "product_updates": False,
    "newsletter": False,
}

# Deliberately loose (the address is confirmed by whoever sends mail to it): one @, no spaces,
# a dot in the domain.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ProfileError(ValueError):
    pass


class EmailTaken(ProfileError):
    pass


def email_preferences(stored: dict[str, Any] | None) -> dict[str, bool]:
    return {**EMAIL_PREFERENCES, **{k: bool(v) for k, v in (stored or {}).items() if k in EMAIL_PREFERENCES}}


def validate_email(email: str) -> str:
    email = email.strip().lower()
    if len(email) > 320 or not _EMAIL.match(email):
        raise ProfileError(f"'{email}' is not a valid email address.")
    return email


def validate_preferences(prefs: dict[str, Any]) -> dict[str, bool]:
    unknown = sorted(set(prefs) - set(EMAIL_PREFERENCES))
    if unknown:
        raise ProfileError(
            f"Unknown email preference(s): {', '.join(unknown)}. "
            f"Known: {', '.join(EMAIL_PREFERENCES)}."
        )
    bad = sorted(k for k, v in prefs.items() if not isinstance(v, bool))
    if bad:
        raise ProfileError(f"Email preference(s) must be true or false: {', '.join(bad)}.")
    return prefs


def _month_start(today: date) -> date:
    return today.replace(day=1)


def profile(db: Database, plans: dict[str, Plan], account_id: int) -> dict[str, Any]:
    today = datetime.now(UTC).date()
    month = today.strftime("%Y-%m")
    with db.session() as s:
        account = s.get(Account, account_id)
        charged_minutes = s.scalar(
            select(func.coalesce(func.sum(UsageRecord.minutes), 0)).where(
                UsageRecord.account_id == account_id, UsageRecord.day >= _month_start(today)
            )
        ) or 0
    plan = plans.get(account.plan) or plans["free"]
    if plan.monthly_minutes is not None:
        # Free minutes: the counter includes reservations of running jobs, so it is what is left.
        used = account.minutes_used if account.minutes_month == month else 0
        left: int | None = max(0, plan.monthly_minutes - used)
    else:
        # Credit based: 1 credit = 1 minute, so the minutes left are the credits.
        used = int(charged_minutes)
        left = int(account.credits)
    return {
        "id": account.id,
        "email": account.email,
        "email_verified": account.email_verified_at is not None,
        "name": account.name,
        "plan": account.plan,
        "role": account.role,
        "credits": int(account.credits),
        "uses_credits": plan.monthly_minutes is None,
        "month": month,
        "minutes_used": int(used),
        "minutes_left": left,
        "monthly_minutes": plan.monthly_minutes,
        "limits": {
            "max_upload_mb": plan.max_upload_mb,
            "concurrent_jobs": plan.concurrent_jobs,
            "requests_per_minute": plan.requests_per_minute,
        },
        "email_preferences": email_preferences(account.email_preferences),
        "created_at": account.created_at,
    }


def update(
    db: Database,
    account_id: int,
    *,
    name: str | None = None,
    email: str | None = None,
    preferences: dict[str, Any] | None = None,
) -> None:
    """Apply the given changes (None = leave as is). Preferences are merged, not replaced."""
    email = validate_email(email) if email is not None else None
    if preferences is not None:
        validate_preferences(preferences)
    try:
        _apply(db, account_id, name, email, preferences)
    except IntegrityError as exc:  # a concurrent change took the address first
        raise EmailTaken(f"Another account already uses {email}.") from exc


def _apply(
    db: Database, account_id: int, name: str | None, email: str | None, preferences: dict | None
) -> None:
    with db.session() as s:
        account = s.get(Account, account_id)
        if email is not None and email != account.email:
            taken = s.scalar(select(Account.id).where(Account.email == email, Account.id != account_id))
            if taken is not None:
                raise EmailTaken(f"Another account already uses {email}.")
            account.email = email
        if name is not None:
            account.name = name.strip()
        if preferences is not None:
            # A new dict, so SQLAlchemy sees the JSON column change.
            account.email_preferences = {**email_preferences(account.email_preferences), **preferences}
