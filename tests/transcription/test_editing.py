"""Transcript edits on segment dicts: words keep their timings, merge/split keep them consistent."""

import pytest

from vocable.transcription.editing import (
    EditError,
    align_words,
    apply_operations,
    normalize_operations,
)


def _seg(text, start, end, speaker="Speaker 1"):
    tokens = text.split()
    step = (end - start) / len(tokens)
    words = [{"word": t, "start": round(start + i * step, 3), "end": round(start + (i + 1) * step, 3),
              "probability": 0.9, "speaker": speaker} for i, t in enumerate(tokens)]
    return {"start": start, "end": end, "text": text, "confidence": 0.8, "words": words,
            "speaker": speaker}


SEGMENTS = [
    _seg("Hello there, this is Dian.", 0.0, 2.0),
    _seg("And I'm Sheila", 2.0, 3.5, "Speaker 2"),
    _seg("in Texas.", 3.5, 4.5, "Speaker 2"),
]


def _consistent(segments):
    for seg in segments:
        assert " ".join(w["word"] for w in seg["words"]) == seg["text"]
        times = [(w["start"], w["end"]) for w in seg["words"]]
        assert all(seg["start"] - 1e-6 <= a <= b <= seg["end"] + 1e-6 for a, b in times)
        assert [a for a, _ in times] == sorted(a for a, _ in times)
        assert all(w.get("speaker") == seg["speaker"] for w in seg["words"])


def test_edit_text_keeps_the_timings_of_unchanged_words():
    old = SEGMENTS[0]["words"]
    words = align_words(old, "Hello there, this is Diane speaking.", 0.0, 2.0, "Speaker 1")
    assert [w["word"] for w in words] == ["Hello", "there,", "this", "is", "Diane", "speaking."]
    assert [w["start"] for w in words[:4]] == [w["start"] for w in old[:4]]
    # "Dian." became "Diane speaking.": the two share the old word's time
    assert words[4]["start"] == old[4]["start"] and words[5]["end"] == old[4]["end"]


def test_operations_rename_edit_merge_split():
    ops = normalize_operations({
        "speakers": {"Speaker 1": "Diane", "Speaker 2": "Sheila"},
        "segments": [{"index": 0, "text": "Hello there, this is Diane."}],
        "operations": [{"op": "merge", "segment": 1}, {"op": "split", "segment": 0, "word": 2}],
    })
    segments, speakers, text, changed = apply_operations(SEGMENTS, ["Speaker 1", "Speaker 2"], ops)
    assert speakers == ["Diane", "Sheila"]
    assert [s["text"] for s in segments] == ["Hello there,", "this is Diane.", "And I'm Sheila in Texas."]
    assert [s["speaker"] for s in segments] == ["Diane", "Diane", "Sheila"]
    assert segments[2]["start"] == 2.0 and segments[2]["end"] == 4.5
    assert segments[0]["end"] == segments[0]["words"][-1]["end"] <= segments[1]["start"]
    assert text == "Hello there, this is Diane. And I'm Sheila in Texas."
    assert changed == [0, 1, 2]
    _consistent(segments)
    assert SEGMENTS[0]["text"] == "Hello there, this is Dian."  # the input is not modified


def test_split_at_a_time_and_set_speaker():
    ops = [{"op": "split", "segment": 1, "at": 2.4}, {"op": "set_speaker", "segment": 2, "speaker": "Guest"}]
    segments, speakers, _, _ = apply_operations(SEGMENTS, ["Speaker 1", "Speaker 2"], ops)
    assert [s["text"] for s in segments][1:3] == ["And", "I'm Sheila"]
    assert speakers == ["Speaker 1", "Speaker 2", "Guest"]
    _consistent(segments)


@pytest.mark.parametrize("ops, message", [
    ([{"op": "explode"}], "Unknown operation"),
    ([{"op": "merge", "segment": 2}], "last one"),
    ([{"op": "edit_text", "segment": 9, "text": "x"}], "No segment 9"),
    ([{"op": "edit_text", "segment": 0, "text": "  "}], "must not be empty"),
    ([{"op": "rename_speaker", "from": "Nobody", "to": "X"}], "No speaker 'Nobody'"),
    ([{"op": "split", "segment": 0, "word": 0}], "'word' must be"),
    ([{"op": "split", "segment": 0}], "needs 'word'"),
])
def test_bad_operations_say_which_and_why(ops, message):
    with pytest.raises(EditError, match=message):
        apply_operations(SEGMENTS, ["Speaker 1", "Speaker 2"], ops)


def test_body_shapes():
    with pytest.raises(EditError, match="Nothing to change"):
        normalize_operations({})
    with pytest.raises(EditError, match="Unknown field"):
        normalize_operations({"segment": []})
