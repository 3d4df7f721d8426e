"""The file transcription flow of every HTTP surface: POST /v1/transcribe and the OpenAI-compatible
/v1/audio/transcriptions and /v1/audio/translations run it alike, so they share keys, plans,
credits, the job queue and stored transcripts.

1. ``received``: admission before a byte of the body is read (rate limit, allowance, declared
   size, room in the queue, a concurrency slot the upload holds), then the multipart body,
   streamed to disk within the plan's size limit; on any refusal every received file is gone and
   the slot given back.
2. ``create_job``: the job takes over the upload's slot and the reservation for its duration.
3. ``services.queue.submit(job_id)``, then ``finish``: wait, and the result (or its error).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeVar

import anyio
from fastapi import Request
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from vocable.accounts.admission import AdmittedUpload
from vocable.accounts.keys import Principal
from vocable.api.errors import ApiError
from vocable.api.uploads import MultipartForm, UploadedFile, UploadReceiver, declared_length
from vocable.audio import probe
from vocable.results import Transcription
from vocable.services import Services
from vocable.transcription.jobs import to_transcription
from vocable.transcription.pipeline import TranscribeOptions

P = TypeVar("P", bound=BaseModel)


@asynccontextmanager
async def received(
    request: Request, principal: Principal, services: Services, uploads: UploadReceiver,
    family: str = "transcribe",
) -> AsyncIterator[tuple[MultipartForm, AdmittedUpload]]:
    """The multipart form and its admission, for the block that makes the job. If the block
    raises, the form's files are removed; in every case the slot goes back unless a job took it.
    ``family``: the endpoint's name in rate limits and usage (``enhance`` for /v1/enhance-audio)."""
    admitted = await run_in_threadpool(
        services.admission.admit_file, principal, declared_length(request), family
    )
    try:
        form = await uploads.receive(request, admitted.limit)
        try:
            yield form, admitted
        except BaseException:
            form.discard()
            raise
    finally:
        if admitted.holds_slot:  # a cancelled request's included
            with anyio.CancelScope(shield=True):
                await run_in_threadpool(admitted.close)


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


async def webhook_url(services: Services, principal: Principal, given: str | None) -> str:
    """An async job's webhook: the one given (checked: a refused URL is a 400 before any
    charge), else the account's default, else none."""
    if given:
        return await run_in_threadpool(services.webhooks.validate, given)
    return await run_in_threadpool(services.webhooks.default_url, principal.account_id)


async def create_job(
    services: Services, admitted: AdmittedUpload, upload: UploadedFile, options: TranscribeOptions,
    webhook_url: str = "",
) -> str:
    """Queue-ready job for the received file (a bad or too short file is a 400 here, before any
    charge)."""
    info = await run_in_threadpool(probe, upload.path)
    return await run_in_threadpool(
        _create_job, services, admitted, upload, options, info.duration, webhook_url
    )


def _create_job(
    services: Services, admitted: AdmittedUpload, upload: UploadedFile, options: TranscribeOptions,
    duration_s: float, webhook_url: str = "",
) -> str:
    """The reservation and the upload's slot go with the job; if it is not created, the
    reservation is refunded (and the slot stays with the upload)."""
    with services.admission.job(admitted, duration_s) as charge:
        return services.jobs.create(
            admitted.principal, upload.path, upload.filename, options, charge, webhook_url
        )


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
