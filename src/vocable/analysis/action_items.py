"""action_items: who will do what, by when — found by rules, judged and phrased by the LLM, grounded.

1. Rules pick candidate sentences: commitments ("I'll ...", "we need to ..."), requests ("please
   ...", "can you ...", "Carol, book ..."), and explicit markers ("action item", "follow up").
   No candidate, no LLM call: small talk has no action items.
2. The LLM reads the numbered sentences around the candidates and answers, constrained by a JSON
   schema, with one verdict per candidate: is it a task, the task in short, owner and due date.
   Its "not a task" decides for weak candidates (bare imperatives, markers); explicit
   commitments and requests stay items (the bundled 1.5B model dropped some).
3. Grounding, because a small model invents: only candidates can become items; the task
   must be made of that sentence's words (else the sentence itself is the task); the owner follows
   from the sentence's form ("I will" → the speaker; a request → the person named in it or the one
   who accepts it), the model's owner only counts when it is a name the text knows; the due date
   must be worded so in the sentence or its reply. A request and its acceptance are one item.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import BaseModel, ValidationError

from vocable.analysis.document import Parsed, Unit
from vocable.llm.runtime import LLMOutputError

WINDOW = 2  # context sentences shown around each candidate
MAX_CANDIDATES_PER_CALL = 24

_COMMIT = re.compile(
    r"\b(i|we)\s*(?:'ll|’ll|will|shall|am going to|'m going to|’m going to|are going to|"
    r"'re going to|’re going to|need to|have to|must|should|'d better)\s+\w+|\blet me\s+\w+|\blet's\s+\w+",
    re.IGNORECASE,
)
_REQUEST = re.compile(
    r"\b(please|can you|could you|would you|will you|make sure|don't forget|do not forget|"
    r"remember to|be sure to|you need to|you should|you have to|you'll need to)\b",
    re.IGNORECASE,
)
_MARKER = re.compile(r"\b(action items?|to-?do|follow[- ]up|deadline|due (?:by|on|date))\b", re.IGNORECASE)
_DUE_PREP = re.compile(r"\b(by|before|until|no later than|on|due)\s+$", re.IGNORECASE)
_FIRST_PERSON = {"i", "me", "myself", "i'll", "speaker"}
_SELF_COMMIT = re.compile(
    r"^\W*(?:(?:yes|yeah|sure|ok|okay|so|and|then|well)\W+)*(?:i|i'll|i’ll|i'm|i’m|let me)\b",
    re.IGNORECASE,
)
_THIRD_PERSON = re.compile(
    r"\b([A-Z][a-z]+)\s+(?:will|'ll|is going to|needs to|has to|should|must|is responsible for)\b"
)
_AGREE = re.compile(r"^\W*(yes|yeah|sure|ok|okay|will do|of course|no problem|absolutely)\b", re.IGNORECASE)


@dataclass
class ActionItem:
    task: str
    owner: str | None  # a speaker or a person named in the text; None when nobody is named
    due: str | None  # the deadline as worded in the text ("by Wednesday", "tonight")
    quote: str  # the sentence that states it, verbatim
    start: int  # character offsets of the quote in the analysed text
    end: int
    speaker: str | None = None  # who said it (transcripts, speaker turns)
    segment: int | None = None


@dataclass
class ActionItemsResult:
    action_items: list[ActionItem]
    model: str | None = None  # the LLM that judged the candidates (None: no candidates)


class _LLMItem(BaseModel):
    is_task: bool
    task: str
    owner: str | None
    due: str | None


class _LLMAnswer(BaseModel):
    candidates: list[_LLMItem]


def _schema(count: int) -> dict:
    """One verdict per candidate, in the candidates' order: the model must judge each candidate
    and cannot point anywhere else (and spends no tokens naming sentences)."""
    def verdict() -> dict:
        return {
            "type": "object",
            "properties": {
                "is_task": {"type": "boolean"},
                "task": {"type": "string", "maxLength": 120},
                "owner": {"type": ["string", "null"], "maxLength": 60},
                "due": {"type": ["string", "null"], "maxLength": 60},
            },
            "required": ["is_task", "task", "owner", "due"],
            "additionalProperties": False,
        }

    return {
        "type": "object",
        "properties": {"candidates": {
            "type": "array", "prefixItems": [verdict() for _ in range(count)],
            "minItems": count, "maxItems": count,
        }},
        "required": ["candidates"],
        "additionalProperties": False,
    }


SYSTEM = (
    "You find action items in conversations: concrete tasks that someone agreed to do or was "
    "asked to do. Use only what the sentences say; never invent tasks, names or dates."
)


def _is_candidate(unit: Unit, names: dict[str, str]) -> bool:
    text = unit.text
    if _COMMIT.search(text) or _REQUEST.search(text) or _MARKER.search(text):
        return True
    third = _THIRD_PERSON.search(text)  # "Dana will ...", for people the text names
    return bool(third and third.group(1).lower() in names)


def _imperative(parsed: Parsed, unit: Unit) -> bool:
    """'Book the venue.' / 'Carol, book the venue by Wednesday.'"""
    span = parsed.spacy_doc.char_span(unit.start_char, unit.end_char, alignment_mode="expand")
    if span is None or unit.text.rstrip().endswith("?"):
        return False
    tokens = [t for t in span if not t.is_punct]
    # Skip a leading vocative ("Carol, ...") or discourse word ("So, ...", "Okay ...").
    while tokens and (tokens[0].pos_ in ("PROPN", "INTJ") or tokens[0].lower_ in ("so", "and", "also", "then", "okay", "ok")):
        tokens.pop(0)
    return bool(tokens) and tokens[0].tag_ == "VB" and tokens[0].lower_ not in ("be", "thank", "let")


def _content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9']+", text.lower()) if len(w) > 2 and w not in _STOP}


_STOP = {
    "the", "and", "for", "you", "your", "will", "can", "could", "would", "please", "that", "this",
    "with", "from", "have", "has", "are", "was", "were", "our", "their", "them", "they", "then",
    "just", "also", "okay", "yes", "sure", "need", "going", "let", "make",
}


def _due_in(parsed: Parsed, units: list[Unit]) -> str | None:
    """The first date/time a sentence states, with its 'by'/'before' when there is one."""
    for unit in units:
        for ent in parsed.spacy_doc.ents:
            if ent.label_ in ("DATE", "TIME") and unit.start_char <= ent.start_char < unit.end_char:
                before = parsed.doc.text[unit.start_char:ent.start_char]
                prep = _DUE_PREP.search(before)
                if prep:
                    return parsed.doc.text[unit.start_char + prep.start(): ent.end_char]
                return ent.text
    return None


def _names(parsed: Parsed) -> dict[str, str]:
    """Lower-cased name → name, for everyone the text knows: speakers and PERSON entities."""
    names = {s.lower(): s for s in parsed.doc.speakers}
    for ent in parsed.spacy_doc.ents:
        if ent.label_ == "PERSON":
            names.setdefault(ent.text.lower(), ent.text)
            first = ent.text.split()[0]
            names.setdefault(first.lower(), first)
    return names


_NOT_TASKS = re.compile(
    r"\b(i'll|i will|let me)\s+(be honest|tell you|say|admit|think|see|guess|bet)\b", re.IGNORECASE
)


def _strong(unit: Unit, names: dict[str, str]) -> bool:
    """A commitment or request in so many words ("I will send ...", "please book ...", "Dana will
    ...") rather than a bare imperative or marker, and not a figure of speech."""
    text = unit.text
    if _NOT_TASKS.search(text):
        return False
    third = _THIRD_PERSON.search(text)
    return bool(_COMMIT.search(text) or _REQUEST.search(text)
                or (third and third.group(1).lower() in names))


def find_candidates(parsed: Parsed) -> list[int]:
    names = _names(parsed)
    return [i for i, u in enumerate(parsed.units) if _is_candidate(u, names) or _imperative(parsed, u)]


def _reply(parsed: Parsed, i: int) -> Unit | None:
    """The next sentence by someone else (speaker-labelled text only)."""
    units = parsed.units
    if not parsed.doc.has_speakers:
        return None
    for unit in units[i + 1: i + 4]:
        if unit.speaker != units[i].speaker:
            return unit
    return None


def _prompt(parsed: Parsed, candidates: list[int]) -> str:
    units = parsed.units
    shown = sorted({j for i in candidates for j in range(max(0, i - WINDOW), min(len(units), i + WINDOW + 1))})
    lines = []
    for j in shown:
        who = f"{units[j].speaker}: " if units[j].speaker else ""
        lines.append(f"[{j + 1}] {who}{units[j].text}")
    numbers = ", ".join(str(i + 1) for i in candidates)
    return (
        "Sentences:\n" + "\n".join(lines) + "\n\n"
        f"Candidate sentences: {numbers}.\n"
        "For each candidate, in that order, give:\n"
        "- is_task: true if it states a concrete task someone will do or is asked to do\n"
        "- task: the task as a short imperative phrase using the sentence's words\n"
        "- owner: the name of the person who will do it (the speaker when they say \"I will\"; "
        "the person asked when it is a request), or null\n"
        "- due: the deadline exactly as worded (e.g. \"tonight\", \"by Friday\"), or null"
    )


def _owner(parsed: Parsed, unit: Unit, reply: Unit | None, said: str | None,
           names: dict[str, str]) -> str | None:
    """Who does it, from the sentence's form first, the model's answer only when it is a name the
    text knows: "I will ..." is the speaker; a request is for the person named in it, else the one
    who accepts it; "Dana will ..." is Dana."""
    text = unit.text
    said_name = names.get((said or "").strip().lower())
    if (said or "").strip().lower() in _FIRST_PERSON:
        said_name = unit.speaker
    if _SELF_COMMIT.match(text):
        return unit.speaker or said_name
    named = [names[w.lower()] for w in re.findall(r"[A-Za-z][\w'-]*", text)
             if w.lower() in names and names[w.lower()] != unit.speaker]
    third = _THIRD_PERSON.search(text)
    if third and third.group(1).lower() in names:
        return names[third.group(1).lower()]
    if named:
        return named[0]
    if reply is not None and reply.speaker and (_COMMIT.search(reply.text) or _AGREE.match(reply.text)):
        return reply.speaker  # "Can you ...?" — "Yes, I will ..."
    if said_name and said_name != unit.speaker:
        return said_name
    return None


def _ground(parsed: Parsed, i: int, item: _LLMItem, names: dict[str, str]) -> ActionItem:
    units = parsed.units
    unit = units[i]
    reply = _reply(parsed, i)
    scope = [unit] + ([reply] if reply else [])
    scope_text = " ".join(u.text for u in scope).lower()

    task = " ".join(item.task.split()).strip(" .")
    task = task[:1].upper() + task[1:]
    words = _content_words(task)
    if not words or len(words & _content_words(scope_text)) < max(1, (len(words) + 1) // 2):
        task = unit.text  # the model's wording strayed from the text: quote it instead

    owner = _owner(parsed, unit, reply, item.owner, names)

    due = (item.due or "").strip().strip(".")
    if not due or due.lower() not in scope_text:
        due = _due_in(parsed, scope)
    return ActionItem(task, owner, due or None, unit.text, unit.start_char, unit.end_char,
                      unit.speaker, unit.segment)


def _accepts_request(parsed: Parsed, i: int, chosen: set[int]) -> bool:
    """Sentence i merely accepts an earlier listed request ("Yes, I will send them tonight")."""
    units = parsed.units
    for j in range(max(0, i - 3), i):
        if j in chosen and _reply(parsed, j) is units[i]:
            return True
    return False


def analyze_action_items(toolkit, parsed: Parsed, llm, client: str = "") -> ActionItemsResult:
    candidates = find_candidates(parsed)
    if not candidates:
        return ActionItemsResult([], None)
    names = _names(parsed)
    picked: dict[int, _LLMItem] = {}
    for k in range(0, len(candidates), MAX_CANDIDATES_PER_CALL):
        batch = candidates[k: k + MAX_CANDIDATES_PER_CALL]
        raw = llm.complete(
            [{"role": "system", "content": SYSTEM}, {"role": "user", "content": _prompt(parsed, batch)}],
            max_tokens=30 + 60 * len(batch), json_schema=_schema(len(batch)),
            temperature=0.0, client=client,
        )
        try:
            answer = _LLMAnswer.model_validate_json(raw)
        except ValidationError as exc:
            raise LLMOutputError(f"The model's action items did not validate: {exc}") from exc
        for i, item in zip(batch, answer.candidates):
            # The small model was seen to call clear commitments ("I'll email the press release
            # on Monday") no task: its "no" only counts for candidates the weak rules found.
            if item.is_task or _strong(parsed.units[i], names):
                picked[i] = item
    chosen = set(picked)
    items = [
        _ground(parsed, i, picked[i], names)
        for i in sorted(picked) if not _accepts_request(parsed, i, chosen)
    ]
    return ActionItemsResult(items, llm.model_id)
