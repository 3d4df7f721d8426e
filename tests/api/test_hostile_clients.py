"""Hostile clients against the server as it is run: forged proxy headers, credentials in URLs and
logs, stream tickets replayed, expired or raced.

``vocable serve`` runs as a subprocess here (the runner's own options and logs are under test);
cases that need many server configurations use the in-process live server, which runs with the
same uvicorn options (``vocable.api.server.uvicorn_options``).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.conftest import MODEL_DIR, free_port
from vocable.accounts.keys import Principal, create_account, create_key
from vocable.storage.db import Database
from vocable.storage.models import Account
from vocable.streaming.client import stream_url

CONFIG = json.dumps({"language": "en"})
STOP = json.dumps({"action": "stop"})
SILENCE = np.zeros(3200, dtype="<i2").tobytes()  # 0.2 s
FORGED = "203.0.113.7"  # a documentation address: what a client claims to be


@dataclass
class Served:
    """A `vocable serve` process: its URL, data dir and the log it wrote."""

    url: str
    data_dir: Path
    out: Path
    err: Path

    def log(self) -> str:
        return self.out.read_text() + self.err.read_text()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """`vocable serve` as an operator starts it, forwarded headers off (the default, said)."""
    root = tmp_path_factory.mktemp("served")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOCABLE_")}
    env.update(
        VOCABLE_DATA_DIR=str(root / "data"), VOCABLE_MODEL_DIR=str(MODEL_DIR),
        VOCABLE_DEFAULT_MODEL="base", VOCABLE_TRUST_FORWARDED_FOR="false",
    )
    out, err = root / "stdout.log", root / "stderr.log"
    with out.open("w") as stdout, err.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "vocable", "serve", "--port", str(port)],
            env=env, stdout=stdout, stderr=stderr,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"vocable serve did not start:\n{err.read_text()}")
        time.sleep(0.1)
    try:
        yield Served(url, root / "data", out, err)
    finally:
        process.send_signal(signal.SIGINT)  # uvicorn's graceful shutdown
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def stream(url: str, sends=(CONFIG, SILENCE, STOP), *, headers=None, query="") -> tuple[list, int]:
    """One stream: send ``sends``, read until closed. Returns (messages, close code)."""
    target = stream_url(url) + (f"?{query}" if query else "")
    messages = []
    async with connect(target, additional_headers=headers or {}, open_timeout=30) as ws:
        try:
            for item in sends:
                await ws.send(item)
        except ConnectionClosed:
            pass
        try:
            async with asyncio.timeout(120):
                async for raw in ws:
                    messages.append(json.loads(raw))
        except ConnectionClosed:
            pass
        return messages, ws.close_code


def transcribe_junk(url: str, headers: dict[str, str]) -> httpx.Response:
    """Admitted callers get a 400 for the junk; one over its daily limit gets 429 before it."""
    return httpx.post(f"{url}/v1/transcribe", files={"file": ("a.wav", b"junk" * 100)},
                      headers=headers, timeout=60)


# -- item 2: X-Forwarded-For does not reset the anonymous limit ---------------------------------
def test_forwarded_for_is_ignored_by_vocable_serve(served):
    """A local anonymous client uses up its three streams a day, then claims to be someone else
    with X-Forwarded-For, on REST and WebSocket: it stays itself (the runner used to rewrite the
    peer from loopback, whatever VOCABLE_TRUST_FORWARDED_FOR said)."""
    for _ in range(3):
        messages, code = asyncio.run(stream(served.url))
        assert code == 1000 and messages[-1].get("is_final"), messages
    forged = {"X-Forwarded-For": FORGED}
    for headers in ({}, forged, {"X-Forwarded-For": f"{FORGED}, 127.0.0.1"}):
        refused = transcribe_junk(served.url, headers)
        assert refused.status_code == 429, refused.text
        assert "3 transcriptions per day" in refused.json()["error"]
        messages, code = asyncio.run(stream(served.url, (CONFIG,), headers=headers))
        assert code == 4429 and "3 transcriptions per day" in messages[-1]["error"], messages


def exhaust(server, ip: str) -> None:
    """``ip`` has used its anonymous transcriptions for today."""
    plan = server.services.settings.plans["anonymous"]
    for _ in range(plan.daily_transcriptions):
        server.services.quota.reserve(Principal(plan="anonymous", ip=ip), 1.0)


def refused_as(server, headers) -> bool:
    """Whether the server counts the caller with ``headers`` as the exhausted client, on REST
    and on WebSocket (both must agree)."""
    rest = transcribe_junk(server.url, headers).status_code
    messages, code = asyncio.run(stream(server.url, (CONFIG, STOP), headers=headers))
    assert rest in (400, 429) and code in (1000, 4429), (rest, code, messages)
    assert (rest == 429) == (code == 4429), (rest, code, messages)
    return rest == 429


def test_trusted_proxies_name_the_client_right_to_left(start_server):
    """Behind trusted proxies the client is the right-most untrusted address: what a client
    writes to the left of it (or in an earlier header line) changes nothing."""
    server = start_server(trusted_proxies=["127.0.0.1", "10.0.0.0/8"])
    real = "198.51.100.9"
    exhaust(server, real)
    assert refused_as(server, {"X-Forwarded-For": real})
    assert refused_as(server, {"X-Forwarded-For": f"{real}, 10.1.2.3"})  # via a second proxy
    assert refused_as(server, {"X-Forwarded-For": f"{FORGED}, {real}, 10.1.2.3"})
    assert refused_as(server, [("X-Forwarded-For", FORGED), ("X-Forwarded-For", f"{real}, 10.0.0.1")])
    assert not refused_as(server, {"X-Forwarded-For": f"{real}, {FORGED}"})  # another client


def test_forwarded_for_from_an_untrusted_peer_is_ignored(start_server):
    """Forwarded headers on, but the proxies named are elsewhere: a local client is itself."""
    server = start_server(trusted_proxies=["10.0.0.0/8"])
    exhaust(server, "127.0.0.1")
    assert refused_as(server, {})
    assert refused_as(server, {"X-Forwarded-For": FORGED})


def test_forwarded_for_off_means_off(start_server):
    server = start_server(trust_forwarded_for=False)
    exhaust(server, "127.0.0.1")
    assert refused_as(server, {"X-Forwarded-For": FORGED})


# -- item 3: keys never reach a log line; stream tickets -----------------------------------------
def new_key(db, email: str, credits: int = 10) -> tuple[int, str]:
    account = create_account(db, email, plan="paid", credits=credits)
    return account.id, create_key(db, account.id)[1]


def credits_of(db, account_id: int) -> int:
    with db.session() as s:
        return s.get(Account, account_id).credits


def test_no_key_or_ticket_reaches_the_log(served):
    """A browser's ``?token=<key>`` (old clients; still served), a ticket, a key pasted into a path
    or behind an encoded parameter name: `vocable serve`'s log shows none of them."""
    db = Database(f"sqlite:///{served.data_dir / 'vocable.db'}")
    account_id, key = new_key(db, "logged@example.com")
    messages, code = asyncio.run(stream(served.url, query=f"token={key}"))
    assert code == 1000 and messages[-1].get("is_final"), messages  # old clients keep working
    messages, code = asyncio.run(stream(served.url, query=f"tok%65n={key}"))
    assert code == 1000, messages
    ticket = httpx.post(f"{served.url}/v1/stream/ticket", headers={"Authorization": f"Bearer {key}"},
                        timeout=30).json()["ticket"]
    messages, code = asyncio.run(stream(served.url, query=f"ticket={ticket}"))
    assert code == 1000, messages
    # an undocumented query parameter is refused (400), and the refused request is logged too
    assert httpx.get(f"{served.url}/v1/models", params={"token": key}, timeout=30).status_code == 400
    assert httpx.get(f"{served.url}/api/v1/transcripts/{key}/", timeout=30).status_code == 401
    assert credits_of(db, account_id) == 7  # three streams of 0.2 s
    db.dispose()
    time.sleep(0.5)  # the access log is written after the response
    log = served.log()
    assert key not in log and key[4:] not in log and ticket not in log
    assert 'WebSocket /v1/stream?token=[redacted]" [accepted]' in log
    assert "/v1/stream?ticket=[redacted]" in log and "tok%65n=[redacted]" in log
    assert '"GET /v1/models?token=[redacted] HTTP/1.1" 400' in log
    assert '"GET /api/v1/transcripts/voc_[redacted]/ HTTP/1.1" 401' in log


