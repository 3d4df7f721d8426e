"""Spans a translation must carry over exactly: numbers, amounts, dates, times, e-mails, URLs.

``protect(text)`` swaps each such span for a placeholder token (``⟦1⟧``, ``⟦2⟧``...) before the
text goes to a model, and ``restore(output, spans, target)`` puts the values back, checking that
every placeholder came back exactly once. Numbers are rendered in the target language's
convention ("40,000.5" → "40.000,5" in German), so the value, not the English formatting, is what
is preserved. English number words that small models were seen to mistranslate ("forty thousand",
"ten o'clock") become digits first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PLACEHOLDER = re.compile(r"⟦(\d+)⟧")

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
         "eighty": 80, "ninety": 90}
_SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
_NUMBER_WORD = "|".join(sorted(list(_UNITS) + list(_TENS) + list(_SCALES), key=len, reverse=True))
# "forty thousand", "twenty-five", "three hundred and twelve", "a hundred"
_WORDS_RUN = re.compile(
    rf"\b(?:a\s+)?(?:{_NUMBER_WORD})(?:(?:\s+and\s+|[\s-]+)(?:{_NUMBER_WORD}))*\b", re.IGNORECASE
)
_OCLOCK = re.compile(r"^\s*o['’]clock\b", re.IGNORECASE)
_CURRENCY_WORDS = r"(?:dollars?|euros?|pounds?|cents?|percent|per\s*cent|yen|francs?|bucks)"

# Comma-decimal languages; the rest of the supported set writes numbers as English does.
DECIMAL_COMMA = {"es", "fr", "de", "it", "pt", "nl", "ru", "pl", "cs", "sv", "da", "fi", "tr",
                 "ro", "hu", "id", "uk", "el", "ca", "no", "bg", "hr", "sk", "sl", "lt", "lv", "et"}
_THIN_GROUP = {"fr", "ru", "pl", "cs", "sv", "fi", "no", "uk", "sk", "bg", "et", "lt", "lv"}

_URL = r"\b(?:https?://|www\.)[^\s<>\"']+[^\s<>\"'.,;:!?)\]]"
_EMAIL = r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"
_ISO_DATE = r"\b\d{4}-\d{2}-\d{2}\b"
_SLASH_DATE = r"\b\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b"
_AMPM = r"(?:a\.m\.|p\.m\.|am\b|pm\b)"
_TIME = rf"\b\d{{1,2}}:\d{{2}}(?::\d{{2}})?(?:\s*{_AMPM})?"
_TIME_AMPM = rf"\b\d{{1,2}}\s*{_AMPM}"
_NUMBER = (
    r"(?<![\w.,])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?!\d|[.,]\d)"
    r"|(?<![\w.,])\d+(?:\.\d+)?(?!\d|[.,]\d)"
)
_ORDINAL_SUFFIX = r"(?:st|nd|rd|th)\b"

_SPANS = re.compile(
    rf"(?P<url>{_URL})|(?P<email>{_EMAIL})|(?P<date>{_ISO_DATE}|{_SLASH_DATE})"
    rf"|(?P<time>{_TIME}|{_TIME_AMPM})"
    rf"|(?P<amount>[$€£¥]\s?(?:{_NUMBER})(?:\s?(?:k|m|bn|million|billion|thousand)\b)?)"
    rf"|(?P<number>(?:{_NUMBER})(?:{_ORDINAL_SUFFIX}|%)?)",
    re.IGNORECASE,
)


@dataclass
class Span:
    kind: str  # url | email | date | time | amount | number
    source: str  # as written in the (normalised) source
    start: int
    end: int


def words_to_number(words: str) -> int | None:
    total, current = 0, 0
    tokens = [t for t in re.split(r"[\s-]+", words.lower()) if t and t != "and"]
    if not tokens:
        return None
    if tokens[0] == "a":
        tokens[0] = "one"
    for tok in tokens:
        if tok in _UNITS:
            current += _UNITS[tok]
        elif tok in _TENS:
            current += _TENS[tok]
        elif tok == "hundred":
            current = max(1, current) * 100
        elif tok in _SCALES:
            total += max(1, current) * _SCALES[tok]
            current = 0
        else:
            return None
    return total + current


def digits_for_words(text: str) -> str:
    """'forty thousand dollars' → '40,000 dollars'; "ten o'clock" → '10:00'.

    Single small numbers ("two people") stay words: models translate those reliably, and digits
    there would read oddly.
    """
    out: list[str] = []
    pos = 0
    for m in _WORDS_RUN.finditer(text):
        first = m.group(0).split()[0].lower().split("-")[0]
        if first in _SCALES or re.search(r"\d\s*$", text[:m.start()]):
            continue  # "3.5 million", "million": a scale word alone stays a word
        value = words_to_number(m.group(0))
        if value is None:
            continue
        after = text[m.end():]
        oclock = _OCLOCK.match(after)
        if oclock and 0 < value <= 12:
            out.append(text[pos:m.start()] + f"{value}:00")
            pos = m.end() + oclock.end()
            continue
        compound = len(re.split(r"[\s-]+", m.group(0).strip())) > 1
        unit_follows = re.match(rf"\s+{_CURRENCY_WORDS}\b", after, re.IGNORECASE)
        if value >= 10 or compound or unit_follows:
            out.append(text[pos:m.start()] + f"{value:,}")
            pos = m.end()
    out.append(text[pos:])
    return "".join(out)


def protect(text: str) -> tuple[str, list[Span]]:
    """(masked text, spans in order); placeholder n stands for spans[n - 1]."""
    spans: list[Span] = []
    pieces: list[str] = []
    pos = 0
    for m in _SPANS.finditer(text):
        kind = m.lastgroup or "number"
        spans.append(Span(kind, m.group(0), m.start(), m.end()))
        pieces.append(text[pos:m.start()] + f"⟦{len(spans)}⟧")
        pos = m.end()
    pieces.append(text[pos:])
    return "".join(pieces), spans


def _group(int_part: str, sep: str) -> str:
    digits = int_part
    groups = []
    while len(digits) > 3:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    groups.insert(0, digits)
    return sep.join(groups)


def localize_number(source: str, target: str) -> str:
    """An English-written number in the target's convention, same digits, same value."""
    if target not in DECIMAL_COMMA:
        return source
    m = re.fullmatch(r"(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(.*)", source)
    if m is None:
        return source
    int_part, frac, rest = m.group(1), m.group(2), m.group(3)
    grouped = "," in int_part
    digits = int_part.replace(",", "")
    if grouped:
        sep = "\u202f" if target in _THIN_GROUP else "."
        int_part = _group(digits, sep)
    out = int_part + ("," + frac if frac else "")
    return out + rest


