"""POST /v1/audio/transcriptions and /v1/audio/translations in OpenAI's shapes.

The same flow as POST /v1/transcribe (``vocable.api.transcription``): the same admission, keys,
plans and credits, a job on the same queue (a keyed caller's transcript is stored, its id in
``X-Transcript-Id``), the same pipeline. What differs is the wire:

* ``model``: ``whisper-1`` and OpenAI's other names get the best installed model; Vocable ids work
  as they are, with the usual fallback (``SpeechModels.choose``). ``X-Vocable-Model`` names it.
* ``prompt`` is Whisper's initial prompt; ``temperature`` the first sampling temperature of
  Whisper's fallback schedule (0, OpenAI's default, is Whisper's usual 0.0, 0.2 ... 1.0).
* ``response_format``: ``json``, ``text``, ``srt``, ``vtt``, ``verbose_json`` (``segments``; ``words``
  with ``timestamp_granularities[]=word``), ``diarized_json`` (transcriptions only).
* ``stream=true``: server-sent events, ``transcript.text.delta`` as each segment is recognized
  (a file over 30 s is decoded in batches: a batch's segments come together), then
  ``transcript.text.done`` (with ``diarized_json``, ``transcript.text.segment`` events first).
* Vocable's extensions: ``diarize=true`` adds ``speaker`` to verbose_json's segments and words;
  ``speakers=N`` expects N speakers.

Translations are Whisper's translate task: speech in any language, English text.

``POST /v1/audio/speech`` (OpenAI's text to speech) is ``speech.py`` beside this module, an
adapter over the same synthesis as POST /v1/tts.
"""

from __future__ import annotations

import asyncio
import math
import zlib
from collections.abc import AsyncIterator
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from vocable.accounts.keys import Principal
from vocable.api import transcription
from vocable.api.deps import PrincipalDep, ServicesDep, UploadsDep
from vocable.api.errors import ApiError
from vocable.api.openai.errors import OpenAIRoute, sse, sse_error
from vocable.api.openapi import content_responses, openai_error_responses
from vocable.api.uploads import MultipartForm, UploadReceiver
from vocable.languages import WHISPER_LANGUAGES
from vocable.results import Segment, Transcription
from vocable.services import Services
from vocable.transcription import formats
from vocable.transcription.pipeline import TranscribeOptions
from vocable.transcription.speech_models import parse_language

router = APIRouter(tags=["openai"], route_class=OpenAIRoute)

Task = Literal["transcribe", "translate"]
# OpenAI's text formats → the formatter's name for them.
TEXT_FORMATS = {"text": "txt", "srt": "srt", "vtt": "vtt"}


class AudioParams(BaseModel):
    model_config = ConfigDict(extra="ignore")  # OpenAI's parameters that Whisper has no use for

    model: str | None = None
    language: str = "auto"
    prompt: str | None = Field(default=None, max_length=2000)
    temperature: float = Field(default=0.0, ge=0.0, le=1.0)
    response_format: Literal["json", "text", "srt", "vtt", "verbose_json", "diarized_json"] = "json"
    stream: bool = False
    timestamp_granularities: list[Literal["word", "segment"]] = Field(default_factory=list)
    diarize: bool = False
    speakers: int = Field(default=0, ge=0, le=32)

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        return parse_language(value)


AUDIO_RESPONSES = {
    **content_responses(
        "The transcript in the response_format (events when stream=true)",
        ["application/json", *formats.CONTENT_TYPES.values(), "text/event-stream"],
    ),
    **openai_error_responses(400, 401, 402, 413, 429, 503),
}


@router.post(
    "/v1/audio/transcriptions",
    summary="OpenAI-compatible transcription",
    description="OpenAI's `audio.transcriptions.create`: multipart `file`, `model`, `language`, "
    "`prompt`, `temperature`, `response_format` (json, text, srt, vtt, verbose_json, "
    "diarized_json), `timestamp_granularities[]`, `stream`; extensions `diarize`, `speakers`.",
    responses={**AUDIO_RESPONSES},
)
async def transcriptions(
    request: Request, principal: PrincipalDep, services: ServicesDep, uploads: UploadsDep
) -> Response:
    return await _transcribe(request, principal, services, uploads, "transcribe")


