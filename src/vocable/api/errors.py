"""Every error leaves the server as ``{"error": "..."}`` with the spec's status code."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from vocable.accounts.quota import QuotaError
from vocable.llm.embed import EmbeddingInputError
from vocable.llm.runtime import LLMBusy, LLMError
from vocable.llm.textgen import TextInputError
from vocable.registry.speech import ModelNotInstalled

log = logging.getLogger("vocable.api")


class ApiError(Exception):
    """Raise from handlers: becomes a JSON error response."""

    def __init__(self, status_code: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.headers = headers or {}


def error_response(status_code: int, message: str, headers: dict[str, str] | None = None):
    return JSONResponse({"error": message}, status_code=status_code, headers=headers)


def _describe_validation(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
        msg = err.get("msg", "invalid value")
        parts.append(f"{where}: {msg}" if where else msg)
    return "Invalid request: " + "; ".join(parts) if parts else "Invalid request."


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError):
        return error_response(exc.status_code, exc.message, exc.headers)

    @app.exception_handler(QuotaError)
    async def _quota(_: Request, exc: QuotaError):
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
        return error_response(exc.status_code, str(exc), headers)

    @app.exception_handler(ModelNotInstalled)
    async def _model(_: Request, exc: ModelNotInstalled):
        return error_response(400, str(exc))

    @app.exception_handler(LLMError)
    async def _llm(_: Request, exc: LLMError):
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, LLMBusy) else None
        return error_response(exc.status_code, str(exc), headers)

    @app.exception_handler(EmbeddingInputError)
    async def _embed_input(_: Request, exc: EmbeddingInputError):
        return error_response(400, str(exc))

    @app.exception_handler(TextInputError)
    async def _text_input(_: Request, exc: TextInputError):
        return error_response(400, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError):
        # 400 "bad parameter" per the spec; the framework's 422 shape never leaks.
        return error_response(400, _describe_validation(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException):
        message = exc.detail if isinstance(exc.detail, str) else "Request failed."
        if exc.status_code == 404 and message == "Not Found":
            message = "Not found."
        return error_response(exc.status_code, message, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception):
        log.exception("unhandled error")
        return error_response(500, "Internal server error.")
