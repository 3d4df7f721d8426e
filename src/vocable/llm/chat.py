"""Chat over a stored transcript: retrieval over segment embeddings, an answer from the local LLM
using only the retrieved segments, and sessions that keep the conversation.

* Segment embeddings are computed once per transcript and stored (``segment_embeddings``);
  a segment whose text changed is embedded again.
* The top ``chat_top_k`` segments by cosine similarity are the evidence; their neighbours are
  shown to the model too (segments cut sentences in half), but only retrieved segments are cited.
* The model answers under a JSON schema that makes it say first whether the excerpts contain the
  answer and which excerpts it used. "Not found", an answer that cites nothing, or one that names
  things the excerpts do not contain, becomes an explicit "the transcript does not say".
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from pydantic import BaseModel, Field
from sqlalchemy import delete, select

from vocable.llm.attribution import Parse
from vocable.llm.embed import Embedder
from vocable.llm.grounding import SourceIndex, match_sentence, sentences, ungrounded_terms
from vocable.llm.places import place_answer, proved_places, unproved_places
from vocable.llm.runtime import LLMExecutor
from vocable.llm.support import (
    Facts,
    SupportChecker,
    guess_turns,
    introduced_name,
    speaker_label,
    speaker_names,
)
from vocable.llm.textgen.prompts import SYSTEM
from vocable.llm.textgen.source import Passage, Source, clock
from vocable.storage.db import Database
from vocable.storage.models import ChatMessage, ChatSession, SegmentEmbedding, Transcript

DONT_KNOW = "I don't know: the transcript does not say."
HISTORY_MESSAGES = 6  # the last three exchanges are shown to the model
MIN_SCORE = 0.12  # below this, no segment is about the question at all
MAX_QUESTION_CHARS = 2000
WHOLE_TRANSCRIPT_CHARS = 3000  # a transcript up to this long is shown to the model whole
NAMED_BOOST = 0.15  # retrieval bonus for the segments of a person the question names


class ChatNotFound(LookupError):
    """Unknown transcript or session, or one of another account: a 404."""


class ChatInputError(ValueError):
    """A question the endpoint refuses, or a transcript not ready: a 400."""


@dataclass
class Hit:
    segment_order: int
    text: str
    score: float
    start: float | None = None
    speaker: str | None = None


@dataclass
class ChatAnswer:
    answer: str
    sources: list[Hit]
    session_id: str
    answered: bool
    model: str
    retrieved: list[Hit] = field(default_factory=list)


class _Reply(BaseModel):
    # Extraction before judgement: a small model copies the supporting words more reliably than
    # it decides whether an answer exists, and the copy can be checked.
    quote: str = Field(max_length=600, description="exact words of the excerpts that answer")
    found: bool = Field(description="true only if the quote answers the question")
    excerpts: list[int] = Field(max_length=4, description="numbers of the excerpts used")
    answer: str = Field(max_length=800)


# -- embeddings ---------------------------------------------------------------------------------
def segment_vectors(
    db: Database, embedder: Embedder, transcript_id: str, segments: list[dict[str, Any]],
    *, only_if_stored: bool = False,
) -> tuple[list[int], np.ndarray]:
    """Orders and unit vectors of the transcript's non-empty segments, computed once and stored.

    After an edit (text changed, segments merged or split, so orders moved) only the texts not
    embedded before are embedded: stored vectors are reused by their text's hash.
    ``only_if_stored``: do nothing (empty result) for a transcript that has no vectors yet."""
    texts = {i: str(s.get("text") or "").strip() for i, s in enumerate(segments)}
    texts = {i: t for i, t in texts.items() if t}
    hashes = {i: hashlib.sha256(t.encode()).hexdigest() for i, t in texts.items()}
    with db.session() as s:
        stored = {
            row.segment_order: row
            for row in s.scalars(
                select(SegmentEmbedding).where(SegmentEmbedding.transcript_id == transcript_id)
            )
        }
    if only_if_stored and not stored:
        return [], np.zeros((0, 384), np.float32)
    current = all(
        i in stored and stored[i].text_hash == h and stored[i].model == embedder.model_id
        for i, h in hashes.items()
    ) and len(stored) == len(hashes)
    orders = sorted(texts)
    if current:
        matrix = np.stack([np.frombuffer(stored[i].vector, dtype=np.float32) for i in orders])
        return orders, matrix
    by_hash = {
        row.text_hash: np.frombuffer(row.vector, dtype=np.float32)
        for row in stored.values() if row.model == embedder.model_id
    }
    missing = [i for i in orders if hashes[i] not in by_hash]
    fresh = embedder.embed([texts[i] for i in missing]) if missing else None
    for n, i in enumerate(missing):
        by_hash[hashes[i]] = fresh[n]
    matrix = (
        np.stack([by_hash[hashes[i]] for i in orders]).astype(np.float32)
        if orders else np.zeros((0, 384), np.float32)
    )
    with db.session() as s:
        s.execute(delete(SegmentEmbedding).where(SegmentEmbedding.transcript_id == transcript_id))
        s.add_all(
            SegmentEmbedding(
                transcript_id=transcript_id, segment_order=i, model=embedder.model_id,
                text_hash=hashes[i], vector=matrix[n].astype(np.float32).tobytes(),
            )
            for n, i in enumerate(orders)
        )
    return orders, matrix


# -- chat ---------------------------------------------------------------------------------------
class TranscriptChat:
    def __init__(self, db: Database, llm: LLMExecutor, embedder: Embedder, top_k: int = 4,
                 parse: Parse | None = None):
        self.db = db
        self.llm = llm
        self.embedder = embedder
        self.top_k = top_k
        # With the parse, a place question the model cannot answer is answered by the one
        # claim the support check proves (``places.py``).
        self.checker = SupportChecker(parse=parse) if parse is not None else None

    def ask(
        self, account_id: int, transcript_id: str, question: str, session_id: str | None = None,
        client: str = "",
    ) -> ChatAnswer:
        question = question.strip()
        if not question:
            raise ChatInputError("'question' must not be empty.")
        if len(question) > MAX_QUESTION_CHARS:
            raise ChatInputError(f"'question' is too long (at most {MAX_QUESTION_CHARS} characters).")
        self.llm.check_capacity()
        transcript = self._transcript(account_id, transcript_id)
        segments = list(transcript.segments or [])
        session_id, history = self._session(account_id, transcript_id, session_id)

        asked = resolve_follow_up(question, history, segments)
        people = people_of(segments) if _WHO_TAKES_PART.search(asked) else []
        if len(people) >= 2:
            # Who speaks is known from the introductions: said, with them as the sources.
            answer = self._who_takes_part(transcript_id, segments, people, session_id)
            self._record(session_id, question, answer)
            return answer
        hits = self.retrieve(transcript_id, segments, asked, history)
        if not hits or hits[0].score < MIN_SCORE:
            answer = ChatAnswer(DONT_KNOW, [], session_id, False, self.llm.model_id, hits)
        else:
            answer = self._answer(segments, asked, history, hits, session_id, client,
                                  resolved=asked != question)
        self._record(session_id, question, answer)
        return answer

    def retrieve(
        self, transcript_id: str, segments: list[dict[str, Any]], question: str,
        history: list[tuple[str, str]] | None = None,
    ) -> list[Hit]:
        orders, matrix = segment_vectors(self.db, self.embedder, transcript_id, segments)
        if not orders:
            return []
        queries = [question]
        previous = [content for role, content in (history or []) if role == "user"]
        if previous and _is_follow_up(question):
            # "and where does she live now?" leans on the last question
            queries.append(previous[-1] + " " + question)
        q = self.embedder.embed(queries)
        scores = (matrix @ q.T).max(axis=1)
        # A person the question names: their own segments (and those naming them) come first
        # among near-equals ("Where does Sheila live?" is answered by what Sheila says).
        names = _speaker_names(segments)
        asked = {n for n in set(names.values()) if re.search(rf"\b{re.escape(n)}\b", question)}
        if asked:
            for n, o in enumerate(orders):
                seg = segments[o]
                text = str(seg.get("text") or "")
                if names.get(seg.get("speaker") or "") in asked or any(a in text for a in asked):
                    scores[n] += NAMED_BOOST
        # Stable order: best score first, the earlier segment on a tie (float noise rounded off).
        best = sorted(range(len(orders)), key=lambda i: (-round(float(scores[i]), 5), orders[i]))
        return [
            Hit(
                orders[i], str(segments[orders[i]].get("text") or "").strip(), float(scores[i]),
                _float(segments[orders[i]].get("start")), segments[orders[i]].get("speaker"),
            )
            for i in best[: self.top_k]
        ]

    def _who_takes_part(
        self, transcript_id: str, segments: list[dict[str, Any]], people: list[str],
        session_id: str,
    ) -> ChatAnswer:
        sources = [
            Hit(o, str(seg.get("text") or "").strip(), 1.0, _float(seg.get("start")),
                seg.get("speaker"))
            for o, seg in enumerate(segments)
            if any(introduced_name(t) == p for t in sentences(str(seg.get("text") or ""))
                   for p in people)
        ]
        names = ", ".join(people[:-1]) + f" and {people[-1]}"
        return ChatAnswer(f"The people speaking are {names}.", sources, session_id, True,
                          self.llm.model_id, sources)

    def _answer(
        self, segments: list[dict[str, Any]], question: str, history: list[tuple[str, str]],
        hits: list[Hit], session_id: str, client: str, resolved: bool = False,
    ) -> ChatAnswer:
        nonempty = [o for o, seg in enumerate(segments) if str(seg.get("text") or "").strip()]
        if sum(len(str(segments[o].get("text"))) for o in nonempty) <= WHOLE_TRANSCRIPT_CHARS:
            shown = nonempty  # a short transcript is shown whole: nothing it says is missed
        else:
            shown = sorted({
                o for h in hits for o in (h.segment_order - 1, h.segment_order, h.segment_order + 1)
                if 0 <= o < len(segments) and str(segments[o].get("text") or "").strip()
            })
        speakers = {s.get("speaker") for s in segments if s.get("speaker")}
        names = _speaker_names(segments)
        # No speaker labels: who says what as the introductions tell ("This is Diane ...").
        turns = {} if len(speakers) > 1 else _turns(segments)
        lines = []
        for o in shown:
            seg = segments[o]
            who = (f" {speaker_label(seg['speaker'], names)}"
                   if len(speakers) > 1 and seg.get("speaker") else "")
            text = str(seg.get("text")).strip()
            if turns:
                text = _with_turns(text, turns)
            lines.append(f"({o}) [{clock(_float(seg.get('start')) or 0)}{who}] {text}")
        excerpts = "\n".join(lines)
        # Earlier questions only, and only for a follow-up: shown earlier answers, a small model
        # repeats them instead of answering the new question.
        earlier = [content for role, content in history[-HISTORY_MESSAGES:] if role == "user"]
        conversation = "".join(f"- {q}\n" for q in earlier) if _is_follow_up(question) else ""
        if resolved:  # the question was made self-contained: earlier ones only distract
            conversation = ""
        task = (
            "Answer the QUESTION from the EXCERPTS only. First copy into quote the exact words of "
            "the excerpts that answer the question. If no excerpt answers it, the quote is empty "
            "and found is false: never guess and never answer with something related instead. "
            "In excerpts, list the numbers in parentheses of the excerpts quoted. The answer is "
            "one or two plain sentences that name people by name, never as he or she.\n"
            "Example: excerpt \"(4) [01:10] I moved to Paris in May.\" and question \"When did "
            "she move?\" give {\"quote\": \"I moved to Paris in May.\", \"found\": true, "
            "\"excerpts\": [4], \"answer\": \"She moved in May.\"}. The same excerpt and the "
            "question \"What is her address?\" give {\"quote\": \"\", \"found\": false, "
            "\"excerpts\": [], \"answer\": \"\"}."
        )
        prompt = (
            (f"EARLIER QUESTIONS (context only):\n{conversation}\n" if conversation else "")
            + f'EXCERPTS:\n"""\n{excerpts}\n"""\n\n'
            + f"QUESTION: {question}\n\nTASK: {task}"
        )
        # Greedy decoding over a prompt computed afresh: the same question on the same
        # transcript gives the same answer whatever ran before. No repetition penalty: the answer
        # restates the quoted words, and penalizing them turned "originally from Chicago" into
        # "originally from Texas" (the other place just quoted).
        reply = self.llm.complete_json(
            [{"role": "system", "content": SYSTEM}, {"role": "user", "content": prompt}],
            _Reply, max_tokens=220, client=client, temperature=0.0, cache_prompt=False,
            repeat_penalty=1.0,
        )
        source = Source.from_segments([seg for seg in segments if str(seg.get("text") or "").strip()])
        facts = Facts.of(source)
        asked = [p for p in facts.persons if re.search(rf"\b{re.escape(p)}\b", question)]
        first = _name_the_person(_EXCERPT_LABEL.sub("", reply.answer).strip(), question, [],
                                 names, segments)
        wrong_first = facts.misattributed(first, question) if len(asked) == 1 else []
        if wrong_first:
            # The answer ties a place to the wrong person: ask once more over what that person
            # says (and what is said of them) only, saying which places are someone else's
            # (without it the small model answers with the next place it sees, e.g. an origin).
            person = asked[0]
            own = "\n".join(f"({n}) {t}" for n, t in enumerate(facts.persons[person]))
            places = [w for w in wrong_first if w not in facts.persons]
            note = (f"NOTE: the transcript does not tie {' or '.join(places)} to {person}.\n\n"
                    if places else "")
            retry = (f'WHAT {person.upper()} SAYS OR IS SAID OF {person.upper()}:\n"""\n'
                     f'{own}\n"""\n\n{note}QUESTION: {question}\n\nTASK: {task}')
            reply = self.llm.complete_json(
                [{"role": "system", "content": SYSTEM}, {"role": "user", "content": retry}],
                _Reply, max_tokens=220, client=client, temperature=0.0, cache_prompt=False,
                repeat_penalty=1.0,
            )
            reply.excerpts = [h.segment_order for h in hits
                              if _quoted(reply.quote, [h.text])] or reply.excerpts
        cited = _supporting(hits, reply.excerpts, reply.quote, reply.answer)
        # The model may copy an excerpt's "(n) [mm:ss]" label along with its words.
        answer = _EXCERPT_LABEL.sub("", reply.answer).strip()
        answer = _name_the_person(answer, question, cited, names, segments)
        answer = _as_quoted(answer, reply.quote, facts.entities)
        if len(asked) == 1:
            answer = _only_about(answer, asked[0], list(facts.persons))
        reply.quote = _EXCERPT_LABEL.sub("", reply.quote).strip()
        if answer and _restates(question, answer):
            # "Where on the desktop should the file go?" → "The file should go on the desktop."
            # says nothing the question did not: the quoted words are the answer, if they add
            # something, else there is none.
            answer = (_sentence_case(reply.quote)
                      if reply.quote and not _restates(question, reply.quote) else "")
        evidence = SourceIndex.of(excerpts + "\n" + question)
        grounded = bool(answer) and not ungrounded_terms(answer, evidence)
        quoted = _quoted(reply.quote, [h.text for h in hits] + [
            str(segments[o].get("text") or "") for o in shown
        ])
        # "Sheila lives in New Jersey" when only Diane says so: no answer rather than a wrong one;
        # a bare list of places loses the ones the transcript does not tie to whom it is about
        # ("Which city are both from?" → "Chicago and New Jersey" → "Chicago").
        wrong = facts.misattributed(answer, question) if answer else []
        proved = (proved_places(source, facts, asked[0], question, self.checker)
                  if self.checker is not None and len(asked) == 1 else None)
        if not wrong and answer and proved is not None:
            wrong = unproved_places(facts, answer, proved)
        if wrong:
            answer = _without(answer, wrong, facts.entities)
            wrong = facts.misattributed(answer, question) if answer else wrong
        mixed = bool(wrong)
        if (
            mixed
            or not reply.found
            or not cited
            or not quoted
            or not grounded
            or _says_unknown(answer)
            or not _answers_kind(question, answer + " " + reply.quote)
            or _asked_back(question, reply.quote)
        ):
            placed = self._place_answer(segments, facts, asked, proved)
            if placed:
                return ChatAnswer(*placed, session_id, True, self.llm.model_id, hits)
            return ChatAnswer(DONT_KNOW, [], session_id, False, self.llm.model_id, hits)
        return ChatAnswer(answer, cited, session_id, True, self.llm.model_id, hits)

    def _place_answer(
        self, segments: list[dict[str, Any]], facts: Facts, asked: list[str],
        proved: dict[str, str] | None,
    ) -> tuple[str, list[Hit]] | None:
        """(answer, the segment it rests on) for "where does X live / come from?" about one
        person, when the support check proves exactly one place (see ``places.py``)."""
        found = place_answer(facts, asked[0], proved) if proved is not None else None
        if found is None:
            return None
        answer, quote = found
        cited = next((
            Hit(o, str(seg.get("text") or "").strip(), 1.0, _float(seg.get("start")),
                seg.get("speaker"))
            for o, seg in enumerate(segments) if quote in str(seg.get("text") or "")
        ), None)
        return (answer, [cited]) if cited else None

    # -- storage ---------------------------------------------------------------------------------
    def _transcript(self, account_id: int, transcript_id: str) -> Transcript:
        with self.db.session() as s:
            transcript = s.get(Transcript, transcript_id)
            if transcript is None or transcript.account_id != account_id:
                raise ChatNotFound("No such transcript.")
            if transcript.status != "completed":
                raise ChatInputError(
                    f"The transcript is {transcript.status}; chat needs a completed transcript."
                )
            return transcript

    def _session(
        self, account_id: int, transcript_id: str, session_id: str | None
    ) -> tuple[str, list[tuple[str, str]]]:
        with self.db.session() as s:
            if session_id:
                session = s.get(ChatSession, session_id)
                if (
                    session is None
                    or session.account_id != account_id
                    or session.transcript_id != transcript_id
                ):
                    raise ChatNotFound("Chat session not found.")
                rows = s.scalars(
                    select(ChatMessage).where(ChatMessage.session_id == session_id)
                    .order_by(ChatMessage.id.desc()).limit(HISTORY_MESSAGES)
                ).all()
                return session_id, [(m.role, m.content) for m in reversed(rows)]
            session = ChatSession(transcript_id=transcript_id, account_id=account_id)
            s.add(session)
            s.flush()
            return session.id, []

    def _record(self, session_id: str, question: str, answer: ChatAnswer) -> None:
        with self.db.session() as s:
            s.add(ChatMessage(session_id=session_id, role="user", content=question, sources=[]))
            s.add(ChatMessage(
                session_id=session_id, role="assistant", content=answer.answer,
                sources=[source_dict(h) for h in answer.sources],
            ))
            session = s.get(ChatSession, session_id)
            if session is not None:
                session.updated_at = datetime.now(UTC)


