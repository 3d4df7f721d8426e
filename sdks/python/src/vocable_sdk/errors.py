"""Exceptions: one class per status the API documents, each carrying the server's message.

Every API error body is ``{"error": "human readable message"}``; ``str(exc)`` is that message.
WebSocket streams end with a close code of 4000 + the HTTP status of the same problem, so a
refused stream raises the same classes (with ``close_code`` set).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class VocableError(Exception):
    """Base class. ``status`` is the HTTP status (None when no response arrived)."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        close_code: int | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.status = status
        self.body = body
        self.headers: dict[str, str] = dict(headers or {})
        self.close_code = close_code

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status}, message={self.message!r})"


class APIConnectionError(VocableError):
    """The server could not be reached, or the connection broke (no HTTP status)."""


class APITimeoutError(APIConnectionError):
    """No answer within the client's timeout."""


class BadRequestError(VocableError):
    """400: missing file, unsupported or undecodable format, bad parameter."""


class AuthenticationError(VocableError):
    """401: invalid, revoked or missing API key (where one is required)."""


class PaymentRequiredError(VocableError):
    """402: no credits or free minutes remaining."""


class PermissionDeniedError(VocableError):
    """403."""


class NotFoundError(VocableError):
    """404: unknown id (or another account's)."""


class ConflictError(VocableError):
    """409: e.g. deleting or exporting a transcript that is still being processed."""


class PayloadTooLargeError(VocableError):
    """413: the file is over the plan's size limit."""


class _RetryableError(VocableError):
    @property
    def retry_after(self) -> float | None:
        """Seconds the server asked to wait (``Retry-After``), if it said."""
        return parse_retry_after(self.headers.get("retry-after"))


class RateLimitError(_RetryableError):
    """429: rate, daily or concurrency limit reached. See ``retry_after``."""


class InternalServerError(VocableError):
    """500 and other unexpected 5xx."""


class ServiceUnavailableError(_RetryableError):
    """503: model unavailable, queue full. See ``retry_after``."""


class StreamError(VocableError):
    """A stream ended abnormally for a reason without a more specific class."""


_BY_STATUS: dict[int, type[VocableError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: PaymentRequiredError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    429: RateLimitError,
    503: ServiceUnavailableError,
}


def parse_retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:  # an HTTP date: not sent by Vocable
        return None


def error_class(status: int) -> type[VocableError]:
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    return InternalServerError if status >= 500 else VocableError


def make_error(
    status: int, body: Any, headers: Mapping[str, str] | None = None, text: str = ""
) -> VocableError:
    """The exception for an error response (``body`` is the parsed JSON, if any)."""
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        message = body["error"]
    else:
        message = text.strip()[:500] or f"HTTP {status}"
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    return error_class(status)(message, status=status, body=body, headers=headers)


def stream_error(message: str, close_code: int | None) -> VocableError:
    """The exception for a stream closed with ``close_code`` (4xxx = 4000 + HTTP status)."""
    status = close_code - 4000 if close_code and 4000 <= close_code < 5000 else None
    cls = error_class(status) if status else StreamError
    if cls is VocableError:
        cls = StreamError
    return cls(message or f"stream closed ({close_code})", status=status, close_code=close_code)
