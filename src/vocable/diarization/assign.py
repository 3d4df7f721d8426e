"""Words to speakers: ``assign_speakers`` gives every word of a transcription a speaker from the
diarization turns, and splits segments where the speaker changes.

Evidence per word: the share of the word each speaker's turns cover. Overlapping speech
(documented policy): diarization reports overlapping turns when two people talk at once, but every
word gets exactly one speaker. When several cover a word alike (it lies inside the overlap), the
tie goes to the speaker who goes on talking after it: inside someone's long turn the other voice
is typically a backchannel ("mhm", which Whisper rarely transcribes), and at a turn change
diarization tends to stretch the outgoing turn over the first words of the incoming one. Remaining
ties go to the speaker who spoke first in the file. A word no turn touches (diarization heard no
speech there) leans to the speaker of the nearest turn in time.

Turn changes are snapped to word and pause boundaries (``snap``): the labels of all words are
chosen together (Viterbi) with a price for changing speaker that depends on where the change falls:
almost free after a sentence end or a pause, dearer after a comma or a short gap, dear between two
words of one phrase. A diarization boundary a word or two off (a 0.5 s "I" of the next sentence
given to the previous speaker) therefore moves to the sentence or pause boundary, while a real
change inside a sentence (several words of clear evidence) is kept. Segments are split wherever
the speaker changes between two words, so a segment never mixes speakers, and the output
segments never overlap in time.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from vocable.results import Segment, SpeakerTurn, Word

# Price of a change of speaker between two words, in words of contrary evidence (a word fully
# covered by the other speaker's turns costs up to ``WORD_WEIGHT_MAX``).
SWITCH_AT_SENTENCE = 0.02  # after ".", "?", "!" or a pause of PAUSE_S
SWITCH_AT_SEGMENT = 0.3  # at a boundary between two of the recogniser's segments
SWITCH_AT_COMMA = 0.45  # after ",", ";", ":" or a gap of SHORT_GAP_S
SWITCH_IN_PHRASE = 0.9  # between two words of one phrase
PAUSE_S = 0.5
SHORT_GAP_S = 0.2
# A word's evidence weighs by its duration (a 0.1 s "I" counts less than a 0.6 s "Chicago").
WORD_WEIGHT_S = 0.3
WORD_WEIGHT_MIN, WORD_WEIGHT_MAX = 0.35, 2.0
NEAREST_COVER = 0.6  # a word no turn touches: this much evidence for the nearest turn's speaker
TIE_BONUS = 0.1  # the overlap policy's pick, as an edge over an exact tie (beats a pause's price)
EDGE_EXTEND_S = 1.0  # a segment's edge may move this far out to its speaker's turn edge


def assign_speakers(
    segments: list[Segment], turns: list[SpeakerTurn], snap: bool = True,
    names: dict[str, str] | None = None,
) -> tuple[list[Segment], list[str]]:
    """Give every word a speaker, split segments where the speaker changes, and name the speakers
    ``Speaker 1``, ``Speaker 2``… in order of first speech. Returns (segments, speaker names in
    order of first speech). ``names``: raw labels with a name of their own (enrolled voices);
    the others are numbered ``Speaker 1``… among themselves.

    See the module docstring for the overlap policy and ``snap`` (off: each word on its own
    evidence). Segments without word timestamps are treated as one word. With no turns at all
    (diarization heard nobody), everything is ``Speaker 1``.
    """
    if not segments:
        return [], []
    if not turns:
        named = [_with_speaker(s, "Speaker 1") for s in segments]
        return _no_overlap(named), ["Speaker 1"]
    labels_of = raw_labels(segments, turns, snap)
    pieces: list[tuple[Segment, str]] = []
    for seg, labels in zip(segments, labels_of):
        words = seg.words or []
        if not words:
            pieces.append((seg, labels[0]))
            continue
        run_start = 0
        for i in range(1, len(words) + 1):
            if i == len(words) or labels[i] != labels[run_start]:
                part = words[run_start:i]
                pieces.append((_piece(seg, part, run_start == 0, i == len(words)), labels[run_start]))
                run_start = i

    pieces = _to_turn_edges(pieces, turns)

    # name speakers by first speech in the transcript
    fixed = names or {}
    named: dict[str, str] = {}
    unnamed = 0
    for piece, k in sorted(pieces, key=lambda p: p[0].start):
        if k not in named:
            if k in fixed:
                named[k] = fixed[k]
            else:
                unnamed += 1
                named[k] = f"Speaker {unnamed}"
    out = _no_overlap([_with_speaker(piece, named[k]) for piece, k in pieces])
    return out, list(named.values())


def raw_labels(segments: list[Segment], turns: list[SpeakerTurn], snap: bool = True) -> list[list[str]]:
    """The raw speaker label (a turn's ``speaker``) of each word of each segment (one for a
    segment without words)."""
    raw_ids = sorted({t.speaker for t in turns})
    first = {k: min(t.start for t in turns if t.speaker == k) for k in raw_ids}
    raw_ids.sort(key=lambda k: first[k])  # ties in overlap go to the earlier speaker
    index = {k: i for i, k in enumerate(raw_ids)}
    starts = np.array([t.start for t in turns])
    ends = np.array([t.end for t in turns])
    who = np.array([index[t.speaker] for t in turns])
    K = len(raw_ids)

    def evidence(start: float, end: float) -> tuple[np.ndarray, int]:
        """(K,) share of the span each speaker covers, and the overlap policy's pick."""
        if end < start:
            start, end = end, start
        if end - start < 1e-3:  # a point in time: the turns containing it
            mid = start
            start, end = mid - 5e-4, mid + 5e-4
        overlap = np.clip(np.minimum(ends, end) - np.maximum(starts, start), 0, None)
        if overlap.max() > 0:
            per = np.bincount(who, weights=overlap, minlength=K)
            cover = np.clip(per / (end - start), 0, 1)
            best = np.flatnonzero(per >= per.max() - 1e-6)
            if len(best) > 1:  # covered alike: the one who goes on talking after the word
                after = np.full(K, -np.inf)
                np.maximum.at(after, who, np.where(overlap > 0, ends, -np.inf))
                return cover, int(best[np.argmax(after[best])])
            return cover, int(best[0])
        gap = np.maximum(starts - end, start - ends)
        pick = int(who[np.argmin(gap)])
        cover = np.zeros(K)
        cover[pick] = NEAREST_COVER
        return cover, pick

    # one item per word (or per word-less segment), in transcript order
    items: list[tuple[float, float, str, bool]] = []  # start, end, text, first of its segment
    for seg in segments:
        if seg.words:
            items += [(w.start, w.end, w.word, i == 0) for i, w in enumerate(seg.words)]
        else:
            items.append((seg.start, seg.end, seg.text, True))
    cover = np.zeros((len(items), K))
    picks = np.zeros(len(items), dtype=np.int64)
    for i, (s, e, _, _) in enumerate(items):
        cover[i], picks[i] = evidence(s, e)
    if snap and K > 1:
        labels = _viterbi(items, cover, picks)
    else:
        labels = picks
    out, i = [], 0
    for seg in segments:
        n = max(1, len(seg.words))
        out.append([raw_ids[k] for k in labels[i:i + n]])
        i += n
    return out