def source_dict(hit: Hit) -> dict[str, Any]:
    return {"segment_order": hit.segment_order, "text": hit.text, "score": round(hit.score, 4),
            "start": hit.start, "speaker": hit.speaker}


_EXCERPT_LABEL = re.compile(r"\(\d+\)\s*(\[[^\]]*\]\s*)?")
_FOLLOW_UP = re.compile(
    r"^\s*(and|but|also|what about|how about)\b|\b(he|she|they|him|her|them|his|hers|their|it|"
    r"its|that|this|there|those|these)\b", re.IGNORECASE,
)
_STOP = {
    "the", "a", "an", "is", "are", "was", "were", "be", "to", "of", "in", "on", "at", "and", "or",
    "for", "from", "with", "that", "this", "it", "he", "she", "they", "i", "you", "we", "his",
    "her", "their", "as", "by", "not", "no", "so", "do", "does", "did", "has", "have", "had",
}


_WHO_TAKES_PART = re.compile(
    r"\bwho (?:are|were|is|was) (?:the )?(?:people|persons|speakers|participants|callers)\b"
    r"|\bwho (?:is|was|are|were) (?:on|in) the (?:call|meeting|conversation|recording)\b"
    r"|\bwho (?:speaks|talks|spoke|talked|took part|takes part|is talking|is speaking)\b",
    re.IGNORECASE,
)
_PERSONAL = re.compile(r"\b(she|he|her|him|his|hers|herself|himself)\b", re.IGNORECASE)
# After "her", these words mean "her" is the object ("call her a Yankee", "ask her now").
_AFTER_OBJECT = {"a", "an", "the", "now", "then", "there", "here", "in", "on", "at", "to", "from",
                 "about", "for", "with", "by", "that", "this", "so", "again", "too", "also",
                 "and", "or", "if", "when", "before", "after"}


