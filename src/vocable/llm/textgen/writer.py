"""Summaries and generated content from transcripts, on the local LLM: ``Writer``.

``summarize(...)`` (styles brief, detailed, bullet_points, action_items) and ``generate(...)``
(blog_post ... chapter_markers) take a ``Source``: plain text, or a stored transcript's segments
(which adds [mm:ss] times, speakers and, for chapter markers, timestamps in the result).

How it stays within the model and the machine:

* Input that fits one call (``llm_chunk_tokens``) is read in one pass. Longer input is map-reduced:
  each chunk is turned into notes (map), the task runs over the notes (reduce; notes that are still
  too long are reduced again). Past ``llm_read_budget_tokens`` the input is first condensed
  extractively (the sentences most central to their stretch of the transcript, chosen with
  embeddings, in their original order), so a one-hour transcript costs a bounded number of calls.
* The prompt puts the transcript first and the task last: the same transcript with another task
  reuses the model's cached prompt, and a small coder model follows an instruction it read last.
* Grounding: names and numbers the output states that the source does not are sent back once for
  a rewrite and, if they persist, cut out (``grounding.py``); quotes are replaced by the exact
  source sentence they come from, or dropped.
* Structured types are generated under their JSON schema and validated (pydantic).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydantic import BaseModel

from vocable.config import Settings
from vocable.llm.embed import Embedder
from vocable.llm.grounding import (
    SourceIndex,
    drop_ungrounded,
    key_names,
    match_sentence,
    sentences,
    ungrounded_terms,
)
from vocable.llm.runtime import LLMExecutor, LLMOutputError, Message
from vocable.llm.textgen.output import (
    clean,
    drop_sentences,
    echoes,
    fill_placeholders,
    refuses,
    says_nothing,
    stated,
    tidy,
    trim_cut,
)
from vocable.llm.textgen.prompts import (
    ECHO_RETRY,
    GENERATE_TASKS,
    MAP_MAX_TOKENS,
    MAP_TASK,
    MAX_TOKENS,
    NAMED_KINDS,
    REFUSAL_RETRY,
    STYLE_TASKS,
    SYSTEM,
    TIMED_CHAPTERS,
    UNSUPPORTED_RETRY,
    WRITER_SYSTEM,
)
from vocable.llm.textgen.renderers import (
    render_action_items,
    render_chapters,
    render_flashcards,
    render_quiz,
    render_quotes,
)
from vocable.llm.textgen.schemas import (
    GENERATE_TYPES,
    STRUCTURED_TYPES,
    SUMMARY_STYLES,
    ActionItems,
    Chapter,
    ChapterMarkers,
    Flashcards,
    KeyQuote,
    KeyQuotes,
    ModelQuotes,
    PlainChapters,
    Quiz,
    TimedChapter,
    TimedChapters,
)
from vocable.llm.textgen.source import Passage, Source, TextInputError, clock, parse_clock


@dataclass
class TextResult:
    kind: str  # the style or type
    text: str  # rendered text (structured results are rendered too)
    data: dict[str, Any] | None = None  # the validated structure, for structured types
    model: str = ""
    chunks: int = 1  # map calls made (1 = single pass)
    condensed: bool = False  # the input was condensed extractively first
    calls: int = 0
    notes: list[str] = field(default_factory=list)


class Writer:
    """Runs summaries and generation for one request (one client of the LLM queue)."""

    def __init__(
        self,
        llm: LLMExecutor,
        embedder: Embedder | None,
        client: str = "",
        progress: Callable[[str], None] | None = None,
        settings: Settings | None = None,
        parse: Callable[[str], Any] | None = None,
    ):
        self.llm = llm
        self.embedder = embedder
        self.client = client
        self.parse = parse  # spaCy, for the check of who does what (support.SupportChecker)
        # Chunking and budgets come from the caller's settings (the server's), the runtime's
        # own (threads, context) from the executor.
        self.settings = settings or llm.settings
        self.progress = progress or (lambda _msg: None)
        self.calls = 0

    # -- public --------------------------------------------------------------------------------
    def summarize(self, source: Source, style: str) -> TextResult:
        if style not in SUMMARY_STYLES:
            raise TextInputError(f"Unknown style '{style}'. Use one of: {', '.join(SUMMARY_STYLES)}.")
        return self._run(source, style, STYLE_TASKS[style])

    def generate(self, source: Source, kind: str) -> TextResult:
        if kind not in GENERATE_TYPES:
            raise TextInputError(f"Unknown type '{kind}'. Use one of: {', '.join(GENERATE_TYPES)}.")
        task = GENERATE_TASKS[kind]
        if kind == "chapter_markers" and source.timed:
            task += TIMED_CHAPTERS
        if kind == "show_notes" and source.timed:
            task += " Start each topic bullet with the [mm:ss] time where it begins."
        return self._run(source, kind, task)

    # -- pipeline ------------------------------------------------------------------------------
    def _run(self, source: Source, kind: str, task: str) -> TextResult:
        self.llm.check_capacity()  # a full queue refuses before any work (or model load)
        context, label, chunks, condensed = self._context(source)
        # With times shown to the model, a [mm:ss] it repeats is grounded too.
        index = SourceIndex.of(source.render() if source.timed else source.text)
        names = key_names(source.text)
        if kind in NAMED_KINDS and names:
            # A small model drops names (and places) it is unsure of; listing the transcript's
            # own keeps summaries specific without inviting new ones.
            task += f" Mention these names from the transcript: {', '.join(names)}."
        if kind in STRUCTURED_TYPES:
            result = self._structured(source, kind, task, context, label, index)
        else:
            result = self._prose(source, kind, task, context, label, index, names)
        result.model = self.llm.model_id
        result.chunks, result.condensed, result.calls = chunks, condensed, self.calls
        return result

    def _context(self, source: Source) -> tuple[str, str, int, bool]:
        """What the final call reads: the transcript itself, or notes made from its chunks.
        Speakers who say who they are are shown by name ("Diane (Speaker 1): ..."): with bare
        labels a small model takes "Speaker 1" and "Diane" for two people."""
        from vocable.llm.support import render_named  # support imports textgen.source

        def render(passages: list[Passage] | None = None) -> str:
            return render_named(source, passages) if source.speakers else source.render(passages)

        rendered = render()
        total = self.llm.count_tokens(rendered)
        limit = self._chunk_limit()
        if total <= limit:
            return rendered, "TRANSCRIPT", 1, False
        ratio = len(rendered) / max(1, total)  # characters per token, for cutting chunks
        passages = source.passages
        condensed = False
        budget = self.settings.llm_read_budget_tokens
        if budget and total > budget:
            passages = self._condense(source, budget / total, int(limit * ratio))
            condensed = True
        chunks = _chunk([render([p]) for p in passages], int(limit * ratio))
        notes = self._map(chunks, source.timed)
        level = 0
        # Notes of a very long input may still not fit one call: reduce them again.
        while self.llm.count_tokens("\n".join(notes)) > limit and len(notes) > 1 and level < 3:
            notes = self._map(_chunk(notes, int(limit * ratio)), source.timed)
            level += 1
        return "\n".join(notes), "NOTES ON A LONG TRANSCRIPT (in order)", len(chunks), condensed

    def _chunk_limit(self) -> int:
        # Leave room in the context for the instructions and the longest answer.
        room = self.llm.context_tokens - max(MAX_TOKENS.values()) - 400
        return max(256, min(self.settings.llm_chunk_tokens, room))

    def _map(self, chunks: list[str], timed: bool) -> list[str]:
        notes = []
        for i, chunk in enumerate(chunks, start=1):
            self.progress(f"reading part {i} of {len(chunks)}")
            task = MAP_TASK.format(
                part=i, parts=len(chunks),
                times="Start each bullet with the [mm:ss] time it refers to. " if timed else "",
            )
            notes.append(self._call(self._messages(chunk, "TRANSCRIPT PART", task), MAP_MAX_TOKENS))
        return notes

    def _condense(self, source: Source, keep: float, window_chars: int) -> list[Passage]:
        """Keep the ``keep`` share of each window's passages most central to that window."""
        passages = source.passages
        if self.embedder is None or keep >= 1:
            return passages
        vectors = self.embedder.embed([p.text for p in passages])
        kept: list[int] = []
        start = 0
        while start < len(passages):
            end, size = start, 0
            while end < len(passages) and (size < window_chars or end == start):
                size += len(passages[end].text) + 1
                end += 1
            lengths = np.array([len(p.text) for p in passages[start:end]], dtype=np.float32)
            scores = _centrality(vectors[start:end], lengths)
            budget = keep * size
            chosen, used = [], 0.0
            for j in np.argsort(-scores):
                if used >= budget:
                    break
                chosen.append(start + int(j))
                used += lengths[j] + 1
            kept.extend(sorted(chosen))
            start = end
        return [passages[i] for i in kept]

    def _prose(
        self, source: Source, kind: str, task: str, context: str, label: str,
        index: SourceIndex, names: list[str],
    ) -> TextResult:
        max_tokens = self._budget(kind, context)
        text = self._write(context, label, task, max_tokens, index)
        if refuses(text):
            # A coder model sometimes declines a writing task ("I'm sorry, but I can't assist
            # with that request."): ask again, framed as the plain writing job it is.
            text = self._write(context, label, task + REFUSAL_RETRY, max_tokens, index,
                               system=WRITER_SYSTEM)
        if echoes(text, source):
            # The transcript's lines copied back (a coder model does this for show notes over
            # timed lines) are not the text asked for: once more, told to write it.
            text = self._write(context, label, task + ECHO_RETRY, max_tokens, index)
        invented = ungrounded_terms(text, index)
        # The summaries should carry the transcript's main names; a small model drops the ones it
        # cannot place (e.g. a place in a garbled sentence).
        wanted = names[:6] if kind in NAMED_KINDS else []
        missing = _missing(text, wanted)
        if invented or missing:
            # One rewrite, told what it made up and what it left out; whatever is still invented
            # after that is cut out.
            fixes = []
            if invented:
                fixes.append(f"Do not mention {', '.join(invented)}: the transcript never says that.")
            if missing:
                fixes.append(f"Be sure to mention {', '.join(missing)}, as the transcript does.")
            retry = self._write(context, label, task + " " + " ".join(fixes), max_tokens, index)
            if len(ungrounded_terms(retry, index)) <= len(invented) or not invented:
                text = retry
            text = drop_ungrounded(text, ungrounded_terms(text, index))
        before = stated(text)
        text, dropped = self._supported(source, text)
        if dropped and stated(text) * 2 < before:
            # Most of it was wrong: one rewrite told which sentences were, and the version that
            # keeps more checked sentences wins (dropping alone leaves a stub of a summary).
            quoted = " ".join(f'"{d}"' for d in dropped[:6])
            retry = self._write(context, label, task + UNSUPPORTED_RETRY.format(sentences=quoted),
                                max_tokens, index)
            retry = drop_ungrounded(retry, ungrounded_terms(retry, index))
            retry_text, retry_dropped = self._supported(source, retry)
            if not refuses(retry_text) and stated(retry_text) > stated(text):
                text, dropped = retry_text, retry_dropped
        text = tidy(text, headings=kind not in ("brief", "detailed"))
        if stated(text) == 0:
            # Nothing the transcript supports is left: what its speakers say, in their words.
            text, wanted = self._extract(source, kind), []
        still = _missing(text, wanted)
        if still and kind in ("brief", "detailed", "bullet_points"):
            # A summary must not silently lose a name the transcript stresses (nor one whose
            # sentence was dropped as unsupported).
            also = f"Also mentioned: {', '.join(still)}."
            text = f"{text}\n- {also}" if kind == "bullet_points" else f"{text} {also}".strip()
        if not text.strip() or refuses(text) or says_nothing(text):
            # Nothing left but a title (every sentence was unsupported): say what is said.
            text = _fallback(kind, context)
        return TextResult(kind, text, notes=[f"dropped unsupported: {d}" for d in dropped])

    def _extract(self, source: Source, kind: str) -> str:
        """The passages most central to the transcript (MiniLM), in order, quoted with who says
        them: a summary that cannot misstate anything, for when the model's could only."""
        from vocable.llm.support import speaker_names

        passages = [p for p in source.passages if len(p.text.split()) >= 4] or source.passages
        n = {"brief": 3, "bullet_points": 5, "detailed": 6}.get(kind, 4)
        whole = [p for p in passages if p.text[:1].isupper() and p.text.rstrip().endswith((".", "!", "?"))]
        if len(whole) >= min(n, 2):  # not a segment that starts or ends mid-sentence
            passages = whole
        chosen = list(range(min(n, len(passages))))
        if self.embedder is not None and len(passages) > n:
            vectors = self.embedder.embed([p.text for p in passages])
            lengths = np.array([len(p.text) for p in passages], dtype=np.float32)
            chosen = sorted(int(i) for i in np.argsort(-_centrality(vectors, lengths))[:n])
        names = speaker_names(source.passages) if source.speakers else {}
        lines = []
        for i in chosen:
            p = passages[i]
            who = (names.get(p.speaker or "") or p.speaker) if source.speakers else None
            lines.append(f"{who} says, “{p.text}”" if who else f"“{p.text}”")
        if kind == "bullet_points":
            return "\n".join(f"- {line}" for line in lines)
        return "In the speakers' own words:\n" + "\n".join(lines)

    def _checker(self):
        from vocable.llm.support import SupportChecker  # support imports textgen.source

        return SupportChecker(self.llm, self.embedder, self.client, parse=self.parse)

    def _supported(self, source: Source, text: str) -> tuple[str, list[str]]:
        """The text without the sentences the transcript does not support (each sentence is
        checked: who, where, how many, and claims in words the transcript never uses)."""
        checks = self._checker().check(source, text)
        bad = [c.sentence for c in checks if not c.supported]
        return (drop_sentences(text, bad) if bad else text), bad

    def _claims_ok(self, source: Source, claims: list[str]) -> list[bool]:
        checks = self._checker().check(source, claims)
        return [c.supported for c in checks]

    def _structured(
        self, source: Source, kind: str, task: str, context: str, label: str, index: SourceIndex
    ) -> TextResult:
        max_tokens = self._budget(kind, context)
        messages = self._messages(context, label, task)
        if kind == "action_items":
            data = self._json(messages, ActionItems, max_tokens)
            items = []
            for item in data.action_items:
                item.owner, item.due = _said(item.owner), _said(item.due)
                said = " ".join(filter(None, [item.owner, item.task, item.due]))
                if not ungrounded_terms(said, index) and all(
                    self._claims_ok(source, [_as_claim(item.owner or "", item.task)])
                ):
                    items.append(item)
            result = ActionItems(action_items=items)
            return TextResult(kind, render_action_items(result), result.model_dump())
        if kind == "flashcards":
            cards = distinct(self._json(messages, Flashcards, max_tokens).flashcards,
                             lambda c: c.front)
            grounded = [c for c in cards if not ungrounded_terms(f"{c.front}\n{c.back}", index)]
            ok = self._claims_ok(source, [_as_claim(c.front, c.back) for c in grounded])
            verified = [c for c, good in zip(grounded, ok, strict=True) if good]
            result = Flashcards(flashcards=verified or grounded[:1] or cards[:1])
            return TextResult(kind, render_flashcards(result), result.model_dump())
        if kind == "quiz":
            questions = distinct(self._json(messages, Quiz, max_tokens).questions,
                                 lambda q: q.question)
            checked = [q for q in (self._check_question(source, q) for q in questions) if q]
            result = Quiz(questions=checked or [_plain_question(source)])
            return TextResult(kind, render_quiz(result), result.model_dump())
        if kind == "key_quotes":
            quotes = self._json(messages, ModelQuotes, max_tokens).quotes
            result = self._ground_quotes(source, [q.quote for q in quotes])
            return TextResult(kind, render_quotes(result), result.model_dump())
        # chapter_markers
        if source.timed:
            timed = self._json(messages, TimedChapters, max_tokens).chapters
            result = self._place_chapters(source, timed)
            self._check_chapters(source, result)
        else:
            plain = self._json(messages, PlainChapters, max_tokens).chapters
            result = ChapterMarkers(
                chapters=[Chapter(title=c.title, summary=c.summary) for c in plain]
            )
        return TextResult(kind, render_chapters(result), result.model_dump())

    def _check_question(self, source: Source, q: Any) -> Any | None:
        """The quiz question with a right answer key, or None: the key must be supported by the
        transcript; when it is not and exactly one other option is, that one is the key."""
        if len({o.strip().lower() for o in q.options}) < 4:
            return None
        if ungrounded_terms(q.question + "\n" + q.options[q.answer_index], SourceIndex.of(source.text)):
            return None
        ok = self._claims_ok(source, [_as_claim(q.question, o) for o in q.options])
        evident = [_in_evidence(source, q.question, o) for o in q.options]
        key = q.answer_index
        if ok[key] and (evident[key] or not any(evident)):
            return q
        others = [i for i in range(4) if ok[i] and evident[i] and i != key]
        if len(others) == 1:
            q.answer_index = others[0]
            q.explanation = ""
            return q
        return None

    def _check_chapters(self, source: Source, chapters: ChapterMarkers) -> None:
        """A chapter summary the transcript does not support becomes its opening words."""
        ok = self._claims_ok(source, [c.summary for c in chapters.chapters])
        for chapter, good in zip(chapters.chapters, ok, strict=True):
            if not good:
                first = next((p.text for p in source.passages if (p.start or 0) >= (chapter.start or 0)),
                             source.passages[0].text)
                chapter.summary = first[:300]

    def _ground_quotes(self, source: Source, quotes: list[str]) -> KeyQuotes:
        """Each quote becomes the exact source sentence it comes from; unmatched ones are dropped."""
        spans = _sentence_spans(source)
        texts = [s for s, _ in spans]
        found: list[KeyQuote] = []
        seen: set[int] = set()
        for quote in quotes:
            i, contained = match_sentence(quote, texts)
            if i < 0 or contained < 0.6 or i in seen:
                continue
            seen.add(i)
            # Keep as many following sentences as the model quoted.
            text = texts[i]
            j = i + 1
            while j < len(texts) and len(text) < len(quote) * 0.8:
                text += " " + texts[j]
                j += 1
            passage = spans[i][1]
            found.append(KeyQuote(
                quote=text, speaker=passage.speaker if source.speakers else None,
                start=passage.start if source.timed else None,
            ))
        if not found:  # the model paraphrased everything: fall back to the longest sentence
            sentence, passage = max(spans, key=lambda s: len(s[0]))
            found.append(KeyQuote(quote=sentence, speaker=passage.speaker if source.speakers else None,
                                  start=passage.start if source.timed else None))
        return KeyQuotes(quotes=found)

    def _place_chapters(self, source: Source, chapters: list[TimedChapter]) -> ChapterMarkers:
        """Snap each chapter start to the transcript line at or before the time the model gave."""
        starts = [p.start or 0.0 for p in source.passages]
        placed: list[Chapter] = []
        last = -1.0
        for i, chapter in enumerate(chapters):
            wanted = parse_clock(chapter.start)
            if i == 0 or wanted is None:
                wanted = starts[0] if i == 0 else last
            candidates = [s for s in starts if s <= wanted + 0.5]
            at = candidates[-1] if candidates else starts[0]
            if at <= last:
                continue  # not after the previous chapter: merge into it
            placed.append(Chapter(title=chapter.title, summary=chapter.summary, start=at,
                                  timestamp=clock(at)))
            last = at
        return ChapterMarkers(chapters=placed)

    # -- calls ---------------------------------------------------------------------------------
    def _write(
        self, context: str, label: str, task: str, max_tokens: int, index: SourceIndex,
        system: str = SYSTEM,
    ) -> str:
        raw = self._call(self._messages(context, label, task, system), max_tokens)
        return fill_placeholders(clean(raw), index)

    def _messages(
        self, context: str, label: str, task: str, system: str = SYSTEM
    ) -> list[Message]:
        return [
            {"role": "system", "content": system},
            {"role": "user", "content": f'{label}:\n"""\n{context}\n"""\n\nTASK: {task}'},
        ]

    def _budget(self, kind: str, context: str) -> int:
        # Output in proportion to the input (a 30-second call is not a 900-token blog post),
        # within the task's bound.
        cap = MAX_TOKENS[kind]
        if kind in STRUCTURED_TYPES:
            return cap  # the schema bounds the size; cutting JSON short would break it
        return int(max(min(cap, 100), min(cap, 60 + len(context) / 4)))

    def _call(self, messages: list[Message], max_tokens: int) -> str:
        self.calls += 1
        # A firmer repeat penalty than the default: prose from a small model can loop.
        # Greedy: the same transcript and task give the same text.
        result = self.llm.run(messages, max_tokens, client=self.client, repeat_penalty=1.1,
                              temperature=0.0)
        return trim_cut(result.text) if result.finish_reason == "length" else result.text

    def _json(self, messages: list[Message], model: type[BaseModel], max_tokens: int) -> Any:
        self.calls += 1
        try:
            return self.llm.complete_json(messages, model, max_tokens, client=self.client)
        except LLMOutputError:
            # Cut short (or malformed): once more, asking for less.
            self.calls += 1
            shorter = [*messages[:-1], {
                "role": "user",
                "content": messages[-1]["content"] + " Keep it short: at most 3 items, one "
                                                     "sentence each.",
            }]
            return self.llm.complete_json(shorter, model, max_tokens, client=self.client)


