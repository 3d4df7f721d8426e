"""Keeping LLM output grounded in its source text.

Small models invent names, numbers and quotes. These helpers find what an output states that the
source does not (``ungrounded_terms``), cut it out (``drop_ungrounded``), and replace a model's
"quote" by the exact sentence of the source it paraphrases (``match_sentence``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_WORD = re.compile(r"[A-Za-z][A-Za-z'’\-]*")
_CAPITALISED = re.compile(r"\b[A-Z][A-Za-z'’\-]*")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,:]\d+)*")
_TITLES = r"(?<!\bMr\.)(?<!\bMs\.)(?<!\bDr\.)(?<!\bSt\.)(?<!\bMrs\.)(?<!\bProf\.)"
_SENTENCE_END = re.compile(_TITLES + r"(?<=[.!?])[\"'”’)]*\s+|\n+")
_SPLIT_PROSE = re.compile(_TITLES + r"(?<=[.!?])\s+")

# Words a summary may capitalise without them being names taken from the source.
_COMMON = {
    "i", "i'm", "i've", "i'd", "i'll", "ok", "okay", "speaker", "speakers", "transcript",
    "summary", "subject", "participants", "participant", "discussion", "decisions", "decision",
    "action", "actions", "items", "item", "overview", "key", "concepts", "review", "questions",
    "question", "topics", "topic", "people", "mentioned", "none", "recorded", "notes", "note",
    "title", "answer", "quote", "quotes", "chapter", "episode", "hi", "hello", "dear", "welcome",
    "thanks", "thank", "best", "regards", "cheers", "english", "us", "tl", "dr", "faq", "q", "a",
    "mr", "mrs", "ms", "unknown", "n/a", "na", "tbd",
}
_NUMBER_WORDS = {
    0: "zero", 1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven",
    8: "eight", 9: "nine", 10: "ten", 11: "eleven", 12: "twelve", 13: "thirteen", 14: "fourteen",
    15: "fifteen", 16: "sixteen", 17: "seventeen", 18: "eighteen", 19: "nineteen", 20: "twenty",
    30: "thirty", 40: "forty", 50: "fifty", 60: "sixty", 70: "seventy", 80: "eighty",
    90: "ninety", 100: "hundred", 1000: "thousand",
}


@dataclass
class SourceIndex:
    """What the source says, normalised for lookups."""

    text: str
    words: set[str]
    numbers: set[str]

    @classmethod
    def of(cls, text: str) -> SourceIndex:
        lowered = text.lower()
        words = {_stem(w) for w in _WORD.findall(lowered)}
        numbers = {_digits(n) for n in _NUMBER.findall(text)}
        return cls(lowered, words, numbers)

    def has_word(self, word: str) -> bool:
        return _stem(word.lower()) in self.words

    def has_number(self, number: str) -> bool:
        digits = _digits(number)
        if digits in self.numbers or digits in self.text:
            return True
        try:
            value = int(digits)
        except ValueError:
            return False
        spelled = _NUMBER_WORDS.get(value)
        return spelled is not None and spelled in self.words


def ungrounded_terms(output: str, source: SourceIndex, allowed: Sequence[str] = ()) -> list[str]:
    """Names (capitalised words not starting a sentence or heading) and numbers in ``output`` that
    the source never says. ``allowed`` adds words the task itself may introduce."""
    allowed_set = {_stem(a.lower()) for a in allowed}
    found: list[str] = []
    for line in output.splitlines():
        if _is_heading(line):
            continue
        for match in _CAPITALISED.finditer(line):
            word = match.group(0).strip("'’-")
            stem = _stem(word.lower())
            if (
                not word
                or stem in _COMMON
                or stem in allowed_set
                or _starts_sentence(line, match.start())
                or source.has_word(word)
            ):
                continue
            if word not in found:
                found.append(word)
        for match in _NUMBER.finditer(line):
            number = match.group(0)
            if not source.has_number(number) and number not in found:
                found.append(number)
    return found


def key_names(text: str, limit: int = 12) -> list[str]:
    """Names the text itself capitalises inside sentences ("Diane", "New Jersey"), most frequent
    first (ties: first seen), for prompts that should not drop them."""
    counts: dict[str, int] = {}
    first: dict[str, int] = {}
    for sentence in sentences(text):
        tokens = sentence.split()
        i = 1  # the first word of a sentence is capitalised anyway
        while i < len(tokens):
            word = tokens[i].strip(".,;:!?\"'()“”‘’")
            if word[:1].isupper() and word.lower() not in _COMMON:
                phrase = [word]
                j = i + 1
                while j < len(tokens):
                    nxt = tokens[j].strip(".,;:!?\"'()“”‘’")
                    if not nxt[:1].isupper() or tokens[j - 1][-1:] in ".,;:!?":
                        break
                    phrase.append(nxt)
                    j += 1
                name = re.sub(r"['’]s$", "", " ".join(phrase))
                counts[name] = counts.get(name, 0) + 1
                first.setdefault(name, len(first))
                i = j
            else:
                i += 1
    return sorted(counts, key=lambda n: (-counts[n], first[n]))[:limit]


def drop_ungrounded(output: str, terms: Sequence[str]) -> str:
    """Remove the sentences (and list items) that contain any of ``terms``."""
    if not terms:
        return output
    pattern = re.compile("|".join(rf"(?<![\w]){re.escape(t)}(?![\w])" for t in terms))
    kept_lines = []
    for line in output.splitlines():
        if not pattern.search(line):
            kept_lines.append(line)
            continue
        sentences = [s for s in _split_keep(line) if not pattern.search(s)]
        bullet = re.match(r"^\s*(?:[-*•]|\d+[.)])\s+", line)
        if bullet and len(sentences) <= 1:
            continue  # a list item built on an invented fact goes entirely
        rest = " ".join(s.strip() for s in sentences if s.strip())
        if rest and not re.fullmatch(r"[\s\-*•#\d.)]+", rest):
            kept_lines.append(rest if not bullet or rest.startswith(bullet.group(0).strip()) else bullet.group(0) + rest)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept_lines)).strip()


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def match_sentence(quote: str, candidates: Sequence[str]) -> tuple[int, float]:
    """Index of the candidate the quote is taken from, and how much of the quote it contains
    (0..1). Spans of one to three consecutive candidates are tried; the index is the first."""
    q = _tokens(quote)
    if not q:
        return -1, 0.0
    best, best_score = -1, 0.0
    for i in range(len(candidates)):
        for span in (1, 2, 3):
            if i + span > len(candidates):
                break
            c = _tokens(" ".join(candidates[i:i + span]))
            if not c:
                continue
            contained = len(q & c) / len(q)
            precision = len(q & c) / len(c)
            score = contained * (0.5 + 0.5 * precision)
            if score > best_score + 1e-9:
                best, best_score = i, score
    if best < 0:
        return -1, 0.0
    return best, len(q & _tokens(candidates[best])) / len(q)


def _tokens(text: str) -> set[str]:
    return {_stem(w) for w in _WORD.findall(text.lower()) if len(w) > 1} | set(
        _NUMBER.findall(text)
    )


def _stem(word: str) -> str:
    word = word.replace("’", "'")
    for suffix in ("'s", "s'"):
        word = word.removesuffix(suffix)
    if len(word) > 3 and word.endswith("es") and word[-3] in "sxz":
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _digits(number: str) -> str:
    return number.replace(",", "").rstrip(".")


def _is_heading(line: str) -> bool:
    stripped = line.strip()
    if stripped.startswith("#"):
        return True
    words = _WORD.findall(stripped)
    if 2 <= len(words) <= 14 and not stripped.endswith((".", "?", "!")):
        capitalised = sum(1 for w in words if w[0].isupper())
        return capitalised / len(words) >= 0.6  # Title Case line: a heading, not prose
    return False


def _starts_sentence(line: str, pos: int) -> bool:
    before = line[:pos].rstrip(" \"'“‘(*_[")
    if not before:
        return True
    if re.search(r"\b(?:Mr|Mrs|Ms|Dr|Prof|St|Sr|Jr)\.$", before):
        return False  # "Dr. Smith": a title, not the end of a sentence
    return before[-1] in ".!?:;\n-•*#>" or re.search(r"(^|\s)\d+[.)]$", before) is not None


def _split_keep(line: str) -> list[str]:
    return _SPLIT_PROSE.split(line)
