"""Webhooks: a signed POST to the caller's URL when an async job completes or fails.

* **Which URLs.** Only ``http``/``https``; the host is resolved and *every* address it resolves
  to must be public (not loopback, private, link-local, CGNAT, multicast, reserved...) unless the
  operator allows private targets (``VOCABLE_WEBHOOK_ALLOW_PRIVATE``): checked when the URL is
  given and again before every attempt, and the request goes to the address that was checked
  (no second lookup a rebinding DNS server could answer differently). Redirects are not followed.
* **Signature.** ``X-Vocable-Timestamp: <unix seconds>`` and
  ``X-Vocable-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>." + body)>``, the secret being
  the account's webhook secret (``GET /api/v1/account/webhook/``). A receiver checks the HMAC and
  refuses a timestamp older than a few minutes (``verify`` below does both), so a captured
  delivery cannot be replayed later.
* **Delivery.** The event is a row (``WebhookDelivery``) written in the same transaction that
  ends the job, so it is neither lost nor doubled by a crash. A sender thread in every process
  that runs jobs claims due rows (a conditional UPDATE: one sender per attempt, whichever node),
  POSTs, and records the attempt; a non-2xx answer or an error is retried with exponential backoff
  (``webhook_backoff_s`` doubling, at most ``webhook_max_attempts`` attempts, 10 by default).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from vocable.storage.db import Database
from vocable.storage.models import Account, Transcript, WebhookDelivery, utcnow

log = logging.getLogger("vocable.webhooks")

SIGNATURE_HEADER = "X-Vocable-Signature"
TIMESTAMP_HEADER = "X-Vocable-Timestamp"
EVENT_HEADER = "X-Vocable-Event"
DELIVERY_HEADER = "X-Vocable-Delivery"
SIGNATURE_VERSION = "v1"
DEFAULT_TOLERANCE_S = 300
MAX_URL_LENGTH = 2000
EVENTS = {"completed": "transcript.completed", "failed": "transcript.failed"}


class WebhookUrlRejected(ValueError):
    """A webhook URL that may not be used (scheme, host, or an address it resolves to)."""


# -- URLs --------------------------------------------------------------------------------------------
def _blocked(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not address.is_global or address.is_multicast


@dataclass(frozen=True)
class Target:
    url: str
    host: str
    port: int
    addresses: tuple[str, ...]


def parse_url(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an acceptable URL's syntax, or ``WebhookUrlRejected``."""
    if not isinstance(url, str) or not url.strip():
        raise WebhookUrlRejected("Invalid webhook_url: give an http(s) URL.")
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise WebhookUrlRejected(f"Invalid webhook_url: longer than {MAX_URL_LENGTH} characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise WebhookUrlRejected("Invalid webhook_url: not a valid URL.") from None
    if parts.scheme not in ("http", "https"):
        raise WebhookUrlRejected("Invalid webhook_url: only http and https URLs are allowed.")
    if not parts.hostname:
        raise WebhookUrlRejected("Invalid webhook_url: the URL has no host.")
    if parts.username is not None or parts.password is not None:
        raise WebhookUrlRejected("Invalid webhook_url: credentials in the URL are not allowed.")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


def resolve(url: str, allow_private: bool) -> Target:
    """The URL with the addresses its host resolves to now, all of them checked."""
    _, host, port = parse_url(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise WebhookUrlRejected(f"Invalid webhook_url: the host '{host}' does not resolve.") from None
    addresses: list[str] = []
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if not allow_private and _blocked(address):
            raise WebhookUrlRejected(
                f"Invalid webhook_url: '{host}' resolves to a private or local address, "
                "which webhooks may not reach."
            )
        if str(address) not in addresses:
            addresses.append(str(address))
    if not addresses:
        raise WebhookUrlRejected(f"Invalid webhook_url: the host '{host}' does not resolve.")
    return Target(url.strip(), host, port, tuple(addresses))


# -- signatures --------------------------------------------------------------------------------------
def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"{SIGNATURE_VERSION}={mac.hexdigest()}"


def verify(
    secret: str, body: bytes, timestamp: str | None, signature: str | None,
    tolerance_s: int = DEFAULT_TOLERANCE_S, now: float | None = None,
) -> bool:
    """What a receiver checks: the signature matches the body and timestamp, and the timestamp is
    recent (a replayed delivery is refused)."""
    if not timestamp or not signature:
        return False
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - ts) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, ts, body), signature.strip())


