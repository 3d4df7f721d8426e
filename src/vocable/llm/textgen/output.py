"""What the model wrote, read before it is returned: refusals, transcript lines echoed back,
text that states nothing, template slots, an answer cut at the token limit, and the text without
the sentences the support check dropped. Pure functions over strings (and the ``Source``)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from vocable.llm.grounding import SourceIndex, match_sentence
from vocable.llm.textgen.source import Source

_REFUSAL = re.compile(
    r"\b(i'?m sorry|i am sorry|i apologi[sz]e|i can(?:'|no)t (?:assist|help|do|provide|fulfil|"
    r"comply|create|write|generate)|i'?m (?:unable|not able)|unable to (?:assist|help|provide|"
    r"write|create)|as an ai\b|cannot assist|can't assist|not enough information|no information "
    r"(?:is )?(?:provided|available))", re.IGNORECASE,
)


def refuses(text: str) -> bool:
    """The model declined (or said it cannot) instead of writing."""
    head = text.strip()[:300]
    return bool(_REFUSAL.search(head)) or not head


_LINE_LABEL = re.compile(r"^\s*(?:[-*•]\s*)?(?:\[\d{1,2}:\d{2}(?::\d{2})?\]\s*)?"
                         r"(?:[A-Z][\w .()]{0,30}:\s)?")


def echoes(text: str, source: Source) -> bool:
    """Most lines of the output are lines of the transcript copied ("[00:06] Speaker 1: ...")."""
    texts = [p.text for p in source.passages]
    lines = [_LINE_LABEL.sub("", line).strip() for line in text.splitlines()]
    lines = [line for line in lines if len(line.split()) >= 3 and not line.startswith("#")]
    copied = [line for line in lines if match_sentence(line, texts)[1] >= 0.9]
    return len(copied) >= 3 and len(copied) * 2 >= len(lines)


def says_nothing(text: str) -> bool:
    """Only headings, labels and greetings: no sentence that states something."""
    from vocable.llm.support import claim_units, states_nothing

    return all(states_nothing(u) for u in claim_units(text))


def stated(text: str) -> int:
    """Sentences of a text that state something (not headings or greetings)."""
    from vocable.llm.support import claim_units, states_nothing

    return sum(1 for unit in claim_units(text) if not states_nothing(unit))


def drop_sentences(text: str, bad: Sequence[str]) -> str:
    """``text`` without the sentences in ``bad`` (a list item left empty goes, headings stay)."""
    from vocable.llm.support import claim_units

    bad_set = {b.strip() for b in bad}
    kept = []
    for line in text.splitlines():
        units = claim_units(line)
        if not units or not any(u.strip() in bad_set for u in units):
            kept.append(line)
            continue
        rest = " ".join(u for u in units if u.strip() not in bad_set)
        if not rest.strip():
            continue
        bullet = re.match(r"^\s*(?:[-*•]|\d+[.)])\s+", line)
        kept.append((bullet.group(0) if bullet else "") + rest)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()


def clean(text: str) -> str:
    """Strip what a coder model wraps prose in (code fences, a leading label)."""
    text = re.sub(r"^```[a-zA-Z]*\n?|\n?```$", "", text.strip())
    text = re.sub(r"^(?:Summary|Answer|Output)\s*:\s*", "", text, flags=re.IGNORECASE)
    lines: list[str] = []
    for line in text.splitlines():  # a small model can loop on one line: keep it once
        if line.strip() and lines and line.strip() == lines[-1].strip():
            continue
        lines.append(line)
    return "\n".join(lines).strip()


_PLACEHOLDER = re.compile(r"\[([A-Za-z][^\]\n]{0,40})\]")


def fill_placeholders(text: str, index: SourceIndex) -> str:
    """Template slots a model leaves ("[Your Name]"): "[Diane]" becomes Diane when the
    transcript names her; other slots go, and a line left empty by that goes too."""

    def fill(match: re.Match[str]) -> str:
        inner = match.group(1)
        words = re.findall(r"[A-Za-z']+", inner)
        return inner if words and all(index.has_word(w) for w in words) else ""

    lines = []
    for line in text.splitlines():
        new = _PLACEHOLDER.sub(fill, line)
        if new.strip() or not line.strip():
            lines.append(re.sub(r" {2,}", " ", re.sub(r" +([,.!?])", r"\1", new)).rstrip())
    return "\n".join(lines).strip()


def trim_cut(text: str) -> str:
    """Output stopped at the token limit: drop the unfinished sentence (or list item)."""
    text = text.rstrip()
    cut = max(text.rfind(". "), text.rfind(".\n"), text.rfind("! "), text.rfind("? "),
              text.rfind("\n"))
    if text.endswith((".", "!", "?")) or cut < len(text) // 3:
        return text
    return text[: cut + 1].rstrip()


_EMPTY_ITEM = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s*(?:\*\*[^*]*\*\*:?|[^.!?]*:)?\s*$")
_TITLE_LINE = re.compile(r"^\s*(?:#+\s.*|\*\*[^*]+\*\*:?|[A-Z][^.!?]{0,60}:)\s*$")


def tidy(text: str, headings: bool = True) -> str:
    """What dropping sentences leaves behind, gone: list items with only a label left, and
    titles with nothing under them (``headings=False``: no title lines at all, for prose)."""
    lines = [line for line in text.splitlines() if not _EMPTY_ITEM.match(line) or not line.strip()]
    kept: list[str] = []
    for i, line in enumerate(lines):
        if _TITLE_LINE.match(line):
            rest = [x for x in lines[i + 1:] if x.strip()]
            markdown = line.lstrip().startswith("#")  # a structure asked for (meeting notes)
            if not headings or (not markdown and (not rest or _TITLE_LINE.match(rest[0]))):
                continue
        kept.append(line)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()
