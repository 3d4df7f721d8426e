"""Text as a voice should read it, split into sentences to speak one at a time.

Piper reads through espeak-ng, which already says plain numbers ("1,234" → "one thousand two
hundred thirty four") and ordinals ("5th"). It misreads what people write every day: "12/25/2023"
("twelve slash twenty five..."), "$1,234.56" ("dollar one thousand ... point five six"), "1999"
("nineteen hundred ninety nine"), "4:30 p.m.", "Dr." and "Jan." (both read as a sentence's end).
``normalize`` writes those out in words with num2words first (money, percentages, dates, times,
years, ordinals, decimals, abbreviations, a few symbols); ``sentences`` then splits at sentence
boundaries, and a sentence longer than ``max_chars`` at its clauses, so synthesis runs piece by
piece in bounded memory. English only (the bundled voices are English).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from num2words import num2words

MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)
_MONTH_ABBR = {m[:3].lower(): m for m in MONTHS} | {"sept": "September"}
_DAY_ABBR = {
    "mon": "Monday", "tue": "Tuesday", "tues": "Tuesday", "wed": "Wednesday", "thu": "Thursday",
    "thur": "Thursday", "thurs": "Thursday", "fri": "Friday", "sat": "Saturday", "sun": "Sunday",
}
# Abbreviations with a period, read as words (case-sensitive keys, matched at word start).
_TITLES = {
    "Dr": "Doctor", "Mr": "Mister", "Mrs": "Missus", "Ms": "Miz", "Prof": "Professor",
    "Jr": "Junior", "Sr": "Senior", "Mt": "Mount", "Gen": "General",
    "Capt": "Captain", "Lt": "Lieutenant", "Sgt": "Sergeant", "Gov": "Governor", "Sen": "Senator",
    "Rep": "Representative", "Rev": "Reverend", "Hon": "Honorable",
}
_ABBREVIATIONS = {
    "vs": "versus", "etc": "et cetera", "approx": "approximately", "dept": "department",
    "est": "established", "fig": "figure", "inc": "incorporated", "ltd": "limited",
    "co": "company", "corp": "corporation", "no": "number", "vol": "volume", "ave": "avenue",
    "blvd": "boulevard", "rd": "road", "min": "minutes", "max": "maximum", "hr": "hours",
    "hrs": "hours", "sec": "seconds",
}
_UNITS = {
    "km": "kilometers", "kg": "kilograms", "cm": "centimeters", "mm": "millimeters",
    "m": "meters", "g": "grams", "mg": "milligrams", "lb": "pounds", "lbs": "pounds",
    "ft": "feet", "mi": "miles", "mph": "miles per hour", "kph": "kilometers per hour",
    "km/h": "kilometers per hour", "ml": "milliliters", "l": "liters", "gb": "gigabytes",
    "mb": "megabytes", "kb": "kilobytes", "tb": "terabytes", "ghz": "gigahertz",
    "mhz": "megahertz", "khz": "kilohertz", "hz": "hertz", "ms": "milliseconds",
    "°c": "degrees Celsius", "°f": "degrees Fahrenheit",
}
_CURRENCIES = {
    "$": ("dollar", "dollars", "cent", "cents"), "€": ("euro", "euros", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"), "¥": ("yen", "yen", "", ""),
}
_SYMBOLS = {"&": " and ", "+": " plus ", "=": " equals ", "@": " at ", "#": " number "}

_NUM = r"\d{1,3}(?:,\d{3})+|\d+"


def _int(text: str) -> int:
    return int(text.replace(",", ""))


def cardinal(n: float) -> str:
    return num2words(n).replace(",", "")


def ordinal(n: int) -> str:
    return num2words(n, to="ordinal").replace(",", "")


def year(n: int) -> str:
    """A year as people say it: 1999 "nineteen ninety-nine", 2005 "two thousand five",
    2023 "twenty twenty-three", 1900 "nineteen hundred"."""
    return num2words(n, to="year").replace(",", "")


def _decimal(text: str) -> str:
    whole, _, frac = text.partition(".")
    head = cardinal(_int(whole)) if whole else "zero"
    return f"{head} point {' '.join(cardinal(int(d)) for d in frac)}" if frac else head


def _number(text: str) -> str:
    return _decimal(text) if "." in text else cardinal(_int(text))


def _money(match: re.Match) -> str:
    symbol, amount, scale = match.group("cur"), match.group("amount"), match.group("scale")
    one, many, cent, cents = _CURRENCIES[symbol]
    whole, _, frac = amount.partition(".")
    if scale:  # "$1.5 million"
        return f"{_number(amount)} {scale} {many}"
    units = _int(whole) if whole else 0
    words = f"{cardinal(units)} {one if units == 1 else many}"
    if frac and cent:
        c = int((frac + "0")[:2])
        if c:
            words += f" and {cardinal(c)} {cent if c == 1 else cents}"
    return words


def _time(match: re.Match) -> str:
    hour, minute = int(match.group("h")), int(match.group("m"))
    suffix = (match.group("ampm") or "").lower().replace(".", "").replace(" ", "")
    if hour > 24 or minute > 59:
        return match.group(0)
    words = cardinal(hour)
    if minute == 0:
        words += "" if suffix else " o'clock"
    elif minute < 10:
        words += f" oh {cardinal(minute)}"
    else:
        words += f" {cardinal(minute)}"
    if suffix:
        words += " A M" if suffix.startswith("a") else " P M"
    return words


def _date(month: int, day: int, yr: int | None) -> str | None:
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    words = f"{MONTHS[month - 1]} {ordinal(day)}"
    return f"{words}, {year(yr)}" if yr is not None else words


def _numeric_date(match: re.Match) -> str:
    a, b, c = (int(match.group(i)) for i in (1, 2, 3))
    if c < 100:
        c += 2000 if c < 50 else 1900
    # Month first (US), unless the first number cannot be a month and the second can.
    words = _date(a, b, c) if a <= 12 else _date(b, a, c)
    return words or match.group(0)


def _iso_date(match: re.Match) -> str:
    words = _date(int(match.group(2)), int(match.group(3)), int(match.group(1)))
    return words or match.group(0)


def _written_date(match: re.Match) -> str:
    month = _MONTH_ABBR[match.group("mon")[:4].lower().rstrip(".")[:3]
                        if match.group("mon")[:4].lower() != "sept" else "sept"]
    day = int(match.group("day"))
    yr = match.group("year")
    words = f"{month} {ordinal(day)}"
    return f"{words}, {year(int(yr))}" if yr else words


_MONTH_NAMES = "|".join(
    sorted({m for m in MONTHS} | {m[:3] + r"\." for m in MONTHS} | {"Sept\\."}, key=len, reverse=True)
)
_RULES: list[tuple[re.Pattern, object]] = [
    # dates before times and plain numbers
    (re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b"), _iso_date),
    (re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})\b"), _numeric_date),
    (re.compile(
        rf"\b(?P<mon>{_MONTH_NAMES})\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(?P<year>\d{{4}})\b)?"
    ), _written_date),
    # money: $5, $1,234.56, €3.50, $2.5 million
    (re.compile(
        rf"(?P<cur>[$€£¥])\s?(?P<amount>(?:{_NUM})(?:\.\d+)?)(?:\s(?P<scale>thousand|million|billion|trillion)\b)?"
    ), _money),
    # times: 4:30, 10:05 p.m., 7:00AM
    (re.compile(r"\b(?P<h>\d{1,2}):(?P<m>\d{2})(?:\s?(?P<ampm>[aApP]\.?\s?[mM]\.?))?(?=\W|$)"), _time),
    (re.compile(r"\b(?P<h>\d{1,2})\s?(?P<ampm>[aApP]\.[mM]\.|[aApP][mM]\b)"),
     lambda m: f"{cardinal(int(m.group('h')))} {'A M' if m.group('ampm')[0] in 'aA' else 'P M'}"),
    # percentages, ordinals, decades
    (re.compile(rf"\b((?:{_NUM})(?:\.\d+)?)\s?%"), lambda m: f"{_number(m.group(1))} percent"),
    (re.compile(r"\b(\d+)(?:st|nd|rd|th)\b"), lambda m: ordinal(int(m.group(1)))),
    (re.compile(r"\b(1[1-9]|20)(\d0)s\b"), lambda m: year(int(m.group(1) + m.group(2)))[:-1] + "ies"
     if year(int(m.group(1) + m.group(2))).endswith("y") else year(int(m.group(1) + m.group(2))) + "s"),
    # years: four digits 1100-2099 not part of a larger number
    (re.compile(r"(?<![\d,.$€£])\b(1[1-9]\d\d|20\d\d)\b(?![,.]?\d)"), lambda m: year(int(m.group(1)))),
    # numbers with a unit: 5 km, 3.5kg
    (re.compile(
        r"\b((?:" + _NUM + r")(?:\.\d+)?)\s?(" + "|".join(re.escape(u) for u in sorted(_UNITS, key=len, reverse=True))
        + r")(?![\w/])", re.IGNORECASE,
    ), lambda m: f"{_number(m.group(1))} {_UNITS[m.group(2).lower()]}"),
    # ranges 10-20 → "ten to twenty"
    (re.compile(r"\b(\d+)\s?[-–]\s?(\d+)\b"), lambda m: f"{cardinal(int(m.group(1)))} to {cardinal(int(m.group(2)))}"),
    # decimals and negative numbers
    (re.compile(r"(?<![\w.])-(\d+(?:\.\d+)?)\b"), lambda m: f"minus {_number(m.group(1))}"),
    (re.compile(rf"\b((?:{_NUM})\.\d+)\b"), lambda m: _decimal(m.group(1))),
    (re.compile(rf"\b({_NUM})\b"), lambda m: cardinal(_int(m.group(1)))),
]
_TITLE_RE = re.compile(r"\b(" + "|".join(_TITLES) + r")\.(?=\s)")
_ABBR_RE = re.compile(r"\b(" + "|".join(_ABBREVIATIONS) + r")\.(?=[\s,;:!?)]|$)", re.IGNORECASE)
_SAINT_RE = re.compile(r"\bSt\.(?=\s+[A-Z])")  # "St. Louis"; otherwise "Main St." is a street
_STREET_RE = re.compile(r"\bSt\.")
_MONTH_RE = re.compile(r"\b(Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.(?=\s)")
_DAY_RE = re.compile(r"\b(" + "|".join(_DAY_ABBR) + r")\.(?=\s)", re.IGNORECASE)
_LATIN = [(re.compile(r"\be\.g\.,?", re.IGNORECASE), "for example,"),
          (re.compile(r"\bi\.e\.,?", re.IGNORECASE), "that is,"),
          (re.compile(r"\ba\.k\.a\.", re.IGNORECASE), "also known as"),
          (re.compile(r"\bU\.S\.A\.?"), "U S A"), (re.compile(r"\bU\.S\.(?=\s[a-z])"), "U S"),
          (re.compile(r"\bU\.S\.(?=\s|$)"), "U S."), (re.compile(r"\bU\.K\.(?=\s|$)"), "U K.")]


def normalize(text: str) -> str:
    """``text`` with numbers, dates, times, money, units and abbreviations written as words."""
    text = re.sub(r"[\u00a0\u2009\u202f]", " ", text)
    text = text.replace("\u2019", "'").replace("\u201c", '"').replace("\u201d", '"')
    for pattern, words in _LATIN:
        text = pattern.sub(words, text)
    text = _TITLE_RE.sub(lambda m: _TITLES[m.group(1)], text)
    text = _DAY_RE.sub(lambda m: _DAY_ABBR[m.group(1).lower()], text)
    text = _STREET_RE.sub("Street", _SAINT_RE.sub("Saint", text))
    for pattern, replace in _RULES:
        text = pattern.sub(replace, text)  # type: ignore[arg-type]
    text = _MONTH_RE.sub(lambda m: _MONTH_ABBR[m.group(1).lower()[:3]], text)
    # abbreviations after the rules: "5 min." was read with its unit already
    text = _ABBR_RE.sub(lambda m: _ABBREVIATIONS[m.group(1).lower()], text)
    for symbol, words in _SYMBOLS.items():
        text = text.replace(symbol, words)
    return re.sub(r"[ \t]+", " ", text).strip()


_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])|\n\s*\n|\n(?=\s*[-*•\d])")
_CLAUSE_END = re.compile(r"(?<=[,;:—–])\s+")


def sentences(text: str, max_chars: int = 400) -> Iterator[str]:
    """Normalized sentences of ``text``, each at most ``max_chars`` long where clauses allow
    (a sentence over it is split at commas and semicolons, then at spaces)."""
    for sentence in _SENTENCE_END.split(normalize(text)):
        sentence = " ".join(sentence.split())
        if not sentence or not re.search(r"\w", sentence):
            continue
        yield from _bounded(sentence, max_chars)


def _bounded(sentence: str, max_chars: int) -> Iterator[str]:
    if len(sentence) <= max_chars:
        yield sentence
        return
    piece = ""
    for clause in _CLAUSE_END.split(sentence):
        while len(clause) > max_chars:  # no clause boundary: cut at the last space
            cut = clause.rfind(" ", 0, max_chars)
            cut = cut if cut > 0 else max_chars
            if piece:
                yield piece
                piece = ""
            yield clause[:cut]
            clause = clause[cut:].strip()
        if piece and len(piece) + 1 + len(clause) > max_chars:
            yield piece
            piece = clause
        else:
            piece = f"{piece} {clause}" if piece else clause
    if piece:
        yield piece
