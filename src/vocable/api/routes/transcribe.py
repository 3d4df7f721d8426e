"""POST /v1/transcribe: upload, validate, queue, and (unless async) wait and answer."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, ValidationError, field_validator
from starlette.concurrency import run_in_threadpool

from vocable.api.deps import PrincipalDep, ServicesDep
from vocable.api.errors import ApiError
from vocable.api.uploads import receive_multipart
from vocable.audio import AudioError, probe
from vocable.languages import WHISPER_LANGUAGES
from vocable.transcription import formats
from vocable.transcription.jobs import to_transcription
from vocable.transcription.pipeline import TranscribeOptions

router = APIRouter(tags=["transcription"])

MB = 1024 * 1024


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
        value = value.strip().lower() or "auto"
        if value != "auto" and value not in WHISPER_LANGUAGES:
            raise ValueError(f"unknown language '{value}'; use an ISO 639-1 code or 'auto'")
        return value


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
)
async def transcribe(request: Request, principal: PrincipalDep, services: ServicesDep) -> Response:
    await run_in_threadpool(services.rate_limiter.hit, principal, "transcribe")
    await run_in_threadpool(services.quota.record, principal.account_id, "transcribe", requests=1)
    plan = services.quota.plan(principal)
    await run_in_threadpool(services.quota.check_allowance, principal)
    if services.queue.backlog() >= services.settings.max_queued_jobs:
        raise ApiError(503, "The transcription queue is full. Try again shortly.", {"Retry-After": "30"})

    limit = min(plan.max_upload_mb, services.settings.max_upload_mb) * MB
    form = await receive_multipart(request, services.settings.data_dir / "uploads", limit, plan.name)
    try:
        upload = form.files.get("file")
        if upload is None:
            raise ApiError(400, "Missing file: send the audio or video as the 'file' form field.")
        params = _params(form.fields)
        if params.async_ and principal.is_anonymous:
            raise ApiError(401, "Asynchronous transcription needs an API key, to read the result later.")
        model_id = services.whisper.resolve(params.model)
        try:
            info = await run_in_threadpool(probe, upload.path)
        except AudioError as exc:
            raise ApiError(400, str(exc)) from exc
        await run_in_threadpool(services.quota.acquire_slot, principal)
        try:
            charge = await run_in_threadpool(services.quota.reserve, principal, info.duration)
        except Exception:
            await run_in_threadpool(services.quota.release_slot, principal)
            raise
        options = TranscribeOptions(
            model=model_id, language=params.language, diarize=params.diarize, speakers=params.speakers
        )
        job_id = await run_in_threadpool(
            services.jobs.create, principal, upload.path, upload.filename, options, charge
        )
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
