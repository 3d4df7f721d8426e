"""Admission: everything a paid endpoint does before and after its work, in one place.

* ``identify``: who is calling — an API key, a signed-in browser's session (whose calls that
  change state must carry its CSRF token), or an anonymous client by IP. Every surface (REST,
  the stream ticket, the web page) comes through here, so a disabled account, a revoked key and
  an ended session are refused in one place.
* ``request``: one request of a family against the caller's per-minute limit, and its usage row
  (every rate-limited endpoint calls it, paid or not).
* ``admit_file``: before a byte of the file is read: the request, some allowance left, a declared
  size within the plan's limit, room in the queue, and the caller's concurrency slot, which the
  upload holds while it arrives (``AdmittedUpload``: how large the file may be, and the slot).
* ``job``: the reservation for the file's declared duration; with it the upload's slot goes to
  the job. If the job cannot be created the reservation is refunded and the slot stays with the
  upload, whose ``close`` (on every path) gives it back. The job's end calls ``settle`` (charge
  the real duration, record usage) or ``refund``, and ``release`` (the slot) on every path.
* ``stream``: an open stream's ``StreamMeter``: a slot, one unit reserved before the stream is
  ready and one more as each started minute of audio begins; a stream that sent less audio than
  can hold speech (``MIN_SPEECH_S``) is refunded.

Refusals are domain errors (``QuotaError``, ``FileTooLarge`` and ``AtCapacity`` below);
``vocable.api.errors`` maps them to HTTP statuses and WebSocket close codes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from vocable.accounts import sessions
from vocable.accounts.keys import InvalidKey, Principal, authenticate
from vocable.accounts.quota import UNIT_S, Charge, Quota, QuotaError, audio_units
from vocable.accounts.ratelimit import RequestRateLimiter
from vocable.audio import MIN_SPEECH_S
from vocable.config import Plan

log = logging.getLogger("vocable.accounts.admission")

MB = 1024 * 1024
# A multipart body carries its file between part headers and form fields: a body declared this
# much over the file limit may still hold a file within it (and is read, and counted, to be sure).
FORM_ENVELOPE_BYTES = 64 * 1024


class AtCapacity(Exception):
    """The server (not the caller's allowance) has no room for the work now."""


class QueueFull(AtCapacity):
    def __init__(self) -> None:
        super().__init__("The transcription queue is full. Try again shortly.")


class StreamsFull(AtCapacity):
    def __init__(self) -> None:
        super().__init__("The server is at its limit of open streams; try again shortly.")


class StreamsNotServed(AtCapacity):
    def __init__(self) -> None:
        super().__init__(
            "This node serves no streams (an API node loads no speech model): connect "
            "WS /v1/stream to a stream node."
        )


@dataclass(frozen=True)
class UploadLimit:
    bytes: int
    plan: str  # the plan's name, for the refusal's message


class FileTooLarge(Exception):
    """A file (or a body declared) over the caller's upload limit."""

    def __init__(self, limit: UploadLimit):
        super().__init__(
            f"File too large: the {limit.plan} plan accepts files up to {limit.bytes // MB} MB."
        )
        self.limit = limit


class AdmittedUpload:
    """A file request let in before its body is read: how large its file may be, and the
    caller's concurrency slot, held while the upload arrives. ``Admission.job`` hands the slot to
    the job; ``close`` gives it back if no job took it (idempotent: call it on every path)."""

    def __init__(self, admission: Admission, principal: Principal, limit: UploadLimit):
        self._admission = admission
        self.principal = principal
        self.limit = limit
        self._holds_slot = True
        self._lock = threading.Lock()

    @property
    def holds_slot(self) -> bool:
        return self._holds_slot

    def _give_up_slot(self) -> bool:
        """Whether the slot was still held here (it is not any more)."""
        with self._lock:
            held, self._holds_slot = self._holds_slot, False
            return held

    def close(self) -> None:
        if self._give_up_slot():
            self._admission.release(self.principal)


@dataclass(frozen=True)
class Slots:
    active: int
    limit: int


class Admission:
    def __init__(
        self,
        quota: Quota,
        rate_limiter: RequestRateLimiter,
        *,
        max_upload_mb: int,
        max_queued_jobs: int,
        queued_jobs: Callable[[], int],
        max_open_streams: int = 0,
        open_streams: Callable[[], int] = lambda: 0,
        serves_streams: bool = True,
    ):
        self.serves_streams = serves_streams
        self.quota = quota
        self.rate_limiter = rate_limiter
        self.max_upload_mb = max_upload_mb
        self.max_queued_jobs = max_queued_jobs
        self.max_open_streams = max_open_streams  # 0: no limit
        # How busy the server is, asked at each admission (the queue and the stream scheduler).
        self._queued_jobs = queued_jobs
        self._open_streams = open_streams

    def plan(self, principal: Principal) -> Plan:
        return self.quota.plan(principal)

    # -- who is calling -----------------------------------------------------------------------------
    def identify(
        self, *, ip: str, api_key: str | None = None, session: str | None = None,
        csrf_token: str | None = None, changes_state: bool = False,
    ) -> Principal:
        """The caller: an API key wins (programs; ``InvalidKey`` when unknown or revoked), else
        a session cookie (``SessionInvalid`` when it ended; with ``changes_state``, the
        session's CSRF token must be ``csrf_token``: ``CsrfRefused``), else anonymous by IP. A
        disabled account is ``AccountDisabled`` whichever credential it uses."""
        if api_key is not None:
            principal = authenticate(self.quota.db, api_key, ip)
            if principal is None:
                raise InvalidKey()
            return principal
        if session:
            live = sessions.authenticate_session(self.quota.db, session, ip)
            if changes_state:
                sessions.check_csrf(live, csrf_token)
            return live.principal
        return Principal(plan="anonymous", ip=ip)

    def slots(self, principal: Principal) -> Slots:
        return Slots(self.quota.active_jobs(principal), self.plan(principal).concurrent_jobs)

    # -- every limited request --------------------------------------------------------------------
    def request(self, principal: Principal, family: str) -> None:
        """Count one request of ``family``: the per-minute limit (``LimitReached``), then usage."""
        self.rate_limiter.hit(principal, family)
        self.quota.record(principal.account_id, family, requests=1)

    # -- files --------------------------------------------------------------------------------------
    def admit_file(
        self, principal: Principal, body_bytes: int | None = None, family: str = "transcribe"
    ) -> AdmittedUpload:
        """Before the body is read, refuse what is already known to fail: the rate limit, nothing
        left to spend, a body declared (``body_bytes``, its Content-Length) over the limit, a full
        queue, no free concurrency slot. The slot taken last is the upload's until a job takes it."""
        self.request(principal, family)
        plan = self.plan(principal)
        self.quota.check_allowance(principal)
        limit = UploadLimit(min(plan.max_upload_mb, self.max_upload_mb) * MB, plan.name)
        if body_bytes is not None and body_bytes > limit.bytes + FORM_ENVELOPE_BYTES:
            raise FileTooLarge(limit)
        if self._queued_jobs() >= self.max_queued_jobs:
            raise QueueFull()
        self.quota.acquire_slot(principal)
        return AdmittedUpload(self, principal, limit)

    @contextmanager
    def job(self, upload: AdmittedUpload, duration_s: float) -> Iterator[Charge]:
        """The reservation for ``duration_s`` of audio and the upload's slot, for the body to hand
        over to a job. If the body raises (no job was created), the reservation is refunded and
        the slot stays with the upload (its ``close`` gives it back); once the body returns, the
        job owns both and its end calls ``settle`` or ``refund``, then ``release``."""
        if not upload.holds_slot:
            raise RuntimeError("the upload's slot was already given back or handed to a job")
        charge = self.quota.reserve(upload.principal, duration_s)
        try:
            yield charge
        except BaseException:
            self.refund(upload.principal, charge)
            raise
        upload._give_up_slot()  # the job's now: its end releases it

    def settle(
        self, principal: Principal, charge: Charge, duration_s: float, family: str = "transcribe"
    ) -> Charge:
        """The work is done: charge what ``duration_s`` of audio costs (the reservation came from
        the container's declared duration) and record the usage. Returns the final charge."""
        units = audio_units(duration_s) if duration_s > 0 else charge.units
        charge = self._adjust(principal, charge, units)
        self.quota.record(
            principal.account_id, family, transcriptions=1, minutes=charge.units,
            credits=charge.units if charge.kind == "credits" else 0,
        )
        return charge

    def refund(self, principal: Principal, charge: Charge, session=None) -> None:
        self.quota.refund(principal, charge, session)

    def release(self, principal: Principal, session=None) -> None:
        """Give back the concurrency slot of ``job`` (on every path, after settle or refund);
        in the job's own final transaction when ``session`` is given."""
        self.quota.release_slot(principal, session)

    def _adjust(self, principal: Principal, charge: Charge, units: int) -> Charge:
        if principal.is_anonymous or units == charge.units or charge.kind == "daily":
            return charge
        if units < charge.units:
            self.quota.refund(principal, Charge(charge.kind, charge.units - units, charge.period))
            return Charge(charge.kind, units, charge.period)
        # The audio was longer than declared: charge the rest if the allowance still has it.
        try:
            extra = self.quota.reserve(principal, (units - charge.units) * UNIT_S)
        except Exception:  # noqa: BLE001 - the work is done; it is never undone for this
            log.warning("could not charge %d extra unit(s) to %s", units - charge.units, principal)
            return charge
        return Charge(charge.kind, charge.units + extra.units, charge.period)

    def _slot_and_reservation(self, principal: Principal, duration_s: float) -> Charge:
        self.quota.acquire_slot(principal)
        try:
            return self.quota.reserve(principal, duration_s)
        except BaseException:
            self.quota.release_slot(principal)
            raise

    # -- streams ------------------------------------------------------------------------------------
    def stream(self, principal: Principal, bytes_per_s: int, family: str = "stream") -> StreamMeter:
        """Open a stream's meter: room for one more stream, a concurrency slot, the first unit.
        ``bytes_per_s``: how many bytes of the stream make one second of audio."""
        if not self.serves_streams:
            raise StreamsNotServed()
        if self.max_open_streams and self._open_streams() >= self.max_open_streams:
            raise StreamsFull()
        first = self._slot_and_reservation(principal, UNIT_S)
        return StreamMeter(
            self, principal, family, UNIT_S * bytes_per_s, first,
            min_bytes=round(MIN_SPEECH_S * bytes_per_s),
        )


class StreamMeter:
    """The bill of one open stream. Audio is ``take``-n as it arrives and paid a unit (``UNIT_S``
    of audio) at a time, reserved as each started unit begins. ``close`` settles: a stream that
    took less than ``min_bytes`` (too little to hold speech) is refunded, the usage is recorded
    and the slot released.

    Thread-safe: the transport may call ``take`` from a worker thread while it closes."""

    def __init__(
        self, admission: Admission, principal: Principal, family: str, unit_bytes: int,
        first: Charge, min_bytes: int = 1,
    ):
        self._quota = admission.quota
        self.principal = principal
        self.family = family
        self.unit_bytes = unit_bytes
        self.min_bytes = min_bytes
        self.charges = [first]
        self.taken = 0  # bytes of audio metered
        self.refused: QuotaError | None = None  # why the last ``take`` was cut short
        self._closed = False
        self._lock = threading.Lock()

    @property
    def units(self) -> int:
        return sum(c.units for c in self.charges)

    @property
    def too_short(self) -> bool:
        """Some audio was sent, but too little to hold speech: refused at the end (and refunded)."""
        return 0 < self.taken < self.min_bytes

    def needs_unit(self, nbytes: int) -> bool:
        """Whether taking ``nbytes`` more starts an unpaid unit (``take`` then asks the database)."""
        return self.taken + nbytes > self.units * self.unit_bytes

    def take(self, nbytes: int) -> int:
        """Meter ``nbytes`` more audio and answer how many of them are paid for: all of them, or
        fewer when the allowance ran out (``refused`` then says why; the stream must end)."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the stream's meter is closed")
            while self.needs_unit(nbytes):
                try:
                    self.charges.append(self._quota.reserve(self.principal, UNIT_S))
                except QuotaError as exc:
                    self.refused = exc
                    paid = max(0, self.units * self.unit_bytes - self.taken)
                    self.taken += paid
                    return paid
            self.taken += nbytes
            return nbytes

    def close(self) -> None:
        """Settle the stream (idempotent): refund a stream that sent too little audio to hold
        speech (or none), record what was paid, release the slot."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        principal, quota = self.principal, self._quota
        try:
            if self.taken < self.min_bytes:  # no speech can have been streamed: nothing to pay
                for charge in self.charges:
                    quota.refund(principal, charge)
                self.charges = []
            if self.units:  # the request itself was counted when the stream was admitted
                quota.record(
                    principal.account_id, self.family, transcriptions=1, minutes=self.units,
                    credits=sum(c.units for c in self.charges if c.kind == "credits"),
                )
        finally:
            quota.release_slot(principal)
