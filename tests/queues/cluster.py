"""Real Vocable processes for cluster tests: `vocable worker` and `vocable serve --role api`,
started as subprocesses on this machine against the machine's Redis and PostgreSQL, with a
broker prefix of their own (tests running at once do not share queues)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import sqlalchemy as sa

from tests.conftest import MODEL_DIR, ROOT, free_port

BROKER = os.environ.get("VOCABLE_TEST_REDIS", "redis://127.0.0.1:6379/0")


@dataclass
class Node:
    name: str
    process: subprocess.Popen
    log: Path
    url: str = ""

    def kill(self) -> None:
        """SIGKILL: no shutdown, no ack, no goodbye."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def tail(self, n: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])


@dataclass
class Cluster:
    root: Path
    database_url: str
    blob_url: str
    env_extra: dict[str, str] = field(default_factory=dict)
    prefix: str = field(default_factory=lambda: f"vocable-test-{uuid.uuid4().hex[:8]}:")
    nodes: list[Node] = field(default_factory=list)

    def settings(self) -> dict[str, str]:
        """The VOCABLE_* settings every node shares (short timings for tests)."""
        return {
            "VOCABLE_QUEUE": "celery",
            "VOCABLE_BROKER_URL": BROKER,
            "VOCABLE_BROKER_PREFIX": self.prefix,
            "VOCABLE_DATABASE_URL": self.database_url,
            "VOCABLE_BLOB_URL": self.blob_url,
            "VOCABLE_MODEL_DIR": str(MODEL_DIR),
            "VOCABLE_DEFAULT_MODEL": "base",
            "VOCABLE_CPU_THREADS": "1",
            "VOCABLE_WEBHOOK_ALLOW_PRIVATE": "true",
            "VOCABLE_WEBHOOK_BACKOFF_S": "0.3",
            "VOCABLE_WEBHOOK_POLL_S": "0.3",
            "VOCABLE_QUEUE_VISIBILITY_TIMEOUT_S": "8",
            "VOCABLE_QUEUE_RESTORE_INTERVAL_S": "1",
            "VOCABLE_JOB_LEASE_S": "5",
            "VOCABLE_WORKER_HEARTBEAT_S": "1",
            "VOCABLE_WORKER_STALE_S": "4",
            "VOCABLE_JOB_RETRY_BACKOFF_S": "0.5",
            **self.env_extra,
        }

    def _env(self, name: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("VOCABLE_")}
        env.update(self.settings())
        env["VOCABLE_DATA_DIR"] = str(self.root / name)  # nothing of its own worth keeping
        src = str(ROOT / "src")
        env["PYTHONPATH"] = os.pathsep.join(p for p in (src, str(ROOT), env.get("PYTHONPATH")) if p)
        return env

    def _start(self, name: str, args: list[str], url: str = "") -> Node:
        log = self.root / f"{name}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "wb") as out:  # the child has its own copy of the descriptor
            process = subprocess.Popen(
                [sys.executable, "-m", "vocable", *args], env=self._env(name), stdout=out,
                stderr=subprocess.STDOUT, cwd=self.root,
            )
        node = Node(name, process, log, url)
        self.nodes.append(node)
        return node

    def worker(self, name: str, concurrency: int = 1) -> Node:
        return self._start(name, ["worker", "--concurrency", str(concurrency)])

    def api(self, name: str) -> Node:
        port = free_port()
        return self._start(
            name, ["serve", "--role", "api", "--host", "127.0.0.1", "--port", str(port)],
            f"http://127.0.0.1:{port}",
        )

    def wait_api(self, node: Node, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert node.process.poll() is None, f"{node.name} exited:\n{node.tail()}"
            try:
                if httpx.get(node.url + "/health", timeout=30).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise AssertionError(f"{node.name} did not start:\n{node.tail()}")

    def wait_workers(self, count: int, timeout: float = 180) -> list[str]:
        """Ids of the workers whose heartbeat says they are up (the model loaded first)."""
        engine = sa.create_engine(self.database_url)
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                for node in self.nodes:
                    assert node.process.poll() is None, f"{node.name} exited:\n{node.tail()}"
                with engine.connect() as conn:
                    ids = [r[0] for r in conn.execute(sa.text(
                        "SELECT id FROM worker_nodes WHERE last_heartbeat > now() - interval '4 seconds'"
                    ))]
                if len(ids) >= count:
                    return ids
                time.sleep(0.3)
        finally:
            engine.dispose()
        raise AssertionError("workers did not come up:\n" + "\n".join(n.tail(15) for n in self.nodes))

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
        import redis

        client = redis.Redis.from_url(BROKER)
        keys = list(client.scan_iter(f"{self.prefix}*"))
        if keys:
            client.delete(*keys)
