"""POST /v1/translate (single and batch) and GET /v1/translate/languages."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from vocable.accounts.keys import Principal
from vocable.api.deps import ServicesDep, rate_limited
from vocable.api.errors import ApiError
from vocable.api.openapi import error_responses

router = APIRouter(tags=["translation"])
TranslateLimited = Annotated[Principal, Depends(rate_limited("translate"))]


class TranslateRequest(BaseModel):
    text: str | None = Field(None, description="One text to translate.")
    texts: list[str] | None = Field(None, description="Several texts (batch).")
    target: str = Field(description="Target language, ISO 639-1.")
    source: str = Field("en", description="Source language, ISO 639-1, or 'auto'.")
    backend: str | None = Field(
        None, description="'llm' or an installed NMT model id; default: the best installed."
    )


@router.post("/v1/translate", responses=error_responses(400, 401, 429, 503))
def translate(
    body: TranslateRequest,
    services: ServicesDep,
    principal: TranslateLimited,
) -> dict[str, Any]:
    settings = services.settings
    if (body.text is None) == (body.texts is None):
        raise ApiError(400, "Send either 'text' (one string) or 'texts' (a list of strings).")
    texts = [body.text] if body.text is not None else list(body.texts or [])
    if not texts:
        raise ApiError(400, "'texts' must not be empty.")
    if len(texts) > settings.translate_max_batch:
        raise ApiError(400, f"Too many texts: {len(texts)} (at most {settings.translate_max_batch}).")
    for i, text in enumerate(texts):
        if len(text) > settings.translate_max_chars:
            where = "'text'" if body.text is not None else f"texts[{i}]"
            raise ApiError(400, f"{where} is {len(text)} characters long (at most {settings.translate_max_chars}).")
    source = body.source.strip().lower() or "en"
    target = body.target.strip().lower()
    result = services.translator.translate(
        texts, source, target, backend=body.backend, client=principal.limit_key
    )
    meta = {"source_language": result.source, "target_language": result.target,
            "backend": result.backend, "model": result.model}
    if body.text is not None:
        return {"translated_text": result.texts[0], **meta}
    return {"translations": [{"translated_text": t} for t in result.texts], **meta}


@router.get("/v1/translate/languages", responses=error_responses(400))
def translate_languages(services: ServicesDep) -> dict[str, Any]:
    """Which languages each translation backend supports (installed ones first). No key needed."""
    translator = services.translator
    return {"default_backend": translator.backend().id, "backends": translator.listing()}
