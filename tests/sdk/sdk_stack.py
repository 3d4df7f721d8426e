"""What the SDK test modules share: a live server with accounts for every error case.

The server's plans are the defaults except: anonymous uploads are capped at 1 MB (413 without
transcribing anything) and a ``tiny`` plan allows 2 requests a minute (429 on the account API,
without spending anything).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from vocable_sdk import Transcription, Vocable

from tests.conftest import LiveServer, make_settings
from vocable.accounts.keys import create_account, create_key
from vocable.config import Plan, default_plans
from vocable.services import Services
from vocable.storage.models import Transcript

_emails = itertools.count()


@dataclass
class Stack:
    server: LiveServer
    key: str = ""  # paid, with credits: for the transcriptions
    broke: str = ""  # paid, 0 credits
    limited: str = ""  # plan "tiny": 2 requests a minute
    lister: str = ""  # owns copies of a real transcript, for pagination
    lister_id: int = 0

    def client(self, key: str | None = None, **kw) -> Vocable:
        return Vocable(api_key=key, base_url=self.server.url, **kw)

    def account(self, plan: str, credits: int = 0) -> tuple[int, str]:
        db = self.server.services.db
        account = create_account(
            db, f"sdk{next(_emails)}-{plan}@example.com", plan=plan, credits=credits
        )
        return account.id, create_key(db, account.id, name="sdk-test")[1]


def sdk_plans() -> dict[str, Plan]:
    plans = default_plans()
    plans["anonymous"].max_upload_mb = 1
    plans["tiny"] = Plan(
        name="tiny", max_upload_mb=1, concurrent_jobs=1, uses_credits=True, requests_per_minute=2
    )
    return plans


@contextmanager
def running_stack(tmp_path, **shared) -> Iterator[Stack]:
    """A live server on its own SQLite database; ``shared``: the session's loaded models."""
    services = Services.create(make_settings(tmp_path, plans=sdk_plans()), **shared)
    with LiveServer(services) as server:
        stack = Stack(server)
        _, stack.key = stack.account("paid", credits=30)
        _, stack.broke = stack.account("paid", credits=0)
        _, stack.limited = stack.account("tiny")
        stack.lister_id, stack.lister = stack.account("paid", credits=5)
        yield stack


def copy_transcripts(stack: Stack, real: Transcription, n: int = 7) -> list[str]:
    """``n`` transcripts of the lister's account, newest first (the two newest failed): copies of
    a real transcription written straight to the database, an hour apart in 2025."""
    ids = []
    with stack.server.services.db.session() as s:
        for i in range(n):
            row = Transcript(
                account_id=stack.lister_id,
                status="failed" if i >= n - 2 else "completed",
                filename=f"copy{i}.wav",
                language="en",
                duration=real.duration,
                model="base",
                text=real.text,
                segments=real.raw["segments"],
                speakers=real.speakers,
                created_at=datetime(2025, 1, 1, tzinfo=UTC) + timedelta(hours=i),
            )
            s.add(row)
            s.flush()
            ids.append(row.id)
    return ids[::-1]
