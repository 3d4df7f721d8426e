"""POST /v1/tts: text to speech, in a bundled voice or in (a match of) a reference's voice."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from vocable.api import synthesis, transcription
from vocable.api.deps import PrincipalDep, ServicesDep, UploadsDep
from vocable.api.errors import ApiError
from vocable.api.openapi import content_responses, error_responses
from vocable.audio.encode import FORMATS

router = APIRouter(tags=["audio"])

Format = Literal["wav", "flac", "mp3", "ogg", "opus", "aac", "pcm"]


class TTSParams(BaseModel):
    text: str = ""
    voice: str | None = None
    speed: float = Field(default=1.0, ge=0.25, le=4.0)
    format: Format = "wav"
    stream: bool = False


FORM_SCHEMA = {
    "type": "object",
    "required": ["text"],
    "properties": {
        "text": {"type": "string", "description": "what to say (numbers, dates and abbreviations "
                 "are read out; long text is spoken sentence by sentence)"},
        "reference": {"type": "string", "format": "binary",
                      "description": "3-10 s of one person speaking, any audio format: the answer "
                      "is in that voice (cloned when a cloning model is installed, else matched)"},
        "voice": {"type": "string", "description": "voice id (GET /v1/models, family tts); "
                  "default: the best installed"},
        "speed": {"type": "number", "minimum": 0.25, "maximum": 4.0, "default": 1.0},
        "format": {"type": "string", "enum": list(Format.__args__), "default": "wav"},
        "stream": {"type": "boolean", "default": False,
                   "description": "send the audio as it is made (no X-Duration / X-Generation-Time)"},
    },
}

SPEECH_HEADERS = {
    "X-Duration": {"description": "seconds of speech (not when streamed)", "schema": {"type": "number"}},
    "X-Generation-Time": {"description": "seconds spent making it (not when streamed)",
                          "schema": {"type": "number"}},
    "X-Voice": {"description": "bundled, matched or cloned", "schema": {"type": "string"}},
    "X-Vocable-Voice": {"description": "the voice id that spoke", "schema": {"type": "string"}},
    "X-Speaker-Similarity": {"description": "with a reference: CAM++ cosine similarity of the "
                             "answer's voice to it", "schema": {"type": "number"}},
}


@router.post(
    "/v1/tts",
    summary="Speak text (voice matching or cloning from a reference)",
    description="multipart/form-data with `text` and optional `reference` (3-10 s of a voice), "
    "`voice`, `speed`, `format` (wav, flac, mp3, ogg, opus, aac, pcm) and `stream`. Charged like "
    "transcription, by audio minutes: the speech made plus the reference heard, rounded up.",
    responses={
        200: {
            **content_responses("The speech", sorted({f.media_type for f in FORMATS.values()}))[200],
            "headers": SPEECH_HEADERS,
        },
        **error_responses(400, 401, 402, 413, 429, 503),
    },
    openapi_extra={
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": FORM_SCHEMA}}}
    },
)
async def tts(
    request: Request, principal: PrincipalDep, services: ServicesDep, uploads: UploadsDep
) -> Response:
    async with transcription.received(
        request, principal, services, uploads, "tts", ("reference",)
    ) as (form, admitted):
        params = transcription.parse_fields(TTSParams, form.fields)
        if not params.text.strip():
            raise ApiError(400, "Missing text: send what to say as the 'text' form field.")
        upload = form.files.get("reference")
        reference = None
        if upload is not None:
            reference = await run_in_threadpool(services.tts.load_reference, upload.path)
        order = synthesis.SpeechOrder(params.text, params.voice, params.speed, params.format,
                                      params.stream)
        try:
            return await synthesis.speak(services, admitted, order, reference)
        finally:
            form.discard()
