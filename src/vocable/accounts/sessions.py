"""Browser sessions, kept server-side: the cookie holds a random id, the database its SHA-256.

A session is made at sign-in (a new id every time: any id the browser held before is revoked,
so a planted id never becomes a signed-in one), ends at sign-out or after ``ttl_s``, and every
session of an account is revoked when its password changes or the operator disables it. Each
session has a CSRF token: calls that change state with the cookie must send it back
(``X-CSRF-Token``), which a page on another site cannot read.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update

from vocable.accounts.keys import AccountDisabled, Principal, hash_key
from vocable.storage.db import Database
from vocable.storage.models import Account, WebSession, utcnow

SESSION_PREFIX = "vss_"
# last_seen_at is written at most this often (a page makes many requests a minute).
TOUCH_EVERY = timedelta(minutes=5)


class SessionInvalid(Exception):
    """The cookie names no live session (unknown, expired, signed out or revoked)."""

    def __init__(self) -> None:
        super().__init__("Your session has ended. Sign in again.")


class CsrfRefused(Exception):
    """A state-changing call made with the session cookie without the session's CSRF token."""

    def __init__(self) -> None:
        super().__init__(
            "Missing or wrong CSRF token: send the X-CSRF-Token header given at sign-in "
            "(GET /api/v1/auth/me answers it)."
        )


@dataclass(frozen=True)
class NewSession:
    raw: str  # for the cookie; not kept anywhere
    csrf_token: str
    account_id: int
    expires_in: int  # seconds


def create_session(
    db: Database, account_id: int, ttl_s: int, *, ip: str = "", user_agent: str = "",
    replaces: str | None = None,
) -> NewSession:
    """A new session for ``account_id``; ``replaces`` (the raw id the browser sent, if any) is
    revoked in the same transaction, so the id in the browser always changes at sign-in."""
    raw = SESSION_PREFIX + secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    now = utcnow()
    with db.session() as s:
        s.execute(delete(WebSession).where(WebSession.expires_at < now))  # sweep old ones
        if replaces:
            s.execute(delete(WebSession).where(WebSession.id_hash == hash_key(replaces)))
        s.add(WebSession(
            id_hash=hash_key(raw), account_id=account_id, csrf_token=csrf, created_at=now,
            expires_at=now + timedelta(seconds=ttl_s), last_seen_at=now, ip=ip[:64],
            user_agent=user_agent[:300],
        ))
    return NewSession(raw, csrf, account_id, ttl_s)


@dataclass(frozen=True)
class LiveSession:
    principal: Principal
    csrf_token: str


def authenticate_session(db: Database, raw: str, ip: str) -> LiveSession:
    """The principal of a live session (``SessionInvalid`` otherwise; ``AccountDisabled`` for a
    disabled account). Plan and role are read on every call, as for keys."""
    now = utcnow()
    id_hash = hash_key(raw)
    with db.session() as s:
        row = s.execute(
            select(WebSession.expires_at, WebSession.last_seen_at, WebSession.csrf_token,
                   Account.id, Account.plan, Account.role, Account.disabled_at)
            .join(Account, Account.id == WebSession.account_id)
            .where(WebSession.id_hash == id_hash)
        ).first()
        if row is None or row[0] <= now:
            raise SessionInvalid()
        _, last_seen, csrf, account_id, plan, role, disabled_at = row
        if disabled_at is not None:
            raise AccountDisabled()
        if now - last_seen > TOUCH_EVERY:
            s.execute(update(WebSession).where(WebSession.id_hash == id_hash).values(last_seen_at=now))
    principal = Principal(plan=plan, ip=ip, account_id=account_id, session_hash=id_hash, role=role)
    return LiveSession(principal, csrf)


def check_csrf(session: LiveSession, sent: str | None) -> None:
    if not sent or not hmac.compare_digest(sent.encode(), session.csrf_token.encode()):
        raise CsrfRefused()


def revoke_session(db: Database, raw: str) -> bool:
    with db.session() as s:
        return s.execute(delete(WebSession).where(WebSession.id_hash == hash_key(raw))).rowcount == 1


def revoke_all(db: Database, account_id: int) -> int:
    """End every session of ``account_id`` (password changed, account disabled)."""
    with db.session() as s:
        return s.execute(delete(WebSession).where(WebSession.account_id == account_id)).rowcount


def session_is_live(db: Database, id_hash: str) -> bool:
    with db.session() as s:
        expires_at = s.scalar(select(WebSession.expires_at).where(WebSession.id_hash == id_hash))
    return expires_at is not None and expires_at > utcnow()


def csrf_token(db: Database, id_hash: str) -> str | None:
    """The CSRF token of a live session (for the signed-in page after a reload)."""
    with db.session() as s:
        return s.scalar(select(WebSession.csrf_token).where(WebSession.id_hash == id_hash))
