"""POST /v1/audio/speech in OpenAI's shape, over the same speech synthesis as POST /v1/tts (same
admission, keys, plans and credits: audio minutes of speech made).

* ``input``: the text; ``voice``: OpenAI's names (alloy, echo, nova, ...) are spoken by the
  default voice, Vocable's voice ids work as they are (``X-Vocable-Voice`` names the one used);
* ``response_format``: mp3 (OpenAI's default), opus, aac, flac, wav, pcm (24 kHz in OpenAI's API;
  here the voice's own rate, 22.05 kHz for the bundled one: ``X-Sample-Rate`` says it);
* ``speed``: 0.25 to 4.0; ``model`` (tts-1, tts-1-hd, gpt-4o-mini-tts...) and ``instructions``
  are accepted and do not change the voice;
* the audio streams as it is made (``stream_format=audio``); ``sse`` is refused.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from vocable.api import synthesis
from vocable.api.deps import PrincipalDep, ServicesDep
from vocable.api.errors import ApiError
from vocable.api.openai.errors import OpenAIRoute
from vocable.api.openapi import content_responses, openai_error_responses

router = APIRouter(tags=["openai"], route_class=OpenAIRoute)

# OpenAI's response_format → the encoder's name (OpenAI's opus is Ogg/Opus).
FORMATS = {"mp3": "mp3", "opus": "opus", "aac": "aac", "flac": "flac", "wav": "wav", "pcm": "pcm"}


class SpeechRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model: str | None = None
    input: str = Field(min_length=1)
    voice: str | dict | None = None
    instructions: str | None = None
    response_format: Literal["mp3", "opus", "aac", "flac", "wav", "pcm"] = "mp3"
    speed: float = Field(default=1.0, ge=0.25, le=4.0)
    stream_format: Literal["audio", "sse"] = "audio"


@router.post(
    "/v1/audio/speech",
    summary="OpenAI-compatible text to speech",
    description="OpenAI's `audio.speech.create`: JSON `input`, `voice`, `response_format` (mp3, "
    "opus, aac, flac, wav, pcm), `speed`; the audio is streamed as it is made.",
    responses={
        **content_responses("The speech", ["audio/mpeg", "audio/ogg", "audio/aac", "audio/flac",
                                           "audio/wav", "audio/L16"]),
        **openai_error_responses(400, 401, 402, 429, 503),
    },
)
async def speech(
    body: SpeechRequest, request: Request, principal: PrincipalDep, services: ServicesDep
) -> Response:
    if body.stream_format == "sse":
        raise ApiError(400, "Invalid parameter: stream_format 'sse' is not supported; use 'audio'.")
    voice = body.voice.get("id") if isinstance(body.voice, dict) else body.voice
    admitted = await run_in_threadpool(services.admission.admit_file, principal, None, "tts")
    try:
        order = synthesis.SpeechOrder(body.input, voice, body.speed, FORMATS[body.response_format],
                                      stream=True)
        response = await synthesis.speak(services, admitted, order)
    finally:
        if admitted.holds_slot:
            await run_in_threadpool(admitted.close)
    return response