@router.post(
    "/v1/audio/translations",
    summary="OpenAI-compatible translation of speech to English text",
    description="OpenAI's `audio.translations.create` (Whisper's translate task): the same "
    "parameters and formats as /v1/audio/transcriptions, but diarized_json.",
    responses={**AUDIO_RESPONSES},
)
async def translations(
    request: Request, principal: PrincipalDep, services: ServicesDep, uploads: UploadsDep
) -> Response:
    return await _transcribe(request, principal, services, uploads, "translate")


async def _transcribe(
    request: Request, principal: Principal, services: Services, uploads: UploadReceiver, task: Task
) -> Response:
    async with transcription.received(request, principal, services, uploads) as (form, admitted):
        upload = transcription.uploaded_file(form)
        params = transcription.parse_fields(
            AudioParams, {**form.fields, "timestamp_granularities": _granularities(form)}
        )
        if task == "translate" and params.response_format == "diarized_json":
            raise ApiError(400, "Invalid parameter: translations have no diarized_json format.")
        choice = services.speech.choose(params.model, params.language)
        options = TranscribeOptions(
            model=choice.model, language=choice.language,
            diarize=params.diarize or params.response_format == "diarized_json",
            speakers=params.speakers, task=task, prompt=params.prompt,
            temperature=params.temperature,
        )
        job_id = await transcription.create_job(services, admitted, upload, options)

    headers = {"X-Vocable-Model": choice.model}
    if not principal.is_anonymous:
        headers["X-Transcript-Id"] = job_id
    if params.stream:
        events = _events(*_run_watched(services, principal, job_id), params)
        return StreamingResponse(
            events, media_type="text/event-stream", headers={**headers, "Cache-Control": "no-cache"}
        )
    services.queue.submit(job_id)
    result = await transcription.finish(services, principal, job_id)
    return _render(result, params, task, headers)


def _granularities(form: MultipartForm) -> list[str]:
    """OpenAI's SDKs send ``timestamp_granularities[]`` once per value; curl users may leave out
    the brackets or send one comma-separated value."""
    sent = form.values.get("timestamp_granularities[]", []) + form.values.get(
        "timestamp_granularities", []
    )
    return [g.strip() for value in sent for g in value.split(",") if g.strip()]


# -- answers ----------------------------------------------------------------------------------------
def _render(
    result: Transcription, params: AudioParams, task: Task, headers: dict[str, str]
) -> Response:
    fmt = params.response_format
    if fmt in TEXT_FORMATS:
        name = TEXT_FORMATS[fmt]
        return Response(
            formats.render(result, name), media_type=formats.CONTENT_TYPES[name], headers=headers
        )
    if fmt == "verbose_json":
        body = verbose_json(result, task, params)
    elif fmt == "diarized_json":
        body = diarized_json(result)
    else:
        body = {"text": result.text, "usage": _usage(result), "model": result.model}
    return JSONResponse(body, headers=headers)


def verbose_json(result: Transcription, task: Task, params: AudioParams) -> dict:
    """OpenAI's verbose_json. Per segment, ``avg_logprob`` is the log of Vocable's confidence,
    ``temperature`` the first one tried; Whisper's token ids and no-speech probability are not
    kept (``tokens`` is empty, ``no_speech_prob`` 0: segments judged silent were dropped)."""
    granularities = params.timestamp_granularities or ["segment"]
    diarized = bool(result.speakers)
    # A translation's text is English, whatever was spoken.
    language = "en" if task == "translate" else result.language
    body: dict = {
        "task": task,
        "language": WHISPER_LANGUAGES.get(language, language),
        "duration": result.duration,
        "text": result.text,
    }
    if "segment" in granularities:
        body["segments"] = [
            _segment(i, s, params.temperature, diarized) for i, s in enumerate(result.segments)
        ]
    if "word" in granularities:
        body["words"] = [
            {"word": w.word, "start": w.start, "end": w.end, "probability": w.probability}
            | ({"speaker": w.speaker} if diarized else {})
            for s in result.segments for w in s.words
        ]
    body["usage"] = _usage(result)
    body["model"] = result.model
    if diarized:
        body["speakers"] = result.speakers
    return body


