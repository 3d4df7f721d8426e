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


def word_speaker_error(
    reference: list[tuple[str, str]], hypothesis: list[tuple[str, str]]
) -> tuple[float, int]:
    """Speaker-attributed word error: of the reference words the recogniser got (aligned as a hit
    or a substitution after normalisation), the share given to the wrong speaker, with the
    hypothesis labels mapped one-to-one onto the reference speakers as well as they can be.
    ``reference``: (text, speaker) utterances; ``hypothesis``: (word, speaker) words. Returns
    (error, words compared)."""
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    ref = [(t, s) for text, s in reference for t in normalize(text).split()]
    hyp = [(t, s) for word, s in hypothesis for t in normalize(word).split()]
    if not ref or not hyp:
        return 0.0, 0
    out = jiwer.process_words(" ".join(t for t, _ in ref), " ".join(t for t, _ in hyp))
    pairs = []
    for chunk in out.alignments[0]:
        if chunk.type in ("equal", "substitute"):
            for k in range(chunk.ref_end_idx - chunk.ref_start_idx):
                pairs.append((ref[chunk.ref_start_idx + k][1], hyp[chunk.hyp_start_idx + k][1]))
    if not pairs:
        return 0.0, 0
    rs, hs = sorted({r for r, _ in pairs}), sorted({h for _, h in pairs}, key=str)
    counts = np.zeros((len(rs), len(hs)))
    for r, h in pairs:
        counts[rs.index(r), hs.index(h)] += 1
    rows, cols = linear_sum_assignment(-counts)
    right = counts[rows, cols].sum()
    return 1.0 - right / len(pairs), len(pairs)
