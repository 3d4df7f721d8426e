"""Do sign-in, sign-up and reset answers take the same time whether or not the address has an
account? (Account enumeration through timing.) A live server on a scratch database, the real
argon2id cost of the settings, a local SMTP server (aiosmtpd) so sign-up verifies by mail.

    python bench/auth_timing.py [--repeats 7] [--memory-kib 65536] [--time-cost 3]

Prints the median answer time of each path and its ratio to the baseline of its group (the path
an attacker compares it with). Close to 1.00x is the goal; run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from rich.console import Console
from rich.table import Table
from tests.conftest import LiveServer
from tests.smtp import LocalSMTP, token

from vocable.config import Settings
from vocable.services import Services

PASSWORD = "correct horse battery"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--memory-kib", type=int, default=65536)
    parser.add_argument("--time-cost", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, LocalSMTP() as smtp:
        settings = Settings(
            data_dir=Path(tmp), password_memory_kib=args.memory_kib,
            password_time_cost=args.time_cost, trust_forwarded_for=True,
            signin_attempts_per_account=10_000, signin_attempts_per_ip=10_000,
            signups_per_ip_per_hour=10_000, **smtp.settings,
        )
        with LiveServer(Services.create(settings)) as server:
            run(server, smtp, args.repeats)


def timed(call, repeats: int) -> float:
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        call(i)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(server: LiveServer, smtp: LocalSMTP, repeats: int) -> None:
    client = server.client()
    client.post("/api/v1/auth/signup", json={"email": "real@example.com", "password": PASSWORD})
    client.post("/api/v1/auth/verify",
                json={"token": token(smtp.inbox.wait_for("real@example.com")[0])})

    def post(path, body):
        def call(i):
            answer = server.client(headers={"X-Forwarded-For": f"10.0.{i // 250}.{i % 250 + 1}"}).post(
                path, json=body(i) if callable(body) else body)
            assert answer.status_code < 500, answer.text
        return call

    groups = [
        ("sign-in", [
            ("wrong password (baseline)", post("/api/v1/auth/signin",
                                               {"email": "real@example.com", "password": "nope"})),
            ("no such account", post("/api/v1/auth/signin",
                                     {"email": "ghost@example.com", "password": "nope"})),
            ("right password", post("/api/v1/auth/signin",
                                    {"email": "real@example.com", "password": PASSWORD})),
        ]),
        ("sign-up", [
            ("new address (baseline)", post("/api/v1/auth/signup", lambda i: {
                "email": f"new{i}-{time.time_ns()}@example.com", "password": PASSWORD})),
            ("taken address", post("/api/v1/auth/signup",
                                   {"email": "real@example.com", "password": PASSWORD})),
        ]),
        ("reset", [
            ("no such account (baseline)", post("/api/v1/auth/reset", {"email": "ghost@example.com"})),
            ("existing account", post("/api/v1/auth/reset", {"email": "real@example.com"})),
        ]),
    ]
    table = Table(title=f"answer time, median of {repeats} (argon2id "
                        f"{server.services.settings.password_memory_kib} KiB x "
                        f"{server.services.settings.password_time_cost})")
    for column in ("group", "path", "median ms", "ratio to baseline"):
        table.add_column(column)
    for group, paths in groups:
        baseline = None
        for name, call in paths:
            call(0)  # warm
            median = timed(call, repeats)
            baseline = baseline or median
            table.add_row(group, name, f"{median * 1000:.1f}", f"{median / baseline:.2f}x")
    Console().print(table)


if __name__ == "__main__":
    main()
