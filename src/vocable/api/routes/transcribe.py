"""POST /v1/transcribe: upload, validate, queue, and (unless async) wait and answer."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, field_validator

from vocable.api import transcription
from vocable.api.deps import PrincipalDep, ServicesDep, UploadsDep
from vocable.api.errors import ApiError
from vocable.api.openapi import content_responses, error_responses
from vocable.transcription import formats
from vocable.transcription.pipeline import TranscribeOptions
from vocable.transcription.speech_models import parse_language
from vocable.transcription.vocabulary import check_prompt, initial_prompt, parse_vocabulary

router = APIRouter(tags=["transcription"])


class TranscribeParams(BaseModel):
    model: str | None = None
    language: str = "auto"
    diarize: bool = True
    speakers: int = Field(default=0, ge=0, le=32)
    response_format: Literal["json", "txt", "srt", "vtt"] = "json"
    enhance: bool = False
    async_: bool = Field(default=False, alias="async")
    prompt: str | None = None
    vocabulary: list[str] = []
    webhook_url: str | None = Field(default=None, max_length=2000)

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        return parse_language(value)

    @field_validator("prompt")
    @classmethod
    def _bounded_prompt(cls, value: str | None) -> str | None:
        return check_prompt(value)

    @field_validator("vocabulary", mode="before")
    @classmethod
    def _terms(cls, value) -> list[str]:
        return parse_vocabulary(value)


# The multipart body, documented by hand: it is parsed as a stream (api/uploads.py), not by FastAPI.
FORM_SCHEMA = {
    "type": "object",
    "required": ["file"],
    "properties": {
        "file": {"type": "string", "format": "binary", "description": "audio or video file"},
        "model": {"type": "string", "description": "model id (default: the best installed)"},
        "language": {"type": "string", "description": "ISO 639-1 code or 'auto'"},
        "diarize": {"type": "boolean", "default": True},
        "speakers": {"type": "integer", "minimum": 0, "maximum": 32, "default": 0},
        "response_format": {"type": "string", "enum": ["json", "txt", "srt", "vtt"]},
        "enhance": {"type": "boolean", "default": False,
                    "description": "remove noise (as /v1/enhance-audio) before recognition"},
        "async": {"type": "boolean", "default": False},
        "prompt": {"type": "string", "maxLength": 600,
                   "description": "text the audio continues (style, spellings)"},
        "vocabulary": {"type": "string",
                       "description": "domain terms, comma-separated or a JSON list"},
        "webhook_url": {
            "type": "string",
            "description": "async only: where the job's completion or failure is POSTed, signed "
            "(default: the account's webhook URL, if set)",
        },
    },
}


@router.post(
    "/v1/transcribe",
    summary="Transcribe an audio or video file",
    description="multipart/form-data with `file` and optional model, language, diarize, speakers, "
    "prompt and vocabulary (domain terms Whisper should spell as given), "
    "response_format (json, txt, srt, vtt), enhance (remove noise first, as /v1/enhance-audio) "
    "and async (answer 202 with a job id at once). A model the registry knows but this server "
    "lacks is served by the best installed one (`model` and `X-Vocable-Model` name it) unless "
    "VOCABLE_MODEL_FALLBACK=strict.",
    responses={
        **content_responses("The transcription, in the response_format", formats.CONTENT_TYPES.values()),
        **content_responses("async: the job, queued", ["application/json"], status=202),
        **error_responses(400, 401, 402, 413, 429, 503),
    },
    openapi_extra={
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": FORM_SCHEMA}}}
    },
)
async def transcribe(
    request: Request, principal: PrincipalDep, services: ServicesDep, uploads: UploadsDep
) -> Response:
    async with transcription.received(request, principal, services, uploads) as (form, admitted):
        upload = transcription.uploaded_file(form)
        params = transcription.parse_fields(TranscribeParams, form.fields)
        if params.async_ and principal.is_anonymous:
            raise ApiError(401, "Asynchronous transcription needs an API key, to read the result later.")
        if params.webhook_url is not None and not params.async_:
            raise ApiError(400, "webhook_url needs async=true: a synchronous request gets its answer.")
        choice = services.speech.choose(params.model, params.language)
        if params.enhance:
            services.denoiser.check()
        options = TranscribeOptions(
            model=choice.model, language=choice.language, diarize=params.diarize,
            speakers=params.speakers, enhance=params.enhance,
            prompt=initial_prompt(params.prompt, params.vocabulary),
        )
        webhook_url = (
            await transcription.webhook_url(services, principal, params.webhook_url)
            if params.async_ else ""
        )
        job_id = await transcription.create_job(services, admitted, upload, options, webhook_url)

    services.queue.submit(job_id)
    if params.async_:
        return JSONResponse(
            {"id": job_id, "status": "queued", "url": f"/api/v1/transcripts/{job_id}/"},
            status_code=202,
        )
    result = await transcription.finish(services, principal, job_id)
    # The model that did the work: another one than asked for when that one is not installed.
    headers = {"X-Vocable-Model": result.model}
    if not principal.is_anonymous:
        headers["X-Transcript-Id"] = job_id
    if params.response_format == "json":
        body = formats.response_dict(result)
        if not principal.is_anonymous:
            body["id"] = job_id
        return JSONResponse(body, headers=headers)
    return Response(
        formats.render(result, params.response_format),
        media_type=formats.CONTENT_TYPES[params.response_format],
        headers=headers,
    )
