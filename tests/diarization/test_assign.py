"""Word-to-speaker assignment (no models): segment splits, naming by first speech, the overlap
policy."""

from __future__ import annotations

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
    assert out[0].start == 0.0 and out[0].end == 0.9 and out[1].start == 1.0 and out[1].end == 1.9
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