def _speaker_names(segments: list[dict[str, Any]]) -> dict[str, str]:
    return speaker_names([
        Passage(str(s.get("text") or ""), None, s.get("speaker") or None) for s in segments
    ])


def people_of(segments: list[dict[str, Any]]) -> list[str]:
    """The people the transcript names as speakers (introductions, labelled or not)."""
    usable = [s for s in segments if str(s.get("text") or "").strip()]
    if not usable:
        return []
    return list(Facts.of(Source.from_segments(usable)).persons)


def resolve_follow_up(
    question: str, history: list[tuple[str, str]], segments: list[dict[str, Any]]
) -> str:
    """The question with "she"/"he"/"her"/"his" replaced by the person the conversation was
    last about (named in the last question, else in the last answer): "And where does she live
    now?" after a question on Sheila is "And where does Sheila live now?"."""
    if not history or not _PERSONAL.search(question):
        return question
    people = people_of(segments)
    transcript = " ".join(str(s.get("text") or "") for s in segments)
    person = None
    for _role, content in reversed(history):
        named = [(m.start(), p) for p in people
                 for m in [re.search(rf"\b{re.escape(p)}\b", content)] if m]
        if not named:  # a name the transcript has, though its bearer does not introduce it
            places = set(re.findall(r"\b(?:in|from|to|at|near)\s+([A-Z][a-z]+)", transcript + " " + content))
            named = [(m.start(), m.group(0)) for m in re.finditer(r"(?<!^)\b[A-Z][a-z]{2,}\b", content)
                     if m.group(0) in transcript and m.group(0) not in places
                     and m.group(0) not in {"The", "What", "Where", "Who", "When", "How", "Why"}]
        if named:
            person = min(named)[1]
            break
    if person is None:
        return question

    def replace(match: re.Match[str]) -> str:
        word = match.group(0).lower()
        if word in ("she", "he", "him", "herself", "himself"):
            return person
        if word in ("his", "hers"):
            return f"{person}'s"
        rest = question[match.end():]
        following = re.match(r"\s*([A-Za-z']+)", rest)
        if not following or following.group(1).lower() in _AFTER_OBJECT:
            return person
        return f"{person}'s"

    return _PERSONAL.sub(replace, question)


