"""Is each sentence of a generated text supported by the transcript? A local check of claims, not
only of names and numbers.

``SupportChecker.check(source, text)`` splits the text into sentences and judges each one:

1. Lines that state nothing (headings, "Subject:" lines, greetings, hashtags) are skipped.
2. A sentence whose words are (nearly) all words of one stretch of the transcript is supported
   (a copied or lightly trimmed sentence).
3. A sentence that counts the people ("three people") is checked against the speakers the
   transcript labels (or names).
4. Otherwise the LLM judges it over the evidence: the whole transcript when it is short, else the
   segments most similar to the sentence (MiniLM embeddings) with their neighbours. The judge
   decodes greedily under a JSON schema, so the same sentence gets the same verdict.

Speakers are shown by name where the transcript says who they are ("This is Diane", "I'm
Sheila": ``speaker_names``), so a claim about who said or lives where can be judged.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from pydantic import BaseModel, Field

from vocable.llm.attribution import Attribution, Parse
from vocable.llm.attribution import stem as _stem
from vocable.llm.embed import Embedder
from vocable.llm.grounding import (
    SourceIndex,
    key_names,
    match_sentence,
    sentences,
    ungrounded_terms,
)
from vocable.llm.runtime import LLMExecutor
from vocable.llm.textgen.source import Passage, Source, clock

# A whole transcript up to this size is the judge's evidence (30-minute calls are not).
WHOLE_SOURCE_CHARS = 5000
EVIDENCE_SEGMENTS = 4

_INTRO = re.compile(
    r"\b(?i:this is|i'm|i am|my name is|my name's|here is|here's|call me)\s+"
    r"([A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)"
)
_NOT_NAMES = {
    "Okay", "Ok", "Sorry", "Not", "Just", "Here", "Fine", "Good", "Great", "Well", "Yes", "No",
    "So", "And", "But", "The", "Really", "Sure", "Back", "Glad", "Happy", "Done", "Going", "Right",
    "Also", "Still", "Very", "Now", "Then", "Originally", "From", "In", "On", "At", "A", "An",
}


def speaker_names(passages: Sequence[Passage]) -> dict[str, str]:
    """Speaker label → the first name that speaker introduces themself with, when they do."""
    found: dict[str, str] = {}
    taken: set[str] = set()
    for p in passages:
        if not p.speaker or p.speaker in found:
            continue
        for match in _INTRO.finditer(p.text):
            name = match.group(1).split()[0]
            if name in _NOT_NAMES or name in taken:
                continue
            found[p.speaker] = name
            taken.add(name)
            break
    return found


_TURN = re.compile(r"^(oh|well|yes|yeah|no|really|wow)\b|\b(also|too)\W*$", re.IGNORECASE)


def introduced_name(text: str) -> str | None:
    match = _INTRO.search(text)
    name = match.group(1).split()[0] if match else None
    return name if name and name not in _NOT_NAMES else None


def guess_turns(said: Sequence[str]) -> list[str | None]:
    """Who says each sentence of an unlabelled transcript, as far as the introductions tell:
    the last person to introduce themself, and between exactly two people, a reply ("Oh, I'm
    from Chicago also") passes the turn to the other one. None before anyone is introduced."""
    intros = [introduced_name(t) for t in said]
    two = len({n for n in intros if n}) == 2
    current: str | None = None
    turns: list[str | None] = []
    for sentence, name in zip(said, intros, strict=True):
        if name:
            current = name
        elif two and current and _TURN.search(sentence):
            current = next(n for n in intros if n and n != current)
        turns.append(current)
    return turns


def speaker_label(speaker: str | None, names: dict[str, str]) -> str:
    if not speaker:
        return ""
    name = names.get(speaker)
    return f"{name} ({speaker})" if name else speaker


def render_named(source: Source, passages: Sequence[Passage] | None = None) -> str:
    """The transcript as the judge (and chat) reads it: [mm:ss] Name (Speaker n): text."""
    passages = source.passages if passages is None else passages
    names = speaker_names(source.passages)
    lines = []
    for p in passages:
        who = speaker_label(p.speaker, names) if source.speakers else ""
        when = f"[{clock(p.start or 0.0)}] " if source.timed else ""
        lines.append(f"{when}{who + ': ' if who else ''}{p.text}")
    return "\n".join(lines)


@dataclass
class SentenceCheck:
    sentence: str
    supported: bool
    how: str  # "skipped" | "copied" | "count" | "names" | "who" | "roles" | "words" | "judge"
    evidence: list[int] = field(default_factory=list)  # passage indexes shown to the judge


class _Verdict(BaseModel):
    # The evidence first: a small model judges better after copying what it rests on.
    evidence: str = Field(max_length=400, description="the transcript words that state it")
    verdict: str = Field(pattern="^(supported|not_supported)$")


_GREETING = re.compile(
    r"^(hi|hello|hey|dear|welcome|thanks|thank you|best|regards|cheers|sincerely|until next time|"
    r"see you|stay tuned|happy reading|enjoy)\b", re.IGNORECASE,
)
_LABEL_LINE = re.compile(r"^\s*(subject|title|topics covered|tl;?dr|date|time)\s*:", re.IGNORECASE)
_COUNT = re.compile(
    r"\b(two|three|four|five|six|seven|eight|nine|ten|\d+)\s+(people|persons|speakers|"
    r"participants|individuals|women|men|friends|callers|voices)\b", re.IGNORECASE,
)
_NUMBERS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
            "nine": 9, "ten": 10}
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
_HEADING = re.compile(r"^\s*#+\s")


