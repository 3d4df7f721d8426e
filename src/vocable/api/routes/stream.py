"""WS /v1/stream: real-time transcription (protocol glue; the policy is ``vocable.streaming.policy``).

1. Connect with ``Authorization: Bearer <key>``, or (browsers, which cannot set headers) with
   ``?ticket=<ticket>`` from ``POST /v1/stream/ticket``: one stream, within ``expires_in``
   seconds; no key is an anonymous client. ``?token=<key>`` still works for old clients (it is
   masked in logs) but puts the long-lived key in a URL.
2. Send a JSON config ``{"language": "en", "model": "base"}`` (all optional; language ``auto``
   or absent detects it; ``vocabulary``, a list of domain terms, and ``prompt``, text in the
   style wanted, steer Whisper's spelling as on ``POST /v1/transcribe``).
3. Receive ``{"status": "ready", "model": "<id>"}`` (the model that serves the stream: the best
   installed one when the requested model is known but not installed, see ``SpeechModels``).
4. Send binary frames of PCM int16 little-endian, 16 kHz, mono, of any size up to
   ``stream_max_frame_bytes`` (1 MiB, about 33 s; 20-200 ms frames are usual).
5. Receive ``{"partial": "..."}`` (the interim text after the last final; each replaces the
   previous one) and ``{"text": "...", "start": s, "end": s, "words": [...]}`` (a finalized
   segment, never revised; it replaces the partial it covers).
6. Send ``{"action": "stop"}``: the rest is finalized, then ``{"is_final": true, "duration": s,
   "model": "<id>"}`` and the server closes with 1000. With ``"save": true`` in the config (a
   key is needed) the session is stored as a transcript, audio included, and ``is_final``
   carries its ``transcript_id``. With ``"diarize": true`` (and optionally ``"speakers": N``)
   each final carries ``speaker`` (``Speaker 1``, ``Speaker 2``..., consistent over the stream;
   see ``streaming/speakers.py``). ``"enhance": true`` runs the denoiser of
   ``/v1/enhance-audio`` on the audio before recognition (off by default: on the shared
   recordings it costs words, see the README).

Errors are one ``{"error": "..."}`` message followed by a close with one of ``CLOSE_CODES``
(4000 + the HTTP status the same problem has on the REST surface).

Streamed audio is charged like file audio: one unit (credit or free minute; for anonymous
clients one of the daily transcriptions) is reserved before ``ready`` and one more as each
started minute of audio begins. A stream that ends with less audio than can hold speech
(``vocable.audio.MIN_SPEECH_S``, 0.1 s) is refunded; one stopped with some audio, but that
little, gets a 400 error (close 4400) instead of ``is_final``; one with none ends normally. A
stream holds one of the plan's concurrency slots while open.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Annotated

from fastapi import APIRouter, Depends, WebSocket
from pydantic import BaseModel
from starlette.websockets import WebSocketDisconnect, WebSocketState

from vocable.accounts.admission import StreamMeter
from vocable.accounts.keys import Principal
from vocable.accounts.tickets import issue_ticket, redeem_ticket
from vocable.api.deps import (
    ServicesDep,
    account_rate_limited,
    bearer_token,
    client_ip,
    resolve_principal,
)
from vocable.api.errors import WS_CLOSE_INTERNAL, close_code, describe, ws_close_code
from vocable.api.openapi import error_responses
from vocable.audio import SAMPLE_RATE, AudioTooShort
from vocable.audio.denoise import Pcm16Denoiser
from vocable.services import Services
from vocable.streaming.policy import Done, Event, Failed, Final, StreamTranscriber
from vocable.streaming.recording import LiveRecording
from vocable.streaming.speakers import LiveSpeakers
from vocable.transcription.speech_models import SpeechChoice, UnknownLanguage
from vocable.transcription.store import save_transcript
from vocable.transcription.vocabulary import (
    InvalidVocabulary,
    check_prompt,
    initial_prompt,
    parse_vocabulary,
)

log = logging.getLogger("vocable.api.stream")
router = APIRouter()

# 4000 + the HTTP status the same problem has on the REST surface (``vocable.api.errors``).
CLOSE_NORMAL = 1000
CLOSE_INTERNAL = WS_CLOSE_INTERNAL
CLOSE_BAD_REQUEST = ws_close_code(400)
CLOSE_UNAUTHORIZED = ws_close_code(401)
CLOSE_NO_CREDITS = ws_close_code(402)
CLOSE_IDLE = ws_close_code(408)
CLOSE_TOO_LARGE = ws_close_code(413)
CLOSE_LIMIT = ws_close_code(429)
CLOSE_UNAVAILABLE = ws_close_code(503)
CLOSE_TRANSPORT_TOO_LARGE = 1009  # sent by the transport itself, without an {"error"}
CLOSE_CODES = {
    CLOSE_NORMAL: "stream complete (after is_final)",
    CLOSE_TRANSPORT_TOO_LARGE: "a message over the transport's limit (16 MiB), cut unread",
    CLOSE_INTERNAL: "server error",
    CLOSE_BAD_REQUEST: "malformed config, invalid parameter or protocol violation",
    CLOSE_UNAUTHORIZED: "invalid or revoked API key; unknown, expired or used stream ticket",
    CLOSE_NO_CREDITS: "no credits or minutes remaining",
    CLOSE_IDLE: "idle timeout: nothing received for stream_idle_timeout_s",
    CLOSE_TOO_LARGE: "a message over stream_max_frame_bytes",
    CLOSE_LIMIT: "rate or concurrency limit reached, or audio sent far faster than transcribed",
    CLOSE_UNAVAILABLE: "too many open streams or model unavailable",
}

BYTES_PER_S = SAMPLE_RATE * 2  # PCM int16 mono
INGEST_CHUNK = BYTES_PER_S  # bytes handed to the policy at a time (1 s), for backpressure
FINISH_TIMEOUT_S = 300.0  # after stop, the longest we wait for the last decodes
MAX_READ_PAUSE_S = 5.0  # longest pause in reading a client, per message (pings must get through)
MAX_EXTRA_BACKLOG_S = 60.0  # backlog beyond stream_max_backlog_s that ends the stream


class StreamClosed(Exception):
    """End the session: send ``message`` (if any) as an error, close with ``code``."""

    def __init__(self, message: str | None, code: int, flush: bool = False):
        super().__init__(message or "")
        self.message = message
        self.code = code
        self.flush = flush  # finalize the audio received so far before closing


TicketBuyer = Annotated[Principal, Depends(account_rate_limited("account"))]


class StreamTicketOut(BaseModel):
    ticket: str
    expires_in: int  # seconds


@router.post(
    "/v1/stream/ticket",
    summary="A one-use ticket for WS /v1/stream",
    description="Trade the API key (Authorization header) for a ticket that opens one stream "
    "(`WS /v1/stream?ticket=...`) within `expires_in` seconds, so the key never goes in a URL.",
    responses=error_responses(400, 401, 429),
)
def stream_ticket(principal: TicketBuyer, services: ServicesDep) -> StreamTicketOut:
    ttl = services.settings.stream_ticket_ttl_s
    return StreamTicketOut(ticket=issue_ticket(services.db, principal, ttl), expires_in=ttl)


@router.websocket("/v1/stream")
async def stream(ws: WebSocket) -> None:
    await ws.accept()
    await StreamSession(ws, ws.app.state.services).run()


class StreamSession:
    def __init__(self, ws: WebSocket, services: Services):
        self.ws = ws
        self.services = services
        self.settings = services.settings
        self.stream: StreamTranscriber | None = None
        self.meter: StreamMeter | None = None  # the stream's slot and charges, once admitted
        self.events: asyncio.Queue[list[Event]] = asyncio.Queue()
        self.send_lock = asyncio.Lock()
        self.ending = False  # the stream ends on an error: no is_final
        self.released = False
        self.hint = ""  # the config's prompt and vocabulary, as Whisper's prompt
        self.save_for: int | None = None  # "save": the account the session is stored for
        self.recording: LiveRecording | None = None
        self.speakers: LiveSpeakers | None = None  # "diarize": live speaker labels
        self.enhance = False
        self.denoiser: Pcm16Denoiser | None = None  # "enhance": DTLN before recognition

    # -- lifecycle ------------------------------------------------------------------------------
    async def run(self) -> None:
        try:
            await self._serve()
        except StreamClosed as end:
            await self._close(end.message, end.code)
        except (WebSocketDisconnect, ConnectionError):
            pass  # the client left
        except Exception as exc:  # a refusal (domain error) or a failure: the errors table says
            status, message, _ = describe(exc)
            if status == 500:
                log.exception("stream failed")
            await self._close(message, ws_close_code(status))
        finally:
            await self._release()

    async def _serve(self) -> None:
        principal = await self._authenticate()
        choice = await self._read_config(principal)
        # A slot and the first unit of audio, then a loaded model: "ready" means ready.
        admission = self.services.admission
        self.meter = await asyncio.to_thread(admission.stream, principal, BYTES_PER_S)
        await asyncio.to_thread(self.services.speech.load, choice.model)
        scheduler = self.services.streaming
        loop = asyncio.get_running_loop()

        def deliver(events: list[Event]) -> None:  # called on the scheduler's thread
            loop.call_soon_threadsafe(self.events.put_nowait, events)

        if self.save_for is not None:
            self.recording = LiveRecording(self.ws.app.state.uploads.directory)
        if self.enhance:
            model = await asyncio.to_thread(self.services.denoiser.model)
            self.denoiser = Pcm16Denoiser(model.stream())
        self.stream = scheduler.open(choice.model, choice.decode_language, deliver, hint=self.hint)
        # The model that serves the stream (another one than asked for when that one is missing).
        await self._send({"status": "ready", "model": choice.model})

        reader = asyncio.create_task(self._read_audio())
        writer = asyncio.create_task(self._write_events())
        try:
            done, _ = await asyncio.wait({reader, writer}, return_when=asyncio.FIRST_COMPLETED)
            if writer in done:
                writer.result()  # raises StreamClosed (error) or returns (is_final sent)
                await self._close(None, CLOSE_NORMAL)
                return
            end = reader.result()  # None: client gone; StreamClosed: we end the stream
            if end is None:
                return
            if not end.flush:
                raise end
            # Finalize what was received (and paid for), then tell why the stream ends.
            self.ending = True
            self.stream.close_input()
            try:
                await asyncio.wait_for(asyncio.shield(writer), FINISH_TIMEOUT_S)
            except StreamClosed:
                pass
            except TimeoutError:
                pass
            raise StreamClosed(end.message, end.code)
        finally:
            for task in (reader, writer):
                if not task.done():
                    task.cancel()
            await asyncio.gather(reader, writer, return_exceptions=True)

    async def _release(self) -> None:
        if self.recording is not None:  # the stream ended before is_final: nothing is stored
            self.recording.discard()
            self.recording = None
        if self.released:
            return
        self.released = True
        if self.stream is not None:
            self.services.streaming.detach(self.stream)
        if self.meter is not None:  # refund a stream that sent nothing, record usage, free the slot
            await asyncio.to_thread(self.meter.close)

    # -- setup ----------------------------------------------------------------------------------
    async def _authenticate(self) -> Principal:
        """The caller (401 for a bad key or ticket) and one request of "stream" (its rate limit)."""
        ws = self.ws
        ip = client_ip(ws, self.services)
        ticket = ws.query_params.get("ticket")
        if ticket is not None:
            principal = await asyncio.to_thread(redeem_ticket, self.services.db, ticket, ip)
        else:
            token = bearer_token(ws.headers.get("authorization")) or ws.query_params.get("token")
            principal = await asyncio.to_thread(resolve_principal, self.services, token or None, ip)
        await asyncio.to_thread(self.services.admission.request, principal, "stream")
        return principal

    async def _read_config(self, principal: Principal) -> SpeechChoice:
        example = 'e.g. {"language": "en", "model": "base"}'
        timeout = self.settings.stream_idle_timeout_s
        try:
            message = await self._receive(timeout)
        except TimeoutError:
            raise StreamClosed(f"Idle timeout: no config received within {timeout:g} s.", CLOSE_IDLE)
        if message is None:
            raise WebSocketDisconnect()
        if message.get("text") is None:
            raise StreamClosed(f"Send the JSON config first, before any audio: {example}.",
                               CLOSE_BAD_REQUEST)
        try:
            config = json.loads(message["text"])
        except ValueError:
            raise StreamClosed(f"The config is not valid JSON: {example}.", CLOSE_BAD_REQUEST)
        if not isinstance(config, dict):
            raise StreamClosed(f"The config must be a JSON object: {example}.", CLOSE_BAD_REQUEST)
        language, model = config.get("language"), config.get("model")
        for name, value in (("language", language), ("model", model)):
            if value is not None and not isinstance(value, str):
                raise StreamClosed(f"Invalid config: '{name}' must be a string.", CLOSE_BAD_REQUEST)
        save = config.get("save", False)
        if not isinstance(save, bool):
            raise StreamClosed("Invalid config: 'save' must be true or false.", CLOSE_BAD_REQUEST)
        if save and principal.is_anonymous:
            raise StreamClosed("Saving a live session needs an API key (it is stored in the "
                               "account's transcripts).", CLOSE_UNAUTHORIZED)
        self.save_for = principal.account_id if save else None
        diarize, speakers = config.get("diarize", False), config.get("speakers", 0)
        if not isinstance(diarize, bool):
            raise StreamClosed("Invalid config: 'diarize' must be true or false.", CLOSE_BAD_REQUEST)
        if not isinstance(speakers, int) or isinstance(speakers, bool) or not 0 <= speakers <= 32:
            raise StreamClosed("Invalid config: 'speakers' must be a whole number from 0 "
                               "(automatic) to 32.", CLOSE_BAD_REQUEST)
        if diarize:
            self.speakers = LiveSpeakers(self.services.diarization.voiceprint, speakers)
        enhance = config.get("enhance", False)
        if not isinstance(enhance, bool):
            raise StreamClosed("Invalid config: 'enhance' must be true or false.", CLOSE_BAD_REQUEST)
        if enhance:  # the denoiser of /v1/enhance-audio, before recognition (503 if missing)
            self.services.denoiser.check()
            self.enhance = True
        try:  # domain words and a context prompt, bounded as for files (vocabulary.py)
            self.hint = initial_prompt(
                check_prompt(config.get("prompt")), parse_vocabulary(config.get("vocabulary"))
            ) or ""
        except InvalidVocabulary as exc:
            raise StreamClosed(f"Invalid config: {exc}", CLOSE_BAD_REQUEST)
        try:  # an unknown or uninstalled model, an English-only one asked for French: refused
            return self.services.speech.choose(model, language)
        except UnknownLanguage as exc:
            raise StreamClosed(f"Invalid config: {exc}.", close_code(exc))

    # -- streaming ------------------------------------------------------------------------------
    async def _read_audio(self) -> StreamClosed | None:
        """Feed audio until stop (then keep watching for the client leaving). Returns None when the
        client is gone, a StreamClosed when the stream must end early."""
        stopped = False
        while True:
            timeout = None if stopped else self.settings.stream_idle_timeout_s
            try:
                message = await self._receive(timeout)
            except TimeoutError:
                return StreamClosed(
                    f"Idle timeout: no audio received for {timeout:g} s.", CLOSE_IDLE, flush=True
                )
            except StreamClosed as too_large:  # refused unread; what came before is finalized
                return too_large
            if message is None:
                return None
            data, text = message.get("bytes"), message.get("text")
            if data is not None:
                if stopped:
                    continue  # audio after stop is ignored
                end = await self._ingest(data)
                if end is not None:
                    return end
            elif text is not None:
                action = _action(text)
                if action != "stop":
                    return StreamClosed(
                        'Expected binary PCM audio frames or {"action": "stop"}; '
                        f"got a text message that is not a control message: {text[:80]!r}.",
                        CLOSE_BAD_REQUEST,
                    )
                if not stopped:
                    if self.meter.too_short:  # refused like a too short file (and refunded)
                        refusal = AudioTooShort(self.meter.taken / BYTES_PER_S)
                        return StreamClosed(str(refusal), close_code(refusal))
                    stopped = True
                    if self.denoiser is not None:  # the last few ms the network holds
                        self.stream.push_pcm16(await asyncio.to_thread(self.denoiser.finish))
                    self.stream.close_input()

    async def _ingest(self, data: bytes) -> StreamClosed | None:
        """Hand audio to the policy in 1 s pieces, as far as the meter has it paid for, waiting
        while the stream's backlog is full (the socket is not read meanwhile). Returns why the
        stream must end, if it must."""
        stream, meter, max_backlog = self.stream, self.meter, self.settings.stream_max_backlog_s
        loop = asyncio.get_running_loop()
        read_again_at = loop.time() + MAX_READ_PAUSE_S  # for the whole message, however long
        for offset in range(0, len(data), INGEST_CHUNK):
            piece = data[offset:offset + INGEST_CHUNK]
            if meter.needs_unit(len(piece)):  # a minute begins: reserve it (a database call)
                paid = await asyncio.to_thread(meter.take, len(piece))
            else:
                paid = meter.take(len(piece))
            if paid:
                if self.denoiser is not None:  # what is recognised is denoised; what is kept, not
                    stream.push_pcm16(await asyncio.to_thread(self.denoiser.feed, piece[:paid]))
                else:
                    stream.push_pcm16(piece[:paid])
                if self.recording is not None:
                    self.recording.write(piece[:paid])
                if self.speakers is not None:
                    self.speakers.feed(piece[:paid])
            if paid < len(piece):  # the allowance ran out: what was paid for is finalized
                return StreamClosed(str(meter.refused), close_code(meter.refused), flush=True)
            # Not reading the socket is the backpressure, but it also leaves pings unanswered:
            # read again MAX_READ_PAUSE_S after the message came whatever the backlog (the rest of
            # a long message is taken without waiting), and give up on a client that stays far
            # ahead of transcription.
            while stream.backlog_s > max_backlog and not stream.done and loop.time() < read_again_at:
                await asyncio.sleep(0.02)
            if stream.backlog_s > max_backlog + MAX_EXTRA_BACKLOG_S:
                return StreamClosed(
                    f"Audio arrives faster than it can be transcribed ({stream.backlog_s:.0f} s "
                    "waiting); send it at real-time pace or slower.", CLOSE_LIMIT,
                )
        return None

    async def _write_events(self) -> None:
        """Send what the policy produces; return after is_final, raise StreamClosed on failure."""
        while True:
            for event in await self.events.get():
                if isinstance(event, Failed):
                    raise StreamClosed(event.error, CLOSE_INTERNAL)
                if isinstance(event, Done):
                    saved = await self._save(event)
                    # Slot and charges are settled before is_final, so a client may open its next
                    # stream as soon as it reads it.
                    await self._release()
                    if not self.ending:
                        extra = {"transcript_id": saved} if saved else {}
                        await self._send({**event.message(), "model": self.stream.model_id, **extra})
                    return
                if isinstance(event, Final) and self.speakers is not None:
                    event.speaker = await asyncio.to_thread(self.speakers.label, event.start, event.end)
                if isinstance(event, Final) and self.recording is not None:
                    self.recording.add(event)
                await self._send(event.message())

    async def _save(self, done: Done) -> str | None:
        """Store the session (finals and the audio paid for) as a transcript, if asked and if
        something was said; also when it ends early (credits ran out): what was paid is kept."""
        recording, self.recording = self.recording, None
        if recording is None:
            return None
        try:
            recording.close()
            if not recording.finals:
                return None
            result = recording.result(done.duration, done.language, self.stream.model_id)
            return await asyncio.to_thread(
                save_transcript, self.services.db, self.services.blobs, self.save_for, result,
                filename=recording.title, options={"source": "stream", "model": self.stream.model_id},
                audio=recording.path,
            )
        finally:
            recording.discard()  # nothing left once stored (put_file took it) or not stored

    # -- transport --------------------------------------------------------------------------------
    async def _receive(self, timeout: float | None) -> dict | None:
        """The next text/bytes message, None if the client disconnected; StreamClosed (4413) for
        one over ``stream_max_frame_bytes``."""
        message = await asyncio.wait_for(self.ws.receive(), timeout)
        if message["type"] == "websocket.disconnect":
            return None
        size = len(message.get("bytes") or message.get("text") or "")
        limit = self.settings.stream_max_frame_bytes
        if size > limit:
            raise StreamClosed(
                f"Message too large: {size} bytes; a stream takes messages of at most {limit} "
                f"bytes ({limit / BYTES_PER_S:.1f} s of audio). Send audio in short frames, "
                "e.g. 100 ms (3200 bytes).",
                CLOSE_TOO_LARGE, flush=True,
            )
        return message

    async def _send(self, payload: dict) -> None:
        async with self.send_lock:
            if self.ws.application_state == WebSocketState.CONNECTED:
                await self.ws.send_text(json.dumps(payload))

    async def _close(self, message: str | None, code: int) -> None:
        try:
            if message:
                await self._send({"error": message})
            async with self.send_lock:
                if self.ws.application_state == WebSocketState.CONNECTED:
                    reason = (message or "").encode()[:120].decode(errors="ignore")
                    await self.ws.close(code, reason=reason)
        except Exception:
            log.debug("closing a stream whose client left", exc_info=True)


def _action(text: str) -> str | None:
    try:
        message = json.loads(text)
    except ValueError:
        return None
    return message.get("action") if isinstance(message, dict) else None

