"""What the sync and async clients share: configuration, and turning responses into errors."""

from __future__ import annotations

import os
from collections.abc import Mapping

import httpx

from vocable_sdk._version import __version__
from vocable_sdk.errors import APIConnectionError, APITimeoutError, VocableError, make_error
from vocable_sdk.types import Transcript

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
# Synchronous transcription answers when the job is done: long files take minutes.
DEFAULT_TIMEOUT = 600.0


class TranscriptionFailedError(VocableError):
    """``transcripts.wait`` saw the job fail; ``transcript`` is the failed transcript."""

    def __init__(self, transcript: Transcript):
        super().__init__(transcript.error or "Transcription failed.")
        self.transcript = transcript


def settings(api_key: str | None, base_url: str | None) -> tuple[str | None, str]:
    key = api_key if api_key is not None else (os.environ.get("VOCABLE_API_KEY") or None)
    url = base_url or os.environ.get("VOCABLE_BASE_URL") or DEFAULT_BASE_URL
    return key, url.rstrip("/")


def default_headers(api_key: str | None, extra: Mapping[str, str] | None) -> dict[str, str]:
    headers = {"User-Agent": f"vocable-sdk-python/{__version__}", "Accept": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    headers.update(extra or {})
    return headers


def error_from(response: httpx.Response) -> VocableError:
    try:
        body = response.json()
    except ValueError:
        body = None
    return make_error(response.status_code, body, response.headers, response.text)


def transport_error(exc: httpx.HTTPError, base_url: str) -> VocableError:
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(f"request to {base_url} timed out: {exc}")
    return APIConnectionError(f"cannot reach {base_url}: {exc}")
