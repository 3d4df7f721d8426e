"""Issue 18: AI over transcripts a user can trust, pinned on call-2spk (Whisper base by the file
pipeline). What the call says (call-2spk.stm): Diane is in New Jersey, Sheila in Texas, both are
originally from Chicago; two people speak.

The checks without the LLM run on the session's transcript and on the cached diarized one of the
bench (bench/data/text_ai); the LLM tests are few (each call takes seconds on shared cores)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vocable.llm.chat import DONT_KNOW, _as_quoted, _only_about, resolve_follow_up
from vocable.llm.support import SupportChecker, speaker_names
from vocable.llm.textgen import Source, Writer
from vocable.llm.textgen.output import refuses
from vocable.storage.models import Transcript

DIARIZED = Path(__file__).resolve().parents[2] / "bench" / "data" / "text_ai" / "call-2spk.transcript.json"
WRONG = ["Three people take part in the call.", "Both women now live in New Jersey.",
         "Diane lives in Texas.", "They discuss politics, religion, and culture.",
         "Sheila is from New York."]
RIGHT = ["Sheila lives in Texas.", "Diane is in New Jersey.",
         "Diane and Sheila are both originally from Chicago.",
         "Sheila says people there call her a Yankee."]


def sources(call_transcription):
    plain = Source.from_segments(call_transcription.to_dict()["segments"])
    diarized = Source.from_segments(json.loads(DIARIZED.read_text())["segments"])
    return {"plain": plain, "diarized": diarized}


def assert_issue_claims(checker: SupportChecker, call_transcription) -> None:
    """Every WRONG claim flagged (on the unlabelled call, those about both women excepted: who
    lives where is not known there), every RIGHT one passed, on both forms of the call."""
    for name, source in sources(call_transcription).items():
        verdicts = {c.sentence: c.supported for c in checker.check(source, WRONG + RIGHT)}
        assert not any(verdicts[w] for w in WRONG if name == "diarized" or "Both" not in w), \
            (name, verdicts)
        assert all(verdicts[r] for r in RIGHT), (name, verdicts)


def test_support_check_catches_the_issue_claims(call_transcription):
    checker = SupportChecker()  # the local checks only: no LLM call
    assert_issue_claims(checker, call_transcription)
    diarized = sources(call_transcription)["diarized"]
    assert sorted(speaker_names(diarized.passages).values()) == ["Diane", "Sheila"]
    verdict = checker.check(diarized, ["Sheila is in New Jersey now."])[0]
    assert not verdict.supported and verdict.how == "who"


def test_support_check_with_roles_catches_the_issue_claims(call_transcription, parse):
    """With the parse (as the server checks): the same verdicts, and on the diarized call the
    roles check replaces the place rule (which flags "Sheila says they all call her a Yankee")."""
    checker = SupportChecker(parse=parse)
    assert_issue_claims(checker, call_transcription)
    diarized = sources(call_transcription)["diarized"]
    checks = checker.check(diarized, [
        "Sheila is in New Jersey now.", "Sheila says they all call her a Yankee down there.",
        "Where does Speaker 2 live now: New Jersey.", "Where does Speaker 2 live now: Texas.",
    ])
    assert [(c.supported, c.how) for c in checks] == [
        (False, "roles"), (True, "words"), (False, "roles"), (True, "words")], checks


def test_short_answers_and_cards_on_the_call_are_checked_for_who():
    # Seen in the first full bench run: "Which city are both women originally from?" answered
    # "Chicago and New Jersey"; a flashcard "Where does Speaker 2 live now? New Jersey".
    from vocable.llm.chat import _without
    from vocable.llm.support import Facts

    diarized = Source.from_segments(json.loads(DIARIZED.read_text())["segments"])
    facts = Facts.of(diarized)
    question = "Which city are both women originally from?"
    wrong = facts.misattributed("Chicago and New Jersey", question)
    assert wrong == ["New Jersey"]
    assert _without("Chicago and New Jersey", wrong, facts.entities) == "Chicago."
    assert facts.misattributed("Texas.", "Where does Sheila live?") == []
    assert facts.misattributed("New Jersey.", "Where does Sheila live?")
    verdicts = {c.sentence: c.supported for c in SupportChecker().check(diarized, [
        "Where does Speaker 2 live now: New Jersey.", "Where does Speaker 2 live now: Texas.",
        "Where does Speaker 1 live now: New Jersey.", "They are all located in New Jersey.",
    ])}
    assert verdicts == {"Where does Speaker 2 live now: New Jersey.": False,
                        "Where does Speaker 2 live now: Texas.": True,
                        "Where does Speaker 1 live now: New Jersey.": True,
                        "They are all located in New Jersey.": False}


def test_place_questions_are_answered_by_the_one_claim_the_check_proves(parse):
    """The stability bench's "Where does Sheila live now?" was refused every time: the model
    quoted Diane's "I'm in New Jersey now though", and over Sheila's words alone ("I'm Sheila
    and Texas originally from Chicago", as Whisper heard it) found nothing. Each place the call
    names is stated as a claim and checked: the one that passes is the answer."""
    from vocable.llm.places import place_answer, place_claim, proved_places, unproved_places
    from vocable.llm.support import Facts

    diarized = Source.from_segments(json.loads(DIARIZED.read_text())["segments"])
    facts = Facts.of(diarized)
    checker = SupportChecker(parse=parse)
    answers = {(person, q): place_answer(
                   facts, person, proved_places(diarized, facts, person, q.format(person), checker))
               for person in ("Sheila", "Diane")
               for q in ("Where does {} live now?", "Where is {} from originally?")}
    said = {key: (value[0] if value else None) for key, value in answers.items()}
    assert said == {
        ("Sheila", "Where does {} live now?"): "Sheila lives in Texas.",
        ("Sheila", "Where is {} from originally?"): "Sheila is originally from Chicago.",
        ("Diane", "Where does {} live now?"): "Diane lives in New Jersey.",
        ("Diane", "Where is {} from originally?"): "Diane is originally from Chicago.",
    }, answers
    assert "Texas" in answers[("Sheila", "Where does {} live now?")][1]  # the sentence it rests on
    # "Diane is from Chicago and New Jersey" (the model, asked where Diane is from): New Jersey
    # is where she lives, so the answer loses it.
    from_ = proved_places(diarized, facts, "Diane", "Where is Diane from?", checker)
    assert unproved_places(facts, "Diane is from Chicago and New Jersey.", from_) == ["New Jersey"]
    lives = proved_places(diarized, facts, "Sheila", "Where does Sheila live?", checker)
    assert unproved_places(facts, "Sheila lives in Texas.", lives) == []
    # other questions are left to the model; a person the call does not know gets no answer
    assert place_claim("What do people down there call her?") is None
    assert proved_places(diarized, facts, "Adam", "Where does Adam live?", checker) is None


def test_follow_up_pronouns_resolve_to_the_person_of_the_session(call_transcription):
    segments = call_transcription.to_dict()["segments"]
    history = [("user", "Where is Sheila from originally?"), ("assistant", "Chicago.")]
    assert resolve_follow_up("And where does she live now?", history, segments) == \
        "And where does Sheila live now?"
    history = [("user", "Who lives in Texas?"), ("assistant", "Sheila lives in Texas.")]
    assert resolve_follow_up("What do people call her?", history, segments) == \
        "What do people call Sheila?"
    assert resolve_follow_up("Where is Diane from?", history, segments) == "Where is Diane from?"


def test_an_answer_keeps_its_quotes_place_and_the_person_asked():
    """The two ways the small model got the call's origin questions wrong (seen on one CPU and
    not another, at a near-tie): the quoted phrase restated with another place, and a clause
    added about the other speaker."""
    places = ["Chicago", "New Jersey", "Texas", "Sheila", "Diane"]
    assert _as_quoted("Sheila originally from Texas.", "Texas originally from Chicago.",
                      places) == "Sheila originally from Chicago."
    quote = "I'm originally from Chicago also. I'm in New Jersey now though."
    assert _as_quoted("Diane is originally from New Jersey.", quote, places) == \
        "Diane is originally from Chicago."
    # what the quote says stays, and a phrase the quote does not have is not touched
    assert _as_quoted("Diane lives in New Jersey.", quote, places) == "Diane lives in New Jersey."
    assert _as_quoted("Sheila lives in Texas.", "And I'm Sheila and Texas originally from Chicago.",
                      places) == "Sheila lives in Texas."
    people = ["Sheila", "Diane"]
    both = "Sheila is originally from Chicago and Diane is originally from Chicago."
    assert _only_about(both, "Diane", people) == "Diane is originally from Chicago."
    assert _only_about(both, "Sheila", people) == "Sheila is originally from Chicago."
    assert _only_about("Sheila is from Chicago, while Diane lives in New Jersey.", "Sheila",
                       people) == "Sheila is from Chicago."
    # one clause about both, or about the person only: as it is
    assert _only_about("Diane and Sheila are from Chicago.", "Sheila", people) == \
        "Diane and Sheila are from Chicago."
    assert _only_about("Sheila lives in Texas.", "Sheila", people) == "Sheila lives in Texas."


@pytest.mark.parametrize("text", ["Full transcript text here...", "[transcript goes here]",
                                  "Lorem ipsum dolor sit amet.", "..."])
def test_placeholder_text_is_a_clear_400(ai_server, account, text):
    with ai_server.client(account[1]) as client:
        for path, body in (("/v1/summarize", {"text": text}),
                           ("/v1/generate", {"text": text, "type": "blog_post"})):
            response = client.post(path, json=body)
            assert response.status_code == 400, response.text
            assert "no content" in response.json()["error"].lower()


@pytest.fixture(scope="module")
def diarized_call_id(ai_server, account) -> str:
    """The call as the file pipeline stores it with diarization on (speakers labelled)."""
    data = json.loads(DIARIZED.read_text())
    with ai_server.services.db.session() as s:
        row = Transcript(account_id=account[0], status="completed", filename="call-2spk.wav",
                         language=data["language"], duration=data["duration"],
                         model=data["model"], text=data["text"], segments=data["segments"],
                         speakers=data["speakers"])
        s.add(row)
        s.flush()
        return row.id


@pytest.mark.accuracy
def test_chat_on_the_call_is_stable_and_follows_the_session(ai_server, account, diarized_call_id):
    # The service itself (the HTTP route is covered by test_chat.py): an LLM call can take
    # minutes on busy shared cores, longer than the test client waits.
    chat = ai_server.services.chat
    call_transcript_id = diarized_call_id
    first = chat.ask(account[0], call_transcript_id, "Where is Sheila from originally?")
    assert first.answered and "chicago" in first.answer.lower(), first
    follow = chat.ask(account[0], call_transcript_id, "And where does she live now?",
                      first.session_id)
    assert follow.answered and "texas" in follow.answer.lower(), follow
    assert "new jersey" not in follow.answer.lower(), follow
    # Without the session's "And": the model alone refused this one every time (places.py).
    now = chat.ask(account[0], call_transcript_id, "Where does Sheila live now?")
    assert now.answered and "texas" in now.answer.lower(), now
    again = chat.ask(account[0], call_transcript_id, "Where is Sheila from originally?")
    assert again.session_id != first.session_id
    assert again.answer == first.answer != DONT_KNOW  # a new session, the same answer


@pytest.mark.accuracy
def test_summary_and_blog_post_of_the_call_are_supported_and_not_refused(
    llm, embedder, parse, call_transcription
):
    source = sources(call_transcription)["diarized"]
    checker = SupportChecker(parse=parse)
    summary = Writer(llm, embedder, parse=parse).summarize(source, "brief").text
    lowered = summary.lower()
    assert "sheila" in lowered and "diane" in lowered, summary
    assert "three" not in lowered and "both in new jersey" not in lowered, summary
    assert all(c.supported for c in checker.check(source, summary)), summary
    blog = Writer(llm, embedder, parse=parse).generate(source, "blog_post").text
    assert not refuses(blog), blog
    assert all(c.supported for c in checker.check(source, blog)), blog