def _to_24h(source: str) -> str:
    m = re.fullmatch(r"(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?\s*([ap])\.?m\.?", source, re.IGNORECASE)
    if m is None:
        return source
    hour, minute = int(m.group(1)) % 12, m.group(2) or "00"
    if m.group(4).lower() == "p":
        hour += 12
    return f"{hour:02d}:{minute}" + (f":{m.group(3)}" if m.group(3) else "")


def render(span: Span, target: str) -> str:
    """How a protected span is written in the target language."""
    if span.kind in ("url", "email", "date"):
        return span.source
    if span.kind == "time":
        return span.source if target == "en" else _to_24h(span.source)
    if span.kind == "amount":
        m = re.match(r"([$€£¥]\s?)(.*)", span.source)
        if m:
            return m.group(1) + localize_number(m.group(2), target)
        return span.source
    source = re.sub(_ORDINAL_SUFFIX, "", span.source, flags=re.IGNORECASE) if target != "en" else span.source
    if source.endswith("%"):
        return localize_number(source[:-1], target) + "%"
    return localize_number(source, target)


class PlaceholderMismatch(ValueError):
    pass


def restore(output: str, spans: list[Span], target: str) -> str:
    """Put rendered values back; every placeholder must occur exactly once, and no other."""
    found = [int(n) for n in PLACEHOLDER.findall(output)]
    expected = list(range(1, len(spans) + 1))
    if sorted(found) != expected:
        missing = sorted(set(expected) - set(found))
        extra = sorted(n for n in set(found) if found.count(n) > 1 or n not in expected)
        raise PlaceholderMismatch(f"placeholders missing {missing}, unexpected or repeated {extra}")
    return PLACEHOLDER.sub(lambda m: render(spans[int(m.group(1)) - 1], target), output)
