"""Worker nodes as their heartbeats describe them (a row each in ``worker_nodes``): what
``GET /api/v1/cloud/`` lists on a cluster, from any API node."""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import delete, select

from vocable.storage.db import Database
from vocable.storage.models import WorkerNode, utcnow
from vocable.transcription.jobs import WorkerInfo


@dataclass
class NodeState:
    """What one worker process says about itself at each heartbeat."""

    id: str = field(default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}")
    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)
    device: str = "cpu"
    gpu_name: str | None = None
    gpu_memory_mb: int | None = None
    queues: list[str] = field(default_factory=list)
    concurrency: int = 1


class WorkerNodes:
    def __init__(self, db: Database, stale_s: float = 30.0):
        self.db = db
        self.stale_s = stale_s  # a node silent for longer is not listed (it died or stopped)

    def beat(self, node: NodeState, *, running_jobs: int, models_loaded: list[str]) -> None:
        now = utcnow()
        with self.db.session() as s:
            row = s.get(WorkerNode, node.id)
            if row is None:
                row = WorkerNode(id=node.id, started_at=now)
                s.add(row)
            row.host, row.pid, row.device = node.host, node.pid, node.device
            row.gpu_name, row.gpu_memory_mb = node.gpu_name, node.gpu_memory_mb
            row.queues, row.concurrency = list(node.queues), node.concurrency
            row.running_jobs, row.models_loaded = running_jobs, list(models_loaded)
            row.last_heartbeat = now
            # Rows of nodes gone for long are forgotten.
            s.execute(delete(WorkerNode).where(
                WorkerNode.last_heartbeat < now - timedelta(seconds=max(3600, 10 * self.stale_s))
            ))

    def remove(self, node_id: str) -> None:
        with self.db.session() as s:
            s.execute(delete(WorkerNode).where(WorkerNode.id == node_id))

    def online(self, queued_jobs: int) -> list[WorkerInfo]:
        since = utcnow() - timedelta(seconds=self.stale_s)
        with self.db.session() as s:
            rows = s.scalars(
                select(WorkerNode).where(WorkerNode.last_heartbeat >= since).order_by(WorkerNode.started_at)
            ).all()
        return [
            WorkerInfo(
                id=row.id, status="busy" if row.running_jobs else "idle", device=row.device,
                models_loaded=list(row.models_loaded or []), running_jobs=row.running_jobs,
                queued_jobs=queued_jobs, capacity=row.concurrency, kind="celery", host=row.host,
                gpu_name=row.gpu_name, gpu_memory_mb=row.gpu_memory_mb,
                queues=list(row.queues or []), last_heartbeat=row.last_heartbeat,
            )
            for row in rows
        ]
