"""Each analysis type on crafted text with known answers (real models: spaCy, VADER, Presidio,
MiniLM, and the bundled LLM for action items)."""

from __future__ import annotations

import re

import pytest

from vocable.analysis import UnsupportedLanguage
from vocable.analysis.document import Document

MEETING = """Alice: Good morning everyone. When is the product launch?
Bob: The launch is planned for Friday, March 14th in Berlin.
Alice: Great. Who owns the marketing budget?
Carol: Did anyone watch the football game last night?
Bob: I loved it, what a fantastic match!
Alice: Carol, please book the venue by Wednesday.
Carol: Sure.
Alice: Can you send me the slides, Bob?
Bob: Yes, I will send them tonight.
Carol: The hotel was awful and the service was terrible.
Alice: I'll email the press release to the journalists on Monday."""


def analyze(analyzer, kind, text, **kw):
    return analyzer.analyze(kind, Document.from_text(text), **kw)


# -- sentiment -----------------------------------------------------------------------------------
POSITIVE = [
    "I absolutely love this product, it is wonderful!",
    "The support team was fantastic and incredibly helpful.",
    "What a great day, everything went perfectly.",
]
NEGATIVE = [
    "This was a terrible, awful experience.",
    "I hate how slow and broken the app is.",
    "The food was disgusting and the staff were rude.",
]


def test_sentiment_polarity_of_clear_sentences(analyzer):
    result = analyze(analyzer, "sentiment", " ".join(POSITIVE + NEGATIVE + ["The meeting is at ten."]))
    labels = {s.text: s.label for s in result.sentences}
    assert all(labels[s] == "positive" for s in POSITIVE), labels
    assert all(labels[s] == "negative" for s in NEGATIVE), labels
    assert labels["The meeting is at ten."] == "neutral"
    assert result.counts == {"positive": 3, "negative": 3, "neutral": 1}
    assert analyze(analyzer, "sentiment", " ".join(POSITIVE)).label == "positive"
    assert analyze(analyzer, "sentiment", " ".join(NEGATIVE)).label == "negative"
    for s in result.sentences:
        assert -1.0 <= s.score <= 1.0


def test_sentiment_per_speaker(analyzer):
    result = analyze(analyzer, "sentiment", MEETING)
    speakers = {s.speaker: s for s in result.speakers}
    assert set(speakers) == {"Alice", "Bob", "Carol"}
    assert speakers["Bob"].label == "positive"  # "I loved it, what a fantastic match!"
    assert speakers["Carol"].label == "negative"  # "awful ... terrible"
    assert len(result.segments) == 11 and result.segments[9].speaker == "Carol"
    assert result.segments[9].label == "negative"


# -- entities ------------------------------------------------------------------------------------
def test_entities_with_offsets(analyzer):
    text = ("Angela Merkel met the board of Microsoft in Seattle on March 3, 2021. "
            "The company agreed to invest $40,000 in the project.")
    result = analyze(analyzer, "entities", text)
    found = {(e.text, e.type) for e in result.entities}
    for expected in [("Angela Merkel", "person"), ("Microsoft", "organization"),
                     ("Seattle", "place"), ("March 3, 2021", "date")]:
        assert expected in found, found
    assert any(e.type == "money" and "40,000" in e.text for e in result.entities), found
    for e in result.entities:
        assert text[e.start:e.end] == e.text


def test_entities_skip_contact_strings_and_house_numbers(analyzer):
    text = ("Write to sarah.connor@cyberdyne.com or call +1 (310) 555-0147 about the Tokyo office "
            "at 18 Market Street, San Francisco, CA 94105.")
    result = analyze(analyzer, "entities", text)
    found = {(e.text, e.type) for e in result.entities}
    assert ("Tokyo", "place") in found and ("San Francisco", "place") in found, found
    email, phone = text.index("sarah"), text.index("+1")
    for e in result.entities:
        assert not (e.start < email + 26 and e.end > email), e  # nothing inside the address
        assert not (e.start < phone + 17 and e.end > phone), e  # nor the phone number
        assert e.text not in ("18", "CA 94105"), e


def test_entities_name_speaker_and_skip_labels(analyzer):
    result = analyze(analyzer, "entities", MEETING)
    berlin = [e for e in result.entities if e.text == "Berlin"]
    assert berlin and berlin[0].speaker == "Bob" and berlin[0].type == "place"
    assert MEETING[berlin[0].start:berlin[0].end] == "Berlin"
    # Speaker labels ("Alice:") are not mentions; names inside the turns are.
    labels = {m.start() for m in re.finditer(r"^\w+:", MEETING, re.MULTILINE)}
    assert not any(e.start in labels for e in result.entities)


# -- topics --------------------------------------------------------------------------------------
def test_topics_find_the_subjects(analyzer):
    text = (
        "Our solar panels produce more electricity every year. The new solar panels on the roof "
        "cut the energy bill in half. Battery storage keeps the electricity for the night. "
        "Meanwhile the football team won the championship. The players trained hard all season "
        "and the coach praised the team."
    )
    result = analyze(analyzer, "topics", text)
    phrases = [k.phrase.lower() for k in result.keyphrases]
    assert any("solar" in p for p in phrases), phrases
    assert any(w in p for p in phrases for w in ("football", "team", "championship")), phrases
    assert all(0 < t.score <= 1 for t in result.topics)
    assert [t.score for t in result.topics] == sorted((t.score for t in result.topics), reverse=True)
    assert sum(t.sentences for t in result.topics) <= 5


