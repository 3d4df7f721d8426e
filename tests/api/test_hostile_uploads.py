"""POST /v1/transcribe and WS /v1/stream against a live server, as a hostile client uses them:
hand-written multipart bodies, uploads cut off or left hanging, many at once, a server killed
mid-upload, audio too short to hold a word. After each case: a clean ``{"error"}`` answer, nothing
left in the receiving directory, no concurrency slot held, no credit lost or charged.

Requests that must be answered before their body is read are written on a plain socket, so the
test sees exactly how much of the body the server had when it answered.
"""

from __future__ import annotations

import asyncio
import json
import os
import select
import signal
import socket
import struct
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
import sqlalchemy as sa
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.api.test_hostile_jobs import serve_vocable
from tests.api.test_stream import eventually as poll_until
from tests.conftest import free_port
from vocable.accounts.keys import create_account, create_key
from vocable.api.routes.stream import CLOSE_BAD_REQUEST
from vocable.config import default_plans
from vocable.storage.db import Database
from vocable.storage.models import Account, AnonymousClient, Transcript, UsageRecord
from vocable.streaming.client import stream_url

BOUNDARY = "hostile-boundary-7f3a"
SR = 16_000


# -- a client that writes HTTP by hand ------------------------------------------------------------
def multipart(*parts: tuple[str, str | None, bytes]) -> bytes:
    """A multipart/form-data body of (field name, file name or None, content) parts."""
    out = b""
    for name, filename, content in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out += f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + content + b"\r\n"
    return out + f"--{BOUNDARY}--\r\n".encode()


