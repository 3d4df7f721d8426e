"""Media tokens: the stream ticket's idea for a transcript's audio. An ``<audio>`` element cannot
send an Authorization header, and the long-lived API key must not ride in a URL (proxies and
access logs keep URLs), so the page trades its key for a token that reads one transcript's audio
for a few minutes: ``GET /api/v1/transcripts/<id>/audio?token=vat_...``.

Unlike a stream ticket a token is used many times until it expires (a player asks for many byte
ranges as it plays and seeks); it names one transcript only, and revoking its key ends it. Tokens
are stored hashed in the database, so any API node redeems a token another issued.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select

from vocable.accounts.keys import Principal, hash_key
from vocable.storage.db import Database
from vocable.storage.models import Account, ApiKey, MediaToken, Transcript, utcnow

TOKEN_PREFIX = "vat_"
KEEP_EXPIRED = timedelta(hours=1)  # so a late token is told "expired", not "unknown"


class MediaTokenRefused(Exception):
    """The token is unknown, expired, for another transcript, or its key was revoked: a 401."""


def issue_media_token(db: Database, principal: Principal, transcript_id: str, ttl_s: int) -> str | None:
    """A token for ``principal``'s key to read ``transcript_id``'s audio for ``ttl_s`` seconds,
    or None when the account has no such transcript. The raw token is returned once."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    with db.session() as s:
        owner = s.scalar(select(Transcript.account_id).where(Transcript.id == transcript_id))
        if owner is None or owner != principal.account_id or principal.key_id is None:
            return None
        s.execute(delete(MediaToken).where(MediaToken.expires_at < now - KEEP_EXPIRED))
        s.add(MediaToken(
            token_hash=hash_key(raw), key_id=principal.key_id, transcript_id=transcript_id,
            created_at=now, expires_at=now + timedelta(seconds=ttl_s),
        ))
    return raw


def redeem_media_token(db: Database, raw: str, transcript_id: str, ip: str) -> Principal:
    """The principal of the key that bought ``raw``, for reading ``transcript_id``'s audio."""
    with db.session() as s:
        row = s.execute(
            select(MediaToken.expires_at, MediaToken.transcript_id, ApiKey.id, ApiKey.revoked_at,
                   Account.id, Account.plan)
            .join(ApiKey, ApiKey.id == MediaToken.key_id)
            .join(Account, Account.id == ApiKey.account_id)
            .where(MediaToken.token_hash == hash_key(raw))
        ).first()
    if row is None:
        raise MediaTokenRefused(
            "Invalid media token: ask for one with POST /api/v1/transcripts/<id>/audio/token."
        )
    expires_at, token_transcript, key_id, revoked_at, account_id, plan = row
    if token_transcript != transcript_id:
        raise MediaTokenRefused("This media token is for another transcript's audio.")
    if _aware(expires_at) <= utcnow():
        raise MediaTokenRefused(
            "This media token expired: ask for a new one with POST /api/v1/transcripts/<id>/audio/token."
        )
    if revoked_at is not None:
        raise MediaTokenRefused("The API key this media token was issued for was revoked.")
    return Principal(plan=plan, ip=ip, account_id=account_id, key_id=key_id)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