# -- questions -----------------------------------------------------------------------------------
def test_questions_who_asked_and_answered(analyzer):
    result = analyze(analyzer, "questions", MEETING)
    by_text = {q.text: q for q in result.questions}
    assert set(by_text) == {
        "When is the product launch?", "Who owns the marketing budget?",
        "Did anyone watch the football game last night?", "Can you send me the slides, Bob?",
    }
    launch = by_text["When is the product launch?"]
    assert launch.speaker == "Alice" and launch.kind == "wh" and launch.answered
    assert launch.answer.speaker == "Bob" and "Friday" in launch.answer.text
    assert not by_text["Who owns the marketing budget?"].answered  # Carol changes the subject
    slides = by_text["Can you send me the slides, Bob?"]
    assert slides.kind == "yes_no" and slides.answered and slides.answer.text.startswith("Yes")
    assert result.total == 4 and result.answered == sum(q.answered for q in result.questions)
    for q in result.questions:
        assert MEETING[q.start:q.end] == q.text


def test_questions_in_unpunctuated_text(analyzer):
    result = analyze(analyzer, "questions", "what time does the store open it opens at nine")
    assert result.total >= 1


# -- PII -----------------------------------------------------------------------------------------
PLANTED = {
    "email": ["maria.gonzalez@example.com", "j.doe+billing@mail.example.org"],
    "phone": ["(617) 555-0123", "+44 20 7946 0958"],
    "credit_card": ["4111 1111 1111 1111"],
    "iban": ["DE89 3704 0044 0532 0130 00"],
    "person": ["Maria Gonzalez", "John Doe"],
    "address": ["221B Baker Street, London NW1 6XE", "1600 Pennsylvania Avenue NW, Washington, DC 20500"],
}
PII_TEXT = (
    "Hello, this is Maria Gonzalez. You can reach me at maria.gonzalez@example.com or on "
    "(617) 555-0123. Please charge the card 4111 1111 1111 1111 and refund to IBAN "
    "DE89 3704 0044 0532 0130 00. Ship the parcel to 221B Baker Street, London NW1 6XE. "
    "My colleague John Doe (j.doe+billing@mail.example.org, +44 20 7946 0958) works at "
    "1600 Pennsylvania Avenue NW, Washington, DC 20500."
)


def test_pii_redaction_finds_and_removes_every_planted_item(analyzer):
    result = analyze(analyzer, "pii_redact", PII_TEXT)
    found = {(i.type, i.text) for i in result.items}
    for kind, values in PLANTED.items():
        for value in values:
            assert (kind, value) in found, (kind, value, found)
            assert value not in result.redacted_text
    for item in result.items:
        assert PII_TEXT[item.start:item.end] == item.text
        assert f"[{item.type.upper()}]" in result.redacted_text
    # Nothing personal is left, not even in part (digits of the card, the mailbox name).
    for leftover in ("4111", "gonzalez@", "0532", "Baker", "555-0123", "7946"):
        assert leftover not in result.redacted_text
    assert result.redacted_text.startswith("Hello, this is [PERSON].")


def test_pii_on_speaker_turns_redacts_each_segment(analyzer):
    text = "Alice: My email is alice@example.com.\nBob: Call me at (212) 555-0199 tomorrow."
    result = analyze(analyzer, "pii_redact", text)
    assert [s.text for s in result.segments] == ["My email is [EMAIL].", "Call me at [PHONE] tomorrow."]
    assert [s.speaker for s in result.segments] == ["Alice", "Bob"]


# -- languages -----------------------------------------------------------------------------------
SPANISH = "La reunión de mañana empieza a las diez y todos deben traer el informe trimestral."


@pytest.mark.parametrize("kind", ["sentiment", "entities", "pii_redact", "questions", "topics", "action_items"])
def test_non_english_text_is_refused_with_the_supported_languages(analyzer, kind):
    with pytest.raises(UnsupportedLanguage) as err:
        analyze(analyzer, kind, SPANISH)
    message = str(err.value)
    assert "'es'" in message and "sentiment: en" in message and "pii_redact: en" in message
    # Saying the language explicitly works the same; English passes.
    with pytest.raises(UnsupportedLanguage):
        analyze(analyzer, kind, "Hello there, how are you today my friend?", language="fr")


# -- action items (LLM) --------------------------------------------------------------------------
def test_action_items_grounded_in_the_meeting(analyzer):
    result = analyze(analyzer, "action_items", MEETING)
    items = result.action_items
    by_owner = {i.owner: i for i in items}
    assert {"Carol", "Bob", "Alice"} <= set(by_owner), items
    assert "venue" in by_owner["Carol"].task.lower() and by_owner["Carol"].due in ("by Wednesday", "Wednesday")
    assert "slides" in by_owner["Bob"].task.lower() and by_owner["Bob"].due == "tonight"
    assert "press release" in by_owner["Alice"].task.lower() and "Monday" in (by_owner["Alice"].due or "")
    for item in items:
        assert MEETING[item.start:item.end] == item.quote
        assert "hotel" not in item.quote and "football" not in item.quote
    # A request and its acceptance are one item.
    assert sum("slides" in i.task.lower() or "send them" in i.quote for i in items) == 1


def test_no_action_items_in_small_talk_without_calling_the_llm(analyzer):
    result = analyze(analyzer, "action_items", "Hello? Oh, hello. I didn't know you were there. "
                                               "I'm in New Jersey now though.")
    assert result.action_items == [] and result.model is None
