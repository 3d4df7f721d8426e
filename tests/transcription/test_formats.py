"""Subtitle cues: never overlapping in time, whatever the segments underneath do."""

from __future__ import annotations

import itertools

import srt

from vocable.results import Segment, Transcription, Word
from vocable.transcription import formats


def _transcription(segments: list[Segment]) -> Transcription:
    return Transcription(" ".join(s.text for s in segments), "en", 12.0, segments,
                         speakers=sorted({s.speaker for s in segments if s.speaker}))


def test_cues_never_overlap():
    # the case: a 0.2 s cue (minimum length) against the next speaker's words, and
    # segments the recogniser made overlap
    segs = [
        Segment(9.5, 10.18, "Neither", 0.9, [Word("Neither", 9.98, 9.99)], "Speaker 2"),
        Segment(10.02, 10.62, "did I.", 0.9, [Word("did", 10.02, 10.3), Word("I.", 10.3, 10.62)],
                "Speaker 1"),
        Segment(10.5, 11.0, "Okay.", 0.9, [Word("Okay.", 10.5, 11.0)], "Speaker 2"),
        Segment(10.5, 10.5, "Oh", 0.9, [Word("Oh", 10.5, 10.5)], "Speaker 1"),
    ]
    cues = formats.cues(_transcription(segs))
    assert len(cues) == 4
    assert all(c.end > c.start for c in cues)
    assert all(a.end <= b.start for a, b in itertools.pairwise(cues))
    subs = list(srt.parse(formats.to_srt(_transcription(segs))))
    assert all(a.end <= b.start for a, b in itertools.pairwise(subs))
    vtt = formats.to_vtt(_transcription(segs))
    assert "00:00:09.980 --> 00:00:10.020" in vtt  # cut where the next cue starts


def test_cues_keep_their_times_when_apart():
    segs = [Segment(0.0, 1.0, "Hello.", 0.9, [Word("Hello.", 0.1, 0.9)], "Speaker 1"),
            Segment(2.0, 3.0, "Hi.", 0.9, [Word("Hi.", 2.1, 2.15)], "Speaker 2")]
    cues = formats.cues(_transcription(segs))
    assert [(c.start, c.end) for c in cues] == [(0.1, 0.9), (2.1, 2.3)]
