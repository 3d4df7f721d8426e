"""Endpoints that need no key: /health, /v1/models, /v1/languages."""

from __future__ import annotations

from fastapi import APIRouter

from vocable.api.deps import ServicesDep
from vocable.languages import WHISPER_LANGUAGES

router = APIRouter()


@router.get("/health", tags=["meta"])
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
    }


@router.get("/v1/models", tags=["meta"])
def list_models(services: ServicesDep) -> dict:
    registry = services.registry
    installed = set(registry.installed())
    default = registry.default_model(services.settings.default_model) if installed else None
    return {
        "models": [
            {
                "id": spec.id,
                "name": spec.name,
                "languages": spec.languages,
                "speed": spec.speed,
                "installed": spec.id in installed,
                "default": spec.id == default,
                "source": spec.source,
            }
            for spec in registry.all()
        ]
    }


@router.get("/v1/languages", tags=["meta"])
def list_languages() -> dict:
    return {"languages": [{"code": c, "name": n} for c, n in WHISPER_LANGUAGES.items()]}
