"""Errors of the OpenAI-compatible routes in OpenAI's shape:
``{"error": {"message": "...", "type": "...", "param": null, "code": "..."}}``.

The status and message come from the one table of ``vocable.api.errors`` (the seed's routes send
the same problem as ``{"error": "..."}``); only the body's shape differs. ``OpenAIRoute`` is the
route class of these routers: whatever a handler or its dependencies raise leaves in this shape.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from vocable.api.errors import describe, describe_validation
from vocable.registry.speech import ModelNotInstalled

log = logging.getLogger("vocable.api.openai")

# HTTP status → OpenAI's error ``type`` and ``code`` for it (as OpenAI's own API answers).
ERROR_TYPES: dict[int, tuple[str, str | None]] = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    402: ("insufficient_quota", "insufficient_quota"),
    404: ("invalid_request_error", "not_found"),
    409: ("invalid_request_error", "conflict"),
    413: ("invalid_request_error", "file_too_large"),
    429: ("requests", "rate_limit_exceeded"),
    500: ("server_error", None),
    503: ("server_error", "service_unavailable"),
}


def error_body(status: int, message: str, exc: BaseException | None = None) -> dict[str, Any]:
    kind, code = ERROR_TYPES.get(status, ("invalid_request_error" if status < 500 else "server_error", None))
    if isinstance(exc, ModelNotInstalled):
        code = "model_not_found"
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def error_response(exc: BaseException) -> JSONResponse:
    if isinstance(exc, RequestValidationError):
        status, message, headers = 400, describe_validation(exc), {}
    elif isinstance(exc, HTTPException):  # the framework's own, e.g. a body that is not JSON
        detail = exc.detail if isinstance(exc.detail, str) else "Request failed."
        status, message, headers = exc.status_code, detail, dict(exc.headers or {})
    else:
        status, message, headers = describe(exc)
    if status == 500:
        log.error("unhandled error", exc_info=exc)
    return JSONResponse(error_body(status, message, exc), status_code=status, headers=headers or None)


def sse_error(exc: BaseException) -> str:
    """A failure after a streamed answer began: one last event, which OpenAI's SDKs raise."""
    status, message, _ = describe(exc)
    if status == 500:
        log.error("unhandled error in a stream", exc_info=exc)
    return sse(error_body(status, message, exc))


def sse(data: dict[str, Any] | str) -> str:
    """One server-sent event of ``data`` (JSON, or a literal such as ``[DONE]``)."""
    payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return f"data: {payload}\n\n"


class OpenAIRoute(APIRoute):
    """A route whose errors (its handler's, its dependencies', its body's validation) leave in
    OpenAI's shape, with the status and headers the errors table gives them."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:  # noqa: BLE001 - every error: the table gives its status
                return error_response(exc)

        return route