# -- helpers ------------------------------------------------------------------------------------
def distinct(items: list, text: Callable[[Any], str]) -> list:
    """The items whose ``text`` is not a repeat of an earlier one's (case, spaces and
    punctuation aside): the small model writes the same flashcard or question several times."""
    seen: set[str] = set()
    kept = []
    for item in items:
        key = " ".join(re.findall(r"[a-z0-9']+", text(item).lower()))
        if key not in seen:
            seen.add(key)
            kept.append(item)
    return kept


def _as_claim(question: str, answer: str) -> str:
    """A question and its answer as one sentence for the support check."""
    q, a = question.strip().rstrip("?"), answer.strip().rstrip(".")
    return f"{q}: {a}." if q else f"{a}."


def _in_evidence(source: Source, question: str, option: str) -> bool:
    """The option's own words are in the transcript sentences the question is about."""
    texts = [p.text for p in source.passages]
    i, _ = match_sentence(question, texts)
    if i < 0:
        return False
    window = " ".join(texts[max(0, i - 1): i + 3]).lower()
    words = [w for w in re.findall(r"[a-z0-9']+", option.lower()) if len(w) > 2]
    # Every word: "Marketing manager" is not evidenced by "I'm the marketing expert" (seen as a
    # wrong key on ami-dev00); half of them let it through.
    return bool(words) and all(w.rstrip("s") in window for w in words)


