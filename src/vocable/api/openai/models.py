"""The models in OpenAI's shape: ``GET /v1/models`` (``meta.list_models`` answers both shapes in one
body) and ``GET /v1/models/{id}``.

OpenAI's ``data`` lists the installed models an OpenAI-compatible route can use: speech models
(transcriptions, translations), the LLM (chat completions) and the embedding model, each with
``object: "model"``, ``owned_by: "vocable"``, ``created`` (the server's start: local models carry
no creation date) and Vocable's ``family``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from vocable.api.deps import ServicesDep
from vocable.api.errors import ApiError
from vocable.api.openai.errors import OpenAIRoute
from vocable.api.openapi import openai_error_responses
from vocable.registry.catalog import CatalogEntry

router = APIRouter(tags=["openai"], route_class=OpenAIRoute)

OPENAI_FAMILIES = ("speech", "llm", "embedding", "tts")  # the families the OpenAI routes serve
OWNER = "vocable"


def model_object(entry: CatalogEntry, created: int) -> dict[str, Any]:
    return {"id": entry.id, "object": "model", "created": created, "owned_by": OWNER,
            "family": entry.family}


def openai_listing(entries: list[CatalogEntry], created: int) -> dict[str, Any]:
    """OpenAI's part of the /v1/models answer."""
    return {
        "object": "list",
        "data": [
            model_object(e, created) for e in entries
            if e.installed and e.family in OPENAI_FAMILIES
        ],
    }


@router.get(
    "/v1/models/{model_id:path}", summary="One model, in OpenAI's shape",
    responses=openai_error_responses(400, 404),
)
def retrieve_model(model_id: str, request: Request, services: ServicesDep) -> dict[str, Any]:
    created = request.app.state.started_at
    for entry in services.catalog.entries():
        if entry.id == model_id and entry.installed and entry.family in OPENAI_FAMILIES:
            return model_object(entry, created)
    raise ApiError(404, f"The model '{model_id}' does not exist on this server.")
