"""Words to speakers: ``assign_speakers`` gives every word of a transcription the speaker whose
diarization turns cover it, and splits segments where the speaker changes.

Overlapping speech (documented policy): diarization reports overlapping turns when two people talk
at once, but every word gets exactly one speaker, the one whose turns cover most of that word.
When several cover it alike (the word lies inside the overlap), it goes to the speaker who goes on
talking after it: inside someone's long turn the other voice is typically a backchannel ("mhm",
which Whisper rarely transcribes), and at a turn change diarization tends to stretch the outgoing
turn over the first words of the incoming one. Remaining ties go to the speaker who spoke first
in the file. A word no turn touches (diarization heard no speech there) gets the speaker of
the nearest turn in time. Segments are split wherever the speaker changes between two words, so
a segment never mixes speakers.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from vocable.results import Segment, SpeakerTurn, Word


def assign_speakers(
    segments: list[Segment], turns: list[SpeakerTurn]
) -> tuple[list[Segment], list[str]]:
    """Give every word a speaker, split segments where the speaker changes, and name the speakers
    ``Speaker 1``, ``Speaker 2``… in order of first speech. Returns (segments, speaker names).

    See the module docstring for the overlap policy. Segments without word timestamps are
    treated as one word. With no turns at all (diarization heard nobody), everything is
    ``Speaker 1``.
    """
    if not segments:
        return [], []
    if not turns:
        named = [_with_speaker(s, "Speaker 1") for s in segments]
        return named, ["Speaker 1"]

    raw_ids = sorted({t.speaker for t in turns})
    first = {k: min(t.start for t in turns if t.speaker == k) for k in raw_ids}
    raw_ids.sort(key=lambda k: first[k])  # ties in overlap go to the earlier speaker
    index = {k: i for i, k in enumerate(raw_ids)}
    starts = np.array([t.start for t in turns])
    ends = np.array([t.end for t in turns])
    who = np.array([index[t.speaker] for t in turns])

    def speaker_of(start: float, end: float) -> int:
        if end < start:
            start, end = end, start
        if end - start < 1e-3:  # a point in time: the turns containing it
            mid = start
            start, end = mid - 5e-4, mid + 5e-4
        overlap = np.clip(np.minimum(ends, end) - np.maximum(starts, start), 0, None)
        if overlap.max() > 0:
            per = np.bincount(who, weights=overlap, minlength=len(raw_ids))
            best = np.flatnonzero(per >= per.max() - 1e-6)
            if len(best) > 1:  # covered alike: the one who goes on talking after the word
                after = np.full(len(raw_ids), -np.inf)
                np.maximum.at(after, who, np.where(overlap > 0, ends, -np.inf))
                return int(best[np.argmax(after[best])])
            return int(best[0])
        gap = np.maximum(starts - end, start - ends)
        return int(who[np.argmin(gap)])

    pieces: list[tuple[Segment, int]] = []
    for seg in segments:
        words = seg.words or []
        if not words:
            pieces.append((seg, speaker_of(seg.start, seg.end)))
            continue
        labels = [speaker_of(w.start, w.end) for w in words]
        run_start = 0
        for i in range(1, len(words) + 1):
            if i == len(words) or labels[i] != labels[run_start]:
                part = words[run_start:i]
                pieces.append((_piece(seg, part, run_start == 0, i == len(words)), labels[run_start]))
                run_start = i

    # name speakers by first speech in the transcript
    names: dict[int, str] = {}
    for piece, k in sorted(pieces, key=lambda p: p[0].start):
        if k not in names:
            names[k] = f"Speaker {len(names) + 1}"
    out = [_with_speaker(piece, names[k]) for piece, k in pieces]
    return out, [names[k] for k in sorted(names, key=lambda k: int(names[k].split()[-1]))]


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
