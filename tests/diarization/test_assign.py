"""Word-to-speaker assignment (no models): segment splits, naming by first speech, the overlap
policy."""

from __future__ import annotations

import itertools

from vocable.diarization.assign import assign_speakers
from vocable.results import Segment, SpeakerTurn, Word


def _segment(words: list[tuple[str, float, float]]) -> Segment:
    # As the recogniser stores them (transcribe.py): words without their leading spaces.
    ws = [Word(w.strip(), s, e) for w, s, e in words]
    return Segment(ws[0].start, ws[-1].end, " ".join(w.word for w in ws), 0.9, ws)


def test_assign_splits_segments_and_names_by_first_speech():
    segments = [
        _segment([(" Hi", 0.0, 0.4), (" there.", 0.5, 0.9), (" Hello", 1.0, 1.4), (" you.", 1.5, 1.9)]),
        _segment([(" Bye.", 3.0, 3.4)]),
    ]
    # raw ids are deliberately out of first-speech order
    turns = [SpeakerTurn(0.0, 0.95, "SPEAKER_01"), SpeakerTurn(0.95, 2.0, "SPEAKER_00"),
             SpeakerTurn(2.9, 3.5, "SPEAKER_01")]
    out, speakers = assign_speakers(segments, turns)
    assert speakers == ["Speaker 1", "Speaker 2"]
    assert [(s.text, s.speaker) for s in out] == [
        ("Hi there.", "Speaker 1"), ("Hello you.", "Speaker 2"), ("Bye.", "Speaker 1"),
    ]
    # edges reach out to the speaker's turn edges, never into a neighbour
    assert [(s.start, s.end) for s in out] == [(0.0, 0.95), (0.95, 2.0), (2.9, 3.5)]
    assert all(w.speaker == s.speaker for s in out for w in s.words)
    assert out[0].confidence == 0.9


def test_assign_overlap_policy_and_words_outside_turns():
    seg = _segment([(" yes", 0.0, 1.0), (" no", 5.0, 5.2), (" maybe", 9.0, 9.5), (" so", 13.0, 13.5)])
    turns = [
        SpeakerTurn(0.0, 1.0, "A"),  # covers all of "yes"
        SpeakerTurn(0.6, 1.0, "B"),  # overlaps "yes" less: A keeps it
        SpeakerTurn(4.0, 4.9, "B"),  # "no" touches no turn: nearest is B's (0.1 s away)
        SpeakerTurn(9.0, 9.5, "A"), SpeakerTurn(9.0, 9.5, "B"),  # a tie goes to the first speaker
        SpeakerTurn(12.0, 20.0, "B"), SpeakerTurn(12.9, 13.6, "A"),  # inside both: B goes on
    ]
    out, speakers = assign_speakers([seg], turns)
    assert [(s.text, s.speaker) for s in out] == [
        ("yes", "Speaker 1"), ("no", "Speaker 2"), ("maybe", "Speaker 1"), ("so", "Speaker 2"),
    ]
    assert speakers == ["Speaker 1", "Speaker 2"]


def test_assign_without_turns_or_words():
    seg = Segment(0.0, 2.0, "Hello.", 1.0, [])
    out, speakers = assign_speakers([seg], [])
    assert speakers == ["Speaker 1"] and out[0].speaker == "Speaker 1"
    out, speakers = assign_speakers([seg], [SpeakerTurn(1.5, 3.0, "X"), SpeakerTurn(0.0, 0.4, "Y")])
    assert out[0].speaker == "Speaker 1" and speakers == ["Speaker 1"]  # X covers more of it
    assert assign_speakers([], [SpeakerTurn(0, 1, "X")]) == ([], [])


def test_turn_change_snaps_to_the_sentence_boundary():
    """Diarization's boundary falls a word late ("...there. I" / "need the design."): the change
    moves to the sentence end, not into the next sentence."""
    seg = _segment([(" I", 8.9, 9.0), (" didn't", 9.0, 9.3), (" know", 9.3, 9.5), (" you", 9.5, 9.6),
                    (" were", 9.6, 9.7), (" there.", 9.7, 9.95), (" I", 10.0, 10.1),
                    (" need", 10.1, 10.4), (" the", 10.4, 10.5), (" design.", 10.5, 11.0)])
    turns = [SpeakerTurn(8.5, 10.15, "A"), SpeakerTurn(10.15, 11.2, "B")]
    out, _ = assign_speakers([seg], turns)
    assert [(s.text, s.speaker) for s in out] == [
        ("I didn't know you were there.", "Speaker 1"), ("I need the design.", "Speaker 2"),
    ]
    # word by word (snap off), the stray "I" goes with the earlier turn
    out, _ = assign_speakers([seg], turns, snap=False)
    assert [s.text for s in out] == ["I didn't know you were there. I", "need the design."]


def test_a_real_change_inside_a_sentence_is_kept():
    """Several words of clear evidence for another voice split even an unpunctuated phrase."""
    seg = _segment([(" so", 0.0, 0.3), (" we", 0.3, 0.5), (" could", 0.5, 0.8), (" maybe", 0.8, 1.2),
                    (" yeah", 1.2, 1.6), (" that", 1.6, 1.9), (" sounds", 1.9, 2.3), (" good", 2.3, 2.8)])
    turns = [SpeakerTurn(0.0, 1.2, "A"), SpeakerTurn(1.2, 3.0, "B")]
    out, _ = assign_speakers([seg], turns)
    assert [(s.text, s.speaker) for s in out] == [
        ("so we could maybe", "Speaker 1"), ("yeah that sounds good", "Speaker 2"),
    ]


def test_segment_edges_reach_the_turn_edges_within_limits():
    """Whisper's times stop short of the voice: a segment's edges move out to its speaker's turn
    edges, at most EDGE_EXTEND_S, never into a neighbour nor past a turn of someone else."""
    from vocable.diarization.assign import EDGE_EXTEND_S

    a = _segment([(" One", 1.0, 1.3), (" two.", 1.3, 1.6)])
    b = _segment([(" Three.", 2.0, 2.4)])
    c = _segment([(" Four.", 8.0, 8.3)])
    turns = [SpeakerTurn(0.7, 1.9, "A"), SpeakerTurn(1.85, 2.6, "B"), SpeakerTurn(7.5, 20.0, "A")]
    out, _ = assign_speakers([a, b, c], turns)
    assert [(s.start, s.end) for s in out[:2]] == [(0.7, 1.9), (1.9, 2.6)]
    assert out[2].start == 7.5 and out[2].end == 8.3 + EDGE_EXTEND_S
    assert all(x.end <= y.start for x, y in itertools.pairwise(out))


def test_segments_never_overlap():
    a = Segment(9.5, 10.2, "Neither", 0.9, [Word("Neither", 9.98, 10.18)])
    b = Segment(10.02, 10.62, "did I.", 0.9, [Word("did", 10.02, 10.3), Word("I.", 10.3, 10.62)])
    out, _ = assign_speakers([a, b], [SpeakerTurn(9.0, 10.1, "A"), SpeakerTurn(10.1, 11.0, "B")])
    assert all(x.end <= y.start for x, y in itertools.pairwise(out))
    assert all(s.start <= s.end for s in out)