def _viterbi(items, cover: np.ndarray, picks: np.ndarray) -> np.ndarray:
    n, K = cover.shape
    dur = np.array([max(e - s, 0.0) for s, e, _, _ in items])
    weight = np.clip(dur / WORD_WEIGHT_S, WORD_WEIGHT_MIN, WORD_WEIGHT_MAX)
    cost = weight[:, None] * (1.0 - cover)
    cost[np.arange(n), picks] -= TIE_BONUS
    total = cost[0].copy()
    back = np.zeros((n, K), dtype=np.int64)
    for i in range(1, n):
        switch = _switch_price(items[i - 1], items[i])
        stay = total
        best = int(np.argmin(total))
        move = total[best] + switch
        back[i] = np.where(stay <= move, np.arange(K), best)
        total = np.minimum(stay, move) + cost[i]
    labels = np.zeros(n, dtype=np.int64)
    labels[-1] = int(np.argmin(total))
    for i in range(n - 1, 0, -1):
        labels[i - 1] = back[i, labels[i]]
    return labels


def _switch_price(prev, cur) -> float:
    gap = cur[0] - prev[1]
    text = prev[2].rstrip("\"')]»”’")
    if text[-1:] in ".?!…" or gap >= PAUSE_S:
        return SWITCH_AT_SENTENCE
    if cur[3]:
        return SWITCH_AT_SEGMENT
    if text[-1:] in ",;:—–-" or gap >= SHORT_GAP_S:
        return SWITCH_AT_COMMA
    return SWITCH_IN_PHRASE