class RawUpload:
    """POST /v1/transcribe on a plain socket: the head at once, the body when ``send`` says."""

    def __init__(self, server, body: bytes, key: str | None = None, content_length: int | None = None,
                 query: str = ""):
        self.sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
        self.body, self.sent = body, 0
        head = [
            f"POST /v1/transcribe{query} HTTP/1.1", f"Host: 127.0.0.1:{server.port}",
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}",
            f"Content-Length: {len(body) if content_length is None else content_length}",
        ]
        if key:
            head.append(f"Authorization: Bearer {key}")
        self.sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        self.received = b""

    def send(self, nbytes: int | None = None) -> None:
        end = len(self.body) if nbytes is None else min(len(self.body), self.sent + nbytes)
        self.sock.sendall(self.body[self.sent:end])
        self.sent = end

    def answered(self, timeout: float = 0.0) -> bool:
        """Whether response bytes have arrived (waiting up to ``timeout``)."""
        return bool(self.received) or bool(select.select([self.sock], [], [], timeout)[0])

    def response(self, timeout: float = 60.0) -> tuple[int, dict[str, str], dict]:
        self.sock.settimeout(timeout)
        while b"\r\n\r\n" not in self.received:
            chunk = self.sock.recv(65536)
            assert chunk, f"connection closed without a response: {self.received!r}"
            self.received += chunk
        head, _, rest = self.received.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}
        while len(rest) < int(headers.get("content-length", 0)):
            chunk = self.sock.recv(65536)
            assert chunk, "connection closed in the middle of the response"
            rest += chunk
        return int(status_line.split()[1]), headers, json.loads(rest or b"{}")

    def abort(self) -> None:
        """Vanish: close without a goodbye (a reset, as when a client process dies)."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def close(self) -> None:
        self.sock.close()


# -- audio and state -------------------------------------------------------------------------------
def wav(samples: int) -> bytes:
    """A 16 kHz mono PCM WAV of ``samples`` samples of silence."""
    data = b"\x00\x00" * samples
    fmt = struct.pack("<HHIIHH", 1, 1, SR, SR * 2, 2, 16)
    return (b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVEfmt " + struct.pack("<I", 16) + fmt
            + b"data" + struct.pack("<I", len(data)) + data)


@pytest.fixture(scope="module")
def jfk(data_dir) -> bytes:
    return (data_dir / "jfk.wav").read_bytes()


def uploads_dir(server) -> Path:
    return server.services.settings.data_dir / "uploads"


def leftovers(server) -> list[str]:
    directory = uploads_dir(server)
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def eventually(check, timeout: float = 15.0):
    return poll_until(check, timeout)


def account_with_key(server, plan: str = "paid", credits: int = 0) -> tuple[int, str]:
    account = create_account(server.services.db, f"{plan}-{time.monotonic_ns()}@example.com",
                             plan=plan, credits=credits)
    return account.id, create_key(server.services.db, account.id)[1]


def account_row(server, account_id: int) -> Account:
    with server.services.db.session() as s:
        return s.get(Account, account_id)


def anonymous_row(server, ip: str = "127.0.0.1") -> AnonymousClient | None:
    with server.services.db.session() as s:
        return s.get(AnonymousClient, ip)


def transcripts_of(server, account_id: int) -> list[Transcript]:
    with server.services.db.session() as s:
        return list(s.scalars(sa.select(Transcript).where(Transcript.account_id == account_id)))


def transcriptions_recorded(server, account_id: int) -> int:
    with server.services.db.session() as s:
        return s.scalar(sa.select(sa.func.coalesce(sa.func.sum(UsageRecord.transcriptions), 0))
                        .where(UsageRecord.account_id == account_id))


def assert_clean(server, account_id: int | None = None, credits: int | None = None) -> None:
    """Nothing on disk, no slot held, (for an account) its credits untouched."""
    assert eventually(lambda: not leftovers(server)), leftovers(server)
    if account_id is None:
        assert eventually(lambda: (anonymous_row(server) or AnonymousClient(active_jobs=0)).active_jobs == 0)
    else:
        assert eventually(lambda: account_row(server, account_id).active_jobs == 0)
        if credits is not None:
            assert account_row(server, account_id).credits == credits


def post(server, key=None, **kwargs) -> httpx.Response:
    with server.client(key) as client:
        return client.post("/v1/transcribe", **kwargs)


# -- 1. every part of every upload is removed ------------------------------------------------------
def test_extra_file_parts_leave_nothing(start_server, jfk):
    server = start_server()
    account_id, key = account_with_key(server, credits=5)
    cases = [
        ([("file", ("a.wav", jfk)), ("file", ("b.wav", jfk))], "More than one 'file' part"),
        ([("file", ("a.wav", jfk)), ("extra", ("b.wav", jfk))], "Unexpected file field 'extra'"),
        ([("spare", ("b.wav", jfk)), ("file", ("a.wav", jfk))], "Unexpected file field 'spare'"),
    ]
    for caller in (None, key):  # anonymous callers too
        for files, message in cases:
            response = post(server, caller, files=files, data={"diarize": "false"})
            assert response.status_code == 400 and message in response.json()["error"], response.text
            assert_clean(server, None if caller is None else account_id, None if caller is None else 5)
    assert anonymous_row(server).transcriptions == 0
    assert transcripts_of(server, account_id) == []


def test_refusals_after_the_file_arrived_leave_nothing(start_server, jfk):
    """Every 400/401 that comes once the file is on disk: the file goes, nothing is charged."""
    server = start_server()
    account_id, key = account_with_key(server, credits=5)
    cases = [
        (key, {"speakers": "99"}, jfk, 400, "speakers"),
        (key, {"language": "xx"}, jfk, 400, "xx"),
        (key, {"model": "large-v9"}, jfk, 400, "Installed models"),
        (key, {}, b"RIFF not really audio" * 1000, 400, "not a readable audio"),
        (key, {}, wav(1), 400, "too short"),
        (None, {"async": "true"}, jfk, 401, "needs an API key"),
        (None, {}, b"\x00" * 5000, 400, "not a readable audio"),
    ]
    for caller, fields, content, status, message in cases:
        response = post(server, caller, files={"file": ("a.wav", content)}, data=fields)
        assert response.status_code == status and message in response.json()["error"], response.text
        assert_clean(server, None if caller is None else account_id, None if caller is None else 5)
    only_fields = post(server, key, files={"language": (None, "en")})  # no file part at all
    assert only_fields.status_code == 400 and "Missing file" in only_fields.json()["error"]
    assert transcripts_of(server, account_id) == [] and anonymous_row(server).transcriptions == 0


def test_answered_uploads_leave_only_the_kept_audio(start_server, jfk):
    server = start_server()
    account_id, key = account_with_key(server, credits=5)
    blobs = server.services.settings.data_dir / "blobs"
    anonymous = post(server, files={"file": ("a.wav", jfk)}, data={"diarize": "false"})
    assert anonymous.status_code == 200, anonymous.text
    assert_clean(server)
    assert not [p for p in blobs.rglob("*") if p.is_file()]  # anonymous callers keep nothing
    keyed = post(server, key, files={"file": ("a.wav", jfk)}, data={"diarize": "false"})
    assert keyed.status_code == 200, keyed.text
    assert_clean(server, account_id, credits=4)
    (transcript,) = transcripts_of(server, account_id)
    assert [p.relative_to(blobs).as_posix() for p in blobs.rglob("*") if p.is_file()] == [
        transcript.audio_key
    ]


def test_client_gone_mid_upload_leaves_nothing(start_server, jfk):
    server = start_server()
    account_id, key = account_with_key(server, credits=5)
    body = multipart(("file", "a.wav", jfk))
    for caller in (None, key):
        upload = RawUpload(server, body, key=caller)
        upload.send(len(body) // 2)
        assert eventually(lambda: len(leftovers(server)) == 1)  # half of it is on disk
        upload.abort()
        assert_clean(server, None if caller is None else account_id, None if caller is None else 5)
    # And the server is unharmed: the slot is free, the next upload is transcribed.
    response = post(server, key, files={"file": ("a.wav", jfk)}, data={"diarize": "false"})
    assert response.status_code == 200, response.text
    assert_clean(server, account_id, credits=4)


def test_form_envelope_is_bounded(start_server):
    """Plain fields, part headers and what follows the last part count too: a body of small parts
    (or none) cannot grow without limit."""
    plans = default_plans()
    plans["anonymous"].max_upload_mb = 1
    server = start_server(plans=plans)
    field = multipart(("language", None, b"e" * 70_000), ("file", "a.wav", wav(SR)))
    header = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\n"
              f"X-Padding: {'p' * 70_000}\r\n\r\n").encode() + wav(SR) + f"\r\n--{BOUNDARY}--\r\n".encode()

    def epilogue():  # no Content-Length: a small file, then 2 MB after the closing boundary
        yield multipart(("file", "a.wav", wav(SR)))
        for _ in range(32):
            yield b"x" * 65536

    content_type = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}
    for content, status, message in [
        (field, 400, "too long"), (header, 400, "header"), (epilogue(), 413, "up to 1 MB"),
    ]:
        response = post(server, content=content, headers=content_type)
        assert response.status_code == status and message in response.json()["error"], response.text
        assert_clean(server)


def test_leftovers_of_a_killed_server_are_swept_at_start_up(tmp_path, jfk):
    """kill -9 in the middle of an upload, then start again on the same data dir."""
    data = tmp_path / "data"
    port = free_port()

    def serve() -> subprocess.Popen:
        return serve_vocable(data, port)

    server = SimpleNamespace(port=port)  # what RawUpload needs of a server
    uploads = data / "uploads"
    process = serve()
    try:
        body = multipart(("file", "a.wav", jfk))
        upload = RawUpload(server, body)
        upload.send(len(body) // 2)
        assert eventually(lambda: uploads.exists() and any(p.stat().st_size for p in uploads.iterdir()))
        os.kill(process.pid, signal.SIGKILL)
        process.wait(30)
        upload.close()
        assert len(list(uploads.iterdir())) == 1  # the crash left it behind
        db = Database(f"sqlite:///{data / 'vocable.db'}")
        with db.session() as s:
            assert s.get(AnonymousClient, "127.0.0.1").active_jobs == 1  # and the slot counted
        process = serve()
        assert list(uploads.iterdir()) == []
        with db.session() as s:
            assert s.get(AnonymousClient, "127.0.0.1").active_jobs == 0
        db.dispose()
        # The anonymous caller's one slot is free: the next request is read (and lacks a file).
        refused = httpx.post(f"http://127.0.0.1:{port}/v1/transcribe", files={"language": (None, "en")})
        assert refused.status_code == 400 and "Missing file" in refused.json()["error"]
    finally:
        process.kill()
        process.wait(30)


# -- 6. limits are checked before the body is read -----------------------------------------------
def test_refused_before_the_body_is_read(start_server, jfk):
    """Only the head is sent: the answer comes all the same, and nothing reaches the disk."""
    server = start_server()
    _, broke = account_with_key(server, credits=0)
    declared = 150 * 1024 * 1024
    cases = [
        (broke, declared, 402, "No credits remaining"),
        (None, 101 * 1024 * 1024, 413, "the anonymous plan accepts files up to 100 MB"),
    ]
    for key, length, status, message in cases:
        upload = RawUpload(server, b"", key=key, content_length=length)
        code, _, body = upload.response(timeout=30)
        upload.close()
        assert (code, message in body["error"]) == (status, True), body
        assert_clean(server)
    # The anonymous caller's one slot is held by an upload in progress: the next one is refused
    # at once (429, Retry-After), and gets its slot after the first is answered.
    body = multipart(("diarize", None, b"false"), ("file", "a.wav", jfk))
    first = RawUpload(server, body)
    first.send(len(body) // 3)
    assert eventually(lambda: len(leftovers(server)) == 1)
    second = RawUpload(server, body, content_length=len(body))
    code, headers, refused = second.response(timeout=30)
    second.close()
    assert code == 429 and "1 job(s) at a time" in refused["error"] and int(headers["retry-after"]) > 0
    assert len(leftovers(server)) == 1
    first.send()
    code, _, _ = first.response(timeout=300)
    first.close()
    assert code == 200
    assert_clean(server)


def test_parallel_uploads_beyond_the_slots_never_reach_the_disk(start_server, database_url, jfk):
    """Eight uploads at once on a two-slot account: two are received, six get 429 while those two
    are still arriving; one of the two completes, the other's client vanishes."""
    server = start_server(database_url)
    account_id, key = account_with_key(server, plan="free")  # 2 concurrent jobs
    body = multipart(("async", None, b"true"), ("diarize", None, b"false"), ("file", "a.wav", jfk))

    def begin(_):
        upload = RawUpload(server, body, key=key)
        upload.send(64 * 1024)  # part headers and the start of the file
        return upload

    with ThreadPoolExecutor(8) as pool:
        uploads = list(pool.map(begin, range(8)))
    try:
        deadline = time.monotonic() + 60
        while sum(u.answered() for u in uploads) < 6 and time.monotonic() < deadline:
            time.sleep(0.05)
        refused = [u for u in uploads if u.answered()]
        receiving = [u for u in uploads if not u.answered()]
        assert (len(refused), len(receiving)) == (6, 2)
        for upload in refused:
            code, headers, error = upload.response()
            assert code == 429 and "2 job(s) at a time" in error["error"] and "retry-after" in headers
        assert account_row(server, account_id).active_jobs == 2
        # Only the two that hold the slots reach the disk.
        assert eventually(lambda: len(leftovers(server)) == 2), leftovers(server)
        done, gone = receiving
        gone.abort()
        done.send()
        code, _, accepted = done.response(timeout=120)
        assert code == 202, accepted
    finally:
        for upload in uploads:
            upload.close()
    assert eventually(lambda: transcripts_of(server, account_id)[0].status == "completed", 300)
    assert_clean(server, account_id)
    row = account_row(server, account_id)
    assert row.minutes_used == 1 and transcriptions_recorded(server, account_id) == 1


