"""A transcript's stored audio: ``GET /api/v1/transcripts/:id/audio`` with HTTP range requests
(206 with Content-Range, 416 for a range outside the file), streamed from the blob store, and the
media token an ``<audio>`` element uses instead of a header
(``POST /api/v1/transcripts/:id/audio/token``; the idea of the stream ticket)."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse

from vocable.accounts.media_tokens import issue_media_token, redeem_media_token
from vocable.api.deps import (
    ServicesDep,
    account_rate_limited,
    bearer_token,
    client_ip,
    resolve_principal,
)
from vocable.api.errors import ApiError, error_response
from vocable.api.openapi import content_responses, error_responses
from vocable.transcription import store as transcripts

router = APIRouter(prefix="/api/v1/transcripts", tags=["transcripts"])

_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


class RangeNotSatisfiable(Exception):
    pass


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(start, stop)`` (stop exclusive) of a ``Range`` header, None for the whole file (no
    header, or several ranges: answered whole, as RFC 9110 allows); ``RangeNotSatisfiable`` for
    a malformed range or one that starts past the end."""
    if header is None:
        return None
    if "," in header:
        return None
    m = _RANGE.match(header)
    if not m or (not m.group(1) and not m.group(2)):
        raise RangeNotSatisfiable(f"Invalid Range header {header!r}: use bytes=start-end.")
    first, last = m.group(1), m.group(2)
    if first:
        start = int(first)
        stop = min(size, int(last) + 1) if last else size
        if last and int(last) < start:
            raise RangeNotSatisfiable(f"Invalid range {header!r}: the end is before the start.")
    else:  # the last N bytes
        start, stop = max(0, size - int(last)), size
        if int(last) == 0:
            raise RangeNotSatisfiable("A suffix range of 0 bytes is empty.")
    if start >= size:
        raise RangeNotSatisfiable(f"Range {header!r} starts past the end of the {size}-byte file.")
    return start, stop


@router.post(
    "/{transcript_id}/audio/token",
    summary="A short-lived token to play a transcript's audio in an <audio> element",
    responses=error_responses(400, 401, 404, 429),
)
def audio_token(
    transcript_id: str, services: ServicesDep,
    principal=Depends(account_rate_limited("account")),
) -> dict[str, Any]:
    ttl = services.settings.media_token_ttl_s
    token = issue_media_token(services.db, principal, transcript_id, ttl)
    if token is None:
        raise ApiError(404, transcripts.TranscriptNotFound().args[0])
    return {
        "token": token,
        "expires_in": ttl,
        "url": f"api/v1/transcripts/{transcript_id}/audio?token={token}",
    }


@router.head("/{transcript_id}/audio", include_in_schema=False)
@router.get(
    "/{transcript_id}/audio",
    summary="The transcript's audio as uploaded, with HTTP range requests",
    description=(
        "Send `Authorization: Bearer <key>`, or `?token=` from `POST .../audio/token` (for "
        "`<audio src>`, which cannot send headers). `Range: bytes=start-end` answers 206 with "
        "`Content-Range`; a range outside the file is a 416 with `Content-Range: bytes */size`."
    ),
    response_class=Response,
    responses={
        **content_responses("The whole audio", ["audio/*", "video/*"]),
        **content_responses("A range of the audio (Content-Range)", ["audio/*", "video/*"], 206),
        **error_responses(400, 401, 404, 429),
        416: error_responses(416)[416],
    },
)
def transcript_audio(
    transcript_id: str, request: Request, services: ServicesDep,
    token: str | None = Query(None, description="a media token (instead of a header)"),
) -> Response:
    ip = client_ip(request, services)
    header = bearer_token(request.headers.get("authorization"))
    if header is not None:
        principal = resolve_principal(services, header, ip)
    elif token:
        principal = redeem_media_token(services.db, token, transcript_id, ip)
    else:
        raise ApiError(401, "An API key or a media token is required: send 'Authorization: "
                            "Bearer <API key>' or ?token= from POST .../audio/token.")
    services.admission.request(principal, "media")
    audio = transcripts.stored_audio(services.db, services.blobs, principal.account_id, transcript_id)
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": audio.etag,
        "Cache-Control": "private, max-age=3600",
        "Content-Disposition": "inline",
        "X-Content-Type-Options": "nosniff",
    }
    wanted = request.headers.get("range")
    if_range = request.headers.get("if-range")
    if wanted is not None and if_range is not None and if_range.strip() != audio.etag:
        wanted = None  # the client's copy is another file: send this one whole
    try:
        window = parse_range(wanted, audio.size)
    except RangeNotSatisfiable as exc:
        return error_response(416, str(exc), {"Content-Range": f"bytes */{audio.size}", **headers})
    start, stop = window or (0, audio.size)
    status = 206 if window else 200
    headers["Content-Length"] = str(stop - start)
    if window:
        headers["Content-Range"] = f"bytes {start}-{stop - 1}/{audio.size}"
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers, media_type=audio.media_type)
    return StreamingResponse(
        transcripts.iter_audio(services.blobs, audio, start, stop),
        status_code=status, headers=headers, media_type=audio.media_type,
    )
