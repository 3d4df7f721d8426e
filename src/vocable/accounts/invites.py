"""Invite codes for ``VOCABLE_SIGNUP=invite``: made by the operator (CLI or admin API), shown
once, stored hashed; each may be used ``max_uses`` times before ``expires_at``."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from vocable.accounts.keys import hash_key
from vocable.storage.db import Database
from vocable.storage.models import Invite, utcnow

INVITE_PREFIX = "inv_"


class InviteRefused(PermissionError):
    """Sign-up needs an invite code here and the one given (if any) is not usable."""


def create_invite(
    db: Database, *, max_uses: int = 1, expires_in_days: float | None = 14, note: str = ""
) -> tuple[Invite, str]:
    if max_uses < 1:
        raise ValueError("An invite must allow at least one use.")
    raw = INVITE_PREFIX + secrets.token_urlsafe(18)
    expires = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
    with db.session() as s:
        invite = Invite(code_hash=hash_key(raw), note=note[:200], max_uses=max_uses, uses=0,
                        expires_at=expires)
        s.add(invite)
        s.flush()
        return invite, raw


def list_invites(db: Database) -> list[Invite]:
    with db.session() as s:
        return list(s.scalars(select(Invite).order_by(Invite.created_at.desc())))


def revoke_invite(db: Database, invite_id: str) -> bool:
    with db.session() as s:
        return s.execute(
            update(Invite).where(Invite.id == invite_id, Invite.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        ).rowcount == 1


def consume_invite(s: Session, raw: str | None) -> None:
    """Use one of the code's uses, in the sign-up's own transaction (a conditional update: two
    sign-ups racing for a code's last use cannot both win)."""
    if not raw:
        raise InviteRefused("Sign-up on this server needs an invite code.")
    now = utcnow()
    taken = s.execute(
        update(Invite)
        .where(
            Invite.code_hash == hash_key(raw.strip()), Invite.revoked_at.is_(None),
            Invite.uses < Invite.max_uses, or_(Invite.expires_at.is_(None), Invite.expires_at > now),
        )
        .values(uses=Invite.uses + 1)
    )
    if taken.rowcount != 1:
        raise InviteRefused("This invite code is not valid (unknown, used up, expired or revoked).")


def invite_out(invite: Invite) -> dict:
    return {
        "id": invite.id, "note": invite.note, "max_uses": invite.max_uses, "uses": invite.uses,
        "created_at": invite.created_at, "expires_at": invite.expires_at,
        "revoked_at": invite.revoked_at,
        "active": invite.revoked_at is None and invite.uses < invite.max_uses
        and (invite.expires_at is None or invite.expires_at > utcnow()),
    }