def ticket_for(server, key: str) -> httpx.Response:
    with server.client(key) as http:
        return http.post("/v1/stream/ticket")


def test_a_ticket_opens_one_stream(start_server):
    server = start_server()
    db = server.services.db
    account_id, key = new_key(db, "ticket@example.com")
    for bad in (None, "voc_wrong"):
        refused = ticket_for(server, bad)
        assert refused.status_code == 401 and "error" in refused.json()
    issued = ticket_for(server, key)
    assert issued.status_code == 200, issued.text
    body = issued.json()
    assert set(body) == {"ticket", "expires_in"} and body["expires_in"] == 60
    ticket = body["ticket"]
    assert key not in ticket

    messages, code = asyncio.run(stream(server.url, query=f"ticket={ticket}"))
    assert code == 1000 and messages[0] == {"status": "ready", "model": "base"} and messages[-1]["is_final"]
    assert credits_of(db, account_id) == 9  # the key's account pays
    for query, error in ((f"ticket={ticket}", "already used"),
                         ("ticket=vst_forged", "Invalid stream ticket"),
                         ("ticket=", "Invalid stream ticket")):
        messages, code = asyncio.run(stream(server.url, query=query))
        assert code == 4401 and len(messages) == 1 and error in messages[0]["error"], messages
    # A ticket is not a key, anywhere.
    with server.client(ticket) as http:
        assert http.get("/api/v1/account/").status_code == 401
    messages, code = asyncio.run(stream(server.url, headers={"Authorization": f"Bearer {ticket}"}))
    assert code == 4401 and "Invalid or revoked API key" in messages[0]["error"]
    assert credits_of(db, account_id) == 9
    assert server.services.streaming.active == 0


