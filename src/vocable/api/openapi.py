"""The OpenAPI document says what the server really answers.

Every route lists its error statuses with ``responses=error_responses(400, 401, ...)``, each with
the one error body ``{"error": "..."}``. FastAPI's own 422 (and its ``HTTPValidationError``
schema) is removed everywhere: a request that fails validation is a 400 here (``api/errors.py``).
Integer query parameters carry the bound ``api/validation.py`` enforces.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field

from vocable.api.validation import MAX_QUERY_INT, is_integer


class ErrorBody(BaseModel):
    """Every error response."""

    error: str = Field(description="What went wrong, for a person to read.",
                       examples=["No credits remaining. Upgrade your plan."])


# What each status means on this server (the spec's error table, and the decided ones).
MEANINGS = {
    400: "Bad request: a missing or invalid parameter, body or file.",
    401: "Missing, invalid or revoked API key (where a key is needed).",
    402: "No credits or minutes remaining.",
    403: "Refused: a disabled account, an admin-only operation, sign-up closed or needing an "
    "invite, or a session call without its CSRF token.",
    404: "No such resource (another account's is not found either).",
    409: "Conflict with the resource's state (e.g. a job still running).",
    413: "The upload is larger than the plan allows.",
    416: "The requested byte range is not within the resource (see Content-Range).",
    429: "Rate or concurrency limit exceeded; see Retry-After.",
    503: "A model or the queue is busy or unavailable; see Retry-After when sent.",
}
# Sent with 429 and, when the wait is known, 503.
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again.",
                               "schema": {"type": "integer"}}}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route: each status with its meaning and the error body."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        out[status] = {"model": ErrorBody, "description": MEANINGS[status]}
        if status in (429, 503):
            out[status]["headers"] = RETRY_AFTER
    return out


def _without_framework_422(schema: dict[str, Any]) -> None:
    for item in schema.get("paths", {}).values():
        for op in item.values():
            if isinstance(op, dict):
                op.get("responses", {}).pop("422", None)
    components = schema.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)


def _bounded_query_integers(schema: dict[str, Any]) -> None:
    for item in schema.get("paths", {}).values():
        for op in item.values():
            for param in op.get("parameters", []) if isinstance(op, dict) else []:
                s = param.get("schema", {})
                if param.get("in") == "query" and is_integer(s):
                    s.setdefault("maximum", MAX_QUERY_INT)
                    s.setdefault("minimum", -MAX_QUERY_INT)


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description,
                routes=app.routes, tags=app.openapi_tags, servers=app.servers,
            )
            _without_framework_422(schema)
            _bounded_query_integers(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def content_responses(description: str, media_types, status: int = 200) -> dict[int, dict[str, Any]]:
    """A success response that comes in several media types (``"text/vtt; charset=utf-8"``...)."""
    content = {mt.split(";")[0].strip(): {} for mt in media_types}
    return {status: {"description": description, "content": content}}


class OpenAIErrorDetail(BaseModel):
    message: str
    type: str
    code: str | int | None = None
    param: str | None = None


class OpenAIErrorBody(BaseModel):
    """Errors of the OpenAI-compatible routes, in OpenAI's shape."""

    error: OpenAIErrorDetail


def openai_error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``error_responses`` for the OpenAI-compatible routes: the same statuses, OpenAI's body."""
    out = error_responses(*statuses)
    for entry in out.values():
        entry["model"] = OpenAIErrorBody
    return out
