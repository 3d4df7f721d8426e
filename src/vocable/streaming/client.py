"""Play PCM to ``WS /v1/stream`` and keep every message with the time it came: the CLI's
``vocable stream``, the streaming benchmark and the tests use it.

The transport is the Python SDK's (``vocable_sdk.streaming.AsyncStreamSession``): there is one
WebSocket client in this project, and this module only paces the audio and records timings.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

import numpy as np
from vocable_sdk.errors import VocableError
from vocable_sdk.streaming import AsyncStreamSession

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
    options: dict | None = None,
) -> StreamOutcome:
    """Send ``pcm`` in ``chunk_s`` frames (or exactly ``frame_bytes``, odd sizes included) at
    ``speed`` × real time (0 = as fast as the server reads), then stop; return every message
    received. ``options`` are more config keys (diarize, vocabulary, save...). Raises
    ``StreamRefused`` if the server refuses the stream before it is ready."""
    out = StreamOutcome()

    def note(message: dict) -> None:
        out.messages.append((time.monotonic(), message))
        if on_message:
            on_message(message)

    session = AsyncStreamSession(
        stream_url(url, key if key_in_query else None), None if key_in_query else key,
        language, model, open_timeout=120, options=options,
    )
    try:
        await session.open()
    except VocableError as exc:
        raise StreamRefused(str(exc), exc.close_code) from None

    async def frames() -> AsyncIterator[bytes]:
        step = frame_bytes or max(2, int(chunk_s * BYTES_PER_SECOND) // 2 * 2)
        out.started = time.monotonic()
        for offset in range(0, len(pcm), step):
            chunk = pcm[offset:offset + step]
            audio_end = (offset + len(chunk)) / BYTES_PER_SECOND
            if speed > 0:  # a microphone delivers a frame only once it has been spoken
                delay = out.started + audio_end / speed - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            yield chunk
            out.sent.append((audio_end, time.monotonic()))  # resumed once the frame was sent

    try:
        async with asyncio.timeout(timeout_s):
            async for event in session.transcribe(frames()):
                note(event.raw)
    except VocableError:
        pass  # the server's reason is in session.error; a lost connection leaves none
    except TimeoutError:
        await session.close()
    finally:
        if session.error:
            note({"error": session.error})
        await session.wait_closed()
        out.close_code, out.close_reason = session.close_code, session.close_reason
    return out