def _turns(segments: list[dict[str, Any]]) -> dict[str, str]:
    said = sentences(" ".join(str(s.get("text") or "").strip() for s in segments))
    turns = guess_turns(said)
    if len({t for t in turns if t}) < 2:
        return {}
    return {sentence: who for sentence, who in zip(said, turns, strict=True) if who}


def _with_turns(text: str, turns: dict[str, str]) -> str:
    """The segment's sentences with "Name:" where the (guessed) speaker changes."""
    out, last = [], None
    for sentence in sentences(text):
        who = turns.get(sentence)
        if who and who != last:
            out.append(f"{who}: {sentence}")
            last = who
        else:
            out.append(sentence)
    return " ".join(out)


def _name_the_person(
    answer: str, question: str, cited: list[Hit], names: dict[str, str],
    segments: list[dict[str, Any]],
) -> str:
    """"She lives in Texas." names the person: the one the question asks about, else the
    speaker of the segment it rests on ("Who lives in Texas?" → "Sheila lives in Texas.")."""
    lead = re.match(r"^(She|He)\b", answer)
    if not lead:
        return answer
    asked = [p for p in people_of(segments) if re.search(rf"\b{re.escape(p)}\b", question)]
    name = asked[0] if len(asked) == 1 else None
    if name is None and cited:
        name = names.get(cited[0].speaker or "") or introduced_name(cited[0].text)
    return name + answer[lead.end():] if name else answer