def _to_turn_edges(pieces: list[tuple[Segment, str]], turns: list[SpeakerTurn]):
    """Stretch each piece's start and end out to the edges of its speaker's turn where the
    recogniser's times stop short of them (Whisper's segments tend to end before the voice does),
    at most ``EDGE_EXTEND_S`` and never into the next or previous piece: a segment then says
    when its speaker spoke, not only when its words were timed."""
    if EDGE_EXTEND_S <= 0:
        return pieces
    by: dict[str, list[SpeakerTurn]] = {}
    for t in turns:
        by.setdefault(t.speaker, []).append(t)
    out = list(pieces)
    order = sorted(range(len(out)), key=lambda i: out[i][0].start)
    for j, i in enumerate(order):  # ends, up to the next piece's start
        seg, k = out[i]
        limit = out[order[j + 1]][0].start if j + 1 < len(order) else float("inf")
        ends = [t.end for t in by.get(k, ()) if t.start <= seg.end <= t.end]
        if ends and limit > seg.end:
            out[i] = (replace(seg, end=min(max(ends), limit, seg.end + EDGE_EXTEND_S)), k)
    for j, i in enumerate(order):  # starts, back to the previous piece's (new) end
        seg, k = out[i]
        limit = out[order[j - 1]][0].end if j > 0 else 0.0
        starts = [t.start for t in by.get(k, ()) if t.start <= seg.start <= t.end]
        if starts and limit < seg.start:
            out[i] = (replace(seg, start=max(min(starts), limit, seg.start - EDGE_EXTEND_S)), k)
    return out


def _no_overlap(segments: list[Segment]) -> list[Segment]:
    """Consecutive segments made disjoint in time: where one ends after the next starts, the
    boundary is the later of the next one's start and the end of this one's last word (the
    next one then starts there)."""
    out = list(segments)
    for i in range(1, len(out)):
        prev, cur = out[i - 1], out[i]
        if prev.end <= cur.start:
            continue
        cut = max(cur.start, prev.words[-1].end if prev.words else prev.start, prev.start)
        cut = min(cut, prev.end)
        out[i - 1] = replace(prev, end=cut)
        if cur.start < cut:
            out[i] = replace(cur, start=cut, end=max(cur.end, cut))
    return out


def _piece(seg: Segment, words: list[Word], is_first: bool, is_last: bool) -> Segment:
    if is_first and is_last:
        return replace(seg, words=list(words))
    text = " ".join(w.word for w in words).strip()  # words are stored without their spaces
    return replace(
        seg,
        start=seg.start if is_first else words[0].start,
        end=seg.end if is_last else words[-1].end,
        text=text,
        words=list(words),
    )


def _with_speaker(seg: Segment, name: str) -> Segment:
    return replace(seg, speaker=name, words=[replace(w, speaker=name) for w in seg.words])
