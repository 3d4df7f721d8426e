"""Summaries and generated content from transcripts, on the local LLM (see ``writer.py``).

``schemas`` holds the styles, types and result models, ``source`` what the LLM reads,
``prompts`` the prompts, ``writer`` the ``Writer`` that runs them, ``renderers`` the text form of
structured results. This module only re-exports the public names.
"""

from vocable.llm.textgen.schemas import (
    GENERATE_TYPES,
    STRUCTURED_TYPES,
    SUMMARY_STYLES,
    ActionItem,
    ActionItems,
    Chapter,
    ChapterMarkers,
    Flashcard,
    Flashcards,
    GenerateType,
    KeyQuote,
    KeyQuotes,
    Quiz,
    QuizQuestion,
    SummaryStyle,
)
from vocable.llm.textgen.source import Passage, Source, TextInputError
from vocable.llm.textgen.writer import TextResult, Writer

__all__ = [
    "GENERATE_TYPES",
    "STRUCTURED_TYPES",
    "SUMMARY_STYLES",
    "ActionItem",
    "ActionItems",
    "Chapter",
    "ChapterMarkers",
    "Flashcard",
    "Flashcards",
    "GenerateType",
    "KeyQuote",
    "KeyQuotes",
    "Passage",
    "Quiz",
    "QuizQuestion",
    "Source",
    "SummaryStyle",
    "TextInputError",
    "TextResult",
    "Writer",
]
