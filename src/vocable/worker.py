"""``vocable worker``: a Celery worker process that loads the speech model once and runs jobs.

Its resources are built once at start-up (``Services.create(settings, role="worker")``); the task
takes a job id and nothing else (the audio is a blob key on the job's row). Jobs run on
``concurrency`` threads sharing the loaded model, as the in-process queue's do. A heartbeat
thread renews the claims (leases) of the jobs this process runs and describes the node for
``GET /api/v1/cloud/``.
"""

from __future__ import annotations

import logging
import threading

from vocable.config import Settings
from vocable.queues.celery import QUEUE, TASK, make_celery, publish_done
from vocable.queues.nodes import NodeState, WorkerNodes
from vocable.services import Services

log = logging.getLogger("vocable.worker")

QUEUES = ("transcribe", "diarize", "llm", "audio")


class Worker:
    def __init__(self, settings: Settings, queues: list[str] | None = None, concurrency: int = 1,
                 **shared):
        unknown = [q for q in (queues or []) if q not in QUEUES]
        if unknown:
            raise ValueError(f"Unknown queue(s) {', '.join(unknown)}: use {', '.join(QUEUES)}.")
        self.settings = settings
        self.queues = list(queues or [QUEUE])
        self.concurrency = max(1, concurrency)
        self.services = Services.create(settings, role="worker", **shared)
        whisper = self.services.whisper
        self.node = NodeState(
            device=whisper.device.kind, gpu_name=whisper.device.gpu_name,
            gpu_memory_mb=whisper.device.gpu_memory_mb, queues=self.queues,
            concurrency=self.concurrency,
        )
        self.nodes = WorkerNodes(self.services.db, settings.worker_stale_s)
        self.app = make_celery(
            settings.broker_url, visibility_timeout_s=settings.queue_visibility_timeout_s,
            restore_interval_s=settings.queue_restore_interval_s, prefix=settings.broker_prefix,
        )
        self._running = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._redis = None
        self._register()

    def _register(self) -> None:
        settings, jobs = self.settings, self.services.jobs

        @self.app.task(name=TASK, bind=True, max_retries=None, acks_late=True,
                       reject_on_worker_lost=True)
        def transcribe(task, job_id: str) -> None:
            with self._lock:
                self._running += 1
            try:
                outcome = jobs.run(job_id, worker=self.node.id, lease_s=settings.job_lease_s,
                                   max_attempts=settings.job_max_attempts)
            finally:
                with self._lock:
                    self._running -= 1
            if outcome == "done":
                publish_done(self._client(), job_id, settings.broker_prefix)
            elif outcome == "retry":
                delay = settings.job_retry_backoff_s * 2 ** task.request.retries
                raise task.retry(countdown=delay)
            elif outcome == "busy":  # a redelivery while its worker lives: look again later
                raise task.retry(countdown=settings.job_lease_s)

    def _client(self):
        if self._redis is None:
            import redis

            self._redis = redis.Redis.from_url(self.settings.broker_url)
        return self._redis

    def _send(self, job_id: str) -> None:
        self.app.send_task(TASK, args=[job_id], task_id=job_id, queue=QUEUE)
        self.services.jobs.mark_sent(job_id)

    def heartbeat(self) -> None:
        jobs = self.services.jobs
        jobs.renew_leases(self.node.id, self.settings.job_lease_s)
        # A dead worker's jobs go back on the queue once its lease lapses, without waiting for
        # the broker's visibility timeout (the redelivered message, when it comes, finds the job
        # taken or done and does nothing).
        for job_id in jobs.requeue_orphans():
            log.warning("job %s: its worker stopped (lease lapsed); queued again", job_id)
            self._send(job_id)
        # A job whose node died after making its row and before sending its message.
        for job_id in jobs.unsent(self.settings.job_lease_s):
            log.warning("job %s: queued but never sent (its node stopped); sent now", job_id)
            self._send(job_id)
        with self._lock:
            running = self._running
        self.nodes.beat(self.node, running_jobs=running,
                        models_loaded=self.services.whisper.loaded())

    def _beat(self) -> None:
        while not self._stop.wait(self.settings.worker_heartbeat_s):
            try:
                self.heartbeat()
            except Exception:  # the database may be away for a moment
                log.exception("heartbeat")

    def warm_up(self) -> None:
        """Load the default speech model before taking jobs."""
        self.services.whisper.model(None)

    def run(self) -> None:
        self.warm_up()
        self.services.start()  # webhook sender, idle unloading (the queue of a worker is idle)
        self.heartbeat()
        beat = threading.Thread(target=self._beat, name="vocable-heartbeat", daemon=True)
        beat.start()
        try:
            self.app.worker_main([
                "worker", "--pool=threads", f"--concurrency={self.concurrency}",
                f"--queues={','.join(self.queues)}", f"--hostname=vocable-{self.node.id}@%h",
                "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO",
            ])
        finally:
            self._stop.set()
            try:
                self.nodes.remove(self.node.id)
            finally:
                self.services.close()
