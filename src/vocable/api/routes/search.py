"""GET /api/v1/search/?q=: every transcript of the account, by words and by meaning."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from vocable.api.deps import AccountDep, ServicesDep, rate_limited
from vocable.api.openapi import error_responses
from vocable.api.routes.transcripts import filter_params
from vocable.transcription import search
from vocable.transcription.store import TranscriptFilter

router = APIRouter(
    prefix="/api/v1/search", tags=["transcripts"],
    dependencies=[Depends(rate_limited("account"))],
)


@router.get(
    "/",
    summary="Search your transcripts by words and by meaning",
    description=(
        "Hits are segments: `transcript_id`, `segment` (its index), `start` (seconds: the first "
        "matched word's start, where to open the audio), `speaker`, `text`, `highlights` "
        "([start, end) character ranges of `text`), `match` (`words`: the phrase, or every term, "
        "appears; `meaning`: the segment's embedding is close to the query's) and `score`. "
        "Word hits come first. Filters as on the transcript list."
    ),
    responses=error_responses(400, 401, 429),
)
def search_transcripts(
    principal: AccountDep,
    services: ServicesDep,
    q: str = Query(..., description="words or a question", max_length=search.MAX_QUERY_CHARS),
    mode: str = Query("all", description="all, words or meaning"),
    limit: int = Query(20, ge=1, le=search.MAX_LIMIT),
    flt: TranscriptFilter = Depends(filter_params),
) -> dict[str, Any]:
    result = services.search.search(principal.account_id, q, mode=mode, flt=flt, limit=limit)
    return {
        "query": result.query,
        "mode": result.mode,
        "count": len(result.results),
        "results": [hit.to_dict() for hit in result.results],
    }
