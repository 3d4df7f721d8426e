"""/api/v1/speakers/: voices known by name. Enrol one from a clip (multipart ``file`` + ``name``) or
from a speaker of a stored transcript (JSON or form fields ``name``, ``transcript_id``,
``speaker``); list, rename, delete. Later diarized transcripts of the account name a matching
voice (``"speaker": "Diane"``).

Enrolment runs the diarization models on the audio, so it is paid like transcription, through
the one admission path: admitted before the body is read (rate limit, allowance, size, a
concurrency slot), then charged the audio it runs on (the clip's duration, or the seconds of that
speaker's speech taken from the transcript), refunded if it fails.
"""

from __future__ import annotations

from typing import Any

import anyio
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from vocable.api.deps import AccountDep, ServicesDep, UploadsDep, account_rate_limited
from vocable.api.errors import ApiError
from vocable.api.openapi import error_responses
from vocable.api.uploads import declared_length
from vocable.audio import SAMPLE_RATE

router = APIRouter(prefix="/api/v1/speakers", tags=["speakers"])
FAMILY = "speakers"

FORM_SCHEMA = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "maxLength": 100, "description": "the person's name"},
        "file": {"type": "string", "format": "binary",
                 "description": "a clip of this one person talking (at least 2 s of speech)"},
        "transcript_id": {"type": "string", "description": "instead of a file: a stored transcript"},
        "speaker": {"type": "string", "description": "with transcript_id: its label, e.g. 'Speaker 2'"},
    },
}
JSON_SCHEMA = {
    "type": "object",
    "required": ["name", "transcript_id", "speaker"],
    "properties": {k: FORM_SCHEMA["properties"][k] for k in ("name", "transcript_id", "speaker")},
}


class Rename(BaseModel):
    name: str = Field(max_length=200)


@router.post(
    "/", summary="Enrol a named voice from a clip or from a speaker of a stored transcript",
    status_code=201,
    responses=error_responses(400, 401, 402, 404, 409, 413, 429, 503),
    openapi_extra={"requestBody": {"required": True, "content": {
        "multipart/form-data": {"schema": FORM_SCHEMA}, "application/json": {"schema": JSON_SCHEMA},
    }}},
)
async def enrol_speaker(
    request: Request, principal: AccountDep, services: ServicesDep, uploads: UploadsDep
) -> JSONResponse:
    speakers, admission = services.speakers, services.admission
    account = principal.account_id
    admitted = await run_in_threadpool(
        admission.admit_file, principal, declared_length(request), FAMILY
    )
    try:
        fields, audio, source = await _enrolment_audio(request, services, uploads, admitted, account)
        name = fields.get("name")
        duration = len(audio) / SAMPLE_RATE
        with admission.job(admitted, max(duration, 1.0)) as charge:
            pass  # the reservation and the slot are this request's now
        try:
            voice = await run_in_threadpool(speakers.enrol, account, name, audio, source)
        except BaseException:
            await run_in_threadpool(admission.refund, principal, charge)
            raise
        else:
            await run_in_threadpool(admission.settle, principal, charge, duration, FAMILY)
        finally:
            await run_in_threadpool(admission.release, principal)
    finally:
        if admitted.holds_slot:
            with anyio.CancelScope(shield=True):
                await run_in_threadpool(admitted.close)
    return JSONResponse(_jsonable(voice), status_code=201)


async def _enrolment_audio(request, services, uploads, admitted, account):
    speakers = services.speakers
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        form = await uploads.receive(request, admitted.limit)
        try:
            fields = dict(form.fields)
            await run_in_threadpool(speakers.check_enrolment, account, fields.get("name"))
            upload = form.files.get("file")
            if upload is not None:
                audio = await run_in_threadpool(speakers.clip_audio, upload.path)
                return fields, audio, f"clip {upload.filename}"[:300]
        finally:
            form.discard()
    elif content_type == "application/json":
        try:
            fields = await request.json()
        except ValueError:
            raise ApiError(400, "The body is not valid JSON.") from None
        if not isinstance(fields, dict):
            raise ApiError(400, "Expected a JSON object with name, transcript_id and speaker.")
        await run_in_threadpool(speakers.check_enrolment, account, fields.get("name"))
    else:
        raise ApiError(400, "Send multipart/form-data (name + file, or name + transcript_id + "
                            "speaker) or a JSON object (name, transcript_id, speaker).")
    key, spans = await run_in_threadpool(
        speakers.transcript_spans, account, fields.get("transcript_id"), fields.get("speaker")
    )
    audio = await run_in_threadpool(speakers.transcript_audio, key, spans)
    return fields, audio, f"transcript {fields['transcript_id']} {fields['speaker']}"[:300]


@router.get(
    "/", summary="Your enrolled speakers", dependencies=[Depends(account_rate_limited(FAMILY))],
    responses=error_responses(400, 401, 429),
)
def list_speakers(principal: AccountDep, services: ServicesDep) -> dict[str, Any]:
    items = services.speakers.list(principal.account_id)
    return {"count": len(items), "items": items}


@router.get(
    "/{speaker_id}/", summary="One enrolled speaker",
    dependencies=[Depends(account_rate_limited(FAMILY))], responses=error_responses(400, 401, 404, 429),
)
def get_speaker(speaker_id: str, principal: AccountDep, services: ServicesDep) -> dict[str, Any]:
    return services.speakers.get(principal.account_id, speaker_id)


@router.patch(
    "/{speaker_id}/", summary="Rename an enrolled speaker",
    dependencies=[Depends(account_rate_limited(FAMILY))],
    responses=error_responses(400, 401, 404, 409, 429),
)
def rename_speaker(
    speaker_id: str, body: Rename, principal: AccountDep, services: ServicesDep
) -> dict[str, Any]:
    return services.speakers.rename(principal.account_id, speaker_id, body.name)


@router.delete(
    "/{speaker_id}/", summary="Delete an enrolled speaker (its voiceprint is gone)",
    dependencies=[Depends(account_rate_limited(FAMILY))], responses=error_responses(400, 401, 404, 429),
)
def delete_speaker(speaker_id: str, principal: AccountDep, services: ServicesDep) -> dict[str, Any]:
    services.speakers.delete(principal.account_id, speaker_id)
    return {"id": speaker_id, "deleted": True}


def _jsonable(voice: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in voice.items()}
