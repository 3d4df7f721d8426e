"""Real-time transcription over ``WS /v1/stream``, and the PCM helpers it needs.

The protocol (see the API docs): connect, send ``{"language": ..., "model": ...}``, wait for
``{"status": "ready"}``, send binary frames of PCM int16 LE 16 kHz mono, read ``{"partial"}`` /
``{"text"}`` messages, send ``{"action": "stop"}`` and read until ``{"is_final": true}``. A
refused or failed stream sends ``{"error": "..."}`` and closes with 4000 + the HTTP status.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
import wave
from array import array
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from vocable_sdk.errors import APIConnectionError, StreamError, VocableError, stream_error
from vocable_sdk.types import StreamEvent

_Self = TypeVar("_Self")

SAMPLE_RATE = 16_000
BYTES_PER_SECOND = SAMPLE_RATE * 2
DEFAULT_CHUNK_MS = 100


# -- PCM helpers -----------------------------------------------------------------------------------
def stream_url(base_url: str) -> str:
    """``http(s)://host[/prefix]`` → ``ws(s)://host[/prefix]/v1/stream``."""
    parts = urlsplit(base_url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/") + "/v1/stream", "", ""))


def iter_pcm_file(path: str | os.PathLike, chunk_ms: int = DEFAULT_CHUNK_MS) -> Iterator[bytes]:
    """Decode any audio/video file into chunks of 16 kHz mono int16 PCM of ``chunk_ms`` each.

    Uses PyAV when installed (``pip install "vocable-sdk[av]"``); without it only WAV files
    with 16-bit samples are read (any rate and channel count, converted here).
    """
    chunk = max(2, BYTES_PER_SECOND * chunk_ms // 1000 // 2 * 2)
    try:
        import av  # noqa: F401
    except ImportError:
        pieces = _wav_pcm(Path(path))
    else:
        pieces = _av_pcm(Path(path))
    buffer = bytearray()
    for piece in pieces:
        buffer += piece
        while len(buffer) >= chunk:
            yield bytes(buffer[:chunk])
            del buffer[:chunk]
    if buffer:
        yield bytes(buffer)


def _av_pcm(path: Path) -> Iterator[bytes]:
    import av

    with av.open(str(path)) as container:
        audio = next((s for s in container.streams if s.type == "audio"), None)
        if audio is None:
            raise ValueError(f"{path} has no audio track")
        resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        for frame in container.decode(audio):
            for out in resampler.resample(frame):
                yield bytes(out.planes[0])[: out.samples * 2]  # the plane may be padded
        for out in resampler.resample(None):
            yield bytes(out.planes[0])[: out.samples * 2]


def _wav_pcm(path: Path) -> Iterator[bytes]:
    try:
        reader = wave.open(str(path), "rb")  # noqa: SIM115 - closed by the with below
    except (wave.Error, EOFError) as exc:
        raise ValueError(
            f'cannot decode {path.name} without PyAV: install it (pip install "vocable-sdk[av]") '
            f"or give a 16-bit PCM WAV file ({exc})"
        ) from None
    with reader:
        if reader.getsampwidth() != 2:
            raise ValueError(f"{path.name}: only 16-bit WAV is read without PyAV")
        channels, rate = reader.getnchannels(), reader.getframerate()
        position = 0.0  # fractional source position, kept across blocks for resampling
        step = rate / SAMPLE_RATE
        while True:
            block = reader.readframes(rate)  # one second at a time
            if not block:
                break
            samples = array("h", block)
            if channels > 1:
                samples = array(
                    "h",
                    (
                        sum(samples[i : i + channels]) // channels
                        for i in range(0, len(samples), channels)
                    ),
                )
            if rate == SAMPLE_RATE:
                yield samples.tobytes()
                continue
            out = array("h")
            while position < len(samples):
                out.append(samples[int(position)])
                position += step
            position -= len(samples)
            yield out.tobytes()


def paced(chunks: Iterable[bytes], speed: float = 1.0) -> Iterator[bytes]:
    """Yield PCM chunks no faster than ``speed`` × real time (as a microphone would)."""
    started = time.monotonic()
    sent = 0
    for chunk in chunks:
        due = started + sent / BYTES_PER_SECOND / speed
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        yield chunk
        sent += len(chunk)


async def apaced(
    chunks: Iterable[bytes] | AsyncIterable[bytes], speed: float = 1.0
) -> AsyncIterator[bytes]:
    """``paced`` for asyncio (a sync iterable is advanced in a thread: decoding may block)."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    sent = 0
    async for chunk in _aiter(chunks):
        delay = started + sent / BYTES_PER_SECOND / speed - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        yield chunk
        sent += len(chunk)


_END = object()


async def _aiter(chunks: Iterable[bytes] | AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    if hasattr(chunks, "__aiter__"):
        async for chunk in chunks:  # type: ignore[union-attr]
            yield chunk
        return
    iterator = iter(chunks)  # type: ignore[arg-type]
    while True:
        chunk = await asyncio.to_thread(next, iterator, _END)
        if chunk is _END:
            return
        yield chunk  # type: ignore[misc]


def _config(language: str | None, model: str | None, options: dict[str, Any] | None = None) -> str:
    """The first message: language, model and any other config keys (vocabulary, prompt...)."""
    config = {**(options or {}), "language": language, "model": model}
    return json.dumps({k: v for k, v in config.items() if v is not None})


def _headers(api_key: str | None, extra: dict[str, str] | None) -> dict[str, str]:
    headers = dict(extra or {})
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    return headers


class _Reader:
    """Turns raw messages into events; shared by the sync and async sessions."""

    def __init__(self) -> None:
        self.finals: list[StreamEvent] = []
        self.partial = ""
        self.duration: float | None = None
        self.done = False
        self.error: str | None = None

    def read(self, message: str | bytes) -> StreamEvent | None:
        if isinstance(message, bytes):
            return None
        try:
            data = json.loads(message)
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        if "error" in data:
            self.error = str(data["error"])
            return None
        event = StreamEvent.from_dict(data)
        if event is None:
            return None
        if event.type == "final":
            self.finals.append(event)
            self.partial = ""
        elif event.type == "partial":
            self.partial = event.text
        else:
            self.done = True
            self.duration = event.duration
        return event

    def failure(self, code: int | None, reason: str) -> VocableError:
        message = self.error or reason or "the stream closed before it was complete"
        if code in (None, 1000) and not self.error:
            return StreamError(message, close_code=code)
        return stream_error(message, code)

    @property
    def text(self) -> str:
        return " ".join(e.text.strip() for e in self.finals if e.text.strip())


# -- sync ------------------------------------------------------------------------------------------
class StreamSession:
    """A live stream. Use it as a context manager (``with client.stream(...) as s``); the
    connection opens on entry (after ``ready``) and closes on exit.

    ``transcribe(chunks)`` sends an iterable of PCM chunks (from a background thread) and yields
    events as they arrive, until the stream is complete. For full control use ``send``, ``stop``
    and iterate ``events()`` yourself (e.g. from another thread).
    """

    def __init__(
        self,
        url: str,
        api_key: str | None,
        language: str | None,
        model: str | None,
        headers: dict[str, str] | None = None,
        open_timeout: float = 300.0,
        options: dict[str, Any] | None = None,
    ):
        self.url = url
        self._headers = _headers(api_key, headers)
        self._config = _config(language, model, options)
        self._open_timeout = open_timeout
        self._ws: Any = None
        self._reader = _Reader()

    # connection
    def open(self) -> StreamSession:
        from websockets.exceptions import ConnectionClosed, InvalidStatus
        from websockets.sync.client import connect

        try:
            # Entered, not just called: from websockets 17.1 connect() is a context manager
            # that connects on entry (calling it alone is deprecated); before, entering is a no-op.
            self._ws = connect(
                self.url,
                additional_headers=self._headers,
                open_timeout=self._open_timeout,
                max_size=None,
            ).__enter__()
        except InvalidStatus as exc:
            raise APIConnectionError(
                f"stream refused: HTTP {exc.response.status_code}", status=exc.response.status_code
            ) from None
        except OSError as exc:
            raise APIConnectionError(f"cannot connect to {self.url}: {exc}") from exc
        try:
            self._ws.send(self._config)
            while True:  # the first model load may take a while: ready means ready
                message = self._ws.recv(timeout=self._open_timeout)
                if isinstance(message, str) and json.loads(message).get("status") == "ready":
                    return self
                self._reader.read(message)
        except ConnectionClosed as exc:
            raise self._closed(exc) from None
        except TimeoutError:
            self.close()
            raise StreamError("the server did not answer ready in time") from None

    def close(self) -> None:
        if self._ws is not None:
            self._ws.close()

    def __enter__(self: _Self) -> _Self:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _closed(self, exc: Any) -> VocableError:
        rcvd = getattr(exc, "rcvd", None)
        return self._reader.failure(rcvd.code if rcvd else None, rcvd.reason if rcvd else "")

    # sending
    def send(self, pcm: bytes) -> None:
        """Send PCM int16 LE, 16 kHz, mono (any length)."""
        self._ws.send(bytes(pcm))

    def stop(self) -> None:
        """No more audio: the server finalizes what it has, then sends the final event."""
        self._ws.send(json.dumps({"action": "stop"}))

    # receiving
    def events(self) -> Iterator[StreamEvent]:
        """Events until the stream is complete (the last one has ``type == "done"``)."""
        from websockets.exceptions import ConnectionClosed

        while not self._reader.done:
            try:
                message = self._ws.recv()
            except ConnectionClosed as exc:
                if self._reader.done:
                    return
                raise self._closed(exc) from None
            event = self._reader.read(message)
            if event is not None:
                yield event

    def transcribe(self, chunks: Iterable[bytes]) -> Iterator[StreamEvent]:
        """Send ``chunks`` (then stop) while yielding events, until the stream is complete."""
        from websockets.exceptions import ConnectionClosed

        failure: list[Exception] = []
        quit = threading.Event()

        def pump() -> None:
            try:
                for chunk in chunks:
                    if quit.is_set():
                        return
                    self.send(chunk)
                self.stop()
            except ConnectionClosed:
                pass  # the reader reports why
            except Exception as exc:  # noqa: BLE001 - the audio source failed: end the stream
                failure.append(exc)
                self.close()

        sender = threading.Thread(target=pump, name="vocable-stream-sender", daemon=True)
        sender.start()
        try:
            yield from self.events()
        except VocableError:
            if failure:
                raise failure[0] from None
            raise
        finally:
            quit.set()
            if not self._reader.done:
                self.close()
            sender.join(timeout=5)
        if failure:
            raise failure[0]

    # results so far
    @property
    def text(self) -> str:
        """The finalized text so far (segments joined)."""
        return self._reader.text

    @property
    def finals(self) -> list[StreamEvent]:
        return list(self._reader.finals)

    @property
    def partial(self) -> str:
        return self._reader.partial

    @property
    def duration(self) -> float | None:
        """Seconds of audio the server received (known once the stream is complete)."""
        return self._reader.duration


# -- async -----------------------------------------------------------------------------------------
class AsyncStreamSession:
    """``StreamSession`` for asyncio: ``async with client.stream(...) as s: async for e in
    s.transcribe(chunks)``; ``chunks`` may be a sync or an async iterable."""

    def __init__(
        self,
        url: str,
        api_key: str | None,
        language: str | None,
        model: str | None,
        headers: dict[str, str] | None = None,
        open_timeout: float = 300.0,
        options: dict[str, Any] | None = None,
    ):
        self.url = url
        self._headers = _headers(api_key, headers)
        self._config = _config(language, model, options)
        self._open_timeout = open_timeout
        self._ws: Any = None
        self._reader = _Reader()

    async def open(self) -> AsyncStreamSession:
        from websockets.asyncio.client import connect
        from websockets.exceptions import ConnectionClosed, InvalidStatus

        try:
            self._ws = await connect(
                self.url,
                additional_headers=self._headers,
                open_timeout=self._open_timeout,
                max_size=None,
            )
        except InvalidStatus as exc:
            raise APIConnectionError(
                f"stream refused: HTTP {exc.response.status_code}", status=exc.response.status_code
            ) from None
        except OSError as exc:
            raise APIConnectionError(f"cannot connect to {self.url}: {exc}") from exc

        async def ready() -> None:
            while True:
                message = await self._ws.recv()
                if isinstance(message, str) and json.loads(message).get("status") == "ready":
                    return
                self._reader.read(message)

        try:
            await self._ws.send(self._config)
            await asyncio.wait_for(ready(), self._open_timeout)
        except ConnectionClosed as exc:
            raise self._closed(exc) from None
        except asyncio.TimeoutError:  # not the builtin TimeoutError before 3.11
            await self.close()
            raise StreamError("the server did not answer ready in time") from None
        return self

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()

    async def wait_closed(self, timeout: float = 10.0) -> None:
        """Wait for the server to close the connection (it does after is_final or an error);
        close it from this side if it has not within ``timeout`` seconds."""
        if self._ws is None:
            return
        try:
            await asyncio.wait_for(self._ws.wait_closed(), timeout)
        except asyncio.TimeoutError:  # not the builtin TimeoutError before 3.11
            await self._ws.close()

    @property
    def close_code(self) -> int | None:
        """How the connection closed (1000 after is_final; 4000 + HTTP status on an error)."""
        return self._ws.close_code if self._ws is not None else None

    @property
    def close_reason(self) -> str:
        return (self._ws.close_reason or "") if self._ws is not None else ""

    @property
    def error(self) -> str | None:
        """The server's ``{"error": ...}`` message, if it sent one."""
        return self._reader.error

    async def __aenter__(self: _Self) -> _Self:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _closed(self, exc: Any) -> VocableError:
        rcvd = getattr(exc, "rcvd", None)
        return self._reader.failure(rcvd.code if rcvd else None, rcvd.reason if rcvd else "")

    async def send(self, pcm: bytes) -> None:
        await self._ws.send(bytes(pcm))

    async def stop(self) -> None:
        await self._ws.send(json.dumps({"action": "stop"}))

    async def events(self) -> AsyncIterator[StreamEvent]:
        from websockets.exceptions import ConnectionClosed

        while not self._reader.done:
            try:
                message = await self._ws.recv()
            except ConnectionClosed as exc:
                if self._reader.done:
                    return
                raise self._closed(exc) from None
            event = self._reader.read(message)
            if event is not None:
                yield event

    async def transcribe(
        self, chunks: Iterable[bytes] | AsyncIterable[bytes]
    ) -> AsyncIterator[StreamEvent]:
        from websockets.exceptions import ConnectionClosed

        failure: list[Exception] = []

        async def pump() -> None:
            try:
                async for chunk in _aiter(chunks):
                    await self.send(chunk)
                await self.stop()
            except ConnectionClosed:
                pass  # the reader reports why
            except Exception as exc:  # noqa: BLE001 - the audio source failed: end the stream
                failure.append(exc)
                await self.close()

        sender = asyncio.create_task(pump())
        try:
            async for event in self.events():
                yield event
        except VocableError:
            if failure:
                raise failure[0] from None
            raise
        finally:
            if not sender.done():
                sender.cancel()
            if not self._reader.done:
                await self.close()
            await asyncio.gather(sender, return_exceptions=True)
        if failure:
            raise failure[0]

    @property
    def text(self) -> str:
        return self._reader.text

    @property
    def finals(self) -> list[StreamEvent]:
        return list(self._reader.finals)

    @property
    def partial(self) -> str:
        return self._reader.partial

    @property
    def duration(self) -> float | None:
        return self._reader.duration
