"""Email over the operator's SMTP server (``VOCABLE_SMTP_*``), sent from a background thread so
no request waits on (or is timed by) the mail server. Without ``VOCABLE_SMTP_HOST`` the mailer
is off: nothing is sent, and the features that need mail say so or step aside.

Messages are plain text (links written out in full). A message that cannot be delivered is
logged (the recipient, never the link) and dropped: mail is best effort.
"""

from __future__ import annotations

import logging
import queue
import smtplib
import ssl
import threading
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import make_msgid

log = logging.getLogger("vocable.accounts.mailer")


class Mailer:
    def __init__(
        self, host: str = "", port: int = 587, *, username: str = "", password: str = "",
        sender: str = "vocable@localhost", security: str = "starttls", timeout_s: float = 20.0,
    ):
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.sender = sender
        self.security = security
        self.timeout_s = timeout_s
        # Messages, or work that ends in one (``later``), in order; None stops the thread.
        self._outbox: queue.Queue[EmailMessage | Callable[[], None] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.sent = 0  # delivered messages (for the admin's server view)
        self.failed = 0

    @classmethod
    def for_settings(cls, settings) -> Mailer:
        return cls(
            settings.smtp_host, settings.smtp_port, username=settings.smtp_username,
            password=settings.smtp_password, sender=settings.smtp_from,
            security=settings.smtp_security, timeout_s=settings.smtp_timeout_s,
        )

    @property
    def enabled(self) -> bool:
        return bool(self.host)

    def send(self, to: str, subject: str, body: str) -> None:
        """Queue one message (returns at once; nothing happens when the mailer is off)."""
        if not self.enabled:
            return
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message["Message-ID"] = make_msgid(domain=self.sender.rsplit("@", 1)[-1].strip("> "))
        message.set_content(body)
        self._put(message)

    def later(self, work: Callable[[], None]) -> None:
        """Run ``work`` (which ends by calling ``send``) on the mail thread, not in the request:
        the request then takes the same time whether or not there is a mail to prepare."""
        if self.enabled:
            self._put(work)

    def _put(self, item) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="vocable-mail", daemon=True)
                self._thread.start()
        self._outbox.put(item)

    def close(self, timeout: float = 5.0) -> None:
        """Let queued messages go out (for at most ``timeout``), then stop the thread."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None and thread.is_alive():
            self._outbox.put(None)
            thread.join(timeout)

    def _run(self) -> None:
        while True:
            message = self._outbox.get()
            if message is None:
                return
            if callable(message):
                try:
                    message()
                except Exception:  # noqa: BLE001 - the mail thread outlives one bad job
                    self.failed += 1
                    log.exception("could not prepare a mail")
                continue
            try:
                self._deliver(message)
                self.sent += 1
            except (OSError, smtplib.SMTPException) as exc:
                self.failed += 1
                log.warning("could not send mail to %s: %s", message["To"], exc)

    def _deliver(self, message: EmailMessage) -> None:
        if self.security == "ssl":
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout_s,
                                    context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout_s)
        with smtp:
            if self.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if self.username:
                smtp.login(self.username, self.password)
            smtp.send_message(message)
