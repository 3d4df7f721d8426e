"""The decoding helpers that need no Whisper decode: loop cutting. (Decoding is tested end to end
in tests/api/test_stream.py.)"""

from __future__ import annotations

from vocable.results import Word
from vocable.streaming.decode import cut_loop


def words(text: str) -> list[Word]:
    return [Word(" " + w, i, i + 0.5) for i, w in enumerate(text.split())]


def test_loops_are_cut_where_they_start():
    assert [w.word for w in cut_loop([], words("I I I I I I"))] == [" I"]
    assert [w.word for w in cut_loop([], words("go on go on go on go on"))] == [" go", " on"]
    # Counting what was committed just before.
    assert cut_loop(words("yeah yeah"), words("yeah yeah yeah")) == []
    # Ordinary repetitions stay.
    kept = words("hello hello hello said the man who said that")
    assert cut_loop([], kept) == kept