def _plain_question(source: Source) -> Any:
    """A question the transcript answers for sure, when every generated one failed the check:
    which of these sentences does the transcript say."""
    from vocable.llm.textgen.schemas import QuizQuestion

    said = max((p.text for p in source.passages), key=len)[:200]
    options = [said, "Nothing is said in the transcript.", "The speakers only greet each other.",
               "The recording is silent."]
    return QuizQuestion(question="Which of these is said in the transcript?", options=options,
                        answer_index=0, explanation="It is a sentence of the transcript.")


def _sentence_spans(source: Source) -> list[tuple[str, Passage]]:
    """The sentences of the whole text (segments cut sentences anywhere), each with the passage
    it starts in."""
    text_parts, owners = [], []
    offset = 0
    for p in source.passages:
        text_parts.append(p.text)
        owners.append((offset, p))
        offset += len(p.text) + 1
    full = " ".join(text_parts)
    spans = []
    cursor = 0
    for sentence in sentences(full):
        at = full.find(sentence, cursor)
        at = cursor if at < 0 else at
        cursor = at + len(sentence)
        owner = next(p for start, p in reversed(owners) if start <= at)
        spans.append((sentence, owner))
    return spans


def _missing(text: str, names: Sequence[str]) -> list[str]:
    lowered = text.lower()
    return [n for n in names if n.lower() not in lowered]


