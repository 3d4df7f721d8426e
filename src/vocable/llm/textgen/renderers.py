"""Structured results as plain text (the ``text`` of a structured ``TextResult``)."""

from __future__ import annotations

from vocable.llm.textgen.schemas import ActionItems, ChapterMarkers, Flashcards, KeyQuotes, Quiz
from vocable.llm.textgen.source import clock


def render_action_items(items: ActionItems) -> str:
    if not items.action_items:
        return "No action items were identified in the transcript."
    lines = []
    for item in items.action_items:
        extra = ", ".join(filter(None, [item.owner and f"owner: {item.owner}",
                                        item.due and f"due: {item.due}"]))
        lines.append(f"- {item.task}" + (f" ({extra})" if extra else ""))
    return "\n".join(lines)


def render_flashcards(cards: Flashcards) -> str:
    return "\n\n".join(f"Q: {c.front}\nA: {c.back}" for c in cards.flashcards)


def render_quiz(quiz: Quiz) -> str:
    blocks = []
    for n, q in enumerate(quiz.questions, start=1):
        options = "\n".join(f"   {'ABCD'[i]}. {o}" for i, o in enumerate(q.options))
        blocks.append(f"{n}. {q.question}\n{options}\n   Answer: {'ABCD'[q.answer_index]}")
    return "\n\n".join(blocks)


def render_quotes(quotes: KeyQuotes) -> str:
    lines = []
    for q in quotes.quotes:
        when = f"[{clock(q.start)}] " if q.start is not None else ""
        who = f" — {q.speaker}" if q.speaker else ""
        lines.append(f"{when}\"{q.quote}\"{who}")
    return "\n".join(lines)


def render_chapters(chapters: ChapterMarkers) -> str:
    return "\n".join(
        (f"{c.timestamp} " if c.timestamp else "") + f"{c.title}: {c.summary}"
        for c in chapters.chapters
    )