# A chapter line's "00:18 Diane's background: " or a card's "Q: ": the sentence follows.
_LINE_PREFIX = re.compile(r"^(?:\[?\d{1,2}:\d{2}(?::\d{2})?\]?\s+(?:[A-Z][\w'’]*(?: [\w'’]+){0,3}:\s+)?"
                          r"|[QA]:\s+)")
# 'Sheila says, “I need the design.”' or 'Sheila: "..."': a quote given to someone.
_QUOTED = re.compile(r"^(?P<who>[A-Z][\w'’]*(?: [A-Z0-9][\w'’]*)?(?: \([\w ]+\))?)"
                     r"(?: says[:,]\s*[“\"]?|:\s*[“\"]?|,\s*[“\"])(?P<quote>[^”\"]+)[”\"]?\s*$")


# A line written as a speaker's own words, without quote marks.
_VOICE = re.compile(r"^(?P<who>[A-Z][a-z]+(?: \(Speaker \d+\))?|Speaker \d+):\s+(?=[^“\"\s])")


def claim_units(text: str) -> list[str]:
    """The sentences of a generated text (list items and lines split into sentences; a line's
    time and title, or a card's "Q:", are not part of what it claims)."""
    units = []
    for line in text.splitlines():
        line = _BULLET.sub("", line).strip().strip("*_").strip()
        line = _LINE_PREFIX.sub("", line)
        voice = _VOICE.match(line)
        if voice:  # "Diane (Speaker 1): Hello! I heard ...": every sentence is put in her mouth
            units.extend(f"{voice['who']}: {u}" for u in sentences(line[voice.end():]))
        elif line:
            units.extend(sentences(line))
    return units


def states_nothing(sentence: str) -> bool:
    """Headings, labels, greetings, hashtags, very short lines: nothing to check."""
    s = sentence.strip()
    if not s or _HEADING.match(s) or _LABEL_LINE.match(s) and len(s.split()) <= 3:
        return True
    if s.endswith("?") or s.lower().startswith("also mentioned:"):
        return True  # a question asserts nothing; "Also mentioned:" lists the transcript's names
    words = re.findall(r"[A-Za-z']+", s)
    if len(words) < 3 or all(w.startswith("#") for w in s.split()):
        return True
    if _GREETING.match(s) and len(words) <= 8:
        return True
    # A title or heading line: short and not a sentence.
    return not s.endswith((".", "!", "?", '"', "”")) and len(words) <= 8


