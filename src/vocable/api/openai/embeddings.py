"""POST /v1/embeddings in OpenAI's shape, on the same embedder as POST /v1/embed (all-MiniLM-L6-v2,
384 dimensions, unit length; rate limited like it, no credits).

``input`` is a string or a list of strings (token-id arrays are refused: there is no OpenAI
tokenizer here); whatever ``model`` names, MiniLM answers and ``model`` says so.
``encoding_format=base64`` is the little-endian float32 bytes of each vector, as OpenAI sends
(and as the OpenAI Python SDK asks for by default).
"""

from __future__ import annotations

import base64
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from vocable.accounts.keys import Principal
from vocable.api.deps import ServicesDep, rate_limited
from vocable.api.errors import ApiError
from vocable.api.openai.errors import OpenAIRoute
from vocable.api.openapi import openai_error_responses
from vocable.llm.embed import DIMENSIONS

router = APIRouter(tags=["openai"], route_class=OpenAIRoute)

EmbedCaller = Annotated[Principal, Depends(rate_limited("embed"))]


class EmbeddingsRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")  # e.g. `user`

    model: str | None = None
    input: str | list[Any]
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = None


def _texts(value: str | list[Any]) -> list[str]:
    if isinstance(value, str):
        return [value]
    if value and all(isinstance(item, str) for item in value):
        return value
    if value and all(isinstance(item, int | list) for item in value):
        raise ApiError(400, "Invalid parameter: input as token ids is not supported; send text.")
    raise ApiError(400, "Invalid parameter: input must be a string or a non-empty list of strings.")


@router.post(
    "/v1/embeddings",
    summary="OpenAI-compatible embeddings (all-MiniLM-L6-v2, 384 dimensions)",
    responses=openai_error_responses(400, 401, 429, 503),
)
def embeddings(body: EmbeddingsRequest, principal: EmbedCaller, services: ServicesDep):
    texts = _texts(body.input)
    if body.dimensions is not None and body.dimensions != DIMENSIONS:
        raise ApiError(400, f"Invalid parameter: dimensions: this model has {DIMENSIONS} only.")
    embedder = services.embedder
    embedder.check(texts)
    vectors = embedder.embed(texts)
    tokens = embedder.count_tokens(texts)
    data = [
        {
            "object": "embedding",
            "index": i,
            "embedding": (
                base64.b64encode(row.astype("<f4").tobytes()).decode("ascii")
                if body.encoding_format == "base64"
                else [float(x) for x in row]
            ),
        }
        for i, row in enumerate(vectors)
    ]
    return JSONResponse(
        {
            "object": "list",
            "data": data,
            "model": embedder.model_id,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        },
        headers={"X-Vocable-Model": embedder.model_id},
    )
