"""An account's usage by day, read from the ``usage_records`` rows that ``Quota.record`` keeps."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from vocable.storage.db import Database
from vocable.storage.models import UsageRecord

DEFAULT_DAYS = 30


def daily_usage(
    db: Database, account_id: int, days: int = DEFAULT_DAYS, today: date | None = None
) -> dict[str, Any]:
    """``days`` entries, oldest first and ending today (UTC), zeros on days without activity."""
    today = today or datetime.now(UTC).date()
    first = today - timedelta(days=days - 1)
    with db.session() as s:
        rows = s.execute(
            select(
                UsageRecord.day, UsageRecord.family, UsageRecord.requests,
                UsageRecord.transcriptions, UsageRecord.minutes, UsageRecord.credits_spent,
            ).where(
                UsageRecord.account_id == account_id,
                UsageRecord.day >= first,
                UsageRecord.day <= today,
            )
        ).all()
    by_day = {first + timedelta(days=i): _empty_day(first + timedelta(days=i)) for i in range(days)}
    for day, family, requests, transcriptions, minutes, credits in rows:
        entry = by_day[day]
        entry["audio_minutes"] += minutes
        entry["transcriptions"] += transcriptions
        entry["credits_spent"] += credits
        entry["requests"] += requests
        if requests:
            entry["requests_by_endpoint"][family] = (
                entry["requests_by_endpoint"].get(family, 0) + requests
            )
    entries = list(by_day.values())
    totals = _empty_day(None)
    totals.pop("date")
    for entry in entries:
        for field in ("audio_minutes", "transcriptions", "credits_spent", "requests"):
            totals[field] += entry[field]
        for family, n in entry["requests_by_endpoint"].items():
            totals["requests_by_endpoint"][family] = totals["requests_by_endpoint"].get(family, 0) + n
    return {
        "start": first.isoformat(),
        "end": today.isoformat(),
        "days": entries,
        "totals": totals,
    }


def _empty_day(day: date | None) -> dict[str, Any]:
    return {
        "date": day.isoformat() if day else None,
        "audio_minutes": 0,
        "transcriptions": 0,
        "requests": 0,
        "requests_by_endpoint": {},
        "credits_spent": 0,
    }
