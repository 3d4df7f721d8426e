"""POST /v1/transcribe: upload, validate, queue, and (unless async) wait and answer."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, ValidationError, field_validator
from starlette.concurrency import run_in_threadpool

from vocable.accounts.keys import Principal
from vocable.api.deps import PrincipalDep, ServicesDep
from vocable.api.errors import ApiError
from vocable.api.openapi import content_responses, error_responses
from vocable.api.uploads import UploadedFile, receive_multipart
from vocable.audio import probe
from vocable.services import Services
from vocable.transcription import formats
from vocable.transcription.jobs import to_transcription
from vocable.transcription.pipeline import TranscribeOptions
from vocable.transcription.speech_models import parse_language

router = APIRouter(tags=["transcription"])


class TranscribeParams(BaseModel):
    model: str | None = None
    language: str = "auto"
    diarize: bool = True
    speakers: int = Field(default=0, ge=0, le=32)
    response_format: Literal["json", "txt", "srt", "vtt"] = "json"
    async_: bool = Field(default=False, alias="async")

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        return parse_language(value)


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
        "async": {"type": "boolean", "default": False},
    },
}


def _params(fields: dict[str, str]) -> TranscribeParams:
    try:
        return TranscribeParams.model_validate({k: v for k, v in fields.items() if v != ""})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ApiError(400, f"Invalid parameter: {problems}") from exc


@router.post(
    "/v1/transcribe",
    summary="Transcribe an audio or video file",
    description="multipart/form-data with `file` and optional model, language, diarize, speakers, "
    "response_format (json, txt, srt, vtt) and async (answer 202 with a job id at once).",
    responses={
        **content_responses("The transcription, in the response_format", formats.CONTENT_TYPES.values()),
        **content_responses("async: the job, queued", ["application/json"], status=202),
        **error_responses(400, 401, 402, 413, 429, 503),
    },
    openapi_extra={
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": FORM_SCHEMA}}}
    },
)
async def transcribe(request: Request, principal: PrincipalDep, services: ServicesDep) -> Response:
    # Refused before the upload is read: rate limit, allowance, a full queue.
    limit = await run_in_threadpool(services.admission.admit_file, principal)
    form = await receive_multipart(request, services.settings.data_dir / "uploads", limit.bytes, limit.plan)
    try:
        upload = form.files.get("file")
        if upload is None:
            raise ApiError(400, "Missing file: send the audio or video as the 'file' form field.")
        params = _params(form.fields)
        if params.async_ and principal.is_anonymous:
            raise ApiError(401, "Asynchronous transcription needs an API key, to read the result later.")
        choice = services.speech.choose(params.model, params.language)
        info = await run_in_threadpool(probe, upload.path)
        options = TranscribeOptions(
            model=choice.model, language=choice.language, diarize=params.diarize,
            speakers=params.speakers,
        )
        job_id = await run_in_threadpool(_create_job, services, principal, upload, options, info.duration)
    except BaseException:
        form.discard()
        raise

    services.queue.submit(job_id)
    if params.async_:
        return JSONResponse(
            {"id": job_id, "status": "queued", "url": f"/api/v1/transcripts/{job_id}/"},
            status_code=202,
        )
    await services.queue.wait(job_id)
    job = await run_in_threadpool(services.jobs.get, job_id)
    if principal.is_anonymous:  # nothing of an anonymous caller is kept once answered
        await run_in_threadpool(services.jobs.delete, job_id)
    if job.status != "completed":
        raise ApiError(job.error_status or 500, job.error or "Transcription failed.")
    result = to_transcription(job)
    headers = {"X-Transcript-Id": job_id} if not principal.is_anonymous else {}
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


def _create_job(
    services: Services, principal: Principal, upload: UploadedFile, options: TranscribeOptions,
    duration_s: float,
) -> str:
    """A concurrency slot and the reservation go with the job; if it is not created, they are
    given back."""
    with services.admission.job(principal, duration_s) as charge:
        return services.jobs.create(principal, upload.path, upload.filename, options, charge)