def _as_quoted(answer: str, quote: str, entities: list[str]) -> str:
    """The answer with the place or name its own quote gives: where the answer says "originally
    from Texas" and the quote "originally from Chicago", the small model restated the quoted
    phrase with the wrong name (one it read nearby), so the quote's name is put back."""
    if not quote or not entities:
        return answer
    pattern = "|".join(re.escape(e) for e in sorted(entities, key=len, reverse=True))
    lead = r"([A-Za-z']+)\s+([A-Za-z']+)\s+"  # the two words before a name
    quoted: dict[tuple[str, str], list[str]] = {}
    for a, b, name in re.findall(rf"{lead}({pattern})\b", quote):
        quoted.setdefault((a.lower(), b.lower()), []).append(name)
    for a, b, name in re.findall(rf"{lead}({pattern})\b", answer):
        said = quoted.get((a.lower(), b.lower()), [])
        if said and name not in said:
            answer = re.sub(rf"\b{re.escape(a)}\s+{re.escape(b)}\s+{re.escape(name)}\b",
                            f"{a} {b} {said[0]}", answer, count=1)
    return answer


def _only_about(answer: str, person: str, persons: list[str]) -> str:
    """The answer about the one person asked, without clauses about someone else ("Sheila is
    originally from Chicago and Diane is originally from Chicago." asked of Diane): the small
    model pads answers with what it read of the other speakers."""
    if len(persons) < 2 or not re.search(rf"\b{re.escape(person)}\b", answer):
        return answer
    names = "|".join(re.escape(p) for p in sorted(persons, key=len, reverse=True))
    parts = re.split(rf"(?:[,;]\s*|\s+)(?:and|but|while|whereas)\s+(?=(?:{names})\b)"
                     rf"|[.;]\s+(?=(?:{names})\b)", answer)
    if len(parts) < 2 or any(len(p.split()) < 3 for p in parts):
        return answer  # one clause ("Diane and Sheila are from Chicago.")
    mine = [p for p in parts if re.match(rf"\s*{re.escape(person)}\b", p)]
    if not mine:
        return answer
    return " ".join(_sentence_case(p.strip().rstrip(" ,;.")) for p in mine)