def _said(value: str | None) -> str | None:
    """None for the ways a model writes "not said"."""
    if value is None or value.strip().lower().strip(".") in (
        "", "none", "n/a", "na", "unknown", "not specified", "not mentioned", "unspecified", "tbd",
        "null", "not stated", "not given",
    ):
        return None
    return value.strip()


def _centrality(vectors: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """How central each passage is to the set (cosine to the mean), with a little weight on
    length: short fillers ("Okay.") carry little."""
    centroid = vectors.mean(axis=0)
    centroid /= np.linalg.norm(centroid) or 1.0
    return vectors @ centroid + 0.05 * np.log1p(lengths)


def _fallback(kind: str, context: str) -> str:
    """Everything the model wrote was invented: say so rather than return nothing."""
    first = sentences(context)[:2]
    return "The transcript says: " + " ".join(first) if first else "The transcript is empty."


def _chunk(pieces: list[str], max_chars: int) -> list[str]:
    """Consecutive pieces joined into chunks of at most ``max_chars`` (a longer piece is cut)."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for piece in pieces:
        while len(piece) > max_chars:
            cut = piece.rfind(" ", 0, max_chars)
            cut = cut if cut > max_chars // 2 else max_chars
            pieces_head, piece = piece[:cut], piece[cut:].lstrip()
            if current:
                chunks.append("\n".join(current))
                current, size = [], 0
            chunks.append(pieces_head)
        if size + len(piece) + 1 > max_chars and current:
            chunks.append("\n".join(current))
            current, size = [], 0
        current.append(piece)
        size += len(piece) + 1
    if current:
        chunks.append("\n".join(current))
    return chunks


def estimate_calls(tokens: int, chunk_tokens: int) -> int:
    return 1 if tokens <= chunk_tokens else math.ceil(tokens / chunk_tokens) + 1
