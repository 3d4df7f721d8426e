"""Which speech model and language a transcription runs with, validated once for files and
streams (an English-only model refuses other languages on both), and readying that model."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from vocable.languages import WHISPER_LANGUAGES
from vocable.transcription.whisper import WhisperExecutor

log = logging.getLogger("vocable.transcription.speech_models")

AUTO = "auto"  # detect the language


class UnknownLanguage(ValueError):
    def __init__(self, code: str):
        super().__init__(
            f"unknown language '{code}'; use an ISO 639-1 code from /v1/languages or 'auto'"
        )
        self.code = code


class EnglishOnlyModel(ValueError):
    def __init__(self, model_id: str):
        super().__init__(f"Model '{model_id}' only transcribes English.")
        self.model_id = model_id


class ModelUnavailable(RuntimeError):
    """An installed model could not be loaded."""

    def __init__(self) -> None:
        super().__init__("The speech model is unavailable; try again later.")


def parse_language(value: str | None) -> str:
    """``auto`` or a language code Whisper knows (case and blanks ignored); ``UnknownLanguage``
    otherwise."""
    code = (value or "").strip().lower() or AUTO
    if code != AUTO and code not in WHISPER_LANGUAGES:
        raise UnknownLanguage(code)
    return code


@dataclass(frozen=True)
class SpeechChoice:
    model: str  # an installed model's id
    language: str  # a language code or "auto"

    @property
    def decode_language(self) -> str | None:
        """The language to decode in; None: detect it."""
        return None if self.language == AUTO else self.language


class SpeechModels:
    def __init__(self, whisper: WhisperExecutor):
        self.whisper = whisper

    def choose(self, model: str | None, language: str | None) -> SpeechChoice:
        """The requested model (or the best installed one) and language, or the reason they cannot
        be used: ``UnknownLanguage``, ``ModelNotInstalled``, ``EnglishOnlyModel``."""
        language = parse_language(language)
        model_id = self.whisper.resolve((model or "").strip() or None)
        spec = self.whisper.registry.specs.get(model_id)
        if spec is not None and spec.english_only and language not in (AUTO, "en"):
            raise EnglishOnlyModel(model_id)
        return SpeechChoice(model_id, language)

    def load(self, model_id: str) -> None:
        """Load the model now (the first user waits here, not in its first decode)."""
        try:
            self.whisper.model(model_id)
        except Exception as exc:
            log.exception("could not load the speech model %s", model_id)
            raise ModelUnavailable() from exc
