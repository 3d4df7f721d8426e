"""Endpoints that need no key: /health, /v1/models, /v1/languages."""

from __future__ import annotations

from fastapi import APIRouter, Request

from vocable.api.deps import ServicesDep
from vocable.api.openai.models import openai_listing
from vocable.api.openapi import error_responses
from vocable.languages import WHISPER_LANGUAGES

router = APIRouter()


@router.get("/health", tags=["meta"], responses=error_responses(400))
def health(services: ServicesDep) -> dict:
    device = services.whisper.device
    return {
        "status": "ok",
        "gpu_available": device.gpu_available,
        "gpu_name": device.gpu_name,
        "gpu_memory_mb": device.gpu_memory_mb,
        "device": device.kind,
        "models_loaded": services.whisper.loaded(),
        "llm": services.llm.status(),
        # every family's loaded models, from the one model pool
        "loaded": [{"family": m.family, "id": m.id} for m in services.pool.loaded()],
    }


@router.get("/v1/models", tags=["meta"], responses=error_responses(400))
def list_models(request: Request, services: ServicesDep) -> dict:
    """Every known model, speech (Whisper) first, in ``models`` (the seed's shape; ``family`` says
    what each one is for), and the installed ones OpenAI's clients can use, in OpenAI's shape
    (``object``, ``data``)."""
    entries = services.catalog.entries()
    return {
        "models": [entry.to_dict() for entry in entries],
        **openai_listing(entries, request.app.state.started_at),
    }


@router.get("/v1/languages", tags=["meta"], responses=error_responses(400))
def list_languages() -> dict:
    return {"languages": [{"code": c, "name": n} for c, n in WHISPER_LANGUAGES.items()]}
