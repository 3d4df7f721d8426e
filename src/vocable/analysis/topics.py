"""topics: key phrases (KeyBERT's method over MiniLM) and the topics they stand for, with scores.

Candidates are spaCy noun phrases and named entities rather than raw n-grams, so phrases read like
phrases ("the new pricing model" → "new pricing model", never "difference know yankee"). The
document vector is the word-weighted mean of its sentence vectors: MiniLM reads only the first 256
word pieces of any one input, and a transcript is usually much longer than that.

* ``keyphrases``: chosen by KeyBERT's maximal marginal relevance (relevant, not redundant);
  ``score`` is the cosine similarity of phrase and document.
* ``topics``: each key phrase is a topic seed; every sentence joins the topic it is closest to
  (if close enough), and ``score`` is the share of sentences a topic covers. ``related`` lists the
  other candidate phrases that fall under it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vocable.analysis.document import Parsed

TOP_N = 8
DIVERSITY = 0.5
SENTENCE_MIN_SIM = 0.2  # a sentence this far from every seed belongs to no topic
RELATED_MIN_SIM = 0.5
MAX_CANDIDATES = 300
_ENTITY_LABELS = {"PERSON", "ORG", "GPE", "LOC", "FAC", "EVENT", "PRODUCT", "WORK_OF_ART", "LAW", "NORP"}
_DROP_POS = {"DET", "PRON", "PUNCT", "CCONJ", "PART", "SPACE", "NUM", "ADP", "AUX"}


@dataclass
class Keyphrase:
    phrase: str
    score: float  # cosine similarity to the whole document, -1..1
    count: int  # mentions in the text


@dataclass
class Topic:
    label: str
    score: float  # share of sentences about this topic, 0..1
    relevance: float  # the label's similarity to the whole document
    sentences: int
    related: list[str] = field(default_factory=list)


@dataclass
class TopicsResult:
    keyphrases: list[Keyphrase]
    topics: list[Topic]
    model: str = "all-MiniLM-L6-v2"


def _clean(span, keep_case: bool) -> tuple[str, str] | None:
    """(key, surface) of a candidate phrase, or None when nothing contentful remains."""
    tokens = list(span)
    while tokens and (tokens[0].pos_ in _DROP_POS or tokens[0].is_stop):
        tokens.pop(0)
    while tokens and (tokens[-1].pos_ in _DROP_POS or tokens[-1].is_stop):
        tokens.pop()
    if not tokens or len(tokens) > 5:
        return None
    if not any(t.pos_ in ("NOUN", "PROPN") and t.is_alpha and len(t.text) > 1 for t in tokens):
        return None
    surface = tokens[0].doc.text[tokens[0].idx: tokens[-1].idx + len(tokens[-1].text)]
    surface = " ".join(surface.split())
    key = " ".join(t.lemma_.lower() for t in tokens)
    # Proper nouns keep their case; common nouns are shown in lower case.
    if not keep_case and not any(t.pos_ == "PROPN" for t in tokens):
        surface = surface.lower()
    return key, surface


def analyze_topics(toolkit, parsed: Parsed) -> TopicsResult:
    from keybert._mmr import mmr

    sdoc = parsed.spacy_doc
    found: dict[str, dict] = {}
    doc = parsed.doc
    # Entities first: their surface form (with its capitals) names the phrase.
    spans = [(e, True) for e in sdoc.ents if e.label_ in _ENTITY_LABELS]
    spans += [(c, False) for c in sdoc.noun_chunks]
    for span, is_entity in spans:
        if doc.segments and not doc.within_one_segment(span.start_char, span.end_char):
            continue
        cleaned = _clean(span, is_entity)
        if cleaned is None:
            continue
        key, surface = cleaned
        entry = found.setdefault(key, {"surface": surface, "count": 0, "spans": set()})
        if (span.start_char, span.end_char) not in entry["spans"]:
            entry["spans"].add((span.start_char, span.end_char))
            entry["count"] += 1
    units = [u for u in parsed.units if any(c.isalpha() for c in u.text)]
    if not found or not units:
        return TopicsResult([], [])

    # Long transcripts yield thousands of phrases: the most mentioned ones are the candidates.
    keys = sorted(found, key=lambda k: -found[k]["count"])[:MAX_CANDIDATES]
    phrases = [found[k]["surface"] for k in keys]
    embedder = toolkit.embedder
    phrase_vecs = embedder.embed(phrases)
    unit_vecs = embedder.embed([u.text for u in units])
    weights = np.array([len(u.text.split()) for u in units], dtype=np.float32)
    doc_vec = (unit_vecs * weights[:, None]).sum(axis=0)
    doc_vec /= np.linalg.norm(doc_vec) or 1.0

    chosen = mmr(doc_vec.reshape(1, -1), phrase_vecs, phrases, min(TOP_N, len(phrases)), DIVERSITY)
    index = {p: i for i, p in enumerate(phrases)}
    keyphrases = [
        Keyphrase(p, round(float(s), 4), found[keys[index[p]]]["count"]) for p, s in chosen
    ]

    seed_ids = [index[k.phrase] for k in keyphrases]
    seed_vecs = phrase_vecs[seed_ids]
    sims = unit_vecs @ seed_vecs.T  # sentences × seeds
    best = sims.argmax(axis=1)
    covered = sims.max(axis=1) >= SENTENCE_MIN_SIM
    phrase_sims = phrase_vecs @ seed_vecs.T
    topics: list[Topic] = []
    for j, kp in enumerate(keyphrases):
        n = int(((best == j) & covered).sum())
        if n == 0:
            continue
        related = [
            phrases[i] for i in np.argsort(-phrase_sims[:, j])
            if i not in seed_ids and phrase_sims[i].argmax() == j
            and phrase_sims[i, j] >= RELATED_MIN_SIM
        ][:5]
        topics.append(Topic(kp.phrase, round(n / len(units), 4), kp.score, n, related))
    topics.sort(key=lambda t: (-t.score, -t.relevance))
    return TopicsResult(keyphrases, topics)