# Words a faithful summary uses without the transcript saying them: how people talk, not what.
_META = {
    "speaker", "speakers", "transcript", "conversation", "call", "phone", "discuss", "discusses",
    "discussed", "discussion", "talk", "talks", "talked", "talking", "mention", "mentions",
    "mentioned", "say", "says", "said", "share", "shares", "shared", "explain", "explains",
    "introduce", "introduces", "introduced", "introduction", "themselves", "herself", "himself",
    "note", "notes", "noted", "add", "adds", "added", "respond", "responds", "responded", "reply",
    "replies", "replied", "ask", "asks", "asked", "answer", "answers", "state", "states",
    "stated", "express", "expresses", "expressed", "remark", "remarks", "comment", "comments",
    "live", "lives", "lived", "living", "currently", "based", "resides", "reside", "born",
    "grew", "origin", "originally", "hometown", "city", "place", "places", "location",
    "moved", "move", "person", "people", "woman", "women", "man", "men", "participants",
    "participant", "both", "two", "each", "other", "while", "whereas", "also", "too", "now",
    "brief", "short", "begins", "starts", "start", "opens", "ends", "greet", "greets",
    "greeting", "greetings", "exchange", "exchanges", "surprised", "surprise", "hear", "heard",
    "hears", "meeting", "group", "team", "member", "members", "role", "roles", "episode",
    "topic", "topics", "point", "points", "key", "main", "summary", "overview", "highlight",
    "highlights", "called", "calls", "referred", "refers", "describes", "describe", "described",
    "identifies", "identify", "confirms", "confirm", "agree", "agrees", "different", "difference",
    "similar", "same", "common", "here", "there", "down", "from",
}
_STOPWORDS = {
    "the", "a", "an", "is", "are", "was", "were", "be", "been", "being", "to", "of", "in", "on",
    "at", "and", "or", "for", "with", "that", "this", "it", "its", "he", "she", "they", "them",
    "i", "you", "we", "his", "her", "their", "as", "by", "not", "no", "so", "do", "does", "did",
    "has", "have", "had", "who", "what", "where", "when", "which", "how", "about", "there",
    "than", "then", "but", "if", "into", "out", "up", "over", "very", "much", "many", "more",
    "most", "some", "any", "all", "just", "only", "one", "even", "though", "although", "because",
    "can", "could", "would", "will", "should", "may", "might", "must", "these", "those", "such",
    "own", "our", "your", "my", "me", "him", "us", "after", "before", "during", "between",
    "whom", "whose", "yes", "well", "okay", "oh",
}
_COLLECTIVE = re.compile(
    r"\b(both|all of them|each of them|the two|they both|they all|(?:they|we) (?:are|were) "
    r"(?:all|both)|neither|either)\b",
    re.IGNORECASE,
)
_LIVING = re.compile(
    r"\b(live|lives|living|lived|based|resides?|now in|are in|is in|currently in|home)\b",
    re.IGNORECASE,
)
# "originally from Chicago" says where someone comes from, not where they live.
_ORIGIN = re.compile(r"\b(?:originally |born |grew up )?(?:from|in) [A-Z][a-z]+(?: [A-Z][a-z]+)?"
                     r"(?= (?:also|too|originally)\b)|\b(?:originally|born|grew up) (?:from|in) "
                     r"[A-Z][a-z]+(?: [A-Z][a-z]+)?")
_SELF = re.compile(r"\b(this is|i'm|i am|i live|we live|we're|my home)\b", re.IGNORECASE)
_WORDS = re.compile(r"[a-z][a-z'’]*")


