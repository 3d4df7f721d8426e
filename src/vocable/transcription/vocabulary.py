"""Domain words and a context prompt for Whisper, for files and streams alike.

Whisper reads its prompt as text said before the audio: names, jargon and their spellings in it
make the decoder prefer them. ``vocabulary`` is a list of terms ("Kubernetes, Siobhan, HbA1c"),
``prompt`` free text in the style wanted. Both are bounded so that the prompt fits in the
decoder's window (faster-whisper keeps the last 223 tokens; the terms come last, so they are
the part that is kept).
"""

from __future__ import annotations

import json

MAX_TERMS = 100
MAX_TERM_CHARS = 60
MAX_PROMPT_CHARS = 600
MAX_VOCABULARY_CHARS = 800


class InvalidVocabulary(ValueError):
    """A vocabulary or prompt the decoder cannot take; the message says how to fix it."""


def parse_vocabulary(value: str | list | None) -> list[str]:
    """Terms from a list, a JSON list or a comma/newline-separated string; duplicates dropped."""
    if value is None:
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except ValueError:
                raise InvalidVocabulary("'vocabulary' is not a valid JSON list of terms.") from None
        else:
            value = text.replace("\n", ",").split(",")
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise InvalidVocabulary("'vocabulary' must be a list of terms (strings).")
    terms: list[str] = []
    for term in (" ".join(t.split()) for t in value):
        if not term or term in terms:
            continue
        if len(term) > MAX_TERM_CHARS:
            raise InvalidVocabulary(
                f"A vocabulary term is at most {MAX_TERM_CHARS} characters: {term[:40]!r}..."
            )
        terms.append(term)
    if len(terms) > MAX_TERMS:
        raise InvalidVocabulary(f"'vocabulary' holds at most {MAX_TERMS} terms, not {len(terms)}.")
    if sum(len(t) + 2 for t in terms) > MAX_VOCABULARY_CHARS:
        raise InvalidVocabulary(
            f"'vocabulary' is too long: at most {MAX_VOCABULARY_CHARS} characters in all."
        )
    return terms


def check_prompt(prompt: str | None) -> str | None:
    if prompt is None:
        return None
    if not isinstance(prompt, str):
        raise InvalidVocabulary("'prompt' must be a string.")
    prompt = " ".join(prompt.split())
    if len(prompt) > MAX_PROMPT_CHARS:
        raise InvalidVocabulary(f"'prompt' is at most {MAX_PROMPT_CHARS} characters.")
    return prompt or None


def initial_prompt(prompt: str | None, vocabulary: list[str]) -> str | None:
    """The text Whisper continues: the prompt, then the terms as a glossary line."""
    parts = [prompt] if prompt else []
    if vocabulary:
        parts.append("Glossary: " + ", ".join(vocabulary) + ".")
    return " ".join(parts) or None