def _segment(index: int, segment: Segment, temperature: float, diarized: bool) -> dict:
    text = segment.text.encode()
    data = {
        "id": index,
        "seek": int(segment.start * 100),  # in 10 ms frames, as Whisper counts
        "start": segment.start,
        "end": segment.end,
        "text": segment.text,
        "tokens": [],
        "temperature": temperature,
        "avg_logprob": round(math.log(max(segment.confidence, 1e-6)), 4),
        "compression_ratio": round(len(text) / len(zlib.compress(text)), 4) if text else 0.0,
        "no_speech_prob": 0.0,
    }
    if diarized:
        data["speaker"] = segment.speaker
    return data


def diarized_json(result: Transcription) -> dict:
    return {
        "task": "transcribe",
        "duration": result.duration,
        "text": result.text,
        "segments": [_speaker_segment(i, s) for i, s in enumerate(result.segments)],
        "usage": _usage(result),
        "model": result.model,
    }


def _speaker_segment(index: int, segment: Segment) -> dict:
    return {
        "type": "transcript.text.segment", "id": f"seg_{index}", "start": segment.start,
        "end": segment.end, "text": segment.text, "speaker": segment.speaker or "Speaker 1",
    }


def _usage(result: Transcription) -> dict:
    return {"type": "duration", "seconds": result.duration}


# -- streamed answers ---------------------------------------------------------------------------------
def _run_watched(
    services: Services, principal: Principal, job_id: str
) -> tuple[asyncio.Future[Transcription], asyncio.Queue[str]]:
    """Submit the job in a task of its own, seeing each segment's text as it is recognized (when
    the job runs in this process). The task runs to its end (an anonymous caller's job deleted)
    whether or not the client stays for the answer."""
    loop = asyncio.get_running_loop()
    recognized: asyncio.Queue[str] = asyncio.Queue()

    def on_segment(segment: Segment) -> None:  # on the job's worker thread
        loop.call_soon_threadsafe(recognized.put_nowait, segment.text)

    async def run() -> Transcription:
        with services.jobs.watch(job_id, on_segment):
            services.queue.submit(job_id)
            return await transcription.finish(services, principal, job_id)

    job = asyncio.ensure_future(run())
    job.add_done_callback(lambda task: task.cancelled() or task.exception())  # retrieved here
    return job, recognized


async def _events(
    job: asyncio.Future[Transcription], recognized: asyncio.Queue[str], params: AudioParams
) -> AsyncIterator[str]:
    """``transcript.text.delta`` for each segment as it is recognized (or, for a job another
    process ran, for each one once it is done), then ``transcript.text.done``."""
    sent = ""

    def delta(text: str) -> str:
        nonlocal sent
        piece = text if not sent else " " + text
        sent += piece
        return sse({"type": "transcript.text.delta", "delta": piece})

    while True:
        waiting = asyncio.ensure_future(recognized.get())
        await asyncio.wait({waiting, job}, return_when=asyncio.FIRST_COMPLETED)
        if not waiting.done():
            waiting.cancel()
            break
        yield delta(waiting.result())
    while not recognized.empty():
        yield delta(recognized.get_nowait())
    try:
        result = job.result()
    except Exception as exc:  # noqa: BLE001 - the job failed: its error is the last event
        yield sse_error(exc)
        return
    if not sent:
        for segment in result.segments:
            yield delta(segment.text)
    elif result.text.startswith(sent) and len(result.text) > len(sent):
        yield sse({"type": "transcript.text.delta", "delta": result.text[len(sent):]})
    if params.response_format == "diarized_json":
        for i, segment in enumerate(result.segments):
            yield sse(_speaker_segment(i, segment))
    yield sse({"type": "transcript.text.done", "text": result.text, "model": result.model})
