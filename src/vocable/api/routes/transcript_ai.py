"""POST /api/v1/transcripts/{id}/chat/ and /api/v1/transcripts/{id}/generate/: the local LLM over
an account's stored transcript. Another account's transcript is a 404, like an unknown id."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from vocable.accounts.keys import Principal
from vocable.api.deps import ServicesDep, account_rate_limited
from vocable.api.openapi import error_responses
from vocable.api.routes.ai import GenerateResponse, generate_response
from vocable.llm.chat import MAX_QUESTION_CHARS, source_dict
from vocable.llm.textgen import GenerateType, Source
from vocable.transcription import store as transcripts

router = APIRouter(prefix="/api/v1/transcripts", tags=["transcripts"])

# Keys only (a stored transcript belongs to an account); rate limited like the /v1 LLM endpoints.
AccountLLMCaller = Annotated[Principal, Depends(account_rate_limited("llm"))]


class ChatRequest(BaseModel):
    question: str = Field(max_length=MAX_QUESTION_CHARS)
    session_id: str | None = Field(default=None, max_length=64)


class ChatSource(BaseModel):
    segment_order: int
    text: str
    score: float
    start: float | None = None
    speaker: str | None = None


class ChatResponse(BaseModel):
    answer: str
    sources: list[ChatSource]
    session_id: str
    # False when the transcript does not contain the answer (``answer`` says so).
    answered: bool
    model: str


class TranscriptGenerateRequest(BaseModel):
    type: GenerateType


class TranscriptGenerateResponse(GenerateResponse):
    transcript_id: str


@router.post(
    "/{transcript_id}/chat/",
    response_model=ChatResponse,
    summary="Ask a question about a stored transcript",
    responses=error_responses(400, 401, 404, 429, 503),
    description="RAG over the transcript's segments: semantic search, then an answer from the local "
    "LLM using only the retrieved segments, cited in `sources`. Send `session_id` to continue a "
    "conversation; one is created and returned when absent.",
)
def chat(transcript_id: str, body: ChatRequest, principal: AccountLLMCaller, services: ServicesDep):
    answer = services.chat.ask(
        principal.account_id, transcript_id, body.question, body.session_id,
        client=principal.limit_key,
    )
    return ChatResponse(
        answer=answer.answer, sources=[ChatSource(**source_dict(h)) for h in answer.sources],
        session_id=answer.session_id, answered=answer.answered, model=answer.model,
    )


@router.post(
    "/{transcript_id}/generate/",
    response_model=TranscriptGenerateResponse,
    response_model_exclude_none=True,
    summary="Generate content from a stored transcript",
    responses=error_responses(400, 401, 404, 429, 503),
    description="As /v1/generate, on the transcript's segments: times and speakers are known, so "
    "chapter markers and key quotes carry timestamps.",
)
def generate(
    transcript_id: str, body: TranscriptGenerateRequest, principal: AccountLLMCaller,
    services: ServicesDep,
):
    segments = transcripts.completed_segments(services.db, principal.account_id, transcript_id)
    source = Source.from_segments(segments)
    writer = services.writer(principal.limit_key)
    response = generate_response(writer.generate(source, body.type))
    return TranscriptGenerateResponse(**response.model_dump(), transcript_id=transcript_id)