def _without(answer: str, wrong: list[str], entities: list[str]) -> str:
    """A bare list of names ("Chicago and New Jersey.") without the wrong ones; "" for any other
    answer (a sentence is not edited: it goes whole)."""
    pattern = "|".join(re.escape(e) for e in sorted(entities, key=len, reverse=True))
    names = re.findall(rf"\b(?:{pattern})\b", answer) if pattern else []
    rest = re.sub(rf"\b(?:{pattern})\b", " ", answer) if pattern else answer
    if not names or re.sub(r"\b(?:and|or|both|the)\b|[\s,.;&]", "", rest, flags=re.IGNORECASE):
        return ""
    kept = [n for n in dict.fromkeys(names) if n not in wrong]
    return " and ".join(kept) + "." if kept else ""


_WH = re.compile(r"^\s*(?:and\s+|but\s+|so\s+)?(what|where|which|who|whom|whose|when|why|how)\b",
                 re.IGNORECASE)
_ABOUT_ASKING = re.compile(r"\b(ask|asks|asked|asking|question|questions|request|requests|"
                           r"requested|wants? to know|wonder|wonders|wondered)\b", re.IGNORECASE)


def _stems(text: str) -> set[str]:
    return {w[:-1] if len(w) > 3 and w.endswith("s") else w for w in _content_words(text)}


