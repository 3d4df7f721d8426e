"""The speech-synthesis flow of every HTTP surface: POST /v1/tts and the OpenAI-compatible
POST /v1/audio/speech run it alike, so they share keys, plans, credits and limits.

1. Admission as for a file (rate limit, allowance, a concurrency slot; family ``tts``), before the
   body is read.
2. The reservation, for the estimated length of the speech plus the reference's, while the
   service decides the voice and speaks the first sentence (an error there refunds it).
3. The answer, sentence by sentence through ``AudioEncoder``: buffered in a spooled temporary file
   (memory stays bounded; ``X-Duration`` and ``X-Generation-Time`` are exact headers), or streamed
   as it is made (``stream``: those two are unknown when the headers leave, so they are left out).
4. ``settle`` charges the real audio minutes, out and in (speech made + reference heard, rounded up
   to whole minutes as transcription is); a failure refunds; the slot is released on every path.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from fastapi.responses import Response, StreamingResponse
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from vocable.accounts.admission import AdmittedUpload
from vocable.audio.encode import AudioEncoder, audio_format, wav_header
from vocable.audio.tts import Synthesis
from vocable.services import Services

SPOOL_BYTES = 8 * 1024 * 1024  # a buffered answer over this goes to disk
READ_CHUNK = 256 * 1024


@dataclass(frozen=True)
class SpeechOrder:
    text: str
    voice: str | None = None
    speed: float = 1.0
    format: str = "wav"
    stream: bool = False


def voice_headers(synthesis: Synthesis) -> dict[str, str]:
    headers = {
        "X-Voice": synthesis.mode, "X-Vocable-Voice": synthesis.voice,
        "X-Sample-Rate": str(synthesis.sample_rate),
    }
    if synthesis.similarity is not None:
        headers["X-Speaker-Similarity"] = f"{synthesis.similarity:.4f}"
    return headers


async def speak(
    services: Services, admitted: AdmittedUpload, order: SpeechOrder,
    reference: np.ndarray | None = None,
) -> Response:
    """Speak ``order`` for the admitted caller. The upload's slot passes to the answer, which
    gives it back when it ends."""
    tts = services.tts
    text = tts.check_text(order.text)
    tts.check_speed(order.speed)
    fmt = audio_format(order.format)
    reference_s = 0.0 if reference is None else len(reference) / 16000
    principal = admitted.principal
    estimate = tts.estimate_s(text, order.speed) + reference_s

    def start() -> tuple[Synthesis, object]:
        with services.admission.job(admitted, estimate) as charge:
            synthesis = tts.start(text, order.voice, order.speed, reference)
        return synthesis, charge

    synthesis, charge = await run_in_threadpool(start)  # the slot is the answer's from here

    def settle(ok: bool) -> None:
        try:
            if ok:
                services.admission.settle(
                    principal, charge, synthesis.duration_s + reference_s, family="tts"
                )
            else:
                services.admission.refund(principal, charge)
        finally:
            services.admission.release(principal)

    headers = voice_headers(synthesis)
    if order.stream:
        return StreamingResponse(
            _streamed(synthesis, fmt, settle), media_type=fmt.media_type, headers=headers
        )
    try:
        spool = await run_in_threadpool(_buffered, synthesis, fmt)
    except BaseException:
        await run_in_threadpool(settle, False)
        raise
    await run_in_threadpool(settle, True)
    size = spool.seek(0, 2)
    spool.seek(0)
    headers |= {
        "X-Duration": f"{synthesis.duration_s:.3f}",
        "X-Generation-Time": f"{synthesis.generation_s:.3f}",
        "Content-Length": str(size),
    }
    return StreamingResponse(
        _read(spool), media_type=fmt.media_type, headers=headers,
        background=BackgroundTask(spool.close),
    )


def _buffered(synthesis: Synthesis, fmt) -> tempfile.SpooledTemporaryFile:
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - the answer closes it
    try:
        encoder = AudioEncoder(fmt, synthesis.sample_rate)
        for piece in synthesis.pieces():
            spool.write(encoder.feed(piece))
        spool.write(encoder.finish())
        if fmt.name == "wav":  # now the length is known: the header says it exactly
            spool.seek(0)
            spool.write(wav_header(synthesis.sample_rate, synthesis.samples))
        return spool
    except BaseException:
        spool.close()
        raise


def _read(spool) -> Iterator[bytes]:
    while chunk := spool.read(READ_CHUNK):
        yield chunk


def _streamed(synthesis: Synthesis, fmt, settle) -> Iterator[bytes]:
    """The encoded speech as it is made; the bill is settled when it ends (refunded if the
    client left or synthesis failed before the end)."""
    ok = False
    try:
        encoder = AudioEncoder(fmt, synthesis.sample_rate)
        for piece in synthesis.pieces():
            if chunk := encoder.feed(piece):
                yield chunk
        if tail := encoder.finish():
            yield tail
        ok = True
    finally:
        settle(ok)
