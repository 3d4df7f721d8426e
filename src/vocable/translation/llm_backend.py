"""Translation on the local LLM: numbers, amounts, dates, times, e-mails and URLs protected
(``vocable.translation.protect``: placeholders before, restored and checked after), long texts
translated a few sentences at a time, and the output language verified. Languages:
``LLM_LANGUAGES``, any pair among them.
"""

from __future__ import annotations

import logging
import re
import threading

from vocable.languages import LLM_LANGUAGES, WHISPER_LANGUAGES
from vocable.translation.base import TranslationFailed
from vocable.translation.protect import (
    PLACEHOLDER,
    PlaceholderMismatch,
    digits_for_words,
    protect,
    render,
    restore,
)

log = logging.getLogger("vocable.translation.llm_backend")

MAX_CHUNK_CHARS = 700  # longer texts are translated a few sentences at a time
VERIFY_MIN_LETTERS = 12  # shorter outputs are too short to identify their language reliably


def language_name(code: str) -> str:
    return WHISPER_LANGUAGES.get(code, code).title()


class LLMBackend:
    """Translation on the local LLM, with protected spans and a verified output language."""

    id = "llm"

    def __init__(self, llm, langid=None):
        self.llm = llm
        self._langid = langid
        self._lock = threading.Lock()

    @property
    def model(self) -> str:
        return self.llm.model_id

    def languages(self) -> list[str]:
        return list(LLM_LANGUAGES)

    def available(self) -> bool:
        return bool(self.llm.registry.installed())

    @property
    def langid(self):
        if self._langid is None:
            with self._lock:
                if self._langid is None:
                    from py3langid.langid import MODEL_FILE, LanguageIdentifier

                    self._langid = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        return self._langid

    def detect(self, text: str, among: list[str] | None = None) -> str:
        """The language of ``text`` among ``among`` (default: this backend's languages)."""
        ident = self.langid
        candidates = among or list(LLM_LANGUAGES)
        ranked = [(lang, p) for lang, p in ident.rank(text) if lang in candidates]
        return ranked[0][0] if ranked else candidates[0]

    def translate(self, texts: list[str], source: str, target: str, client: str = "") -> list[str]:
        # Each text is its own request with the same prompt and greedy decoding, so a text
        # translates the same alone or in a batch; the LLM queue interleaves them fairly.
        cache: dict[str, str] = {}
        out = []
        for text in texts:
            if text not in cache:
                cache[text] = self.translate_one(text, source, target, client)
            out.append(cache[text])
        return out

    def translate_one(self, text: str, source: str, target: str, client: str = "") -> str:
        if source == target or not text.strip():
            return text
        pieces = []
        for chunk, sep in _chunks(text):
            pieces.append(self._chunk(chunk, source, target, client) + sep)
        return "".join(pieces)

    def _chunk(self, text: str, source: str, target: str, client: str) -> str:
        if source == "en":
            text = digits_for_words(text)
        masked, spans = protect(text)
        if not re.search(r"[^\W\d_]", PLACEHOLDER.sub("", masked)):
            # Nothing but protected values and punctuation: nothing to translate.
            return restore(masked, spans, target)
        lead, body, trail = _split_ws(masked)
        attempts = (False, True)
        problem = ""
        for strict in attempts:
            raw = self.llm.complete(
                _messages(body, source, target, bool(spans), strict),
                max_tokens=min(1024, 64 + 3 * len(body)), temperature=0.0, client=client,
                cache_prompt=False,  # same text, same translation, alone or in a batch
            )
            candidate = _clean_output(raw)
            try:
                restored = restore(candidate, spans, target)
            except PlaceholderMismatch as exc:
                problem = str(exc)
                continue
            if not self._is_language(restored, source, target):
                problem = f"output is not in {language_name(target)}"
                continue
            return lead + restored + trail
        if spans:
            # Last resort that cannot lose a value: translate the words between protected spans
            # separately and put the values back in place.
            log.info("translation fell back to piecewise (%s)", problem)
            return lead + self._piecewise(body, spans, source, target, client) + trail
        raise TranslationFailed(
            f"The language model could not produce a verified {language_name(target)} "
            f"translation ({problem})."
        )

    def _piecewise(self, masked: str, spans, source: str, target: str, client: str) -> str:
        parts = PLACEHOLDER.split(masked)  # text, n, text, n, ..., text
        out = []
        for k, part in enumerate(parts):
            if k % 2 == 1:
                out.append(render(spans[int(part) - 1], target))
            elif re.search(r"[^\W\d_]", part):
                lead, body, trail = _split_ws(part)
                raw = self.llm.complete(
                    _messages(body, source, target, False, True),
                    max_tokens=min(512, 32 + 3 * len(body)), temperature=0.0, client=client,
                    cache_prompt=False,
                )
                out.append(lead + _clean_output(raw) + trail)
            else:
                out.append(part)
        return "".join(out)

    def _is_language(self, text: str, source: str, target: str) -> bool:
        letters = re.sub(r"[\W\d_]", "", text)
        if len(letters) < VERIFY_MIN_LETTERS:
            return True
        among = sorted({source, target} | set(LLM_LANGUAGES))
        return self.detect(text, among) == target


