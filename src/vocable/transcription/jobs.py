"""Transcription jobs: their lifecycle (queued → processing → completed | failed) and the queue seam.

``TranscriptionJobs`` owns the lifecycle; a job's money goes through ``Admission`` (reserved on
submit, settled on completion, refunded on failure, its slot released on every path). A
``JobQueue`` only decides *where* a job runs: ``InProcessQueue`` runs jobs on worker threads
sharing the loaded model; a distributed queue (e.g. Celery on Redis) implements the
same four methods and calls ``TranscriptionJobs.run`` in its workers.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from sqlalchemy import and_, delete, func, or_, select, update

from vocable.accounts.admission import Admission
from vocable.accounts.keys import Principal
from vocable.accounts.quota import Charge
from vocable.audio import AudioError
from vocable.results import Transcription
from vocable.storage.blobs import BlobNotFound, BlobStore, transcript_audio_key
from vocable.storage.db import Database
from vocable.storage.models import Account, Transcript, new_id, utcnow
from vocable.transcription.pipeline import TranscribeOptions, transcribe_file
from vocable.transcription.recognize import SegmentFn
from vocable.transcription.whisper import WhisperExecutor
from vocable.webhooks import Webhooks

log = logging.getLogger("vocable.transcription.jobs")

FINAL = ("completed", "failed")


@dataclass(frozen=True)
class WorkerInfo:
    id: str
    status: str  # "idle" | "busy"
    device: str
    models_loaded: list[str]
    running_jobs: int
    queued_jobs: int
    capacity: int
    kind: str = "in-process"  # or "celery": a worker process found by its heartbeat
    host: str = ""
    gpu_name: str | None = None
    gpu_memory_mb: int | None = None
    queues: list[str] = field(default_factory=lambda: ["transcribe"])
    last_heartbeat: datetime | None = None


class JobQueue(Protocol):
    def start(self) -> None: ...
    def stop(self) -> None: ...
    def submit(self, job_id: str) -> None: ...
    async def wait(self, job_id: str, timeout: float | None = None) -> None: ...
    def backlog(self) -> int:
        """Jobs submitted and not yet started."""
        ...


class TranscriptionJobs:
    def __init__(
        self,
        db: Database,
        admission: Admission,
        whisper: WhisperExecutor,
        diarizer_factory: Callable[[], object | None] = lambda: None,
        *,
        blobs: BlobStore,
        webhooks: Webhooks | None = None,
        on_completed: Callable[[str], None] | None = None,
        voices_of: Callable[[int | None], list] = lambda account_id: [],
        denoiser=None,  # a DenoiseExecutor, for jobs with enhance=true
    ):
        self.db = db
        self.webhooks = webhooks
        # Uploads and kept audio, by key: the job row names its audio, any worker can open it.
        self.blobs = blobs
        self.admission = admission
        self.whisper = whisper
        self.diarizer_factory = diarizer_factory
        # Told the id of each job that completed (e.g. the "transcript ready" mail); never fails it.
        self.on_completed = on_completed
        # An account's enrolled voices (speakers known by name), asked when a job diarizes.
        self.voices_of = voices_of
        self.denoiser = denoiser
        # Who wants a job's segments as they are recognized (a streamed response), by job id.
        # Only jobs run by this process are seen; the result is the same either way.
        self._watchers: dict[str, SegmentFn] = {}
        self._watchers_lock = threading.Lock()

    def create(
        self,
        principal: Principal,
        upload: Path,
        filename: str,
        options: TranscribeOptions,
        charge: Charge,
        webhook_url: str = "",
    ) -> str:
        """Queue a job for the received file ``upload``, which the blob store takes over;
        ``webhook_url`` (already validated) is told of its end."""
        job_id = new_id()
        key = transcript_audio_key(job_id)
        self.blobs.put_file(key, upload)
        try:
            with self.db.session() as s:
                s.add(Transcript(
                    id=job_id,
                    account_id=principal.account_id,
                    client_ip=principal.ip,
                    filename=filename[:500],
                    audio_key=key,
                    options=_options_dict(options),
                    charged_units=charge.units,
                    charge_kind=charge.kind,
                    charge_period=charge.period,
                    webhook_url=webhook_url,
                ))
        except BaseException:
            self.blobs.delete(key)
            raise
        return job_id

    @contextmanager
    def watch(self, job_id: str, on_segment: SegmentFn) -> Iterator[None]:
        """Within the block, ``on_segment`` is called (on the worker's thread) with each segment of
        the job as soon as it is recognized, if the job runs in this process."""
        with self._watchers_lock:
            self._watchers[job_id] = on_segment
        try:
            yield
        finally:
            with self._watchers_lock:
                self._watchers.pop(job_id, None)

    def _watcher(self, job_id: str) -> SegmentFn | None:
        with self._watchers_lock:
            watcher = self._watchers.get(job_id)
        if watcher is None:
            return None

        def deliver(segment) -> None:
            try:
                watcher(segment)
            except Exception:  # a watcher's failure is never the job's
                log.exception("a watcher of job %s failed", job_id)

        return deliver

    def get(self, job_id: str) -> Transcript | None:
        with self.db.session() as s:
            return s.get(Transcript, job_id)

    def delete(self, job_id: str) -> None:
        with self.db.session() as s:
            job = s.get(Transcript, job_id)
            if job is None:
                return
            key = job.audio_key
            s.delete(job)
        self._remove_audio(key)

    def pending(self) -> list[str]:
        """Jobs to (re)run after a restart: queued ones, and those a stop interrupted."""
        with self.db.session() as s:
            # Anonymous results are deleted once answered; a stop can leave some behind.
            answered = (Transcript.account_id.is_(None), Transcript.status.in_(FINAL))
            keys = list(s.scalars(select(Transcript.audio_key).where(*answered)))
            s.execute(delete(Transcript).where(*answered))
            s.execute(
                update(Transcript).where(Transcript.status == "processing").values(status="queued")
            )
            queued = list(
                s.scalars(
                    select(Transcript.id)
                    .where(Transcript.status == "queued")
                    .order_by(Transcript.created_at)
                )
            )
        for key in keys:
            self._remove_audio(key)
        return queued

    # -- running ---------------------------------------------------------------------------------
    def run(self, job_id: str, *, worker: str = "", lease_s: float | None = None,
            max_attempts: int = 1) -> str:
        """Run one job; never raises (failures are recorded on the job). The outcome:

        * ``"done"``: this call brought the job to its final state (charged, slot released);
        * ``"retry"``: a transient failure before the last of ``max_attempts`` runs: the job is
          queued again (the caller runs it again later, with backoff);
        * ``"busy"``: another worker holds the job and its claim is alive (a redelivered
          message while that worker lives): ask again after the lease;
        * ``"gone"``: nothing to do (no such job, already final, or the claim was lost).

        A distributed queue passes its ``worker`` id and a ``lease_s``: the claim expires unless
        renewed (``renew_leases``), so a job whose worker died is taken over by the next delivery.
        Everything that must happen once (settle or refund, the slot, the webhook event) is done
        only by the run that wins the job's final transition, so a redelivered job is never
        charged twice nor given two results."""
        now = utcnow()
        claimable = or_(
            Transcript.status == "queued",
            and_(Transcript.status == "processing", Transcript.lease_until.is_not(None),
                 Transcript.lease_until < now),
        )
        with self.db.session() as s:
            claimed = s.execute(
                update(Transcript)
                .where(Transcript.id == job_id, claimable)
                .values(status="processing", worker=worker, attempts=Transcript.attempts + 1,
                        lease_until=now + timedelta(seconds=lease_s) if lease_s else None)
                .execution_options(synchronize_session=False)
            ).rowcount == 1
            job = s.get(Transcript, job_id, populate_existing=True)
            if not claimed:
                return "gone" if job is None or job.status in FINAL else "busy"
            principal = _principal(s, job)
            audio_key, options, attempts = job.audio_key, _options(job.options), job.attempts
            charge = Charge(job.charge_kind, job.charged_units, job.charge_period)
        try:
            voices = self.voices_of(principal.account_id) if options.diarize else []
            with self.blobs.local_path(audio_key) as upload:
                result = transcribe_file(
                    upload, options, self.whisper, self.diarizer_factory(),
                    on_segment=self._watcher(job_id), voices=voices, denoiser=self.denoiser,
                )
        except (AudioError, BlobNotFound) as exc:  # the input itself: no retry helps
            return self._fail(job_id, worker, principal, charge, str(exc), 400)
        except Exception as exc:  # the job fails (or is tried again), the server lives on
            log.exception("job %s failed (attempt %d of %d)", job_id, attempts, max_attempts)
            if attempts < max_attempts and self._requeue(job_id, worker):
                return "retry"
            reason = f"Transcription failed: {exc}"
            if attempts > 1:
                reason += f" (after {attempts} attempts)"
            return self._fail(job_id, worker, principal, charge, reason, 500)
        return self._complete(job_id, worker, principal, charge, result)

    def renew_leases(self, worker: str, lease_s: float) -> int:
        """Extend the claims of the jobs ``worker`` is running (its heartbeat calls this)."""
        with self.db.session() as s:
            return s.execute(
                update(Transcript)
                .where(Transcript.worker == worker, Transcript.status == "processing")
                .values(lease_until=utcnow() + timedelta(seconds=lease_s))
            ).rowcount

    def requeue_orphans(self) -> list[str]:
        """Jobs whose worker stopped renewing its claim (it died): queued again, for the caller
        to resubmit. Conditional, so one caller takes each; the dead worker, should it come
        back, finds the job no longer its own and writes nothing."""
        now = utcnow()
        with self.db.session() as s:
            lapsed = list(s.scalars(
                select(Transcript.id).where(
                    Transcript.status == "processing", Transcript.lease_until.is_not(None),
                    Transcript.lease_until < now,
                )
            ))
        taken = []
        for job_id in lapsed:
            with self.db.session() as s:
                if s.execute(
                    update(Transcript)
                    .where(Transcript.id == job_id, Transcript.status == "processing",
                           Transcript.lease_until < now)
                    .values(status="queued", lease_until=None, sent_at=None)
                ).rowcount == 1:
                    taken.append(job_id)
        return taken

    def mark_sent(self, job_id: str) -> None:
        """The broker has the job's message."""
        with self.db.session() as s:
            s.execute(update(Transcript).where(Transcript.id == job_id).values(sent_at=utcnow()))

    def unsent(self, older_than_s: float) -> list[str]:
        """Queued jobs never handed to the broker, made over ``older_than_s`` ago: their node
        died between the row and the message. (A job sent twice still runs once: see ``run``.)"""
        cutoff = utcnow() - timedelta(seconds=older_than_s)
        with self.db.session() as s:
            return list(s.scalars(select(Transcript.id).where(
                Transcript.status == "queued", Transcript.sent_at.is_(None),
                Transcript.created_at < cutoff,
            ).limit(100)))

    def status(self, job_id: str) -> str | None:
        with self.db.session() as s:
            return s.scalar(select(Transcript.status).where(Transcript.id == job_id))

    def queued_count(self) -> int:
        with self.db.session() as s:
            return s.scalar(select(func.count()).where(Transcript.status == "queued")) or 0

    def _requeue(self, job_id: str, worker: str) -> bool:
        with self.db.session() as s:
            return s.execute(
                update(Transcript)
                .where(Transcript.id == job_id, Transcript.status == "processing",
                       Transcript.worker == worker)
                .values(status="queued", lease_until=None)
            ).rowcount == 1

    def _remove_audio(self, key: str) -> None:
        if key:
            self.blobs.delete(key)

    def _mine(self, s, job_id: str, worker: str) -> Transcript | None:
        """The job, locked, if this run still holds it (else another took it over)."""
        job = s.scalar(
            select(Transcript)
            .where(Transcript.id == job_id, Transcript.status == "processing",
                   Transcript.worker == worker)
            .with_for_update()
        )
        return job

    def _complete(self, job_id: str, worker: str, principal: Principal, charge: Charge,
                  result: Transcription) -> str:
        with self.db.session() as s:
            job = self._mine(s, job_id, worker)
            if job is None:
                return "gone"
            job.status = "completed"
            job.language = result.language
            job.duration = result.duration
            job.model = result.model
            job.text = result.text
            job.segments = result.to_dict()["segments"]
            job.speakers = result.speakers
            job.options = {**job.options, "language_probability": result.language_probability}
            job.lease_until = None
            if principal.is_anonymous:  # anonymous callers keep nothing
                self._remove_audio(job.audio_key)
                job.audio_key = ""
            job.completed_at = utcnow()
            self._tell(s, job)
            self.admission.release(principal, session=s)
        # The final transition is this run's alone: the charge is settled once.
        charge = self.admission.settle(principal, charge, result.duration, "transcribe")
        with self.db.session() as s:
            s.execute(update(Transcript).where(Transcript.id == job_id)
                      .values(charged_units=charge.units))
        self._told()
        if not principal.is_anonymous and self.on_completed is not None:
            try:  # e.g. the "transcript ready" email
                self.on_completed(job_id)
            except Exception:
                log.exception("completion notice of job %s failed", job_id)
        return "done"

    def _fail(self, job_id: str, worker: str, principal: Principal, charge: Charge, reason: str,
              status: int) -> str:
        with self.db.session() as s:
            job = self._mine(s, job_id, worker)
            if job is None:
                return "gone"
            job.status, job.error, job.error_status = "failed", reason, status
            self._remove_audio(job.audio_key)  # a failed job has no audio worth keeping
            job.audio_key, job.charged_units, job.completed_at = "", 0, utcnow()
            job.lease_until = None
            self._tell(s, job)
            self.admission.refund(principal, charge, session=s)
            self.admission.release(principal, session=s)
        self._told()
        return "done"

    def _tell(self, s, job: Transcript) -> None:
        """The job's webhook event, written with its final state (one transaction)."""
        if self.webhooks is not None and job.webhook_url:
            self.webhooks.add(s, job)

    def _told(self) -> None:
        if self.webhooks is not None:
            self.webhooks.notify()


class InProcessQueue:
    """Jobs run on ``workers`` threads of this process; the Whisper model is shared by all."""

    def __init__(self, run: Callable[[str], None], pending: Callable[[], list[str]], workers: int,
                 describe: Callable[[], dict] | None = None):
        self._run = run
        self._pending = pending
        self.capacity = max(1, workers)
        self._describe = describe or (dict)
        self._pool: ThreadPoolExecutor | None = None
        self._futures: dict[str, Future] = {}
        self._lock = threading.Lock()
        self._running = 0

    def start(self) -> None:
        self._pool = ThreadPoolExecutor(self.capacity, thread_name_prefix="vocable-job")
        for job_id in self._pending():
            self.submit(job_id)

    def stop(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def submit(self, job_id: str) -> None:
        assert self._pool is not None, "queue not started"
        with self._lock:
            self._futures[job_id] = self._pool.submit(self._work, job_id)

    def _work(self, job_id: str) -> None:
        with self._lock:
            self._running += 1
        try:
            self._run(job_id)
        finally:
            with self._lock:
                self._running -= 1

    async def wait(self, job_id: str, timeout: float | None = None) -> None:
        with self._lock:
            future = self._futures.get(job_id)
        if future is not None:
            try:
                await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), timeout)
            finally:
                if future.done():
                    with self._lock:
                        self._futures.pop(job_id, None)

    def backlog(self) -> int:
        with self._lock:
            return sum(1 for f in self._futures.values() if not f.running() and not f.done())

    def workers(self) -> list[WorkerInfo]:
        queued = self.backlog()
        with self._lock:
            running = self._running
        info = self._describe()
        return [
            WorkerInfo(
                id=f"local-{os.getpid()}",
                status="busy" if running else "idle",
                device=info.get("device", "cpu"),
                models_loaded=info.get("models_loaded", []),
                running_jobs=running,
                queued_jobs=queued,
                capacity=self.capacity,
                host=socket.gethostname(),
                gpu_name=info.get("gpu_name"),
                gpu_memory_mb=info.get("gpu_memory_mb"),
                last_heartbeat=utcnow(),
            )
        ]