@dataclass
class Facts:
    """What the checks look up: the transcript's words, its speakers (by name where they say
    who they are) and which names and places go with which person."""

    index: SourceIndex
    texts: list[str]
    stems: set[str]
    speakers: int  # distinct labelled speakers (0: unlabelled)
    persons: dict[str, list[str]]  # name → the texts that speak as or about them
    entities: list[str]  # other names and places
    unattributed: list[str]  # texts of no known person (unlabelled first-person speech)
    labels: dict[str, str] = field(default_factory=dict)  # "Speaker 2" → "Sheila"

    @classmethod
    def of(cls, source: Source) -> Facts:
        passages = source.passages
        texts = [p.text for p in passages]
        full = " ".join(texts)
        labelled = source.speakers
        names = speaker_names(passages) if labelled else {}
        persons: dict[str, list[str]] = {}
        unattributed: list[str] = []
        if names:
            for p in passages:
                name = names.get(p.speaker or "")
                if name:
                    persons.setdefault(name, []).append(p.text)
                else:
                    unattributed.append(p.text)
        else:  # plain text: who speaks follows the introductions ("This is Diane ...")
            said = sentences(full)
            for sentence, current in zip(said, guess_turns(said), strict=True):
                if current:
                    persons.setdefault(current, []).append(sentence)
                else:
                    unattributed.append(sentence)
        for name in list(persons):  # what others say about a person by name goes with them too
            for sentence in sentences(full):
                if re.search(rf"\b{re.escape(name)}\b", sentence) and sentence not in persons[name]:
                    persons[name].append(sentence)
        entities = [n for n in key_names(full, limit=30)
                    if n.split()[0] not in persons and n not in persons]
        speakers = len({p.speaker for p in passages if p.speaker}) if labelled else 0
        stems = {_stem(w) for w in _WORDS.findall(full.lower())}
        return cls(SourceIndex.of(source.render() if source.timed else full), texts, stems,
                   speakers, persons, entities, unattributed, names)

    def content_words(self, unit: str) -> list[str]:
        return [w for w in _WORDS.findall(unit.lower())
                if len(w) > 2 and w not in _STOPWORDS and w not in _META]

    def novel_words(self, unit: str) -> list[str]:
        person_words = {p.lower() for p in self.persons}
        return [w for w in self.content_words(unit)
                if _stem(w) not in self.stems and w not in person_words]

    def misattributed(self, unit: str, about: str = "") -> list[str]:
        """Places (and other names) the sentence ties to a person the transcript does not tie
        them to: "Sheila lives in New Jersey" when only Diane says New Jersey, "both in New
        Jersey" when one of them is. ``about``: the question a short answer replies to ("Which
        city are both from?" → "Chicago and New Jersey"); who and what kind of place are read
        from it too, the places only from the answer."""
        if len(self.persons) < 2:
            return []
        said = f"{about} {unit}" if about else unit
        # A person named by name, or by the speaker label they introduced themself under
        # ("Where does Speaker 2 live now? New Jersey." is about Sheila).
        named = [p for p in self.persons if re.search(rf"\b{re.escape(p)}\b", said)
                 or any(n == p and re.search(rf"\b{re.escape(label)}\b", said)
                        for label, n in self.labels.items())]
        collective = bool(_COLLECTIVE.search(said))
        places = [e for e in self.entities if re.search(rf"\b{re.escape(e)}\b", unit)]
        if not places or not (named or collective):
            return []

        living = bool(_LIVING.search(said))

        def tied(person: str, place: str) -> bool:
            # Where someone lives is what they say of themselves ("This is Diane in New
            # Jersey", "I'm in New Jersey now"), not any place they mention.
            texts = self.persons[person]
            if living:
                texts = [_ORIGIN.sub("", t) for t in texts if _SELF.search(t)]
            return any(re.search(rf"\b{re.escape(place)}\b", t) for t in texts)

        def anyone_unnamed(place: str) -> bool:
            # Plain text: a place said by no known person may be anyone's.
            return not self.speakers and any(place in t for t in self.unattributed)

        wrong = []
        if collective:
            targets = named if len(named) >= 2 else list(self.persons)
            for place in places:
                if not all(tied(p, place) for p in targets) and not anyone_unnamed(place):
                    wrong.append(place)
            return wrong
        for place in places:
            if not any(tied(p, place) for p in named) and not anyone_unnamed(place):
                wrong.append(place)
        for person in named:
            if not any(tied(person, place) for place in places) and not any(
                anyone_unnamed(place) for place in places
            ) and len(named) == 1:
                wrong.append(person)
        return wrong


def _said_by(who: str, speaker: str | None, labels: dict[str, str]) -> bool:
    """Is ``who`` (a name or label a text gives) the passage's speaker? An unnamed speaker may
    be called by a name the others use ("Ebenezer, your role is?"), if it is no other's."""
    if not speaker or who == speaker:
        return True
    name = labels.get(speaker)
    return who.split()[0] == name if name else who not in labels.values()


