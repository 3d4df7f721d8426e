"""Accuracy metrics for tests and benchmarks (needs the ``dev`` extra: jiwer, whisper-normalizer)."""

from __future__ import annotations

import jiwer
from whisper_normalizer.english import EnglishTextNormalizer

_normalize = EnglishTextNormalizer()


def normalize(text: str) -> str:
    """Whisper's English normaliser: lower case, no punctuation, numbers and spellings unified."""
    return _normalize(text)


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate after normalisation (0.0 = identical)."""
    ref, hyp = normalize(reference), normalize(hypothesis)
    if not ref.strip():
        return 0.0 if not hyp.strip() else 1.0
    return jiwer.wer(ref, hyp if hyp.strip() else "")
