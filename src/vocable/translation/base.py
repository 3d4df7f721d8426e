"""What every translation backend is (``Backend``) and the errors translation raises."""

from __future__ import annotations

from typing import Protocol


class UnsupportedPair(ValueError):
    pass


class TranslationFailed(RuntimeError):
    """The backend produced no output that passed the checks (HTTP 503)."""


class Backend(Protocol):
    id: str
    model: str

    def languages(self) -> list[str]: ...
    def available(self) -> bool: ...
    def translate(self, texts: list[str], source: str, target: str, client: str = "") -> list[str]: ...
