"""Sign-up, sign-in, sign-out, address verification and password reset.

* **Sign-up** (``VOCABLE_SIGNUP``: open, invite, closed) makes an account on ``signup_plan``.
  Without email verification it answers at once with a session and the account's first API key
  (shown once). With SMTP and verification on, it answers the same thing for every address, new
  or taken ("check your mail"): the new address gets a verification link, a taken one a note
  that someone tried to sign up with it; the first key comes with the verified link.
* **Sign-in** checks the password (argon2id), at most ``signin_attempts_per_account`` failures
  per address and ``signin_attempts_per_ip`` per client in ``signin_window_s`` (then 429), and
  makes a new session, revoking the one the browser had. Unknown address and wrong password are
  one answer, reached with the same work.
* **A new address** (a profile change) is confirmed the same way: it stays unconfirmed until its
  link is followed (keys and sessions keep working; signing in waits for the link), the old
  address is told of the change. A lost link is sent again on request, with the same answer for
  every address.
* **Reset**: a request answers the same for every address; an existing one gets a link that works
  once, within ``reset_link_ttl_s``. A new password revokes every session of the account.
  Without SMTP the operator sets passwords (``vocable accounts set-password``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update

from vocable.accounts import invites, sessions
from vocable.accounts.keys import AccountDisabled, AccountExists, create_key, hash_key
from vocable.accounts.mailer import Mailer
from vocable.accounts.passwords import Passwords
from vocable.accounts.profile import email_preferences, validate_email
from vocable.accounts.ratelimit import RequestRateLimiter
from vocable.storage.db import Database
from vocable.storage.models import Account, AccountToken, ApiKey, Transcript, utcnow

TOKEN_PREFIX = "vlt_"
CHECK_MAIL = (
    "Check your mail: if the address can be used, a link to confirm it is on its way."
)
RESET_SENT = "If an account uses that address, a link to choose a new password is on its way."
RESEND_SENT = (
    "If an account waits for that address to be confirmed, a new link is on its way."
)


class SignupRefused(PermissionError):
    """Sign-up is closed here (or the invite is missing or not usable: ``InviteRefused``)."""


class InvalidCredentials(Exception):
    def __init__(self) -> None:
        super().__init__("Incorrect email or password.")


class EmailNotVerified(PermissionError):
    def __init__(self) -> None:
        super().__init__(
            "Confirm your address first: follow the link in the mail we sent (a new link: "
            "POST /api/v1/auth/verify/resend, or 'Send a new link' on the sign-in page)."
        )


class LinkInvalid(ValueError):
    def __init__(self) -> None:
        super().__init__("This link is not valid: it was already used, has expired, or is wrong.")


class ResetUnavailable(Exception):
    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (
            "Password reset by email is not set up on this server: ask its operator to set a new "
            "password (vocable accounts set-password)."
        ))


@dataclass(frozen=True)
class Welcome:
    """What a sign-up (or a verified link) answers: a session and, the first time, a key."""

    account_id: int | None = None
    session: sessions.NewSession | None = None
    key: str | None = None  # the first API key, raw, shown once
    key_id: str | None = None
    verification_sent: bool = False


class AuthService:
    def __init__(
        self, db: Database, settings, rate_limiter: RequestRateLimiter, mailer: Mailer,
        passwords: Passwords | None = None,
    ):
        self.db = db
        self.settings = settings
        self.limiter = rate_limiter
        self.mailer = mailer
        self.passwords = passwords or Passwords.for_settings(settings)

    @property
    def verification(self) -> bool:
        """New addresses are confirmed by mail before the account may sign in."""
        return self.mailer.enabled and self.settings.email_verification

    def describe(self) -> dict:
        return {
            "signup": self.settings.signup,
            "email": self.mailer.enabled,
            "verification": self.verification,
            "password_reset": self.mailer.enabled,
            "password_min_length": self.passwords.min_length,
        }

    # -- sign-up ----------------------------------------------------------------------------------
    def signup(
        self, email: str, password: str, *, ip: str, base_url: str, invite: str | None = None,
        name: str = "", user_agent: str = "",
    ) -> Welcome:
        s = self.settings
        self.limiter.attempt("signup", f"ip:{ip}", s.signups_per_ip_per_hour, 3600)
        if s.signup == "closed":
            raise SignupRefused(
                "Sign-up is closed on this server: ask its operator for an account."
            )
        email = validate_email(email)
        self.passwords.check_new(password, email)
        hashed = self.passwords.hash(password)
        try:
            with self.db.session() as tx:
                if s.signup == "invite":
                    invites.consume_invite(tx, invite)
                if tx.scalar(select(Account.id).where(Account.email == email)) is not None:
                    raise AccountExists(email)
                account = Account(
                    email=email, name=name.strip()[:200], plan=s.signup_plan,
                    credits=s.signup_credits, email_preferences={}, password_hash=hashed,
                    email_verified_at=None if self.verification else utcnow(),
                )
                tx.add(account)
                tx.flush()
                account_id = account.id
        except AccountExists:
            if not self.verification:
                # Without mail there is no way to answer a taken address like a new one (the
                # new one gets a key now): say so plainly.
                raise AccountExists(
                    "An account already uses this address: sign in instead."
                ) from None
            self.mailer.send(email, "Someone tried to sign up with your address", (
                "Someone (perhaps you) tried to open a Vocable account with this address, which "
                f"already has one. Sign in at {base_url}/#/signin — or, if you forgot the "
                f"password, reset it at {base_url}/#/reset.\n\nIf it was not you, ignore this mail."
            ))
            return Welcome(verification_sent=True)
        if self.verification:  # the link is made on the mail thread (the same time as a taken one)
            self.mailer.later(lambda: self._send_verification(account_id, email, base_url))
            return Welcome(account_id=account_id, verification_sent=True)
        return self._welcome(account_id, ip, user_agent)

    def _welcome(self, account_id: int, ip: str, user_agent: str, replaces: str | None = None) -> Welcome:
        """A session, and the account's first key if it has none (a confirmed new address of an
        account in use makes no key)."""
        session = sessions.create_session(
            self.db, account_id, self.settings.session_ttl_s, ip=ip, user_agent=user_agent,
            replaces=replaces,
        )
        with self.db.session() as tx:
            has_key = tx.scalar(select(ApiKey.id).where(ApiKey.account_id == account_id).limit(1))
        if has_key is not None:
            return Welcome(account_id=account_id, session=session)
        key, raw = create_key(self.db, account_id, name="first key")
        return Welcome(account_id=account_id, session=session, key=raw, key_id=key.id)

    def _send_verification(self, account_id: int, email: str, base_url: str,
                           changed: bool = False) -> None:
        raw = self._token(account_id, email, "verify", self.settings.verify_link_ttl_s)
        hours = self.settings.verify_link_ttl_s // 3600
        opening = ("This is now the address of your Vocable account. Confirm it"
                   if changed else "Welcome to Vocable. Confirm this address to finish opening your account")
        self.mailer.send(email, "Confirm your Vocable address", (
            f"{opening}:\n\n"
            f"{base_url}/#/verify?token={raw}\n\n"
            f"The link works once, within {hours} hours. If you did not sign up, ignore this mail."
        ))

    def resend_verification(self, email: str, *, ip: str, base_url: str) -> str:
        """Mail a new link if ``email`` belongs to an account waiting for it; the same answer
        either way, limited per client and per address like a reset."""
        if not self.verification:
            raise ResetUnavailable("Addresses are not confirmed by mail on this server.")
        self.limiter.attempt("resend", f"ip:{ip}", self.settings.signin_attempts_per_ip,
                             self.settings.signin_window_s)
        address = (email or "").strip().lower()[:320]
        with self.db.session() as tx:
            row = tx.execute(select(Account.id).where(
                Account.email == address, Account.email_verified_at.is_(None),
                Account.disabled_at.is_(None))).first()
        if row is not None and self.limiter.allow("resend-account", address, 5,
                                                  self.settings.signin_window_s):
            account_id = row[0]
            self.mailer.later(lambda: self._send_verification(account_id, address, base_url))
        return RESEND_SENT

    def address_changed(self, account_id: int, old: str, new: str, *, base_url: str) -> None:
        """The account's address became ``new``: with verification on it is unconfirmed until
        its link is followed (someone else's address must not become a confirmed one); the old
        address hears of the change."""
        if old == new or not self.mailer.enabled:
            return
        self.mailer.later(lambda: self.mailer.send(old, "Your Vocable address was changed", (
            f"The address of your Vocable account was changed to {new}. If you did not do "
            f"this, reset your password at {base_url}/#/reset and tell the server's operator."
        )))
        if not self.verification:
            return
        with self.db.session() as tx:
            tx.execute(update(Account).where(Account.id == account_id)
                       .values(email_verified_at=None))
        self.mailer.later(lambda: self._send_verification(account_id, new, base_url, changed=True))

    def verify(self, token: str, *, ip: str, user_agent: str = "", replaces: str | None = None) -> Welcome:
        """Follow a verification link: the address is confirmed, the browser signed in, and the
        first key made (a second use of the link is refused)."""
        account_id = self._use_token(token, "verify")
        with self.db.session() as tx:
            tx.execute(update(Account).where(Account.id == account_id)
                       .values(email_verified_at=utcnow()))
            disabled = tx.scalar(select(Account.disabled_at).where(Account.id == account_id))
        if disabled is not None:
            raise AccountDisabled()
        return self._welcome(account_id, ip, user_agent, replaces)

    # -- sign-in ----------------------------------------------------------------------------------
    def signin(
        self, email: str, password: str, *, ip: str, user_agent: str = "",
        replaces: str | None = None,
    ) -> sessions.NewSession:
        s = self.settings
        address = (email or "").strip().lower()[:320]
        per_account = ("signin-account", address, s.signin_attempts_per_account, s.signin_window_s)
        per_ip = ("signin-ip", f"ip:{ip}", s.signin_attempts_per_ip, s.signin_window_s)
        # Refuse before any work once either budget of failures is spent.
        self.limiter.check(*per_ip)
        self.limiter.check(*per_account)
        with self.db.session() as tx:
            row = tx.execute(
                select(Account.id, Account.password_hash, Account.email_verified_at,
                       Account.disabled_at).where(Account.email == address)
            ).first()
        stored = row[1] if row else None
        if not self.passwords.verify(stored, password or ""):
            self.limiter.attempt(*per_ip)
            self.limiter.attempt(*per_account)
            raise InvalidCredentials()
        account_id, _, verified_at, disabled_at = row
        if disabled_at is not None:
            raise AccountDisabled()
        if verified_at is None and self.verification:
            raise EmailNotVerified()
        if self.passwords.needs_rehash(stored):  # the operator raised the cost since
            self._set_hash(account_id, self.passwords.hash(password))
        return sessions.create_session(
            self.db, account_id, s.session_ttl_s, ip=ip, user_agent=user_agent, replaces=replaces
        )

    def signout(self, raw_session: str | None) -> None:
        if raw_session:
            sessions.revoke_session(self.db, raw_session)

    # -- passwords ----------------------------------------------------------------------------------
    def change_password(
        self, account_id: int, current: str, new: str, *, ip: str, user_agent: str = ""
    ) -> sessions.NewSession:
        """Every session of the account ends; the browser that asked gets a new one."""
        with self.db.session() as tx:
            account = tx.get(Account, account_id)
            stored, email = account.password_hash, account.email
        if stored is not None and not self.passwords.verify(stored, current or ""):
            raise InvalidCredentials()
        self.set_password(account_id, new, email=email)
        return sessions.create_session(
            self.db, account_id, self.settings.session_ttl_s, ip=ip, user_agent=user_agent
        )

    def set_password(self, account_id: int, password: str, *, email: str = "") -> None:
        """Set a new password (the operator's CLI, a reset, a change); every session ends."""
        self.passwords.check_new(password, email)
        self._set_hash(account_id, self.passwords.hash(password))
        sessions.revoke_all(self.db, account_id)

    def _set_hash(self, account_id: int, hashed: str) -> None:
        with self.db.session() as tx:
            tx.execute(update(Account).where(Account.id == account_id).values(password_hash=hashed))

    def request_reset(self, email: str, *, ip: str, base_url: str) -> str:
        """Mail a reset link if ``email`` has an account; the same answer either way."""
        if not self.mailer.enabled:
            raise ResetUnavailable()
        self.limiter.attempt("reset", f"ip:{ip}", self.settings.signin_attempts_per_ip,
                             self.settings.signin_window_s)
        address = (email or "").strip().lower()[:320]
        with self.db.session() as tx:
            row = tx.execute(select(Account.id, Account.disabled_at)
                             .where(Account.email == address)).first()
        if row is not None and row[1] is None:
            # At most a few mails per address and window (no mail-bombing): past that, the same
            # answer and no mail.
            if not self.limiter.allow("reset-account", address, 5, self.settings.signin_window_s):
                return RESET_SENT
            account_id = row[0]
            self.mailer.later(lambda: self._send_reset(account_id, address, base_url))
        return RESET_SENT

    def _send_reset(self, account_id: int, address: str, base_url: str) -> None:
        raw = self._token(account_id, address, "reset", self.settings.reset_link_ttl_s)
        minutes = self.settings.reset_link_ttl_s // 60
        self.mailer.send(address, "Choose a new Vocable password", (
            "Someone (perhaps you) asked to reset the password of your Vocable account. "
            f"Choose a new one here:\n\n{base_url}/#/reset?token={raw}\n\n"
            f"The link works once, within {minutes} minutes. If you did not ask, ignore "
            "this mail: your password stays as it is."
        ))

    def confirm_reset(self, token: str, password: str) -> None:
        account_id = self._peek_token(token, "reset")
        with self.db.session() as tx:
            email = tx.scalar(select(Account.email).where(Account.id == account_id))
        self.passwords.check_new(password, email or "")  # a bad password leaves the link usable
        self._use_token(token, "reset")
        self.set_password(account_id, password, email=email or "")
        with self.db.session() as tx:  # the mail arrived: the address is the owner's
            tx.execute(update(Account).where(Account.id == account_id,
                                              Account.email_verified_at.is_(None))
                       .values(email_verified_at=utcnow()))

    # -- one-use links ------------------------------------------------------------------------------
    def _token(self, account_id: int, email: str, purpose: str, ttl_s: int) -> str:
        raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = utcnow()
        with self.db.session() as tx:
            if purpose == "reset":  # a new reset link voids the older ones
                tx.execute(update(AccountToken).where(
                    AccountToken.account_id == account_id, AccountToken.purpose == purpose,
                    AccountToken.used_at.is_(None),
                ).values(used_at=now))
            tx.add(AccountToken(token_hash=hash_key(raw), account_id=account_id, purpose=purpose,
                                email=email, created_at=now,
                                expires_at=now + timedelta(seconds=ttl_s)))
        return raw

    def _peek_token(self, raw: str, purpose: str) -> int:
        with self.db.session() as tx:
            row = tx.execute(
                select(AccountToken.account_id)
                .join(Account, Account.id == AccountToken.account_id)
                .where(AccountToken.token_hash == hash_key(raw or ""),
                       AccountToken.purpose == purpose, AccountToken.used_at.is_(None),
                       AccountToken.expires_at > utcnow(),
                       Account.email == AccountToken.email)
            ).first()
        if row is None:
            raise LinkInvalid()
        return row[0]

    def _use_token(self, raw: str, purpose: str) -> int:
        """Spend a link (a conditional update: of two uses at once, one wins)."""
        account_id = self._peek_token(raw, purpose)
        with self.db.session() as tx:
            taken = tx.execute(
                update(AccountToken)
                .where(AccountToken.token_hash == hash_key(raw), AccountToken.used_at.is_(None))
                .values(used_at=utcnow())
            )
        if taken.rowcount != 1:
            raise LinkInvalid()
        return account_id

    # -- notices ------------------------------------------------------------------------------------
    def transcript_ready(self, transcript_id: str) -> bool:
        """Mail "your transcript is ready" when the account asked for it (email preference
        ``transcript_completed``) and its address is usable. Whether a mail was queued."""
        if not self.mailer.enabled:
            return False
        with self.db.session() as tx:
            row = tx.execute(
                select(Transcript.filename, Transcript.duration, Account.email,
                       Account.email_preferences, Account.email_verified_at, Account.disabled_at)
                .join(Account, Account.id == Transcript.account_id)
                .where(Transcript.id == transcript_id, Transcript.status == "completed")
            ).first()
        if row is None:
            return False
        filename, duration, email, prefs, verified_at, disabled_at = row
        if not email_preferences(prefs)["transcript_completed"] or disabled_at is not None:
            return False
        if verified_at is None and self.verification:
            return False
        base = self.settings.public_url.rstrip("/") or f"http://{self.settings.host}:{self.settings.port}"
        self.mailer.send(email, f"Your transcript is ready: {filename or 'untitled'}", (
            f"The transcript of {filename or 'your file'} ({duration:.0f} s of audio) is ready:\n\n"
            f"{base}/#/transcripts/{transcript_id}\n\n"
            "You get this mail because of your email preferences (Account page, or PUT "
            '/api/v1/account/ with {"email_preferences": {"transcript_completed": false}}).'
        ))
        return True
