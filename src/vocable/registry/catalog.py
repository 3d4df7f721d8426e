"""Every model the server knows, whatever its family, in one listing: what ``vocable models list``
prints and ``GET /v1/models`` returns.

Families, in listing order: ``speech`` (Whisper; first, in the shape the SPEC gives), ``llm``,
``embedding``, ``translation``, ``analysis``, ``diarization``, ``denoise``, ``tts`` (voices and cloning models). Each entry says whether the model
is installed, whether it is its family's default, and whether it is loaded in the pool right now.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vocable.config import Settings
from vocable.registry import llm as llm_registry
from vocable.registry import speech as speech_registry
from vocable.registry import translation as translation_registry
from vocable.registry import tts as tts_registry
from vocable.registry.bundled import BUNDLED_MODELS, DENOISER, DIARIZATION, EMBEDDING, SPACY
from vocable.registry.llm import LLMRegistry
from vocable.registry.pool import ModelPool
from vocable.registry.speech import ModelRegistry
from vocable.registry.translation import TranslationRegistry
from vocable.registry.tts import VoiceRegistry


@dataclass(frozen=True)
class CatalogEntry:
    family: str
    id: str
    name: str
    source: str  # how the weights arrive: "split" | "package" | "hub" | "local"
    installed: bool
    default: bool
    loaded: bool
    languages: int | None = None  # speech models only
    speed: str | None = None  # speech models only

    def to_dict(self) -> dict[str, Any]:
        head: dict[str, Any] = {"id": self.id, "name": self.name}
        if self.family == speech_registry.FAMILY:
            head |= {"languages": self.languages, "speed": self.speed}
        return head | {
            "installed": self.installed, "default": self.default, "source": self.source,
            "family": self.family, "loaded": self.loaded,
        }


class ModelCatalog:
    """Reads the registries (and the pool, when there is one); never loads a model."""

    def __init__(
        self,
        settings: Settings,
        pool: ModelPool | None = None,
        speech: ModelRegistry | None = None,
        llm: LLMRegistry | None = None,
        translation: TranslationRegistry | None = None,
        tts: VoiceRegistry | None = None,
    ):
        model_dir = settings.resolved_model_dir
        self.settings = settings
        self.pool = pool
        self.speech = speech or ModelRegistry(model_dir)
        self.llm = llm or LLMRegistry(model_dir)
        self.translation = translation or TranslationRegistry(model_dir)
        self.tts = tts or VoiceRegistry(model_dir)

    def entries(self) -> list[CatalogEntry]:
        return (
            self._speech() + self._llm() + self._bundled(EMBEDDING.family)
            + self._translation() + self._bundled(SPACY.family) + self._bundled(DIARIZATION.family)
            + self._bundled(DENOISER.family)
            + self._tts()
        )

    def _loaded(self, family: str, model_id: str) -> bool:
        return self.pool is not None and self.pool.peek(family, model_id) is not None

    def _speech(self) -> list[CatalogEntry]:
        installed = set(self.speech.installed())
        default = self.speech.default_model(self.settings.default_model) if installed else None
        family = speech_registry.FAMILY
        return [
            CatalogEntry(family, s.id, s.name, s.source, s.id in installed, s.id == default,
                         self._loaded(family, s.id), languages=s.languages, speed=s.speed)
            for s in self.speech.all()
        ]

    def _llm(self) -> list[CatalogEntry]:
        installed = set(self.llm.installed())
        try:
            default = self.llm.default_model(self.settings.llm_model)
        except LookupError:  # the configured model is missing: none is the default
            default = None
        family = llm_registry.FAMILY
        return [
            CatalogEntry(family, s.id, s.name, s.source, s.id in installed, s.id == default,
                         self._loaded(family, s.id))
            for s in self.llm.all()
        ]

    def _translation(self) -> list[CatalogEntry]:
        installed = set(self.translation.installed())
        default = self.translation.default_model(self.settings.translation_backend)
        family = translation_registry.FAMILY
        return [
            CatalogEntry(family, s.id, s.name, s.source, s.id in installed, s.id == default,
                         self._loaded(family, s.id))
            for s in self.translation.all()
        ]

    def _tts(self) -> list[CatalogEntry]:
        installed = {v.id for v in self.tts.installed()}
        default = self.tts.default_voice()
        cloner = self.tts.cloner()
        defaults = {v.id for v in (default, cloner) if v is not None}
        family = tts_registry.FAMILY
        return [
            CatalogEntry(family, s.id, s.name, s.source, s.id in installed, s.id in defaults,
                         self._loaded(family, s.id))
            for s in self.tts.all()
        ]

    def _bundled(self, family: str) -> list[CatalogEntry]:
        return [
            CatalogEntry(family, b.id, b.name, b.source.kind, b.source.available(), True,
                         self._loaded(family, b.id))
            for b in BUNDLED_MODELS if b.family == family
        ]