class SupportChecker:
    """Judges sentences against a transcript. ``parse`` (spaCy, the analysis toolkit's) adds the
    check of who does what (``attribution.py``). ``judge=True`` adds the LLM as a judge for the
    sentences the local checks let through (slow: one call per sentence; the bundled 1.5B coder
    model accepts most false claims, so it is off by default)."""

    def __init__(self, llm: LLMExecutor | None = None, embedder: Embedder | None = None,
                 client: str = "", judge: bool = False, parse: Parse | None = None):
        self.llm = llm
        self.embedder = embedder
        self.client = client
        self.use_judge = judge and llm is not None
        self.parse = parse
        self.calls = 0

    def check(self, source: Source, text: str | Sequence[str]) -> list[SentenceCheck]:
        units = claim_units(text) if isinstance(text, str) else list(text)
        facts = Facts.of(source)
        roles: list[str | None] = [None] * len(units)
        if self.parse is not None and units:
            roles = self._roles(source, facts, units)
        results: list[SentenceCheck] = []
        for unit, role in zip(units, roles, strict=True):
            results.append(self._one(source, facts, unit, role))
        return results

    def _roles(self, source: Source, facts: Facts, units: list[str]) -> list[str | None]:
        assert self.parse is not None
        turns = None
        if not any(p.speaker for p in source.passages):  # plain text: who speaks follows the introductions
            said = sentences(source.text)
            turns = list(zip(said, guess_turns(said), strict=True))
        return Attribution.of(source, self.parse, facts.labels, turns).unsupported(units)

    def _one(self, source: Source, facts: Facts, unit: str, role: str | None = None) -> SentenceCheck:
        if states_nothing(unit):
            return SentenceCheck(unit, True, "skipped")
        count = _COUNT.search(unit)
        if count and facts.speakers:
            said = count.group(1).lower()
            n = _NUMBERS.get(said) or (int(said) if said.isdigit() else 0)
            if n and n != facts.speakers:
                return SentenceCheck(unit, False, "count")
        if ungrounded_terms(unit, facts.index):
            return SentenceCheck(unit, False, "names")
        # Who goes with which place, read from the words around names: where speakers are
        # labelled and parsed, the roles check below reads it better (and flags fewer right ones).
        mixed = facts.misattributed(unit) if self.parse is None or not source.speakers else []
        if mixed:
            return SentenceCheck(unit, False, "who")
        quoted = _QUOTED.match(unit)
        if quoted and len(quoted["quote"].split()) >= 3:
            # A quote given to someone: the words are that person's (by name or label).
            who = quoted["who"].split(" (")[0]
            # Every passage holding the words ("And he said." may be said twice, by two people).
            holding = [j for j, t in enumerate(facts.texts)
                       if match_sentence(quoted["quote"], [t])[1] >= 0.9]
            if holding:
                ok = any(_said_by(who, source.passages[j].speaker, facts.labels) for j in holding)
                return SentenceCheck(unit, ok, "copied" if ok else "who", holding[:1])
            if who in facts.labels or who in facts.labels.values():
                # Words put in a speaker's mouth that the speaker does not say.
                return SentenceCheck(unit, False, "who")
        i, contained = match_sentence(unit, facts.texts)
        if i >= 0 and contained >= 0.9 and len(unit.split()) >= 4:
            return SentenceCheck(unit, True, "copied", [i])
        if role:
            return SentenceCheck(unit, False, "roles")
        novel = facts.novel_words(unit)
        content = facts.content_words(unit)
        if len(novel) >= 3 or (content and len(novel) / len(content) > 0.5):
            return SentenceCheck(unit, False, "words")
        if self.use_judge:
            evidence = render_named(source)
            return SentenceCheck(unit, self.judge(evidence, unit), "judge")
        return SentenceCheck(unit, True, "words")

    def judge(self, evidence: str, claim: str) -> bool:
        """The LLM's verdict: does the transcript state (or plainly imply) the claim?"""
        assert self.llm is not None
        self.calls += 1
        prompt = (
            f'TRANSCRIPT:\n"""\n{evidence}\n"""\n\n'
            f'CLAIM: "{claim}"\n\n'
            "TASK: Decide whether the TRANSCRIPT supports the CLAIM. Copy into evidence the "
            "transcript words that state it. The verdict is supported only if the transcript "
            "states it or it plainly follows from what is said (a speaker who says \"I'm Ana "
            "in Ohio\" lives in Ohio). The verdict is not_supported if any part of the claim is "
            "not said, says something different, mixes up who said or did what, or gets a "
            "number wrong. A claim about the transcript itself (\"the call is short\", \"they "
            "talk about where they live\") is supported when it describes what is said."
        )
        messages = [
            {"role": "system", "content": "You check statements against a transcript. "
                                          "You are strict and literal."},
            {"role": "user", "content": prompt},
        ]
        verdict = self.llm.complete_json(
            messages, _Verdict, max_tokens=200, temperature=0.0, client=self.client,
        )
        return verdict.verdict == "supported"


def supported_share(checks: Sequence[SentenceCheck]) -> tuple[int, int]:
    """(unsupported, checked) among the sentences that state something."""
    checked = [c for c in checks if c.how != "skipped"]
    return sum(1 for c in checked if not c.supported), len(checked)
