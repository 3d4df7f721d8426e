"""Text as a reader says it (audio/tts/normalize.py): what espeak-ng alone misreads."""

import pytest

from vocable.audio.tts import normalize, sentences


@pytest.mark.parametrize("text, spoken", [
    ("12/25/2023", "December twenty-fifth, twenty twenty-three"),
    ("2024-03-01", "March first, twenty twenty-four"),
    ("Jan. 5th, 1999", "January fifth, nineteen ninety-nine"),
    ("$1,234.56", "one thousand two hundred and thirty-four dollars and fifty-six cents"),
    ("$1", "one dollar"),
    ("€3.50", "three euros and fifty cents"),
    ("$2.5 million", "two point five million dollars"),
    ("45%", "forty-five percent"),
    ("4:30 p.m.", "four thirty P M"),
    ("10:05", "ten oh five"),
    ("7pm", "seven P M"),
    ("the 21st time", "the twenty-first time"),
    ("in 2005", "in two thousand and five"),
    ("the 1990s", "the nineteen nineties"),
    ("3.14", "three point one four"),
    ("5 km", "five kilometers"),
    ("pages 10-20", "pages ten to twenty"),
    ("Dr. Smith", "Doctor Smith"),
    ("Main St. and St. Louis", "Main Street and Saint Louis"),
    ("cats, dogs, etc.", "cats, dogs, et cetera"),
    ("e.g. this", "for example, this"),
    ("A & B", "A and B"),
])
def test_reads_out(text, spoken):
    assert normalize(text) == spoken


def test_sentences_split_at_ends_not_abbreviations():
    parts = list(sentences("Dr. Smith arrived at 4 p.m. on Jan. 3. He left! Did he? Yes."))
    assert parts == [
        "Doctor Smith arrived at four P M on January third.", "He left!", "Did he?", "Yes.",
    ]


def test_long_sentences_are_bounded():
    text = ", ".join(["a clause of several words"] * 60) + "."
    parts = list(sentences(text, max_chars=120))
    assert len(parts) > 5 and all(len(p) <= 120 for p in parts)
    assert " ".join(parts).count("clause") == 60
    assert list(sentences("word " * 500, max_chars=100))  # no clause boundary at all
