"""Jobs on Celery 5 with Redis as broker: the ``JobQueue`` of API nodes, and the worker's task.

* **Submit** sends task ``vocable.transcribe`` with the job id as its only argument (and as its
  task id) to the ``transcribe`` queue: data crosses processes as ids; the audio is a blob key
  on the job's row.
* **Delivery.** Late ack (``acks_late``): a message is acknowledged when the task returns, so a
  worker killed mid-job leaves it unacknowledged and Redis hands it to another worker once the
  visibility timeout passes; ``reject_on_worker_lost`` covers a lost pool child. The job's row
  decides what runs (``TranscriptionJobs.run``): a job claimed by a live worker is not run again,
  one whose claim lapsed (its worker died) is taken over, a final one is left alone; so a
  redelivered job never charges twice or gets two results. Workers also requeue a dead worker's
  jobs as soon as its lease lapses (``requeue_orphans`` at each heartbeat), so recovery takes
  about ``job_lease_s``, not the visibility timeout. Transient failures are retried with
  exponential backoff (``job_max_attempts`` runs), then the job ends ``failed`` with its reason.
* **Waiting** (sync ``POST /v1/transcribe``): the worker publishes the job id on a Redis
  channel when the job reaches its final state; every API node listens on it (one connection per
  process) and wakes the request waiting for that id. No polling loop: the row is read once after
  subscribing (a job that finished before) and then only if no word came for a long while (a
  message lost with a dropped connection).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable

from celery import Celery

log = logging.getLogger("vocable.queues.celery")

TASK = "vocable.transcribe"
QUEUE = "transcribe"
DONE_CHANNEL = "vocable:jobs:done"
FINAL = ("completed", "failed")
# How long a waiter trusts the channel before reading the job's row again (a lost message).
RECHECK_S = 30.0


def make_celery(
    broker_url: str, *, visibility_timeout_s: float = 3600.0, restore_interval_s: float = 10.0,
    prefix: str = "",
) -> Celery:
    """The Celery app of API nodes and workers alike (no result backend: results are rows)."""
    app = Celery("vocable", broker=broker_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,
        worker_prefetch_multiplier=1,
        task_default_queue=QUEUE,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        broker_transport_options={
            "visibility_timeout": visibility_timeout_s,
            "unacked_restore_interval": max(1, round(restore_interval_s)),
            "unacked_restore_throttle": 1,
            **({"global_keyprefix": prefix} if prefix else {}),
        },
    )
    return app


class CeleryQueue:
    """The ``JobQueue`` of a node whose jobs run on Celery workers."""

    def __init__(self, app: Celery, broker_url: str, *, status: Callable[[str], str | None],
                 queued: Callable[[], int], workers: Callable[[], list] = list, prefix: str = "",
                 sent: Callable[[str], None] = lambda _job_id: None):
        self.app = app
        self._sent = sent
        self.channel = prefix + DONE_CHANNEL
        self.broker_url = broker_url
        self._status = status
        self._queued = queued
        self._workers = workers
        self._waiters: dict[str, list[tuple[asyncio.AbstractEventLoop, asyncio.Future]]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pubsub = None

    # -- JobQueue -------------------------------------------------------------------------------
    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._listen, name="vocable-jobs-done", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        pubsub = self._pubsub
        if pubsub is not None:
            try:
                pubsub.close()
            except Exception:  # noqa: BLE001, S110 - closing a connection being read
                pass
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def submit(self, job_id: str) -> None:
        self.app.send_task(TASK, args=[job_id], task_id=job_id, queue=QUEUE)
        self._sent(job_id)

    async def wait(self, job_id: str, timeout: float | None = None) -> None:
        loop = asyncio.get_running_loop()
        done: asyncio.Future = loop.create_future()
        with self._lock:
            self._waiters.setdefault(job_id, []).append((loop, done))
        try:
            async with asyncio.timeout(timeout):
                while True:
                    # Subscribed first, then the row: a job that ended before is seen here.
                    if await asyncio.to_thread(self._status, job_id) in (*FINAL, None):
                        return
                    try:
                        await asyncio.wait_for(asyncio.shield(done), RECHECK_S)
                        return
                    except TimeoutError:
                        continue
        finally:
            with self._lock:
                waiting = self._waiters.get(job_id, [])
                if (loop, done) in waiting:
                    waiting.remove((loop, done))
                if not waiting:
                    self._waiters.pop(job_id, None)

    def backlog(self) -> int:
        return self._queued()

    def workers(self) -> list:
        return self._workers()

    # -- the channel ----------------------------------------------------------------------------
    def _listen(self) -> None:
        import redis

        delay = 0.5
        while not self._stop.is_set():
            try:
                client = redis.Redis.from_url(self.broker_url)
                self._pubsub = pubsub = client.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(self.channel)
                delay = 0.5
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    if message and message.get("type") == "message":
                        self._wake(message["data"].decode())
            except Exception as exc:  # noqa: BLE001 - Redis away: waiters re-read rows meanwhile
                if self._stop.is_set():
                    return
                log.warning("job channel: %s; reconnecting", exc)
                self._stop.wait(delay)
                delay = min(10.0, delay * 2)

    def _wake(self, job_id: str) -> None:
        with self._lock:
            waiting = list(self._waiters.get(job_id, []))
        for loop, done in waiting:
            loop.call_soon_threadsafe(lambda d=done: d.done() or d.set_result(None))


def publish_done(client, job_id: str, prefix: str = "") -> None:
    """Tell every API node that ``job_id`` reached its final state (``client``: a Redis client)."""
    client.publish(prefix + DONE_CHANNEL, job_id)
