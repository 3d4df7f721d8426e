"""sentiment: VADER scores per sentence, rolled up per segment, per speaker and overall.

VADER's ``compound`` is a normalised score in [-1, 1]; its authors' thresholds give the label
(>= 0.05 positive, <= -0.05 negative, neutral between). Roll-ups are word-weighted means of the
sentence scores, so one long sentence counts more than "Okay." and a long text does not saturate
the way scoring it in one piece would.
"""

from __future__ import annotations

from dataclasses import dataclass

from vocable.analysis.document import Parsed, Unit

POSITIVE, NEGATIVE = 0.05, -0.05


def label_for(score: float) -> str:
    return "positive" if score >= POSITIVE else "negative" if score <= NEGATIVE else "neutral"


@dataclass
class SentenceSentiment:
    text: str
    start: int
    end: int
    label: str  # positive | negative | neutral
    score: float  # VADER compound, -1..1
    positive: float  # share of the sentence's sentiment mass that is positive (VADER pos)
    negative: float
    neutral: float
    segment: int | None = None
    speaker: str | None = None


@dataclass
class GroupSentiment:
    """A segment's or a speaker's roll-up."""

    label: str
    score: float
    sentences: int
    segment: int | None = None
    speaker: str | None = None
    start: float | None = None  # seconds (segments of stored transcripts)
    end: float | None = None


@dataclass
class SentimentResult:
    label: str  # overall
    score: float  # overall, word-weighted mean of sentence scores
    counts: dict[str, int]  # sentences per label
    sentences: list[SentenceSentiment]
    segments: list[GroupSentiment] | None = None  # transcripts / speaker turns
    speakers: list[GroupSentiment] | None = None
    method: str = "vader"


def _words(unit: Unit) -> int:
    return max(1, len(unit.text.split()))


def _rollup(pairs: list[tuple[Unit, float]]) -> tuple[float, int]:
    if not pairs:
        return 0.0, 0
    total = sum(_words(u) for u, _ in pairs)
    return round(sum(_words(u) * s for u, s in pairs) / total, 4), len(pairs)


def analyze_sentiment(toolkit, parsed: Parsed) -> SentimentResult:
    vader = toolkit.vader
    sentences: list[SentenceSentiment] = []
    scored: list[tuple[Unit, float]] = []
    for unit in parsed.units:
        p = vader.polarity_scores(unit.text)
        score = round(p["compound"], 4)
        sentences.append(SentenceSentiment(
            unit.text, unit.start_char, unit.end_char, label_for(score), score,
            round(p["pos"], 3), round(p["neg"], 3), round(p["neu"], 3), unit.segment, unit.speaker,
        ))
        scored.append((unit, score))

    overall, _ = _rollup(scored)
    counts = {"positive": 0, "negative": 0, "neutral": 0}
    for s in sentences:
        counts[s.label] += 1

    segments = speakers = None
    doc = parsed.doc
    if doc.segments:
        segments = []
        for seg in doc.segments:
            score, n = _rollup([(u, s) for u, s in scored if u.segment == seg.index])
            if n:
                segments.append(GroupSentiment(label_for(score), score, n, seg.index, seg.speaker,
                                               seg.start, seg.end))
    if doc.has_speakers:
        speakers = []
        for name in doc.speakers:
            score, n = _rollup([(u, s) for u, s in scored if u.speaker == name])
            if n:
                speakers.append(GroupSentiment(label_for(score), score, n, speaker=name))
    return SentimentResult(label_for(overall), overall, counts, sentences, segments, speakers)