def _split_ws(text: str) -> tuple[str, str, str]:
    body = text.strip()
    if not body:
        return text, "", ""
    start = text.index(body)
    return text[:start], body, text[start + len(body):]


def _chunks(text: str) -> list[tuple[str, str]]:
    """(chunk, separator after it): paragraphs, then groups of sentences up to MAX_CHUNK_CHARS."""
    out: list[tuple[str, str]] = []
    for para, sep in _split_keep(text, r"\n\s*\n"):
        if len(para) <= MAX_CHUNK_CHARS:
            out.append((para, sep))
            continue
        sentences = _split_keep(para, r"(?<=[.!?])\s+")
        group, group_sep = "", ""
        for sentence, ssep in sentences:
            if group and len(group) + len(group_sep) + len(sentence) > MAX_CHUNK_CHARS:
                out.append((group, group_sep))
                group, group_sep = sentence, ssep
            else:
                group = group + group_sep + sentence if group else sentence
                group_sep = ssep
        out.append((group, group_sep + sep if group_sep or sep else ""))
    return out


def _split_keep(text: str, pattern: str) -> list[tuple[str, str]]:
    out = []
    pos = 0
    for m in re.finditer(pattern, text):
        out.append((text[pos:m.start()], m.group(0)))
        pos = m.end()
    out.append((text[pos:], ""))
    return [(t, s) for t, s in out if t or s]


# One hand-written sentence per language, the same meaning in each: a worked example shows a
# small model what to do with markers better than instructions alone.
EXAMPLES: dict[str, tuple[str, str]] = {
    # language: (with markers, without)
    "en": ("The invoice of ⟦1⟧ is due on ⟦2⟧ at ⟦3⟧, and we expect ⟦4⟧ guests.",
           "The invoice is due next week, and we expect many guests."),
    "es": ("La factura de ⟦1⟧ vence el ⟦2⟧ a las ⟦3⟧, y esperamos ⟦4⟧ invitados.",
           "La factura vence la próxima semana, y esperamos muchos invitados."),
    "fr": ("La facture de ⟦1⟧ est due le ⟦2⟧ à ⟦3⟧, et nous attendons ⟦4⟧ invités.",
           "La facture est due la semaine prochaine, et nous attendons beaucoup d'invités."),
    "de": ("Die Rechnung über ⟦1⟧ ist am ⟦2⟧ um ⟦3⟧ fällig, und wir erwarten ⟦4⟧ Gäste.",
           "Die Rechnung ist nächste Woche fällig, und wir erwarten viele Gäste."),
    "it": ("La fattura di ⟦1⟧ scade il ⟦2⟧ alle ⟦3⟧, e aspettiamo ⟦4⟧ ospiti.",
           "La fattura scade la prossima settimana, e aspettiamo molti ospiti."),
    "pt": ("A fatura de ⟦1⟧ vence em ⟦2⟧ às ⟦3⟧, e esperamos ⟦4⟧ convidados.",
           "A fatura vence na próxima semana, e esperamos muitos convidados."),
    "nl": ("De factuur van ⟦1⟧ moet op ⟦2⟧ om ⟦3⟧ betaald zijn, en we verwachten ⟦4⟧ gasten.",
           "De factuur moet volgende week betaald zijn, en we verwachten veel gasten."),
}


def _messages(text: str, source: str, target: str, has_placeholders: bool, strict: bool) -> list[dict]:
    src, tgt = language_name(source), language_name(target)
    system = (
        f"You are a professional translator from {src} to {tgt}. Translate the user's text into "
        f"fluent, correct {tgt}. Reply with the translation only: no notes, no quotes, no "
        "explanations."
    )
    if has_placeholders:
        system += (
            " Markers like ⟦1⟧ stand for numbers, dates, times, amounts, e-mails or links: copy "
            "every marker into the translation exactly once, unchanged, where it belongs in the "
            f"{tgt} sentence."
        )
    if strict:
        system += f" Write in {tgt} only."
    messages = [{"role": "system", "content": system}]
    if source in EXAMPLES and target in EXAMPLES:
        k = 0 if has_placeholders else 1
        messages += [{"role": "user", "content": EXAMPLES[source][k]},
                     {"role": "assistant", "content": EXAMPLES[target][k]}]
    return messages + [{"role": "user", "content": text}]


def _clean_output(raw: str) -> str:
    text = raw.strip()
    # Small models sometimes wrap the answer in quotes or a code fence, or label it.
    text = re.sub(r"^```\w*\s*|\s*```$", "", text)
    text = re.sub(r"^(translation|traducción|traduction|übersetzung|traduzione|tradução|vertaling)\s*:\s*",
                  "", text, flags=re.IGNORECASE)
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'“”«»":
        text = text[1:-1].strip()
    return text
