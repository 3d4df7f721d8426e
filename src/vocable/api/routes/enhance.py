"""POST /v1/enhance-audio: upload, remove noise, normalise loudness, answer the audio.

Same keys, plans and limits as transcription, through the same admission: the upload is received
as /v1/transcribe receives it (``api.transcription.received``, family ``enhance``), probed (a bad
file is a 400 before any charge), the input's duration is reserved, then settled on the audio's
real duration (the output is exactly as long: one charge for the minutes in, which are the minutes
out), refunded if the work fails, and the concurrency slot given back on every path.
"""

from __future__ import annotations

import math
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from vocable.accounts.admission import AdmittedUpload
from vocable.api import transcription
from vocable.api.deps import PrincipalDep, ServicesDep, UploadsDep
from vocable.api.openapi import content_responses, error_responses
from vocable.audio import probe
from vocable.audio.enhance import OUTPUT_FORMATS, SAMPLE_RATES, EnhanceOptions, enhance_file
from vocable.services import Services

router = APIRouter(tags=["audio"])

FAMILY = "enhance"  # the endpoint's name in rate limits and usage


class EnhanceParams(BaseModel):
    denoise: bool = True
    normalize: bool = True
    sample_rate: int | None = None
    format: Literal["wav", "flac", "mp3", "ogg", "opus"] = "wav"


FORM_SCHEMA = {
    "type": "object",
    "required": ["file"],
    "properties": {
        "file": {"type": "string", "format": "binary", "description": "audio or video file"},
        "denoise": {"type": "boolean", "default": True,
                    "description": "remove background noise (DTLN speech enhancement)"},
        "normalize": {"type": "boolean", "default": True,
                      "description": "loudness to -16 LUFS integrated, true peak at most -1 dBTP"},
        "sample_rate": {"type": "integer", "enum": list(SAMPLE_RATES),
                        "description": "output sample rate (default 16000, the processing rate)"},
        "format": {"type": "string", "enum": list(OUTPUT_FORMATS), "default": "wav"},
    },
}


def _take_over(services: Services, admitted: AdmittedUpload, duration_s: float):
    """The reservation for ``duration_s`` and the upload's slot, now this request's."""
    with services.admission.job(admitted, duration_s) as charge:
        return charge


def _enhance(services: Services, admitted: AdmittedUpload, path, options: EnhanceOptions,
             work_dir):
    principal = admitted.principal
    duration = probe(path).duration  # a bad or too short file: a 400, nothing charged
    charge = _take_over(services, admitted, duration)
    try:
        result = enhance_file(path, options, services.denoiser, work_dir)
    except BaseException:
        services.admission.refund(principal, charge)
        raise
    else:
        services.admission.settle(principal, charge, result.duration, family=FAMILY)
        return result
    finally:
        services.admission.release(principal)


@router.post(
    "/v1/enhance-audio",
    summary="Remove noise and normalise loudness",
    description="multipart/form-data with `file` (any format /v1/transcribe takes, up to the "
    "plan's size) and optional denoise (default true), normalize (default true: -16 LUFS "
    "integrated, -1 dBTP true peak), sample_rate and format (wav, flac, mp3, ogg, opus). Answers "
    "the audio (16-bit WAV by default), as long as the input, with `X-Duration` (seconds) and "
    "`X-Processing-Time` (seconds); `X-Loudness` and `X-True-Peak` tell the result's measured "
    "LUFS and dBTP. Charged as transcription is, by the input's audio minutes.",
    responses={
        **content_responses(
            "The enhanced audio", sorted({"audio/wav", "audio/flac", "audio/mpeg", "audio/ogg"})
        ),
        **error_responses(400, 401, 402, 413, 429, 503),
    },
    openapi_extra={
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": FORM_SCHEMA}}}
    },
)
async def enhance_audio(
    request: Request, principal: PrincipalDep, services: ServicesDep, uploads: UploadsDep
) -> StreamingResponse:
    async with transcription.received(
        request, principal, services, uploads, family=FAMILY
    ) as (form, admitted):
        upload = transcription.uploaded_file(form)
        params = transcription.parse_fields(EnhanceParams, form.fields)
        options = EnhanceOptions(
            denoise=params.denoise, normalize=params.normalize,
            sample_rate=params.sample_rate, format=params.format,
        ).checked()
        if options.denoise:
            services.denoiser.check()
        try:
            result = await run_in_threadpool(
                _enhance, services, admitted, upload.path, options, uploads.directory
            )
        finally:
            form.discard()  # the upload is read: gone before the answer starts
    headers = {
        "Content-Length": str(result.size),
        "X-Duration": f"{result.duration:.3f}",
        "X-Processing-Time": f"{result.processing_s:.3f}",
        "X-Denoise": services.denoiser.model_id if result.denoised else "off",
    }
    if math.isfinite(result.loudness_out):
        headers["X-Loudness"] = f"{result.loudness_out:.2f}"
    if math.isfinite(result.true_peak_out):
        headers["X-True-Peak"] = f"{result.true_peak_out:.2f}"
    return StreamingResponse(result.chunks(), media_type=result.media_type, headers=headers)
