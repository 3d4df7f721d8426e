"""Accounts and API keys: creation, lookup, revocation. Raw keys are shown once, stored hashed."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update

from vocable.storage.db import Database
from vocable.storage.models import Account, ApiKey, utcnow

KEY_PREFIX = "voc_"


class AccountExists(ValueError):
    pass


class AccountNotFound(LookupError):
    pass


class InvalidKey(Exception):
    def __init__(self) -> None:
        super().__init__("Invalid or revoked API key.")


class AccountDisabled(PermissionError):
    """The account was disabled by the operator: its keys, sessions and tickets are refused."""

    def __init__(self) -> None:
        super().__init__("This account is disabled. Contact the server's operator.")


@dataclass(frozen=True)
class Principal:
    """Who is calling: an account (through a key) or an anonymous client by IP."""

    plan: str
    ip: str
    account_id: int | None = None
    key_id: str | None = None
    # A signed-in browser (accounts/sessions.py) instead of a key: the session's stored hash.
    session_hash: str | None = None
    role: str = "user"  # "admin": the operator console (/api/v1/admin/...)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin" and self.account_id is not None

    @property
    def is_anonymous(self) -> bool:
        return self.account_id is None

    @property
    def limit_key(self) -> str:
        return f"account:{self.account_id}" if self.account_id else f"ip:{self.ip}"


def hash_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def create_account(
    db: Database, email: str, plan: str = "free", credits: int = 0, *, role: str = "user",
    password_hash: str | None = None, verified: bool = False,
) -> Account:
    email = email.strip().lower()
    with db.session() as s:
        if s.scalar(select(Account.id).where(Account.email == email)) is not None:
            raise AccountExists(f"An account for {email} already exists.")
        account = Account(
            email=email, plan=plan, credits=credits, email_preferences={}, role=role,
            password_hash=password_hash, email_verified_at=utcnow() if verified else None,
        )
        s.add(account)
        s.flush()
        return account


def get_account_by_email(db: Database, email: str) -> Account:
    with db.session() as s:
        account = s.scalar(select(Account).where(Account.email == email.strip().lower()))
        if account is None:
            raise AccountNotFound(f"No account for {email}.")
        return account


def create_key(db: Database, account_id: int, name: str = "") -> tuple[ApiKey, str]:
    """Make a key; returns the stored row and the raw key, which is not kept anywhere."""
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    with db.session() as s:
        key = ApiKey(account_id=account_id, name=name, prefix=raw[:12], key_hash=hash_key(raw))
        s.add(key)
        s.flush()
        return key, raw


def list_keys(db: Database, account_id: int) -> list[ApiKey]:
    with db.session() as s:
        return list(
            s.scalars(
                select(ApiKey).where(ApiKey.account_id == account_id).order_by(ApiKey.created_at)
            )
        )


def revoke_key(db: Database, account_id: int, key_id: str) -> bool:
    with db.session() as s:
        result = s.execute(
            update(ApiKey)
            .where(ApiKey.id == key_id, ApiKey.account_id == account_id, ApiKey.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        return result.rowcount == 1


def authenticate(db: Database, raw_key: str, ip: str) -> Principal | None:
    """The principal for a raw key, or None when the key is unknown or revoked; a key of a
    disabled account raises ``AccountDisabled``. Plan and role are read here, on every request:
    the operator's changes apply to the next request."""
    with db.session() as s:
        row = s.execute(
            select(ApiKey.id, ApiKey.revoked_at, Account.id, Account.plan, Account.role,
                   Account.disabled_at)
            .join(Account, Account.id == ApiKey.account_id)
            .where(ApiKey.key_hash == hash_key(raw_key))
        ).first()
        if row is None or row[1] is not None:
            return None
        if row[5] is not None:
            raise AccountDisabled()
        s.execute(update(ApiKey).where(ApiKey.id == row[0]).values(last_used_at=utcnow()))
        return Principal(plan=row[3], ip=ip, account_id=row[2], key_id=row[0], role=row[4])
