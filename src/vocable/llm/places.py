""""Where does Sheila live?" and "where is she from?", answered by the one claim the support
check proves.

The small model is easily lured to another person's sentence by a word of the question ("Where
does Sheila live now?" → Diane's "I'm in New Jersey now though."), and the recogniser can garble
the sentence that holds the answer ("I'm Sheila and Texas originally from Chicago"): then the
model finds nothing and chat would say "I don't know". For these questions the candidates are few
(the places the transcript names), so each is stated as a claim ("Sheila lives in Texas.") and
checked like any summary sentence (``SupportChecker`` with the who-does-what parse, which tells a
home from an origin and one speaker's place from another's). Exactly one passing is the answer;
none, or more than one, is no answer.
"""

from __future__ import annotations

import re

from vocable.llm.support import Facts, SupportChecker
from vocable.llm.textgen.source import Source

_ORIGIN = re.compile(r"\bwhere\b.*\b(from|originally|grow|grew|born|raised)\b", re.IGNORECASE)
_HOME = re.compile(r"\bwhere\b.*\b(live|lives|living|reside|resides|based|stay|stays|now|"
                   r"moved|settled)\b", re.IGNORECASE)


def place_claim(question: str) -> str | None:
    """The claim template a place question asks for, ``{person}`` and ``{place}`` to fill; None
    for any other question."""
    if _ORIGIN.search(question):
        return "{person} is originally from {place}."
    if _HOME.search(question):
        return "{person} lives in {place}."
    return None


def place_answer(source: Source, facts: Facts, person: str, question: str,
                 checker: SupportChecker) -> tuple[str, str] | None:
    """(answer, the transcript sentence it rests on) for a place question about ``person``, when
    exactly one of the transcript's places makes a supported claim; else None."""
    places = [e for e in facts.entities if e not in facts.persons]
    proved = _proved(source, facts, person, question, places, checker)
    if len(proved) != 1:
        return None
    claim, place = proved[0]
    said = re.compile(rf"\b{re.escape(place)}\b")
    quote = next((t for t in facts.persons[person] if said.search(t)), None)
    return (claim, quote) if quote else None


def unproved_places(source: Source, facts: Facts, person: str, question: str, answer: str,
                    checker: SupportChecker) -> list[str]:
    """The places an answer to a place question about ``person`` names that the check does not
    prove for that person ("Diane is from Chicago and New Jersey": New Jersey is where she lives
    now, not where she is from)."""
    named = [e for e in facts.entities
             if e not in facts.persons and re.search(rf"\b{re.escape(e)}\b", answer)]
    proved = {p for _, p in _proved(source, facts, person, question, named, checker)}
    return [p for p in named if p not in proved] if place_claim(question) else []


def _proved(source: Source, facts: Facts, person: str, question: str, places: list[str],
            checker: SupportChecker) -> list[tuple[str, str]]:
    """(claim, place) for each place the question's claim about ``person`` holds for."""
    template = place_claim(question)
    if template is None or person not in facts.persons or not places:
        return []
    claims = [template.format(person=person, place=p) for p in places]
    verdicts = checker.check(source, claims)
    return [(c.sentence, p) for c, p in zip(verdicts, places, strict=True) if c.supported]