def test_expired_and_revoked_tickets(start_server):
    server = start_server(stream_ticket_ttl_s=1)
    db = server.services.db
    account_id, key = new_key(db, "late@example.com")
    late = ticket_for(server, key).json()["ticket"]
    time.sleep(1.2)
    messages, code = asyncio.run(stream(server.url, query=f"ticket={late}"))
    assert code == 4401 and "expired" in messages[0]["error"], messages

    server.services.settings.stream_ticket_ttl_s = 60
    orphan = ticket_for(server, key).json()["ticket"]
    with server.client(key) as http:
        (listed,) = http.get("/api/v1/keys/").json()["keys"]
        assert http.delete(f"/api/v1/keys/{listed['id']}/").status_code == 200
    messages, code = asyncio.run(stream(server.url, query=f"ticket={orphan}"))
    assert code == 4401 and "revoked" in messages[0]["error"], messages
    assert credits_of(db, account_id) == 10


def test_one_ticket_raced_over_two_api_nodes(start_server, database_url):
    """Two API processes on one database (SQLite and PostgreSQL): a ticket issued by one is
    good on the other, and of two connections racing with it, exactly one streams."""
    first = start_server(database_url)
    second = start_server(database_url)
    account_id, key = new_key(first.services.db, "race@example.com")
    for _ in range(3):
        ticket = ticket_for(first, key).json()["ticket"]

        async def race(ticket=ticket):
            return await asyncio.gather(*(
                stream(node.url, query=f"ticket={ticket}") for node in (first, second)
            ))

        outcomes = asyncio.run(race())
        codes = sorted(code for _, code in outcomes)
        assert codes == [1000, 4401], outcomes
    assert credits_of(first.services.db, account_id) == 7
    for node in (first, second):
        assert node.services.streaming.active == 0
