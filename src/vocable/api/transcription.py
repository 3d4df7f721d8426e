"""The file transcription flow of every HTTP surface: POST /v1/transcribe and the OpenAI-compatible
/v1/audio/transcriptions and /v1/audio/translations run it alike, so they share keys, plans,
credits, the job queue and stored transcripts.

1. ``receive``: admission before the upload is read (rate limit, allowance, room in the queue),
   then the multipart body, streamed to disk within the plan's size limit.
2. ``create_job``: the job, holding a concurrency slot and the reservation for the file's duration.
3. ``services.queue.submit(job_id)``, then ``finish``: wait, and the result (or its error).
"""

from __future__ import annotations

from typing import TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from vocable.accounts.keys import Principal
from vocable.api.errors import ApiError
from vocable.api.uploads import MultipartForm, UploadedFile, receive_multipart
from vocable.audio import probe
from vocable.results import Transcription
from vocable.services import Services
from vocable.transcription.jobs import to_transcription
from vocable.transcription.pipeline import TranscribeOptions

P = TypeVar("P", bound=BaseModel)


async def receive(request: Request, principal: Principal, services: Services) -> MultipartForm:
    """The multipart form, once admission let the request in. The caller discards the form's
    files if it refuses the request after this."""
    limit = await run_in_threadpool(services.admission.admit_file, principal)
    uploads = services.settings.data_dir / "uploads"
    return await receive_multipart(request, uploads, limit.bytes, limit.plan)


def uploaded_file(form: MultipartForm) -> UploadedFile:
    upload = form.files.get("file")
    if upload is None:
        raise ApiError(400, "Missing file: send the audio or video as the 'file' form field.")
    return upload


def parse_fields(params: type[P], fields: dict[str, object]) -> P:
    """Form fields as ``params`` (empty ones left out), or a 400 naming the bad ones."""
    try:
        return params.model_validate({k: v for k, v in fields.items() if v != ""})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ApiError(400, f"Invalid parameter: {problems}") from exc


async def create_job(
    services: Services, principal: Principal, upload: UploadedFile, options: TranscribeOptions
) -> str:
    """Queue-ready job for the received file (a bad file is a 400 here, before any charge)."""
    info = await run_in_threadpool(probe, upload.path)
    return await run_in_threadpool(_create_job, services, principal, upload, options, info.duration)


def _create_job(
    services: Services, principal: Principal, upload: UploadedFile, options: TranscribeOptions,
    duration_s: float,
) -> str:
    """A concurrency slot and the reservation go with the job; if it is not created, they are
    given back."""
    with services.admission.job(principal, duration_s) as charge:
        return services.jobs.create(principal, upload.path, upload.filename, options, charge)


async def finish(services: Services, principal: Principal, job_id: str) -> Transcription:
    """Wait for a submitted job: its result, or its failure as an error. Nothing of an anonymous
    caller is kept once answered."""
    await services.queue.wait(job_id)
    job = await run_in_threadpool(services.jobs.get, job_id)
    if principal.is_anonymous:
        await run_in_threadpool(services.jobs.delete, job_id)
    if job.status != "completed":
        raise ApiError(job.error_status or 500, job.error or "Transcription failed.")
    return to_transcription(job)