# -- 7. audio too short to hold speech -------------------------------------------------------------
def test_audio_too_short_for_speech_costs_nothing(start_server):
    server = start_server()
    account_id, key = account_with_key(server, credits=5)
    for caller in (None, key):
        for samples in (1, 2, SR // 20, SR // 10 - 1):  # up to 0.1 s less one sample
            response = post(server, caller, files={"file": ("a.wav", wav(samples))})
            assert response.status_code == 400, response.text
            error = response.json()["error"]
            assert "too short to hold speech" in error and "at least 0.1 s" in error
            assert_clean(server, None if caller is None else account_id, None if caller is None else 5)
    assert anonymous_row(server).transcriptions == 0  # four refusals: all three a day are left
    assert transcripts_of(server, account_id) == [] and transcriptions_recorded(server, account_id) == 0
    # 0.1 s is enough to be tried (and paid for), even if it holds no words.
    response = post(server, key, files={"file": ("a.wav", wav(SR // 10))}, data={"diarize": "false"})
    assert response.status_code == 200, response.text
    assert response.json()["duration"] == pytest.approx(0.1, abs=0.01)
    assert_clean(server, account_id, credits=4)


def test_stream_ending_with_too_little_audio_costs_nothing(start_server):
    server = start_server()
    account_id, key = account_with_key(server, credits=5)
    config = json.dumps({"language": "en"})
    stop = json.dumps({"action": "stop"})
    headers = {"Authorization": f"Bearer {key}"}

    async def run(audio: bytes, end: str):
        messages = []
        async with connect(stream_url(server.url), additional_headers=headers) as ws:
            await ws.send(config)
            messages.append(json.loads(await ws.recv()))
            if audio:
                await ws.send(audio)
            if end == "vanish":
                ws.transport.abort()
                return messages, None
            await ws.send(stop)
            try:
                async for raw in ws:
                    messages.append(json.loads(raw))
            except ConnectionClosed:  # closed with an error code
                pass
            return messages, ws.close_code

    one_sample, under = b"\x01\x00", b"\x01\x00" * (SR // 10 - 1)
    for audio in (one_sample, under):
        messages, code = asyncio.run(run(audio, "stop"))
        assert messages[0] == {"status": "ready", "model": "base"} and code == CLOSE_BAD_REQUEST
        assert "too short to hold speech" in messages[-1]["error"]
        assert not any(m.get("is_final") for m in messages)
        assert_clean(server, account_id, credits=5)
    asyncio.run(run(one_sample, "vanish"))  # a client gone with one sample sent: refunded too
    assert_clean(server, account_id, credits=5)
    messages, code = asyncio.run(run(b"", "stop"))  # no audio at all: ends normally, costs nothing
    assert messages[-1]["is_final"] is True and code == 1000
    assert_clean(server, account_id, credits=5)
    assert eventually(lambda: server.services.streaming.active == 0)
