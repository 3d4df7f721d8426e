"""A small client for WS /v1/stream: plays PCM to a server (at real-time speed by default) and
collects what comes back. Used by ``vocable stream``, the streaming benchmark and the tests."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

import numpy as np

from vocable.audio import SAMPLE_RATE

BYTES_PER_SECOND = SAMPLE_RATE * 2


def pcm16_from_file(path: str | Path) -> bytes:
    """Any audio or video file → 16 kHz mono little-endian int16 PCM (decoded with PyAV)."""
    from vocable.audio import iter_audio

    chunks = [
        (np.clip(a, -1.0, 1.0) * 32767.0).astype("<i2").tobytes() for a in iter_audio(path, 60.0)
    ]
    return b"".join(chunks)


def stream_url(base: str, token: str | None = None, ticket: str | None = None) -> str:
    """``http://host:port`` (or ws://, or a full /v1/stream URL) → the WebSocket URL, with a
    stream ticket (``POST /v1/stream/ticket``) or, for old servers, the key as ``?token=``."""
    parts = urlsplit(base if "://" in base else f"http://{base}")
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    path = parts.path.rstrip("/")
    if not path.endswith("/v1/stream"):
        path += "/v1/stream"
    if ticket:
        query = urlencode({"ticket": ticket})
    else:
        query = urlencode({"token": token}) if token else parts.query
    return urlunsplit((scheme, parts.netloc, path, query, ""))


@dataclass
class StreamOutcome:
    messages: list[tuple[float, dict]] = field(default_factory=list)  # (monotonic time, message)
    sent: list[tuple[float, float]] = field(default_factory=list)  # (audio seconds sent, time)
    started: float = 0.0  # monotonic time the first audio byte was sent
    close_code: int | None = None
    close_reason: str = ""

    @property
    def finals(self) -> list[dict]:
        return [m for _, m in self.messages if "text" in m]

    @property
    def partials(self) -> list[dict]:
        return [m for _, m in self.messages if "partial" in m]

    @property
    def text(self) -> str:
        return " ".join(m["text"] for m in self.finals).strip()

    @property
    def error(self) -> str | None:
        errors = [m["error"] for _, m in self.messages if "error" in m]
        return errors[-1] if errors else None

    @property
    def completed(self) -> bool:
        return any(m.get("is_final") for _, m in self.messages)


class StreamRefused(Exception):
    def __init__(self, message: str, code: int | None):
        super().__init__(message)
        self.code = code


async def stream_pcm(
    url: str,
    pcm: bytes,
    *,
    key: str | None = None,
    key_in_query: bool = False,
    model: str | None = None,
    language: str | None = None,
    chunk_s: float = 0.1,
    frame_bytes: int | None = None,
    speed: float = 1.0,
    on_message: Callable[[dict], None] | None = None,
    timeout_s: float = 600.0,
) -> StreamOutcome:
    """Send ``pcm`` in ``chunk_s`` frames (or exactly ``frame_bytes``, odd sizes included) at
    ``speed`` × real time (0 = as fast as the server reads), then stop; return every message
    received. Raises ``StreamRefused`` if the server refuses the stream before it is ready."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    headers = {"Authorization": f"Bearer {key}"} if key and not key_in_query else {}
    target = stream_url(url, key if key_in_query else None)
    out = StreamOutcome()
    config = {k: v for k, v in (("language", language), ("model", model)) if v}
    async with connect(target, additional_headers=headers, max_size=None,
                       open_timeout=30, close_timeout=10) as ws:
        await ws.send(json.dumps(config))
        try:
            first = json.loads(await asyncio.wait_for(ws.recv(), timeout=120))
        except ConnectionClosed as exc:
            raise StreamRefused("connection closed before ready", exc.rcvd.code if exc.rcvd else None)
        if first.get("status") != "ready":
            code = None
            try:
                await asyncio.wait_for(ws.wait_closed(), 10)
            finally:
                code = ws.close_code
            raise StreamRefused(first.get("error", str(first)), code)

        async def send() -> None:
            step = frame_bytes or max(2, int(chunk_s * BYTES_PER_SECOND) // 2 * 2)
            out.started = time.monotonic()
            for offset in range(0, len(pcm), step):
                chunk = pcm[offset:offset + step]
                audio_end = (offset + len(chunk)) / BYTES_PER_SECOND
                if speed > 0:  # a microphone delivers a frame only once it has been spoken
                    delay = out.started + audio_end / speed - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                await ws.send(chunk)
                out.sent.append((audio_end, time.monotonic()))
            await ws.send(json.dumps({"action": "stop"}))

        async def receive() -> None:
            async for raw in ws:
                message = json.loads(raw)
                out.messages.append((time.monotonic(), message))
                if on_message:
                    on_message(message)

        sender = asyncio.create_task(send())
        try:
            await asyncio.wait_for(receive(), timeout_s)
        except ConnectionClosed:
            pass
        finally:
            if not sender.done():
                sender.cancel()
            await asyncio.gather(sender, return_exceptions=True)
        out.close_code = ws.close_code
        out.close_reason = ws.close_reason or ""
    return out