def _restates(question: str, answer: str) -> bool:
    """The answer to a wh-question only repeats the question's words (a yes/no question is
    answered by repeating it)."""
    if not _WH.match(question):
        return False
    said = _stems(answer)
    return bool(said) and said <= _stems(question)


def _asked_back(question: str, quote: str) -> bool:
    """The quoted words only ask a question ("What's the username and password?"): they say
    what someone asked for, which answers a question about asking, not one about the thing."""
    said = [s for s in sentences(quote) if s.strip()]
    return bool(said) and all(s.rstrip().endswith("?") for s in said) \
        and not _ABOUT_ASKING.search(question)


def _sentence_case(text: str) -> str:
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _is_follow_up(question: str) -> bool:
    return bool(_FOLLOW_UP.search(question))


def _content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9']+", text.lower()) if w not in _STOP and len(w) > 1}


def _supporting(hits: list[Hit], cited: list[int], quote: str, answer: str) -> list[Hit]:
    """The retrieved segments the answer rests on: those the model cited, those holding the
    quote, and those that contain most of the answer's words; best retrieval score first."""
    answer_words = _content_words(answer)
    chosen = []
    for hit in hits:
        words = _content_words(hit.text)
        holds_quote = bool(quote.strip()) and match_sentence(quote, sentences(hit.text))[1] >= 0.7
        covers = bool(answer_words) and len(answer_words & words) / len(answer_words) >= 0.6
        if hit.segment_order in cited or holds_quote or covers:
            chosen.append(hit)
    return sorted(chosen, key=lambda h: -h.score)


