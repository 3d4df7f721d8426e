"""What summaries and generated content may be: the styles and types, and the pydantic models
structured types are generated under (their JSON schema) and validated with. Models named
``Model*``, ``Timed*`` and ``Plain*`` are what the LLM writes; the others are what the API returns.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

SummaryStyle = Literal["brief", "detailed", "action_items", "bullet_points"]
GenerateType = Literal[
    "blog_post", "social_media", "newsletter", "key_quotes", "show_notes", "meeting_notes",
    "study_guide", "flashcards", "quiz", "chapter_markers",
]
SUMMARY_STYLES: tuple[str, ...] = SummaryStyle.__args__  # type: ignore[attr-defined]
GENERATE_TYPES: tuple[str, ...] = GenerateType.__args__  # type: ignore[attr-defined]
STRUCTURED_TYPES = ("key_quotes", "flashcards", "quiz", "chapter_markers", "action_items")


class ActionItem(BaseModel):
    task: str = Field(min_length=3, max_length=300, description="what is to be done")
    owner: str | None = Field(default=None, max_length=80, description="who will do it, if said")
    due: str | None = Field(default=None, max_length=80, description="when, if said")


class ActionItems(BaseModel):
    action_items: list[ActionItem] = Field(max_length=15)


class Flashcard(BaseModel):
    front: str = Field(min_length=3, max_length=250, description="a question or term")
    back: str = Field(min_length=1, max_length=300, description="the answer, from the transcript")


class Flashcards(BaseModel):
    flashcards: list[Flashcard] = Field(min_length=1, max_length=8)


class QuizQuestion(BaseModel):
    question: str = Field(min_length=5, max_length=300)
    options: list[str] = Field(min_length=4, max_length=4)
    answer_index: Literal[0, 1, 2, 3]
    explanation: str = Field(max_length=200)


class Quiz(BaseModel):
    questions: list[QuizQuestion] = Field(min_length=1, max_length=5)


class KeyQuote(BaseModel):
    quote: str = Field(min_length=8, max_length=400, description="words copied exactly")
    speaker: str | None = Field(default=None, max_length=80)
    start: float | None = None  # seconds, filled from the transcript


class KeyQuotes(BaseModel):
    quotes: list[KeyQuote] = Field(min_length=1, max_length=8)


class ModelQuote(BaseModel):
    quote: str = Field(min_length=8, max_length=400)


class ModelQuotes(BaseModel):
    quotes: list[ModelQuote] = Field(min_length=1, max_length=8)


class Chapter(BaseModel):
    title: str = Field(min_length=2, max_length=120)
    summary: str = Field(max_length=400)
    start: float | None = None  # seconds (stored transcripts)
    timestamp: str | None = None  # "mm:ss" of ``start``


class ChapterMarkers(BaseModel):
    chapters: list[Chapter] = Field(min_length=1, max_length=20)


class TimedChapter(BaseModel):
    start: str = Field(pattern=r"^\d{1,2}:\d{2}(:\d{2})?$", description="mm:ss from the transcript")
    title: str = Field(min_length=2, max_length=80)
    summary: str = Field(min_length=2, max_length=300)


class TimedChapters(BaseModel):
    chapters: list[TimedChapter] = Field(min_length=1, max_length=20)


class PlainChapter(BaseModel):
    title: str = Field(min_length=2, max_length=80)
    summary: str = Field(min_length=2, max_length=300)


class PlainChapters(BaseModel):
    chapters: list[PlainChapter] = Field(min_length=1, max_length=12)


RESULT_MODELS: dict[str, type[BaseModel]] = {
    "action_items": ActionItems, "flashcards": Flashcards, "quiz": Quiz,
    "key_quotes": KeyQuotes, "chapter_markers": ChapterMarkers,
}
