"""/api/v1/transcripts/: the caller's stored transcripts: list, detail, delete, export."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import Response

from vocable.api.deps import AccountDep, ServicesDep, rate_limited
from vocable.api.errors import ApiError
from vocable.api.openapi import content_responses, error_responses
from vocable.languages import WHISPER_LANGUAGES
from vocable.transcription import exports, formats
from vocable.transcription import store as transcripts
from vocable.transcription.jobs import to_transcription

router = APIRouter(
    prefix="/api/v1/transcripts", tags=["transcripts"],
    dependencies=[Depends(rate_limited("account"))],
)

NOT_FOUND = "No such transcript."
MAX_PAGE_SIZE = 100


def _moment(name: str, raw: str, end_of_day: bool) -> datetime:
    """A date (the whole day) or an ISO 8601 date-time; times without a zone are UTC."""
    raw = raw.strip()
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            moment = datetime.combine(day + timedelta(days=1) if end_of_day else day, time(), UTC)
        else:
            # An unencoded "+02:00" in a query string arrives as " 02:00".
            moment = datetime.fromisoformat(re.sub(r"(T[\d:.]+) (\d\d:?\d\d)$", r"\1+\2", raw))
    except ValueError:
        raise ApiError(400, f"Invalid {name} '{raw}': use a date (2025-01-31) or an ISO 8601 date-time.") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _filter(status: str | None, language: str | None, created_after: str | None,
            created_before: str | None, on: str | None, min_duration: float | None = None,
            max_duration: float | None = None) -> transcripts.TranscriptFilter:
    statuses: tuple[str, ...] = ()
    if status:
        statuses = tuple(s.strip().lower() for s in status.split(",") if s.strip())
        unknown = [s for s in statuses if s not in transcripts.STATUSES]
        if unknown:
            raise ApiError(400, f"Invalid status '{unknown[0]}': use one of {', '.join(transcripts.STATUSES)}.")
    if language is not None:
        language = language.strip().lower()
        if language not in WHISPER_LANGUAGES:
            raise ApiError(400, f"Invalid language '{language}': use an ISO 639-1 code.")
    after = _moment("created_after", created_after, False) if created_after else None
    before = _moment("created_before", created_before, True) if created_before else None
    if on:
        day_start, day_end = _moment("date", on, False), _moment("date", on, True)
        after = max(after, day_start) if after else day_start
        before = min(before, day_end) if before else day_end
    if min_duration is not None and max_duration is not None and min_duration > max_duration:
        raise ApiError(400, "min_duration must not be larger than max_duration.")
    return transcripts.TranscriptFilter(
        statuses, language or None, after, before, min_duration, max_duration
    )


def filter_params(
    language: str | None = Query(None, description="ISO 639-1 code of the detected language"),
    created_after: str | None = Query(None, description="date or date-time, inclusive"),
    created_before: str | None = Query(None, description="date (inclusive) or date-time (exclusive)"),
    date_: str | None = Query(None, alias="date", description="one day (YYYY-MM-DD)"),
    min_duration: float | None = Query(None, ge=0, description="seconds of audio, at least"),
    max_duration: float | None = Query(None, ge=0, description="seconds of audio, at most"),
) -> transcripts.TranscriptFilter:
    """The filters the listing and search share (search adds no status: it reads completed ones)."""
    return _filter(None, language, created_after, created_before, date_, min_duration, max_duration)


@router.get(
    "/", summary="List your transcripts, newest first", responses=error_responses(400, 401, 429)
)
def list_transcripts(
    request: Request,
    principal: AccountDep,
    services: ServicesDep,
    page: int = Query(1, ge=1),
    page_size: int = Query(20, ge=1, le=MAX_PAGE_SIZE),
    status: str | None = Query(None, description="queued, processing, completed, failed (comma-separated)"),
    language: str | None = Query(None, description="ISO 639-1 code of the detected language"),
    created_after: str | None = Query(None, description="date or date-time, inclusive"),
    created_before: str | None = Query(None, description="date (inclusive) or date-time (exclusive)"),
    date_: str | None = Query(None, alias="date", description="one day (YYYY-MM-DD)"),
    min_duration: float | None = Query(None, ge=0, description="seconds of audio, at least"),
    max_duration: float | None = Query(None, ge=0, description="seconds of audio, at most"),
) -> dict[str, Any]:
    flt = _filter(status, language, created_after, created_before, date_, min_duration, max_duration)
    result = transcripts.list_transcripts(services.db, principal.account_id, flt, page, page_size)
    last_page = max(1, -(-result.count // page_size))
    return {
        "count": result.count,
        "page": page,
        "page_size": page_size,
        "next": str(request.url.include_query_params(page=page + 1)) if page < last_page else None,
        "previous": (
            str(request.url.include_query_params(page=min(page - 1, last_page))) if page > 1 else None
        ),
        "results": result.items,
    }


def _own(services, principal, transcript_id: str):
    row = transcripts.get_transcript(services.db, principal.account_id, transcript_id)
    if row is None:
        raise ApiError(404, NOT_FOUND)
    return row


def detail(row) -> dict[str, Any]:
    """The transcribe endpoint's JSON (the shared formatter), plus the job's own fields."""
    body = formats.response_dict(to_transcription(row))
    return {
        "id": row.id,
        "status": row.status,
        "error": row.error or None,
        "filename": row.filename,
        "created_at": row.created_at,
        "completed_at": row.completed_at,
        "updated_at": row.updated_at,
        "version": row.version or 0,
        "has_audio": bool(row.audio_key) and row.status == "completed",
        "options": {k: v for k, v in (row.options or {}).items() if k != "language_probability"},
        **body,
    }


@router.get(
    "/{transcript_id}/", summary="A transcript with its segments, words and speakers",
    responses=error_responses(400, 401, 404, 429),
)
def get_transcript(transcript_id: str, principal: AccountDep, services: ServicesDep) -> dict[str, Any]:
    row = _own(services, principal, transcript_id)
    body = detail(row)
    # The job's webhook and every delivery attempt (status code or error, when, how long).
    body["webhook"] = {
        "url": row.webhook_url or None,
        "deliveries": services.webhooks.deliveries(row.id) if row.webhook_url else [],
    }
    return body


@router.patch(
    "/{transcript_id}/",
    summary="Correct a transcript: rename speakers, edit a segment's text, merge and split segments",
    description=(
        "Operations apply in order, all or none. `operations`: a list of "
        "`{\"op\": \"rename_speaker\", \"from\", \"to\"}`, "
        "`{\"op\": \"set_speaker\", \"segment\", \"speaker\"}`, "
        "`{\"op\": \"edit_text\", \"segment\", \"text\"}` (words keep their timings), "
        "`{\"op\": \"merge\", \"segment\"}` (with the next one), "
        "`{\"op\": \"split\", \"segment\", \"word\" | \"at\"}` (before that word index, or "
        "at the first word starting at `at` seconds). Shorthands: `speakers` {old: new} and "
        "`segments` [{index, text?, speaker?}]. `version` (optional): the version the edit was "
        "made on; another one is a 409. Answers the edited transcript."
    ),
    responses=error_responses(400, 401, 404, 409, 429),
)
def edit_transcript(
    transcript_id: str, principal: AccountDep, services: ServicesDep,
    body: dict[str, Any] = Body(..., examples=[{"speakers": {"Speaker 1": "Diane"}}]),
) -> dict[str, Any]:
    result = services.editor.edit(principal.account_id, transcript_id, body, key_id=principal.key_id)
    return {**detail(result.transcript), "changed_segments": result.changed_segments}


@router.get(
    "/{transcript_id}/edits/", summary="The edit history of a transcript, oldest first",
    responses=error_responses(400, 401, 404, 429),
)
def transcript_edits(transcript_id: str, principal: AccountDep, services: ServicesDep) -> dict[str, Any]:
    return {"edits": services.editor.history(principal.account_id, transcript_id)}


@router.delete(
    "/{transcript_id}/", summary="Delete a transcript and everything derived from it",
    responses=error_responses(400, 401, 404, 409, 429),
)
def delete_transcript(transcript_id: str, principal: AccountDep, services: ServicesDep) -> dict[str, Any]:
    deleted = transcripts.delete_transcript(  # a job still queued or running: TranscriptBusy (409)
        services.db, principal.account_id, transcript_id, blobs=services.blobs
    )
    if not deleted:
        raise ApiError(404, NOT_FOUND)
    return {"id": transcript_id, "deleted": True}


@router.get(
    "/{transcript_id}/export/{fmt}/",
    summary="Download a transcript as txt, srt, vtt, json, csv, docx or pdf",
    response_class=Response,
    responses={
        **content_responses("The transcript as a file", exports.MEDIA_TYPES.values()),
        **error_responses(400, 401, 404, 409, 429),
    },
)
def export_transcript(transcript_id: str, fmt: str, principal: AccountDep, services: ServicesDep) -> Response:
    fmt = fmt.lower()
    if fmt not in exports.EXPORT_FORMATS:
        raise exports.UnknownFormat(fmt)
    row = _own(services, principal, transcript_id)
    if row.status != "completed":
        raise ApiError(409, f"The transcript is {row.status}; only a completed transcript can be exported.")
    info = exports.TranscriptInfo(row.id, row.filename, row.created_at)
    result = exports.export(info, to_transcription(row), fmt)
    return Response(
        result.content, media_type=result.media_type,
        headers={"Content-Disposition": result.content_disposition},
    )