def new_secret() -> str:
    return "whsec_" + secrets.token_hex(24)


# -- delivery ----------------------------------------------------------------------------------------
class Webhooks:
    def __init__(
        self, db: Database, *, allow_private: bool = False, max_attempts: int = 10,
        backoff_s: float = 10.0, backoff_max_s: float = 3600.0, timeout_s: float = 10.0,
        poll_s: float = 5.0,
    ):
        self.db = db
        self.allow_private = allow_private
        self.max_attempts = max(1, max_attempts)
        self.backoff_s = backoff_s
        self.backoff_max_s = backoff_max_s
        self.timeout_s = timeout_s
        self.poll_s = poll_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- settings of an account and a job ------------------------------------------------------
    def validate(self, url: str) -> str:
        """The URL to store, or ``WebhookUrlRejected`` (syntax, then every resolved address)."""
        return resolve(url, self.allow_private).url

    def account_webhook(self, account_id: int) -> dict[str, Any]:
        secret = self.secret_of(account_id)
        with self.db.session() as s:
            account = s.get(Account, account_id)
            return {"url": account.webhook_url or None, "secret": secret}

    def set_account_url(self, account_id: int, url: str | None) -> dict[str, Any]:
        url = self.validate(url) if url else ""
        with self.db.session() as s:
            s.get(Account, account_id).webhook_url = url
        return self.account_webhook(account_id)

    def rotate_secret(self, account_id: int) -> dict[str, Any]:
        with self.db.session() as s:
            s.get(Account, account_id).webhook_secret = new_secret()
        return self.account_webhook(account_id)

    def default_url(self, account_id: int | None) -> str:
        if account_id is None:
            return ""
        with self.db.session() as s:
            return s.scalar(select(Account.webhook_url).where(Account.id == account_id)) or ""

    # -- events ----------------------------------------------------------------------------------
    def add(self, s: Session, job: Transcript) -> None:
        """In the transaction that ends ``job``: its event, due now (``notify`` after commit)."""
        if not job.webhook_url or job.status not in EVENTS:
            return
        event = EVENTS[job.status]
        body = {
            "event": event,
            "transcript": {
                "id": job.id,
                "status": job.status,
                "error": job.error or None,
                "filename": job.filename,
                "language": job.language or None,
                "duration": job.duration,
                "model": job.model or None,
                "text": job.text,
                "created_at": _iso(job.created_at),
                "completed_at": _iso(job.completed_at),
                "url": f"/api/v1/transcripts/{job.id}/",
            },
        }
        s.add(WebhookDelivery(
            transcript_id=job.id, url=job.webhook_url, event=event,
            body=json.dumps(body, separators=(",", ":")), status="pending",
            attempts=[], next_attempt_at=utcnow(),
        ))

    def notify(self) -> None:
        self._wake.set()

    def deliveries(self, transcript_id: str) -> list[dict[str, Any]]:
        with self.db.session() as s:
            rows = s.scalars(
                select(WebhookDelivery)
                .where(WebhookDelivery.transcript_id == transcript_id)
                .order_by(WebhookDelivery.created_at)
            ).all()
            return [
                {"id": r.id, "event": r.event, "url": r.url, "status": r.status,
                 "attempts": list(r.attempts or []), "next_attempt_at": _iso(r.next_attempt_at),
                 "delivered_at": _iso(r.delivered_at)}
                for r in rows
            ]

    # -- the sender ------------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="vocable-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=self.timeout_s + 5)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.deliver_due()
                wait = self._next_due_in()
            except Exception:  # the database may be away for a moment: try again later
                log.exception("webhook sender")
                wait = self.poll_s
            self._wake.wait(wait)
            self._wake.clear()

    def _next_due_in(self) -> float:
        with self.db.session() as s:
            due = s.scalar(
                select(WebhookDelivery.next_attempt_at)
                .where(WebhookDelivery.status == "pending")
                .order_by(WebhookDelivery.next_attempt_at).limit(1)
            )
        if due is None:
            return self.poll_s  # another node may add one: look again now and then
        return max(0.05, min(self.poll_s, (due - utcnow()).total_seconds()))

    def deliver_due(self) -> int:
        """Send every attempt that is due now (claimed first, so no other sender sends it too)."""
        sent = 0
        while not self._stop.is_set():
            claimed = self._claim()
            if claimed is None:
                return sent
            self._attempt(*claimed)
            sent += 1
        return sent

    def _claim(self) -> tuple[str, str, str, str, str, int] | None:
        now = utcnow()
        with self.db.session() as s:
            rows = s.execute(
                select(WebhookDelivery.id, WebhookDelivery.next_attempt_at)
                .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
                .order_by(WebhookDelivery.next_attempt_at).limit(10)
            ).all()
        for delivery_id, due in rows:
            with self.db.session() as s:
                # While it is being sent, the row is due again only if this sender dies.
                claimed = s.execute(
                    update(WebhookDelivery)
                    .where(WebhookDelivery.id == delivery_id, WebhookDelivery.next_attempt_at == due,
                           WebhookDelivery.status == "pending")
                    .values(next_attempt_at=now + timedelta(seconds=self.timeout_s + 60))
                ).rowcount == 1
                if not claimed:
                    continue
                row = s.get(WebhookDelivery, delivery_id)
                account_id = s.scalar(
                    select(Transcript.account_id).where(Transcript.id == row.transcript_id)
                )
                found = (row.id, row.url, row.event, row.body, len(row.attempts or []))
            return (*found[:4], self.secret_of(account_id), found[4])
        return None

    def secret_of(self, account_id: int | None) -> str:
        """The account's signing secret, made now if it has none yet (whichever node makes it
        first, every node then signs with that one)."""
        with self.db.session() as s:
            s.execute(
                update(Account).where(Account.id == account_id, Account.webhook_secret == "")
                .values(webhook_secret=new_secret())
            )
        with self.db.session() as s:
            return s.scalar(select(Account.webhook_secret).where(Account.id == account_id)) or ""

    def _attempt(self, delivery_id: str, url: str, event: str, body: str, secret: str,
                 previous: int) -> None:
        started = time.monotonic()
        attempt: dict[str, Any] = {"at": _iso(utcnow()), "status_code": None, "error": None}
        try:
            attempt["status_code"] = self._post(delivery_id, url, event, body.encode(), secret)
            ok = 200 <= attempt["status_code"] < 300
            if not ok:
                attempt["error"] = f"HTTP {attempt['status_code']}"
        except WebhookUrlRejected as exc:
            attempt["error"], ok = str(exc), False
        except httpx.HTTPError as exc:
            attempt["error"], ok = f"{type(exc).__name__}: {exc}"[:500], False
        attempt["duration_ms"] = round((time.monotonic() - started) * 1000, 1)
        number = previous + 1
        with self.db.session() as s:
            row = s.get(WebhookDelivery, delivery_id)
            if row is None:  # the transcript was deleted meanwhile
                return
            row.attempts = [*(row.attempts or []), attempt]
            if ok:
                row.status, row.next_attempt_at, row.delivered_at = "delivered", None, utcnow()
            elif number >= self.max_attempts:
                row.status, row.next_attempt_at = "failed", None
            else:
                delay = min(self.backoff_max_s, self.backoff_s * 2 ** (number - 1))
                row.next_attempt_at = utcnow() + timedelta(seconds=delay)
        if not ok:
            log.info("webhook %s attempt %d to %s: %s", delivery_id, number, url, attempt["error"])

    def _post(self, delivery_id: str, url: str, event: str, body: bytes, secret: str) -> int:
        target = resolve(url, self.allow_private)  # again: DNS may have changed since
        scheme, host, port = parse_url(url)
        address = target.addresses[0]
        pinned = httpx.URL(url).copy_with(host=address)  # connect to the address just checked
        timestamp = int(time.time())
        default_port = 443 if scheme == "https" else 80
        headers = {
            "Host": host if port == default_port else f"{host}:{port}",
            "Content-Type": "application/json",
            "User-Agent": "Vocable-Webhooks/1",
            EVENT_HEADER: event,
            DELIVERY_HEADER: delivery_id,
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(secret, timestamp, body),
        }
        extensions = {"sni_hostname": host} if scheme == "https" else {}
        with httpx.Client(timeout=self.timeout_s, follow_redirects=False, trust_env=False) as client:
            response = client.post(pinned, content=body, headers=headers, extensions=extensions)
        return response.status_code


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
