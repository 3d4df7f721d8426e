"""POST /v1/summarize, /v1/generate, /v1/embed: text endpoints on local models (rate limited, no
credits). Handlers are sync: FastAPI runs them in its thread pool while the model works."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from vocable.accounts.keys import Principal
from vocable.api.deps import ServicesDep, rate_limited
from vocable.api.openapi import error_responses
from vocable.llm.embed import DIMENSIONS
from vocable.llm.textgen import (
    STRUCTURED_TYPES,
    GenerateType,
    Source,
    SummaryStyle,
    TextResult,
)

router = APIRouter(tags=["text"])

LLMCaller = Annotated[Principal, Depends(rate_limited("llm"))]
EmbedCaller = Annotated[Principal, Depends(rate_limited("embed"))]

# About ten hours of speech; longer input is refused rather than queued for an hour.
MAX_TEXT_CHARS = 600_000


class SummarizeRequest(BaseModel):
    text: str = Field(max_length=MAX_TEXT_CHARS)
    style: SummaryStyle = "brief"


class SummarizeResponse(BaseModel):
    summary: str
    style: str
    model: str
    # Only for style=action_items: the validated items the summary lists.
    action_items: list[dict[str, Any]] | None = None


class GenerateRequest(BaseModel):
    text: str = Field(max_length=MAX_TEXT_CHARS)
    type: GenerateType


class GenerateResponse(BaseModel):
    type: str
    # The generated content as text (markdown for the prose types; a readable rendering for
    # the structured ones).
    content: str
    # Structured types (flashcards, quiz, key_quotes, chapter_markers) only: the validated JSON.
    result: dict[str, Any] | None = None
    model: str


class EmbedRequest(BaseModel):
    texts: list[str]


class EmbedResponse(BaseModel):
    embeddings: list[list[float]]
    dimensions: int
    model: str


def generate_response(result: TextResult) -> GenerateResponse:
    return GenerateResponse(
        type=result.kind, content=result.text,
        result=result.data if result.kind in STRUCTURED_TYPES else None, model=result.model,
    )


@router.post(
    "/v1/summarize",
    response_model=SummarizeResponse,
    response_model_exclude_none=True,
    summary="Summarize text on the local LLM",
    responses=error_responses(400, 401, 429, 503),
    description="Styles: brief (default), detailed, action_items, bullet_points. Long transcripts "
    "are summarized in parts (map-reduce). Names and numbers not in the text are removed.",
)
def summarize(body: SummarizeRequest, principal: LLMCaller, services: ServicesDep):
    source = Source.from_text(body.text)
    writer = services.writer(principal.limit_key)
    result = writer.summarize(source, body.style)
    return SummarizeResponse(
        summary=result.text, style=body.style, model=result.model,
        action_items=(result.data or {}).get("action_items") if body.style == "action_items" else None,
    )


@router.post(
    "/v1/generate",
    response_model=GenerateResponse,
    response_model_exclude_none=True,
    summary="Generate content from a transcript on the local LLM",
    responses=error_responses(400, 401, 429, 503),
    description="Types: blog_post, social_media, newsletter, key_quotes, show_notes, meeting_notes, "
    "study_guide, flashcards, quiz, chapter_markers. Structured types also return `result`, "
    "validated JSON.",
)
def generate(body: GenerateRequest, principal: LLMCaller, services: ServicesDep):
    source = Source.from_text(body.text)
    writer = services.writer(principal.limit_key)
    return generate_response(writer.generate(source, body.type))


@router.post(
    "/v1/embed",
    response_model=EmbedResponse,
    summary="Sentence embeddings (all-MiniLM-L6-v2, 384 dimensions, L2-normalised)",
    responses=error_responses(400, 401, 429, 503),
)
def embed(body: EmbedRequest, principal: EmbedCaller, services: ServicesDep):
    services.embedder.check(body.texts)
    vectors = services.embedder.embed(body.texts)
    return EmbedResponse(
        embeddings=[[round(float(x), 7) for x in row] for row in vectors],
        dimensions=DIMENSIONS, model=services.embedder.model_id,
    )