def _quoted(quote: str, texts: list[str]) -> bool:
    """The quote is (nearly) words of the excerpts, not the model's own."""
    if not quote.strip():
        return False
    _, contained = match_sentence(quote, sentences(" ".join(texts)))
    return contained >= 0.7 or quote.strip().lower() in " ".join(texts).lower()


_NUMERIC_QUESTION = re.compile(
    r"\b(how (many|much|old|long|far|often)|phone|number|age|price|cost|percent|what year)\b", re.IGNORECASE
)
_WHEN_QUESTION = re.compile(r"^\s*when\b|\bwhat (date|day|time)\b", re.IGNORECASE)
_NUMBER_WORDS = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|"
    r"fifty|hundred|thousand|million|dozen|half|once|twice)\b", re.IGNORECASE,
)
_TIME_WORDS = re.compile(
    r"\d|\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday|january|february|march|"
    r"april|may|june|july|august|september|october|november|december|today|tomorrow|yesterday|"
    r"morning|afternoon|evening|night|week|month|year|noon|midnight|later|soon|now|then|before|"
    r"after)\b", re.IGNORECASE,
)


def _answers_kind(question: str, answer: str) -> bool:
    """A question asking for a number (or a time) is not answered by text without one."""
    if _NUMERIC_QUESTION.search(question) and not _NUMBER_WORDS.search(answer):
        return False
    return not (_WHEN_QUESTION.search(question) and not _TIME_WORDS.search(answer))


def _says_unknown(answer: str) -> bool:
    lowered = answer.lower()
    return any(p in lowered for p in (
        "does not say", "doesn't say", "not mentioned", "does not mention", "doesn't mention",
        "no information", "not stated", "not specified", "don't know", "do not know", "unknown",
        "cannot be determined", "not provided",
    ))


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
