"""Every error leaves the server as ``{"error": "..."}`` with the spec's status code.

Domain errors carry no HTTP status: ``ERRORS`` below is the one table that gives them one, for
the REST handlers and for the close codes of ``WS /v1/stream`` (4000 + the REST status).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from vocable.accounts.admission import AtCapacity, FileTooLarge, QueueFull
from vocable.accounts.auth import (
    EmailNotVerified,
    InvalidCredentials,
    LinkInvalid,
    ResetUnavailable,
    SignupRefused,
)
from vocable.accounts.console import AccountBusy
from vocable.accounts.invites import InviteRefused
from vocable.accounts.keys import AccountDisabled, AccountExists, AccountNotFound, InvalidKey
from vocable.accounts.media_tokens import MediaTokenRefused
from vocable.accounts.profile import EmailTaken, ProfileError
from vocable.accounts.quota import AccountSuspended, LimitReached, NoCreditsLeft, QuotaError
from vocable.accounts.sessions import CsrfRefused, SessionInvalid
from vocable.accounts.tickets import TicketRefused
from vocable.analysis import UnknownAnalysisType, UnsupportedLanguage
from vocable.audio import AudioError
from vocable.audio.denoise import DenoiserUnavailable
from vocable.audio.tts import CloningUnavailable, TTSInputError
from vocable.diarization.executor import DiarizationError
from vocable.diarization.speakers import SpeakerInputError, SpeakerNameTaken, SpeakerNotFound
from vocable.llm.chat import ChatInputError, ChatNotFound
from vocable.llm.embed import EmbeddingInputError
from vocable.llm.runtime import ContextOverflow, LLMError
from vocable.llm.textgen import TextInputError
from vocable.registry.speech import ModelNotInstalled
from vocable.registry.tts import VoiceNotFound
from vocable.transcription.editing import EditConflict, EditError
from vocable.transcription.exports import UnknownFormat
from vocable.transcription.search import SearchInputError
from vocable.transcription.speech_models import EnglishOnlyModel, ModelUnavailable, UnknownLanguage
from vocable.transcription.store import (
    AudioNotKept,
    TranscriptBusy,
    TranscriptNotCompleted,
    TranscriptNotFound,
)
from vocable.translation.base import TranslationFailed, UnsupportedPair
from vocable.webhooks import WebhookUrlRejected

log = logging.getLogger("vocable.api")

# Domain error → (HTTP status, Retry-After in seconds). Looked up along the error's class
# hierarchy, so a subclass may have its own row. A Retry-After of None sends the error's own
# ``retry_after`` when it has one (a rate-limit window, the daily reset, a busy LLM's estimate).
ERRORS: dict[type[Exception], tuple[int, int | None]] = {
    # admission
    QuotaError: (402, None),
    NoCreditsLeft: (402, None),
    LimitReached: (429, None),
    AtCapacity: (503, None),
    QueueFull: (503, 30),
    FileTooLarge: (413, None),
    TicketRefused: (401, None),
    # speech input
    AudioError: (400, None),
    UnknownLanguage: (400, None),
    ModelNotInstalled: (400, None),
    EnglishOnlyModel: (400, None),
    ModelUnavailable: (503, None),
    DenoiserUnavailable: (503, None),
    # stored transcripts
    TranscriptNotFound: (404, None),
    TranscriptNotCompleted: (400, None),
    TranscriptBusy: (409, None),
    UnknownFormat: (400, None),
    AudioNotKept: (404, None),
    EditError: (400, None),
    EditConflict: (409, None),
    SearchInputError: (400, None),
    MediaTokenRefused: (401, None),
    # the LLM and text endpoints
    LLMError: (503, None),
    ContextOverflow: (400, None),
    TextInputError: (400, None),
    EmbeddingInputError: (400, None),
    ChatNotFound: (404, None),
    ChatInputError: (400, None),
    UnknownAnalysisType: (400, None),
    UnsupportedLanguage: (400, None),
    UnsupportedPair: (400, None),
    TranslationFailed: (503, None),
    # speech synthesis
    TTSInputError: (400, None),
    VoiceNotFound: (400, None),
    CloningUnavailable: (503, None),
    # accounts
    SpeakerNotFound: (404, None),
    SpeakerInputError: (400, None),
    SpeakerNameTaken: (409, None),
    DiarizationError: (503, None),
    ProfileError: (400, None),
    WebhookUrlRejected: (400, None),
    EmailTaken: (409, None),
    # sign-up, sign-in, sessions, the operator console
    InvalidKey: (401, None),
    SessionInvalid: (401, None),
    InvalidCredentials: (401, None),
    AccountDisabled: (403, None),
    AccountSuspended: (403, None),
    CsrfRefused: (403, None),
    SignupRefused: (403, None),
    InviteRefused: (403, None),
    EmailNotVerified: (403, None),
    AccountExists: (409, None),
    LinkInvalid: (400, None),
    ResetUnavailable: (400, None),
    AccountNotFound: (404, None),
    AccountBusy: (409, None),
}

INTERNAL_ERROR = "Internal server error."
WS_CLOSE_INTERNAL = 1011  # what an unexpected failure closes a WebSocket with
WS_CLOSE_OFFSET = 4000  # a WebSocket closes with 4000 + the REST status of the same problem


class ApiError(Exception):
    """Raise from handlers for what only HTTP knows (a missing form field, an anonymous caller
    where a key is needed): becomes a JSON error response."""

    def __init__(self, status_code: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.headers = headers or {}


def describe(exc: BaseException) -> tuple[int, str, dict[str, str]]:
    """Status, message and headers of any error; an unexpected one is a 500 that tells nothing."""
    if isinstance(exc, ApiError):
        return exc.status_code, exc.message, exc.headers
    for cls in type(exc).__mro__:
        if cls in ERRORS:
            status, retry_after = ERRORS[cls]
            if retry_after is None:
                retry_after = getattr(exc, "retry_after", None)
            return status, str(exc), {"Retry-After": str(retry_after)} if retry_after else {}
    return 500, INTERNAL_ERROR, {}


def ws_close_code(status: int) -> int:
    """The WebSocket close code of a REST status."""
    return WS_CLOSE_INTERNAL if status == 500 else WS_CLOSE_OFFSET + status


def close_code(exc: BaseException) -> int:
    return ws_close_code(describe(exc)[0])


def error_response(status_code: int, message: str, headers: dict[str, str] | None = None):
    return JSONResponse({"error": message}, status_code=status_code, headers=headers or None)


def describe_validation(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        if err.get("type") == "json_invalid":  # loc is ("body", character position)
            detail = (err.get("ctx") or {}).get("error", "invalid JSON")
            return f"The request body is not valid JSON: {detail} (at character {err['loc'][-1]})."
        where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
        msg = err.get("msg", "invalid value")
        parts.append(f"{where}: {msg}" if where else msg)
    return "Invalid request: " + "; ".join(parts) if parts else "Invalid request."


def install_error_handlers(app: FastAPI) -> None:
    async def _mapped(_: Request, exc: Exception):
        return error_response(*describe(exc))

    app.add_exception_handler(ApiError, _mapped)
    for error in ERRORS:
        app.add_exception_handler(error, _mapped)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError):
        # 400 "bad parameter" per the spec; the framework's 422 shape never leaks.
        return error_response(400, describe_validation(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException):
        message = exc.detail if isinstance(exc.detail, str) else "Request failed."
        if exc.status_code == 404 and message == "Not Found":
            message = "Not found."
        return error_response(exc.status_code, message, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception):
        log.exception("unhandled error")
        return error_response(500, INTERNAL_ERROR)
