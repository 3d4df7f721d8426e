"""Who does what in a generated sentence, checked against who says what in the transcript.

A small model's summaries go wrong less in their words than in their roles: "Speaker 2 calls
Sheila a Yankee" (Sheila says *they* call *her* one), "He asks for the design" (the other
speaker says "I need the design"). Every word is in the transcript; the relation is not, and
no bundled model judges that (the 1.5B LLM accepts such claims; no entailment model ships on
PyPI). So ``Attribution`` reads roles from spaCy's dependency parse (the analysis toolkit's
``en_core_web_sm``) on both sides and accepts a clause with a person in it only where one
stretch of the transcript (a sentence and the same speaker's next) holds at least half of the
clause's content words and agrees on the roles:

* the actor: what Diane does rests on a sentence where Diane is the subject ("I ..." said by
  her, or her name); "they" inside reported speech rests on someone else's "they";
* reported speech ("Diane says that ...", "Diane asks for ...") rests on a sentence Diane says;
* the other people the clause names are in that stretch (by name, as "me"/"my" of its speaker,
  as "you" of the other one of two);
* "both", "they" (as the people on the call) and "Diane and Sheila" hold for each of them;
* one person named twice in one sentence (by label and name, "Speaker 2 calls Sheila ..."),
  other than side by side ("Sheila (Speaker 2)"), is the model taking one person for two.

English only. A clause without a person in it is left to the other checks of ``support.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from vocable.llm.textgen.source import Passage, Source

Parse = Callable[[str], Any]  # text -> a spaCy Doc (tokens with .dep_, .head, .lemma_, .i)

EVERYONE = "*everyone*"  # "both", "they" meaning the people on the call
OTHERS = "*others*"  # "they"/"he"/"people" that are nobody on the call

# Verbs that report what someone says: what follows is what they said.
SPEECH = {
    "say", "mention", "tell", "note", "explain", "add", "state", "reply", "respond", "answer",
    "ask", "admit", "claim", "share", "remark", "comment", "express", "confirm", "report",
    "describe", "suggest", "point", "recall", "reveal", "insist", "announce", "clarify",
    "emphasize", "emphasise", "stress", "wonder", "joke", "introduce", "identify", "greet",
    "request", "inform", "know", "think", "believe", "feel", "hear", "learn", "realize",
    "realise", "discuss", "talk", "speak",
}
# Verbs a paraphrase swaps freely (where someone lives or comes from, being, having): they
# count as content only through their complements.
LIGHT = {
    "be", "have", "do", "get", "go", "come", "seem", "become", "live", "reside", "base", "grow",
    "originate", "move", "stay", "begin", "start", "end", "open", "close", "make", "take",
    "give", "let", "keep",
}
_STOP = {
    "the", "a", "an", "to", "of", "in", "on", "at", "and", "or", "for", "with", "that", "this",
    "it", "as", "by", "not", "no", "so", "there", "here", "then", "but", "if", "into", "out",
    "up", "over", "very", "much", "many", "more", "most", "some", "any", "all", "just", "only",
    "one", "even", "though", "although", "because", "also", "too", "now", "still", "about",
    "from", "down", "well", "yes", "okay", "oh", "really", "actually", "which", "who", "whom",
    "what", "when", "where", "how", "why", "than", "each", "other", "both", "again", "back",
    "speaker", "speakers", "person", "people", "participant", "participants", "caller", "call",
    "conversation", "transcript", "woman", "women", "man", "men", "first", "second", "third",
    "fourth", "fifth", "two", "three", "four", "they", "them", "their", "themselves", "know",
    "you", "your", "thing", "things", "something", "way", "lot", "bit", "kind", "sort",
    # what a summary calls the talk itself
    "meeting", "discussion", "topic", "greeting", "introduction", "chat", "session", "name",
}
_CONTENT_POS = {"NOUN", "PROPN", "VERB", "ADJ", "ADV", "X"}  # not prepositions, pronouns...
_FIRST = {"i", "me", "my", "mine", "myself"}
_WE = {"we", "us", "our", "ours", "ourselves"}  # the speaker and others
_SECOND = {"you", "your", "yours", "yourself"}
_THIRD_ONE = {"he", "she", "him", "her", "his", "hers", "himself", "herself"}
_THIRD_MANY = {"they", "them", "their", "theirs", "themselves"}
_REFLEXIVE = {"himself", "herself", "themselves", "myself", "yourself", "ourselves"}
_SUBJECT = {"nsubj", "nsubjpass", "csubj", "expl"}
# What a model calls the recording itself: "The conversation takes place in New Jersey" says
# where the people on it are (a call's may be in different places).
_EVENTS = {"conversation", "call", "meeting", "discussion", "talk", "chat", "interview",
           "dialogue", "exchange", "recording"}
_INHERITS = {"conj", "xcomp", "advcl", "pcomp", "acl"}  # clauses that share their head's subject
_CLAUSE = {"ROOT", "conj", "ccomp", "xcomp", "relcl", "advcl", "acl", "pcomp"}
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6}
_LABEL = re.compile(r"^speaker\s*(\d+)$", re.IGNORECASE)
_BETWEEN_SAME = {",", "(", ")", "-", "–", "—", "is", "was", "named", "called", "aka", "or", ":", "the",
                 "known", "as"}


def stem(word: str) -> str:
    """A word without case and its commonest endings, for comparing words of two texts."""
    word = word.lower().replace("’", "'").removesuffix("'s")
    for suffix in ("ies", "ing", "ed", "es", "s", "ly"):
        if len(word) - len(suffix) >= 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


@dataclass
class _Said:
    """One transcript clause: its verb, who its subject is, who it mentions, its words."""

    verb: str
    subjects: set[str]
    mentions: set[str]
    stems: set[str]


@dataclass
class _Stretch:
    """A transcript sentence (and the same speaker's next one): what a claim may rest on."""

    speaker: str | None
    stems: set[str]
    clauses: list[_Said]
    mentions: set[str]
    origins: set[str] = field(default_factory=set)  # places said as where someone comes from
    homes: set[str] = field(default_factory=set)  # places said otherwise ("I'm in Texas")


@dataclass
class _Claim:
    verb: str
    actor: set[str]  # who does it: persons, or {EVERYONE}, {OTHERS}; empty: nobody on the call
    objects: set[str]  # the other persons it names
    stems: set[str]  # content words (stems), the verb's when it carries meaning
    said_by: str | None = None  # reported speech: who must have said it
    speech: bool = False
    either: bool = False  # one of the actors will do ("Diane says they ...": she, or others)
    origins: set[str] = field(default_factory=set)  # places it says someone comes from
    homes: set[str] = field(default_factory=set)  # places it says someone lives or is in


@dataclass
class Attribution:
    """The persons of a transcript and what each of them says, parsed once per check."""

    parse: Parse
    persons: list[str]  # names where speakers introduce themselves, else labels
    aliases: dict[str, str]  # lower-case label or name -> person
    stretches: list[_Stretch] = field(default_factory=list)

    @classmethod
    def of(cls, source: Source, parse: Parse, names: dict[str, str],
           turns: Sequence[tuple[str, str | None]] | None = None) -> Attribution:
        """``names``: speaker label -> introduced name; ``turns``: (sentence, person) for plain
        text (who speaks as far as introductions tell), else the source's labelled segments."""
        if turns is None:
            turns = [(p.text, _person_of(p, names)) for p in source.passages]
        persons = list(dict.fromkeys(who for _, who in turns if who))
        aliases = {p.lower(): p for p in persons}
        for label, name in names.items():
            aliases[label.lower()] = name
        self = cls(parse, persons, aliases)
        said: list[tuple[str | None, Any]] = []
        for text, who in turns:
            for sent in parse(text).sents:
                said.append((who, sent))
        for i, (who, sent) in enumerate(said):
            group = [sent]
            if i + 1 < len(said) and said[i + 1][0] == who:
                group.append(said[i + 1][1])
            self.stretches.append(self._stretch(who, group))
        return self

    # -- the transcript side ---------------------------------------------------------------------
    def _stretch(self, who: str | None, sents: list[Any]) -> _Stretch:
        stems: set[str] = set()
        clauses: list[_Said] = []
        mentions: set[str] = set()
        origins: set[str] = set()
        homes: set[str] = set()
        for sent in sents:
            for tok in sent:
                if tok.is_alpha:
                    stems.add(stem(tok.lemma_))
                    stems.add(stem(tok.text))
                if tok.pos_ == "PROPN" and tok.text.lower() not in self.aliases:
                    (origins if _origin_place(tok) else homes).add(stem(tok.lemma_))
            subjects_of: dict[int, set[str]] = {}
            for head in _clause_heads(sent):
                subjects = {r for t in _subjects_of(head) for r in self._heard_refs(t, who)}
                outer = _outer_clause(head)
                if not _subjects_of(head) and outer is not None and head.dep_ in _INHERITS:
                    subjects = set(subjects_of.get(outer.i, set()))  # "we're ready to begin"
                subjects_of[head.i] = subjects
                if head.lemma_ == "be":  # "This is Diane": Diane is who speaks
                    for t in head.children:
                        if t.dep_ == "attr" and (r := self._heard_refs(t, who)) & set(self.persons):
                            subjects |= r
                # Fillers ("you know", parataxis) are not clauses of their own (_own_tokens).
                inside = {r for t in _own_tokens(head) for r in self._heard_refs(t, who)}
                words = {stem(t.lemma_) for t in _own_tokens(head) if t.is_alpha}
                clauses.append(_Said(head.lemma_.lower(), subjects, inside, words))
                mentions |= inside
        return _Stretch(who, stems, clauses, mentions, origins, homes)

    def _heard_refs(self, tok: Any, who: str | None) -> set[str]:
        """Whom a transcript word refers to: I → its speaker, we → the speaker and others,
        you → the other of two (else people not on the call), he/they → others."""
        low = tok.text.lower()
        if low in _FIRST:
            return {who} if who else set()
        if low in _WE:
            return {who, OTHERS} if who else {OTHERS}
        if low in _SECOND:
            others = [p for p in self.persons if p != who]
            return {others[0]} if who and len(others) == 1 else {OTHERS}
        if low in _THIRD_ONE or low in _THIRD_MANY:
            return {OTHERS}
        person = self.aliases.get(low) if tok.text[:1].isupper() else None
        return {person} if person else set()

    # -- the claim side --------------------------------------------------------------------------
    def unsupported(self, units: Sequence[str]) -> list[str | None]:
        """Per sentence: why its roles are not the transcript's (None: they are, or it names
        nobody on the call). Sentences are read in order: "he" is the last person named."""
        if len(self.persons) < 1 or not self.stretches:
            return [None] * len(units)
        out: list[str | None] = []
        last: str | None = None
        for unit in units:
            doc = self.parse(unit)
            reason, last = self._check(doc, last)
            out.append(reason)
        return out

    def _check(self, doc: Any, last: str | None) -> tuple[str | None, str | None]:
        twice = self._named_twice(doc)
        reason = f"{twice} is named twice as if two people" if twice else None
        for sent in doc.sents:
            actor_seen = False
            for claim in self._claims(sent, last):
                reason = reason or self._supported(claim)
                # A wrong sentence still says whom the next "she" is about.
                if len(claim.actor) == 1 and next(iter(claim.actor)) in self.persons:
                    last, actor_seen = next(iter(claim.actor)), True
                elif claim.said_by:
                    last, actor_seen = claim.said_by, True
            if not actor_seen:  # "Diane's greeting opens the call.": she is the one named last
                named = [p for s, _, p in self._mentions(doc) if sent.start <= s < sent.end]
                last = named[-1] if named else last
        return reason, last

    def _named_twice(self, doc: Any) -> str | None:
        spans: dict[str, list[tuple[int, int]]] = {}
        for start, end, person in self._mentions(doc):
            spans.setdefault(person, []).append((start, end))
        for person, where in spans.items():
            for (_, e1), (s2, _) in pairwise(where):
                between = [t.text.lower() for t in doc[e1:s2]]
                if not all(w in _BETWEEN_SAME for w in between) or len(between) > 3:
                    return person
        return None

    def _mentions(self, doc: Any) -> list[tuple[int, int, str]]:
        """(start, end, person) of each name, "Speaker N" and "the first speaker" in ``doc``."""
        found = []
        toks = list(doc)
        i = 0
        while i < len(toks):
            tok = toks[i]
            low = tok.text.lower()
            nxt = toks[i + 1] if i + 1 < len(toks) else None
            if low == "speaker" and nxt is not None and nxt.text.isdigit():
                person = self.aliases.get(f"speaker {nxt.text}")
                if person:
                    found.append((i, i + 2, person))
                i += 2
                continue
            if low in _ORDINALS and nxt is not None and nxt.text.lower() in {
                    "speaker", "person", "caller", "participant", "woman", "man", "voice"}:
                person = self.aliases.get(f"speaker {_ORDINALS[low]}")
                if person:
                    found.append((i, i + 2, person))
                i += 2
                continue
            if tok.text[:1].isupper() and low in self.aliases and not _LABEL.match(low):
                end = i + 1
                while end < len(toks) and toks[end].pos_ == "PROPN" and toks[end].text[:1].isupper() \
                        and toks[end].text.lower() not in self.aliases:
                    end += 1  # "Adam Diggard": the surname is part of the mention
                found.append((i, end, self.aliases[low]))
                i = end
                continue
            i += 1
        return found

    def _claims(self, sent: Any, last: str | None) -> list[_Claim]:
        """The clauses of one sentence that involve someone on the call, in order."""
        claims: list[_Claim] = []
        refs = {i: person for s, e, person in self._mentions(sent.doc)
                for i in range(s, e) if sent.start <= i < sent.end}
        actors: dict[int, set[str]] = {}
        eithers: set[int] = set()  # clauses whose actors are alternatives
        reporters: dict[int, str | None] = {}
        for head in _clause_heads(sent):  # in order: a conjunct or complement after its head
            outer = _outer_clause(head)
            said_by = reporters.get(outer.i) if outer is not None else None
            reported = outer is not None and outer.lemma_.lower() in SPEECH and (
                head.dep_ == "ccomp" or head.dep_ == "xcomp" and not _subjects_of(head))
            if reported:
                rep = actors.get(outer.i, set())
                if len(rep) == 1 and next(iter(rep)) in self.persons:
                    said_by = next(iter(rep))
            actor, either = self._clause_actor(head, outer, reported, refs, actors, last, said_by)
            if not _subjects_of(head) and outer is not None and outer.i in eithers \
                    and actor == actors.get(outer.i):
                either = True  # "... that they are ready to begin": "begin" has their actors
            if either:
                eithers.add(head.i)
            actors[head.i] = actor
            reporters[head.i] = said_by
            claim = self._clause(head, actor, refs, last, said_by)
            if claim.actor or claim.objects or said_by:  # else nobody on the call: other checks'
                claim.either = either
                claims.append(claim)
        return claims

    def _clause_actor(self, head: Any, outer: Any | None, reported: bool, refs: dict[int, str],
                      actors: dict[int, set[str]], last: str | None,
                      said_by: str | None) -> tuple[set[str], bool]:
        """Who does what the clause says (and whether one of them will do)."""
        subjects = [t for t in _subjects_of(head) if t.dep_ != "nsubjpass"]
        if _sets_place(head, refs):
            return set(self.persons), False  # where the call is: where each of them is
        if subjects:
            named = {refs[t.i] for t in _own_tokens(head) if t.i in refs and t.dep_ not in _SUBJECT}
            if said_by and any(t.text.lower() in _THIRD_MANY for t in subjects):
                # "Diane mentions that they are from Chicago": others, or Diane herself
                # (a model writes "they" for a person it has no pronoun for)
                return {said_by, OTHERS}, True
            return self._actor(subjects, refs, last, said_by, named), False
        if any(t.dep_ == "nsubjpass" for t in _subjects_of(head)):
            return set(), False  # "Sheila is called a Yankee": she has it done, by anyone
        if reported and head.dep_ == "xcomp" and outer is not None:
            # "Sheila tells Diane to ...": the one told does it (as "you" in her words)
            told = [refs[t.i] for t in outer.children if t.dep_ in {"dobj", "dative"} and t.i in refs]
            return set(told[:1]), False
        if head.dep_ in _INHERITS and outer is not None:
            return actors.get(outer.i, set()), False
        if head.dep_ == "relcl":
            return self._actor([head.head], refs, last, said_by), False
        return set(), False

    def _clause(self, head: Any, actor: set[str], refs: dict[int, str], last: str | None,
                said_by: str | None) -> _Claim:
        """The clause's other persons, content words and places, around its actor."""
        verb = head.lemma_.lower()
        # "introduces himself as the marketing expert" says who he is, not only that he spoke:
        # he must be the subject of the words ("I'm the marketing expert").
        speech = verb in SPEECH and not any(
            t.dep_ == "prep" and t.lower_ == "as" for t in head.children)
        claim = _Claim(verb, actor, set(), set(), said_by, speech)
        homes = verb in {"live", "reside", "base", "stay", "move"} or _now(head) \
            or _sets_place(head, refs)  # its places are where someone is
        for tok in _own_tokens(head):
            low = tok.text.lower()
            if tok.dep_ == "nsubjpass":
                claim.objects |= self._actor([tok], refs, last, said_by) & set(self.persons)
            elif claim.speech and _addressee(tok, head) and (tok.i in refs or low in _THIRD_ONE):
                pass  # whom it is said to: the other one, rarely in the words said
            elif tok.i in refs:
                if tok.dep_ not in _SUBJECT and refs[tok.i] not in actor:
                    claim.objects.add(refs[tok.i])
                    if tok.is_alpha and low not in self.aliases and low not in _STOP:  # a surname
                        claim.stems.add(stem(tok.lemma_))
            elif low in _THIRD_ONE:
                person = said_by or last
                if low not in _REFLEXIVE and tok.dep_ not in _SUBJECT and person and person not in actor:
                    claim.objects.add(person)
            elif _content(tok) and tok.dep_ not in _SUBJECT and low not in _FIRST | _SECOND \
                    and not (tok.i == head.i and _light(verb, said_by)):
                claim.stems.add(stem(tok.lemma_))
            if tok.pos_ == "PROPN" and tok.i not in refs:
                if _origin_place(tok, claimed=True):
                    claim.origins.add(stem(tok.lemma_))
                elif homes:
                    claim.homes.add(stem(tok.lemma_))
        return claim

    def _actor(self, subjects: list[Any], refs: dict[int, str], last: str | None,
               said_by: str | None, avoid: set[str] = frozenset()) -> set[str]:
        """Who the subject words are. ``avoid``: persons the clause names otherwise ("She asks
        Sheila ..." is not Sheila asking herself): between two people, "she" is the other."""
        actor: set[str] = set()
        for tok in subjects:
            group = [tok, *[t for t in tok.subtree if t.dep_ == "conj" and t.head.i == tok.i]]
            for t in group:
                low = t.text.lower()
                if t.i in refs:
                    actor.add(refs[t.i])
                elif low in {"who", "that", "which"} and t.head.dep_ == "relcl":
                    actor |= self._actor([t.head.head], refs, last, said_by)
                elif low in _THIRD_ONE:
                    person = said_by or last
                    if person in avoid and len(self.persons) == 2:
                        person = next(p for p in self.persons if p != person)
                    if person:
                        actor.add(person)
                elif low in _THIRD_MANY or low in {"both", "everyone", "everybody"}:
                    actor.add(OTHERS if said_by else EVERYONE)
                elif low in {"women", "men", "speakers", "people", "participants", "callers"} and any(
                        c.text.lower() in {"both", "two", "the"} for c in t.children):
                    actor.add(EVERYONE)
                elif low == "speaker" and len(self.persons) == 1:
                    actor.add(self.persons[0])
        if EVERYONE in actor:
            return set(self.persons) if len(self.persons) > 1 else actor - {EVERYONE}
        return actor

    def _supported(self, claim: _Claim) -> str | None:
        if claim.actor & set(self.persons) and claim.actor & claim.objects:
            return "one person both does it and has it done"
        if not claim.stems and not claim.objects:
            return None  # "Diane introduces herself", "Speaker 1 is Diane": nothing to place
        people = [a for a in claim.actor if a in self.persons] or [None]
        if claim.actor == {OTHERS}:
            people = [OTHERS]
        if claim.either:
            people = sorted(claim.actor, key=lambda a: a == OTHERS)
            if any(any(self._rests_on(s, claim, p) for s in self.stretches) for p in people):
                return None
            people = people[:1]
        for person in people:
            if not any(self._rests_on(s, claim, person) for s in self.stretches):
                who = person if person not in (None, OTHERS) else "anyone"
                if claim.said_by and claim.said_by != person:
                    return f"{claim.said_by} does not say that {who} does that"
                return f"the transcript does not say that {who} does that"
        return None

    def _rests_on(self, s: _Stretch, claim: _Claim, person: str | None) -> bool:
        if claim.stems and len(claim.stems & s.stems) * 3 < len(claim.stems) * 2:
            return False
        if not claim.stems and not claim.objects:
            return False
        if claim.said_by and s.speaker != claim.said_by:
            return False
        # Where someone comes from is not where they live: "I'm Sheila and Texas originally
        # from Chicago" makes Chicago an origin and Texas not.
        if claim.origins - s.origins or claim.homes - s.homes:
            return False
        # The roles are read in the clauses that hold the claim's words: in "I'm the marketing
        # expert. You're" the expert is the speaker, not the "you" of the next clause.
        holding = [c for c in s.clauses if c.stems & claim.stems] if claim.stems else s.clauses
        if claim.speech and person in self.persons:
            # What someone says or asks for is in a sentence they say.
            if s.speaker != person:
                return False
        elif person is not None:
            verb_known = claim.verb not in LIGHT and any(c.verb == claim.verb for c in holding)
            clauses = [c for c in holding if c.verb == claim.verb] if verb_known else holding
            if not any(person in c.subjects for c in clauses):
                return False
        mentioned = set().union(*(c.mentions for c in holding)) if holding else set()
        return all(o in mentioned for o in claim.objects)


def _content(tok: Any) -> bool:
    """A word that carries what a clause says (not a function word, pronoun or filler)."""
    low = tok.text.lower()
    return (tok.is_alpha and tok.pos_ in _CONTENT_POS and len(low) > 2 and low not in _STOP
            and tok.lemma_.lower() not in {"be", "have", "do"})


def _light(verb: str, said_by: str | None) -> bool:
    """A verb that carries no claim of its own. In reported speech ("Diane asks where she
    lives") even "live" is what was said, so only the emptiest verbs are light there."""
    if said_by:
        return verb in {"be", "have", "do", "get"} or verb in SPEECH
    return verb in LIGHT or verb in SPEECH


def _addressee(tok: Any, head: Any) -> bool:
    if tok.head.i == head.i and tok.dep_ in {"dobj", "dative"}:
        return True
    return tok.dep_ == "pobj" and tok.head.text.lower() == "to" and tok.head.head.i == head.i


_ORIGIN_WORDS = {"originally", "born", "grew", "grow", "raised", "hometown", "native", "come", "came"}


def _sets_place(head: Any, refs: dict[int, str]) -> bool:
    """The clause places the recording itself ("The call takes place in Texas", "The meeting is
    in Rome"): its subject is the event and it names a place."""
    subjects = [t for t in _subjects_of(head) if t.dep_ != "nsubjpass"]
    return bool(subjects) and all(t.lemma_.lower() in _EVENTS for t in subjects) and any(
        t.pos_ == "PROPN" and t.i not in refs for t in _own_tokens(head))


def _origin_place(tok: Any, claimed: bool = False) -> bool:
    """A place said as someone's origin: "from Chicago", "born in Ohio", "grew up in Rome".
    ``claimed``: in a generated sentence, "a speaker from New Jersey" (from a noun) may mean
    where she calls from, so only "is/comes from" and the origin words make it one."""
    t = tok
    while t.dep_ in {"compound", "conj", "appos"} and t.head.i != t.i:
        t = t.head  # "New Jersey": the head word carries the preposition
    prep = t.head if t.dep_ == "pobj" else None
    if prep is None:
        return False
    near_words = {w.text.lower() for w in prep.head.subtree}
    if prep.text.lower() == "from":
        return not (claimed and prep.head.pos_ in {"NOUN", "PROPN"} and not near_words & _ORIGIN_WORDS)
    near = {w.text.lower() for w in prep.head.subtree} | {prep.head.lemma_.lower()}
    return prep.text.lower() in {"in", "at"} and bool(near & _ORIGIN_WORDS)


def _now(head: Any) -> bool:
    return any(t.text.lower() in {"now", "currently", "today"} for t in head.subtree)


def _person_of(p: Passage, names: dict[str, str]) -> str | None:
    if not p.speaker:
        return None
    return names.get(p.speaker) or p.speaker


def _clause_heads(sent: Any) -> list[Any]:
    return [t for t in sent if t.dep_ in _CLAUSE and t.pos_ in {"VERB", "AUX"}
            or t.dep_ == "ROOT"]


def _outer_clause(head: Any) -> Any | None:
    t = head
    while t.dep_ != "ROOT":
        t = t.head
        if t.dep_ in _CLAUSE and t.pos_ in {"VERB", "AUX"} or t.dep_ == "ROOT":
            return t
    return None


def _subjects_of(head: Any) -> list[Any]:
    subjects = [t for t in head.children if t.dep_ in _SUBJECT]
    if not subjects and head.dep_ == "conj" and head.i > 0 and _stolen(head.doc[head.i - 1]):
        subjects = [head.doc[head.i - 1]]
    return subjects


def _stolen(tok: Any) -> bool:
    """A subject the small parser hangs on the clause before: in "Diane is in New Jersey and
    Sheila is in Texas", Sheila as a conjunct of Jersey, the second "is" without a subject."""
    if tok.dep_ != "conj" or tok.pos_ not in {"PROPN", "NOUN", "PRON"} or tok.i + 1 >= len(tok.doc):
        return False
    verb = tok.doc[tok.i + 1]
    return verb.dep_ == "conj" and verb.pos_ in {"VERB", "AUX"} and not any(
        c.dep_ in _SUBJECT for c in verb.children)


def _own_tokens(head: Any) -> list[Any]:
    """The clause's words without those of the clauses inside it."""
    out = []
    stack = [head]
    while stack:
        tok = stack.pop()
        out.append(tok)
        for child in tok.children:
            if child.dep_ in _CLAUSE and child.pos_ in {"VERB", "AUX"} and child is not head:
                continue
            if child.dep_ in {"parataxis", "intj", "punct"} or _stolen(child):
                continue
            stack.append(child)
    return sorted(out, key=lambda t: t.i)
