"""A real SMTP server on loopback for the tests (aiosmtpd): what the server mails arrives here."""

from __future__ import annotations

import email
import re
import threading
import time
from email.message import Message
from typing import Self

from aiosmtpd.controller import Controller

from tests.conftest import free_port


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd calls it by this name
        message = email.message_from_bytes(envelope.original_content)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        with self._lock:
            self.messages.append(message)
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        with self._lock:
            return [m for m in self.messages if address in m["X-Envelope-To"]]

    def wait_for(self, address: str, count: int = 1, timeout: float = 20.0) -> list[Message]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.to(address)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"no mail for {address} (have {[m['To'] for m in self.messages]})")


def body(message: Message) -> str:
    part = message.get_payload(decode=True) if not message.is_multipart() else \
        message.get_payload(0).get_payload(decode=True)
    return part.decode()


def link(message: Message) -> str:
    found = re.search(r"https?://\S+token=\S+", body(message))
    assert found, body(message)
    return found.group(0)


def token(message: Message) -> str:
    return link(message).split("token=", 1)[1]


class LocalSMTP:
    """``with LocalSMTP() as smtp``: ``smtp.settings`` for the server, ``smtp.inbox`` to read."""

    def __init__(self) -> None:
        self.inbox = Inbox()
        self.port = free_port()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)

    @property
    def settings(self) -> dict:
        return {"smtp_host": "127.0.0.1", "smtp_port": self.port, "smtp_security": "none",
                "smtp_from": "Vocable <vocable@test.example>"}

    def __enter__(self) -> Self:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()
