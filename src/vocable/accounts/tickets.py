"""Stream tickets: a browser cannot set headers on a WebSocket, so rather than put the API key in
the URL (where proxies and access logs keep it) it trades the key for a ticket that opens one
stream, once, within a minute. Tickets are stored hashed in the database, so any API node may
redeem one that another issued."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select, update

from vocable.accounts.keys import AccountDisabled, Principal, hash_key
from vocable.storage.db import Database
from vocable.storage.models import Account, ApiKey, StreamTicket, WebSession, utcnow

TICKET_PREFIX = "vst_"
# Tickets past their expiry are kept this long (so a late one is told "expired", not "unknown").
KEEP_EXPIRED = timedelta(hours=1)


class TicketRefused(Exception):
    """The ticket is unknown, expired, already used, or its key was revoked."""


def issue_ticket(db: Database, principal: Principal, ttl_s: int) -> str:
    """A new ticket for ``principal``'s key (or signed-in session), valid for ``ttl_s`` seconds; the raw ticket is
    returned once and stored hashed. Old expired tickets are swept on the way."""
    raw = TICKET_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    with db.session() as s:
        s.execute(delete(StreamTicket).where(StreamTicket.expires_at < now - KEEP_EXPIRED))
        s.add(StreamTicket(
            ticket_hash=hash_key(raw), key_id=principal.key_id,
            session_hash=None if principal.key_id else principal.session_hash, created_at=now,
            expires_at=now + timedelta(seconds=ttl_s),
        ))
    return raw


def redeem_ticket(db: Database, raw: str, ip: str) -> Principal:
    """The principal of the key (or session) that bought ``raw``; the ticket is used up. Of two
    clients redeeming the same ticket at once, exactly one wins (a conditional update)."""
    now = utcnow()
    with db.session() as s:
        row = s.execute(
            select(StreamTicket.expires_at, StreamTicket.used_at, StreamTicket.key_id,
                   ApiKey.revoked_at, StreamTicket.session_hash, WebSession.expires_at,
                   Account.id, Account.plan, Account.role, Account.disabled_at)
            .outerjoin(ApiKey, ApiKey.id == StreamTicket.key_id)
            .outerjoin(WebSession, WebSession.id_hash == StreamTicket.session_hash)
            .join(Account, Account.id == func.coalesce(ApiKey.account_id, WebSession.account_id))
            .where(StreamTicket.ticket_hash == hash_key(raw))
        ).first()
        if row is None:
            if s.get(StreamTicket, hash_key(raw)) is not None:  # its session ended since
                raise TicketRefused("The session this stream ticket was issued for has ended.")
            raise TicketRefused("Invalid stream ticket: ask for one with POST /v1/stream/ticket.")
        (expires_at, used_at, key_id, revoked_at, session_hash, session_expires, account_id,
         plan, role, disabled_at) = row
        if used_at is not None:
            raise TicketRefused(
                "This stream ticket was already used: a ticket opens one stream; ask for a new "
                "one with POST /v1/stream/ticket."
            )
        if _aware(expires_at) <= now:
            raise TicketRefused(
                "This stream ticket expired: use it within seconds of POST /v1/stream/ticket."
            )
        if revoked_at is not None:
            raise TicketRefused("The API key this stream ticket was issued for was revoked.")
        if session_hash is not None and _aware(session_expires) <= now:
            raise TicketRefused("The session this stream ticket was issued for has ended.")
        if disabled_at is not None:
            raise AccountDisabled()
        taken = s.execute(
            update(StreamTicket)
            .where(StreamTicket.ticket_hash == hash_key(raw), StreamTicket.used_at.is_(None))
            .values(used_at=now)
        )
        if taken.rowcount != 1:  # another connection redeemed it meanwhile
            raise TicketRefused("This stream ticket was already used.")
        if key_id is not None:
            s.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now))
    return Principal(plan=plan, ip=ip, account_id=account_id, key_id=key_id,
                     session_hash=session_hash, role=role)


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything here is written in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
