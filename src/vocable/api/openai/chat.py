"""POST /v1/chat/completions in OpenAI's shape, on the local LLM (``services.llm``, the runtime every
LLM feature uses: the same fair queue, limits and rate limit family as /v1/summarize).

* Whatever ``model`` names, the one local model answers and ``model`` (and ``X-Vocable-Model``)
  says which.
* ``messages`` with text content (a string or text parts); ``developer`` counts as ``system``.
* ``max_tokens`` / ``max_completion_tokens`` (capped by VOCABLE_LLM_MAX_TOKENS, the default),
  ``temperature`` (the runtime's 0.2 unless given: a small model rambles at OpenAI's 1.0), ``stop``.
* ``response_format``: ``json_schema`` constrains the reply to the schema with the runtime's grammar
  sampling; ``json_object`` to any JSON object.
* ``stream=true``: ``chat.completion.chunk`` events as the reply is generated, then ``[DONE]``;
  ``stream_options.include_usage`` adds a last chunk with the token usage.
* Refused with a 400: tools, function calls, images, ``n`` > 1, ``logprobs``.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from vocable.accounts.keys import Principal
from vocable.api.deps import ServicesDep, rate_limited
from vocable.api.errors import ApiError
from vocable.api.openai.errors import OpenAIRoute, sse, sse_error
from vocable.api.openapi import content_responses, openai_error_responses
from vocable.llm.runtime import Completion, LLMExecutor

router = APIRouter(tags=["openai"], route_class=OpenAIRoute)

LLMCaller = Annotated[Principal, Depends(rate_limited("llm"))]
ANY_OBJECT = {"type": "object"}  # json_object: a JSON object, nothing more said


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")  # e.g. `name`

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None


class JsonSchema(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    name: str = "response"
    schema_: dict[str, Any] = Field(default_factory=dict, alias="schema")
    strict: bool | None = None


class ResponseFormat(BaseModel):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: JsonSchema | None = None


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")

    include_usage: bool = False


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")  # seed, user, top_p, penalties...: not applied

    model: str | None = None
    messages: list[ChatMessage] = Field(min_length=1)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    stop: str | list[str] | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    response_format: ResponseFormat | None = None
    n: int = 1
    logprobs: bool | None = None
    tools: list[Any] | None = None
    functions: list[Any] | None = None


def _messages(request: ChatRequest) -> list[dict[str, str]]:
    out = []
    for i, message in enumerate(request.messages):
        if message.role in ("tool", "function"):
            raise ApiError(400, f"Invalid parameter: messages[{i}]: tool messages are not supported.")
        content = message.content
        if isinstance(content, list):
            if any(part.type != "text" for part in content):
                raise ApiError(400, f"Invalid parameter: messages[{i}]: only text content is supported.")
            content = "".join(part.text or "" for part in content)
        role = "system" if message.role == "developer" else message.role
        out.append({"role": role, "content": content or ""})
    return out


def _json_schema(request: ChatRequest) -> dict[str, Any] | None:
    fmt = request.response_format
    if fmt is None or fmt.type == "text":
        return None
    if fmt.type == "json_object":
        return ANY_OBJECT
    if fmt.json_schema is None:
        raise ApiError(400, "Invalid parameter: response_format.json_schema is required.")
    return fmt.json_schema.schema_ or ANY_OBJECT


def _refuse_unsupported(request: ChatRequest) -> None:
    if request.tools or request.functions:
        raise ApiError(400, "Invalid parameter: tools and function calls are not supported.")
    if request.n != 1:
        raise ApiError(400, "Invalid parameter: n: only one choice (n=1) is supported.")
    if request.logprobs:
        raise ApiError(400, "Invalid parameter: logprobs are not supported.")


def _generation(request: ChatRequest, llm: LLMExecutor, principal: Principal) -> dict[str, Any]:
    """The runtime's arguments for this request."""
    _refuse_unsupported(request)
    options: dict[str, Any] = {
        "max_tokens": request.max_completion_tokens or request.max_tokens
        or llm.settings.llm_max_tokens,
        "json_schema": _json_schema(request),
        "client": principal.limit_key,
        "stop": [request.stop] if isinstance(request.stop, str) else request.stop,
    }
    if request.temperature is not None:
        options["temperature"] = request.temperature
    return options


def _usage(completion: Completion) -> dict[str, int]:
    return {
        "prompt_tokens": completion.prompt_tokens,
        "completion_tokens": completion.completion_tokens,
        "total_tokens": completion.prompt_tokens + completion.completion_tokens,
    }


@router.post(
    "/v1/chat/completions", summary="OpenAI-compatible chat completion on the local LLM",
    responses={
        **content_responses("The completion, or its chunks when stream=true",
                            ["application/json", "text/event-stream"]),
        **openai_error_responses(400, 401, 429, 503),
    },
)
async def chat_completions(body: ChatRequest, principal: LLMCaller, services: ServicesDep):
    llm = services.llm
    messages = _messages(body)
    options = _generation(body, llm, principal)
    completion_id = "chatcmpl-" + secrets.token_hex(12)
    created = int(time.time())
    if body.stream:
        pieces = llm.stream(messages, **options)
        # The first piece (or the refusal: a full queue, too long an input) before answering, so
        # that a refusal is an HTTP status, not an event.
        first = await run_in_threadpool(next, pieces)
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        chunks = _chunks(first, pieces, llm.model_id, completion_id, created, include_usage)
        return StreamingResponse(
            chunks, media_type="text/event-stream",
            headers={"X-Vocable-Model": llm.model_id, "Cache-Control": "no-cache"},
        )
    completion = await run_in_threadpool(lambda: llm.run(messages, **options))
    return JSONResponse(
        {
            "id": completion_id,
            "object": "chat.completion",
            "created": created,
            "model": llm.model_id,
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": completion.text, "refusal": None},
                "finish_reason": completion.finish_reason,
                "logprobs": None,
            }],
            "usage": _usage(completion),
        },
        headers={"X-Vocable-Model": llm.model_id},
    )


def _chunks(
    first: str | Completion, pieces: Iterator[str | Completion], model: str, completion_id: str,
    created: int, include_usage: bool,
) -> Iterator[str]:
    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> str:
        return sse({
            "id": completion_id, "object": "chat.completion.chunk", "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason,
                         "logprobs": None}],
        })

    yield chunk({"role": "assistant", "content": ""})
    piece: str | Completion = first
    try:
        while isinstance(piece, str):
            yield chunk({"content": piece})
            piece = next(pieces)
    except Exception as exc:  # noqa: BLE001 - the generation failed mid-answer: the last event
        yield sse_error(exc)
        return
    finally:
        if not isinstance(piece, Completion):
            pieces.close()  # the client left, or the generation failed: stop generating
    yield chunk({}, piece.finish_reason)
    if include_usage:
        yield sse({
            "id": completion_id, "object": "chat.completion.chunk", "created": created,
            "model": model, "choices": [], "usage": _usage(piece),
        })
    yield sse("[DONE]")
