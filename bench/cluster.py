"""The cost of running jobs on Celery workers (Redis broker, PostgreSQL) against the in-process
queue, measured in the same run on this machine.

* per-job overhead: sequential jobs that do no model work (their audio is gone, so they fail at
  once): submit -> a worker claims the row -> the final state -> the waiter wakes. The difference
  of the medians is what the queue adds to every job (target: at most 50 ms).
* full jobs: the same, for a real transcription of jfk.wav (11 s, base model, no diarization).
* throughput: a burst of real jobs submitted at once, jobs per minute with one and two workers
  (each worker one job at a time, one CPU thread), and the in-process queue with as many threads.

    VOCABLE_TEST_DATA=../shared/data VOCABLE_TEST_MODEL_DIR=.cache/models PYTHONPATH=src:. \
        .venv/bin/python bench/cluster.py [--jobs 8] [--quick 20] [--full 3]

Needs Redis on 127.0.0.1:6379 and PostgreSQL on 127.0.0.1:5432 (as the cluster tests do).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from tests.conftest import MODEL_DIR, SHARED_DATA, postgres_database
from tests.queues.cluster import BROKER, Cluster

from vocable.accounts.keys import Principal, create_account
from vocable.config import Settings, default_plans
from vocable.services import Services
from vocable.storage.db import Database
from vocable.transcription.pipeline import TranscribeOptions

CLIP = SHARED_DATA / "jfk.wav"


def _settings(root: Path, url: str, blob_url: str, **extra) -> Settings:
    plans = default_plans()
    plans["paid"] = plans["paid"].model_copy(update={"concurrent_jobs": 10_000})  # a whole burst
    return Settings(data_dir=root, database_url=url, blob_url=blob_url, model_dir=MODEL_DIR,
                    default_model="base", cpu_threads=1, plans=plans, **extra)


class Submitter:
    def __init__(self, services: Services, root: Path):
        self.services = services
        self.root = root
        account = create_account(services.db, f"bench{time.monotonic_ns()}@example.com",
                                 plan="paid", credits=10_000)
        self.principal = Principal(plan="paid", ip="127.0.0.1", account_id=account.id)

    def create(self, broken: bool = False) -> str:
        upload = self.root / f"u{time.monotonic_ns()}.wav"
        shutil.copy(CLIP, upload)
        self.services.quota.acquire_slot(self.principal)
        charge = self.services.quota.reserve(self.principal, 11.0)
        job_id = self.services.jobs.create(self.principal, upload, "jfk.wav",
                                           TranscribeOptions(model="base", diarize=False), charge)
        if broken:  # no model work: the job fails as soon as a worker opens its audio
            self.services.blobs.delete(self.services.jobs.get(job_id).audio_key)
        return job_id

    async def one(self, broken: bool) -> float:
        job_id = self.create(broken)
        started = time.perf_counter()
        self.services.queue.submit(job_id)
        await self.services.queue.wait(job_id, timeout=600)
        elapsed = time.perf_counter() - started
        assert self.services.jobs.status(job_id) == ("failed" if broken else "completed")
        return elapsed

    async def burst(self, n: int) -> float:
        ids = [self.create() for _ in range(n)]
        started = time.perf_counter()
        for job_id in ids:
            self.services.queue.submit(job_id)
        await asyncio.gather(*(self.services.queue.wait(j, timeout=1800) for j in ids))
        elapsed = time.perf_counter() - started
        assert all(self.services.jobs.status(j) == "completed" for j in ids)
        self.services.quota.recount_slots()
        return elapsed


async def measure(sub: Submitter, quick: int, full: int, burst: int) -> dict[str, float]:
    await sub.one(False)  # warm: model loaded, connections open
    q = [await sub.one(True) for _ in range(quick)]
    f = [await sub.one(False) for _ in range(full)]
    return {"quick": statistics.median(q) if q else 0.0, "full": statistics.median(f) if f else 0.0,
            "burst": await sub.burst(burst) if burst else 0.0}


def run(args) -> None:
    rows: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp, postgres_database() as url:
        root = Path(tmp)
        Database(url).migrate()
        blob_url = (root / "blobs").as_uri()
        for threads in (1, 2):
            services = Services.create(_settings(root / f"inproc{threads}", url, blob_url,
                                                 workers=threads))
            services.start()
            try:
                sub = Submitter(services, root)
                rows[f"in-process, {threads} thread(s)"] = asyncio.run(
                    measure(sub, args.quick if threads == 1 else 0, args.full if threads == 1 else 0,
                            args.jobs))
            finally:
                services.close()
        cluster = Cluster(root / "cluster", url, blob_url)
        services = Services.create(_settings(root / "api", url, blob_url, queue="celery",
                                             broker_url=BROKER, broker_prefix=cluster.prefix))
        services.start()
        try:
            sub = Submitter(services, root)
            for n in (1, 2):
                cluster.worker(f"worker-{n}")
                cluster.wait_workers(n)
                rows[f"celery, {n} worker(s)"] = asyncio.run(
                    measure(sub, args.quick if n == 1 else 0, args.full if n == 1 else 0, args.jobs))
        finally:
            services.close()
            cluster.stop()
    base = rows["in-process, 1 thread(s)"]
    print(f"\n{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; burst of {args.jobs} jobs of "
          f"{CLIP.name} (base, no diarization)\n")
    print(f"{'queue':<26}{'no-model job':>14}{'overhead':>10}{'full job':>10}{'ratio':>7}"
          f"{'jobs/min':>10}{'ratio':>7}")
    for name, r in rows.items():
        per_min = args.jobs / r["burst"] * 60 if r["burst"] else 0.0
        base_min = args.jobs / base["burst"] * 60
        quick = f"{r['quick'] * 1000:.1f} ms" if r["quick"] else "-"
        over = f"{(r['quick'] - base['quick']) * 1000:+.1f} ms" if r["quick"] else "-"
        full = f"{r['full']:.2f} s" if r["full"] else "-"
        ratio = f"{r['full'] / base['full']:.2f}" if r["full"] else "-"
        print(f"{name:<26}{quick:>14}{over:>10}{full:>10}{ratio:>7}{per_min:>10.1f}"
              f"{per_min / base_min:>7.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=8, help="jobs in each burst")
    parser.add_argument("--quick", type=int, default=20, help="no-model jobs for the overhead")
    parser.add_argument("--full", type=int, default=3, help="sequential real jobs")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
