"""Password hashing: argon2id through ``argon2-cffi`` (memory-hard; the cost is configuration).

``verify`` against an unknown account still runs one full verification (against a hash made at
start-up with the same cost), so a sign-in for an address with no account takes as long as one
with a wrong password: the answer's timing does not tell which addresses have accounts.
"""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from vocable.accounts.profile import ProfileError

MAX_PASSWORD_CHARS = 1024  # argon2 takes any length; a bound keeps one request's cost bounded


class PasswordRejected(ProfileError):
    """A new password that does not meet the rules (too short, too long, same as the address)."""


class Passwords:
    def __init__(
        self, *, time_cost: int = 3, memory_kib: int = 64 * 1024, parallelism: int = 4,
        min_length: int = 8,
    ):
        self.hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism
        )
        self.min_length = min_length
        # What an unknown address is checked against (same cost as a real hash).
        self._dummy = self.hasher.hash(secrets.token_urlsafe(16))

    @classmethod
    def for_settings(cls, settings) -> Passwords:
        return cls(
            time_cost=settings.password_time_cost, memory_kib=settings.password_memory_kib,
            parallelism=settings.password_parallelism, min_length=settings.password_min_length,
        )

    def check_new(self, password: str, email: str = "") -> None:
        if not isinstance(password, str) or len(password) < self.min_length:
            raise PasswordRejected(
                f"The password must have at least {self.min_length} characters."
            )
        if len(password) > MAX_PASSWORD_CHARS:
            raise PasswordRejected(f"The password must have at most {MAX_PASSWORD_CHARS} characters.")
        if email and password.strip().lower() == email.strip().lower():
            raise PasswordRejected("The password must not be the email address.")

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        """Whether ``password`` matches ``stored`` (None: no account or no password; the same
        work is done, and the answer is False)."""
        password = password[:MAX_PASSWORD_CHARS] if isinstance(password, str) else ""
        try:
            self.hasher.verify(stored or self._dummy, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
        return stored is not None

    def burn(self, password: str) -> None:
        """The cost of one hash, for a path that must take as long as one that hashes."""
        self.verify(None, password)

    def needs_rehash(self, stored: str) -> bool:
        return self.hasher.check_needs_rehash(stored)
