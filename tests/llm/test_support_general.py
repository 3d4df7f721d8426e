"""The local support checks and follow-up resolution are rules about language, not about the call
of issue 18: the same rules on a conversation with other people, places and dates (made up here,
no model needed) accept its facts and reject its mix-ups, labelled by speaker or plain text."""

from __future__ import annotations

import pytest

from vocable.llm.chat import resolve_follow_up
from vocable.llm.support import SupportChecker, speaker_names
from vocable.llm.textgen import Source

SEGMENTS = [
    {"start": 0.0, "speaker": "Speaker 1",
     "text": "Hi, my name is Marco and I'm calling from Denver."},
    {"start": 4.0, "speaker": "Speaker 2",
     "text": "Hello Marco, I'm Priya. I live in Seattle now, but I grew up in Boston."},
    {"start": 9.0, "speaker": "Speaker 1",
     "text": "Oh, I was born in Boston too. We should meet at the conference in May."},
    {"start": 14.0, "speaker": "Speaker 2", "text": "Yes, I will send you the agenda by Friday."},
]
SUPPORTED = [
    "Marco lives in Denver.", "Priya lives in Seattle.", "Priya grew up in Boston.",
    "Marco and Priya were both born in Boston.", "Marco was born in Boston.",
    "Priya will send the agenda by Friday.", "They plan to meet at the conference in May.",
]
UNSUPPORTED = [
    "Marco lives in Seattle.", "Priya lives in Denver.", "Both live in Seattle.",
    "Priya was born in Denver.", "Priya is calling from Denver.",
    "Marco will send the agenda by Friday.", "Priya will send the agenda by Monday.",
    "Marco grew up in Chicago.", "They discuss politics and religion.",
    "Three people take part in the call.",
]


@pytest.mark.parametrize("labelled", [True, False], ids=["diarized", "plain"])
def test_the_checks_hold_for_another_conversation(labelled):
    source = (Source.from_segments(SEGMENTS) if labelled
              else Source.from_text(" ".join(s["text"] for s in SEGMENTS)))
    verdicts = {c.sentence: c for c in SupportChecker().check(source, SUPPORTED + UNSUPPORTED)}
    wrongly_dropped = [s for s in SUPPORTED if not verdicts[s].supported]
    # Plain text has no speaker labels: who sends the agenda is a guess there, not checked.
    let_through = [s for s in UNSUPPORTED if verdicts[s].supported
                   and (labelled or "agenda by Friday" not in s)]
    assert not wrongly_dropped and not let_through, (wrongly_dropped, let_through)
    if labelled:
        assert speaker_names(source.passages) == {"Speaker 1": "Marco", "Speaker 2": "Priya"}


def test_follow_ups_resolve_in_another_conversation():
    history = [("user", "Where did Priya grow up?"), ("assistant", "Priya grew up in Boston.")]
    assert resolve_follow_up("And where does she live now?", history, SEGMENTS) == \
        "And where does Priya live now?"
    history = [("user", "Where is Marco calling from?"), ("assistant", "Denver.")]
    assert resolve_follow_up("What will he do in May?", history, SEGMENTS) == \
        "What will Marco do in May?"
    assert resolve_follow_up("What did they agree on?", history, SEGMENTS) == \
        "What did they agree on?"


def test_speaker_labels_and_they_are_all_count_as_who():
    source = Source.from_segments(SEGMENTS)
    verdicts = {c.sentence: c.supported for c in SupportChecker().check(source, [
        "Where does Speaker 2 live now: Denver.", "Where does Speaker 2 live now: Seattle.",
        "They are all located in Seattle.",
    ])}
    assert verdicts == {"Where does Speaker 2 live now: Denver.": False,
                        "Where does Speaker 2 live now: Seattle.": True,
                        "They are all located in Seattle.": False}


def test_chat_answer_checks_are_about_the_question_not_the_call():
    from vocable.llm.chat import _asked_back, _restates, _without
    from vocable.llm.support import Facts

    facts = Facts.of(Source.from_segments(SEGMENTS))
    question = "Which city were both born in?"
    wrong = facts.misattributed("Boston and Seattle", question)
    assert wrong == ["Seattle"]
    assert _without("Boston and Seattle", wrong, facts.entities) == "Boston."
    assert _without("They were born in Seattle.", wrong, facts.entities) == ""  # not a bare list
    assert facts.misattributed("Seattle.", "Where does Priya live?") == []
    assert facts.misattributed("Denver.", "Where does Priya live?")
    # A wh-question answered with its own words is not answered; a yes/no question may be.
    assert _restates("Where should Priya send the agenda?", "Priya should send the agenda.")
    assert not _restates("Where should Priya send the agenda?", "To Marco, by Friday.")
    assert not _restates("Is Marco from Boston too?", "Marco is from Boston.")
    # Someone asking for a thing is not the thing.
    assert _asked_back("What is the agenda?", "Can you send me the agenda?")
    assert not _asked_back("What does Marco ask for?", "Can you send me the agenda?")


def test_a_text_left_with_only_its_title_says_nothing():
    from vocable.llm.textgen.output import says_nothing

    assert says_nothing("# Adam's Marketing Expertise")
    assert says_nothing("Subject: The call\n\nDear,\n\nBest regards,")
    assert not says_nothing("# A call\n\nPriya will send the agenda by Friday.")


def test_a_quiz_option_is_evidenced_only_by_all_its_words():
    from vocable.llm.textgen.writer import _in_evidence

    source = Source.from_segments(SEGMENTS)
    question = "What will Priya send by Friday?"
    assert _in_evidence(source, question, "The agenda")
    assert not _in_evidence(source, question, "The agenda minutes")


def test_repeated_flashcards_and_questions_are_kept_once():
    # ami-dev00's flashcards once held "What does Adam say about Ebenezer's support?" four times.
    from vocable.llm.textgen import Flashcard
    from vocable.llm.textgen.writer import distinct

    cards = [Flashcard(front="What does Priya send?", back="The report"),
             Flashcard(front="what does Priya send ?", back="A report"),
             Flashcard(front="When is it due?", back="Friday"),
             Flashcard(front="What does Priya send?", back="The report")]
    kept = distinct(cards, lambda c: c.front)
    assert [(c.front, c.back) for c in kept] == [("What does Priya send?", "The report"),
                                                 ("When is it due?", "Friday")]
