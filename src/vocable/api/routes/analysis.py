"""POST /v1/analyze and POST /api/v1/transcripts/{id}/analyze/ (rate limited, no credits)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from vocable.accounts.keys import Principal
from vocable.analysis import ANALYSIS_TYPES, supported_languages, to_dict
from vocable.analysis.document import Document
from vocable.api.deps import AccountDep, ServicesDep, rate_limited
from vocable.api.errors import ApiError
from vocable.api.openapi import error_responses
from vocable.services import Services
from vocable.transcription import store as transcripts

router = APIRouter(tags=["analysis"])
# Rate limited per key/IP like every non-transcription endpoint; no credits are spent.
AnalyzeLimited = Annotated[Principal, Depends(rate_limited("analyze"))]

TYPES_HELP = ", ".join(ANALYSIS_TYPES)


class AnalyzeRequest(BaseModel):
    text: str = Field(description="The text to analyse.")
    type: str = Field(description=f"One of: {TYPES_HELP}.")
    language: str | None = Field(
        None, description="ISO 639-1 code of the text, or 'auto' (default: detected)."
    )


class TranscriptAnalyzeRequest(BaseModel):
    type: str = Field(description=f"One of: {TYPES_HELP}.")
    language: str | None = Field(None, description="Override the transcript's language.")


def _run(services: Services, kind: str, doc: Document, language: str | None, client: str) -> dict[str, Any]:
    kind = kind.strip().lower()
    analysis = services.analysis
    lang = analysis.resolve_language(doc, language)
    analysis.check(kind, lang)
    result = analysis.analyze(kind, doc, lang, client=client)
    return {"type": kind, "language": lang, "result": to_dict(result)}


@router.post("/v1/analyze", responses=error_responses(400, 401, 429, 503))
def analyze(
    body: AnalyzeRequest,
    services: ServicesDep,
    principal: AnalyzeLimited,
) -> dict[str, Any]:
    """Analyse text. ``result`` depends on ``type``; see ``vocable.analysis`` for each shape."""
    if not body.text.strip():
        raise ApiError(400, "'text' must not be empty.")
    limit = services.settings.analyze_max_chars
    if len(body.text) > limit:
        raise ApiError(400, f"'text' is {len(body.text)} characters long (at most {limit}).")
    doc = Document.from_text(body.text)
    return _run(services, body.type, doc, body.language, principal.limit_key)


@router.post(
    "/api/v1/transcripts/{transcript_id}/analyze/", tags=["transcripts"],
    responses=error_responses(400, 401, 404, 429, 503),
)
def analyze_transcript(
    transcript_id: str,
    body: TranscriptAnalyzeRequest,
    services: ServicesDep,
    principal: AccountDep,
    _limited: AnalyzeLimited,
) -> dict[str, Any]:
    """As /v1/analyze, on a stored transcript: results name segments and speakers."""
    row = transcripts.get_transcript(services.db, principal.account_id, transcript_id)
    if row is None:
        raise ApiError(404, "No such transcript.")
    if row.status != "completed":
        raise ApiError(400, f"The transcript is {row.status}; it can be analysed once completed.")
    if row.segments:
        doc = Document.from_segments(row.segments, language=row.language or None)
    else:
        doc = Document.from_text(row.text, language=row.language or None)
    if not doc.text.strip():
        raise ApiError(400, "The transcript has no text to analyse.")
    out = _run(services, body.type, doc, body.language, principal.limit_key)
    return {"transcript_id": row.id, **out}


@router.get("/v1/analyze/languages", responses=error_responses(400))
def analyze_languages() -> dict[str, Any]:
    """Which languages each analysis type supports (no key needed)."""
    return {"types": supported_languages()}
