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


def proved_places(source: Source, facts: Facts, person: str, question: str,
                  checker: SupportChecker) -> dict[str, str] | None:
    """Place -> its supported claim, for each place the transcript names that the question's claim
    about ``person`` holds for; None when the question is no place question about a known person.
    One check of all the candidates (it parses the transcript once)."""
    template = place_claim(question)
    if template is None or person not in facts.persons:
        return None
    places = [e for e in facts.entities if e not in facts.persons]
    claims = [template.format(person=person, place=p) for p in places]
    verdicts = checker.check(source, claims) if claims else []
    return {p: c.sentence for c, p in zip(verdicts, places, strict=True) if c.supported}


def place_answer(facts: Facts, person: str, proved: dict[str, str]) -> tuple[str, str] | None:
    """(answer, the transcript sentence it rests on) when exactly one place is ``proved``."""
    if len(proved) != 1:
        return None
    place, claim = next(iter(proved.items()))
    said = re.compile(rf"\b{re.escape(place)}\b")
    quote = next((t for t in facts.persons[person] if said.search(t)), None)
    return (claim, quote) if quote else None


def unproved_places(facts: Facts, answer: str, proved: dict[str, str]) -> list[str]:
    """The places an answer names that are not ``proved`` for the person asked about ("Diane is
    from Chicago and New Jersey": New Jersey is where she lives now, not where she is from)."""
    return [e for e in facts.entities if e not in facts.persons and e not in proved
            and re.search(rf"\b{re.escape(e)}\b", answer)]
