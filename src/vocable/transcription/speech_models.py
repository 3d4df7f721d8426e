"""Which speech model and language a transcription runs with, validated once for files, streams
and the OpenAI-compatible routes (an English-only model refuses other languages on all), and
readying that model.

The model a request gets:

* none named, or an OpenAI name (``whisper-1``, ``gpt-4o-transcribe``...): the best installed one
  (the operator's default; for a language other than English, the best multilingual one);
* an installed id: that model;
* an id the registry knows but this server lacks (``large-v3-turbo`` before it is pulled): the
  best installed one, and the answer names it (``model`` fields, ``X-Vocable-Model``); with
  ``VOCABLE_MODEL_FALLBACK=strict`` a ``ModelNotInstalled`` (400) instead;
* an id nobody knows: ``UnknownModel`` (400), listing the installed ones.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from vocable.languages import WHISPER_LANGUAGES
from vocable.registry.speech import ModelNotInstalled
from vocable.transcription.whisper import WhisperExecutor

log = logging.getLogger("vocable.transcription.speech_models")

AUTO = "auto"  # detect the language

# What OpenAI calls its transcription models: clients written for it ask for these by name.
OPENAI_SPEECH_MODELS = frozenset({
    "whisper-1", "gpt-transcribe", "gpt-4o-transcribe", "gpt-4o-mini-transcribe",
    "gpt-4o-mini-transcribe-2025-12-15", "gpt-4o-transcribe-diarize",
})

Fallback = Literal["best", "strict"]


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


class UnknownModel(ModelNotInstalled):
    """A model id that no registry entry and no installed directory has."""

    def __init__(self, model_id: str, installed: list[str]):
        self.model_id = model_id
        self.installed = installed
        LookupError.__init__(
            self, f"Unknown model '{model_id}'. Installed models: {', '.join(installed) or 'none'}."
        )


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
    requested: str | None = None  # the model id the request named, if any

    @property
    def decode_language(self) -> str | None:
        """The language to decode in; None: detect it."""
        return None if self.language == AUTO else self.language


class SpeechModels:
    def __init__(self, whisper: WhisperExecutor, fallback: Fallback = "best"):
        self.whisper = whisper
        self.fallback = fallback  # VOCABLE_MODEL_FALLBACK

    def choose(self, model: str | None, language: str | None) -> SpeechChoice:
        """The model (see the module's docstring) and language a request runs with, or the reason
        they cannot be used: ``UnknownLanguage``, ``ModelNotInstalled`` (``UnknownModel``),
        ``EnglishOnlyModel``."""
        language = parse_language(language)
        requested = (model or "").strip() or None
        registry = self.whisper.registry
        if requested is None or requested in OPENAI_SPEECH_MODELS:
            model_id = self.best(language)
        elif registry.is_installed(requested):
            model_id = requested
        elif requested not in registry.specs:
            raise UnknownModel(requested, registry.installed())
        elif self.fallback == "strict":
            raise ModelNotInstalled(requested, registry.installed())
        else:
            model_id = self.best(language)
            log.info("model %s is not installed: %s serves the request", requested, model_id)
        if registry.english_only(model_id) and language not in (AUTO, "en"):
            raise EnglishOnlyModel(model_id)
        return SpeechChoice(model_id, language, requested)

    def best(self, language: str = AUTO) -> str:
        """The best installed model for ``language``: the default one, unless it only knows
        English and another language is asked for (then the best multilingual one, if any)."""
        default = self.whisper.resolve(None)
        registry = self.whisper.registry
        if language in (AUTO, "en") or not registry.english_only(default):
            return default
        multilingual = [m for m in registry.installed() if not registry.english_only(m)]
        if not multilingual:
            return default  # then refused by the English-only check
        return max(multilingual, key=registry.rank)

    def load(self, model_id: str) -> None:
        """Load the model now (the first user waits here, not in its first decode)."""
        try:
            self.whisper.model(model_id)
        except Exception as exc:
            log.exception("could not load the speech model %s", model_id)
            raise ModelUnavailable() from exc