def _options_dict(options: TranscribeOptions) -> dict:
    data = {"model": options.model, "language": options.language, "diarize": options.diarize,
            "speakers": options.speakers}
    if options.task != "transcribe":  # only what differs from the defaults: older rows match
        data["task"] = options.task
    if options.prompt:
        data["prompt"] = options.prompt
    if options.temperature:
        data["temperature"] = options.temperature
    if options.enhance:
        data["enhance"] = True
    return data


def _options(data: dict) -> TranscribeOptions:
    return TranscribeOptions(
        model=data.get("model"), language=data.get("language"),
        diarize=bool(data.get("diarize", True)), speakers=int(data.get("speakers") or 0),
        task=data.get("task") or "transcribe", prompt=data.get("prompt"),
        temperature=float(data.get("temperature") or 0.0),
        enhance=bool(data.get("enhance", False)),
    )


def _principal(s, job: Transcript) -> Principal:
    if job.account_id is None:
        return Principal(plan="anonymous", ip=job.client_ip)
    plan = s.scalar(select(Account.plan).where(Account.id == job.account_id)) or "free"
    return Principal(plan=plan, ip=job.client_ip, account_id=job.account_id)


def to_transcription(job: Transcript) -> Transcription:
    """A stored job's result as the pipeline's result type (for formatters and exports)."""
    return Transcription.from_dict(
        {
            "text": job.text,
            "language": job.language,
            "duration": job.duration,
            "segments": job.segments or [],
            "speakers": job.speakers or [],
            "language_probability": (job.options or {}).get("language_probability", 1.0),
            "model": job.model,
        }
    )
