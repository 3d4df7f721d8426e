"""Translation behind one seam, with two kinds of backend.

* ``llm`` (the default, always available): the local LLM, with numbers, amounts, dates, times,
  e-mails and URLs protected (``vocable.translation.protect``: placeholders before, restored and checked
  after) and the output language verified. Languages: ``LLM_LANGUAGES``, any pair among them.
* CTranslate2 NMT (NLLB-200 or MADLAD-400): a real translation model, much faster and better,
  that an operator installs with ``vocable models pull nllb-200-distilled-600M`` (or
  ``madlad400-3b-mt``) where a network is available: the hub model is converted to CTranslate2
  int8 into ``<model_dir>/translation/<id>/``. Installed models are picked up on start.

``Translator.translate(texts, source, target, backend=None)`` is what the API calls. An
unsupported pair raises ``UnsupportedPair`` naming what each backend supports.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from vocable.languages import WHISPER_LANGUAGES
from vocable.translation.protect import (
    PlaceholderMismatch,
    digits_for_words,
    protect,
    render,
    restore,
)

log = logging.getLogger("vocable.translation.translator")

# Languages the bundled LLM (Qwen2.5) writes well enough to be offered, any pair among them.
LLM_LANGUAGES = ("en", "es", "fr", "de", "it", "pt", "nl")
MAX_CHUNK_CHARS = 700  # longer texts are translated a few sentences at a time
VERIFY_MIN_LETTERS = 12  # shorter outputs are too short to identify their language reliably


class UnsupportedPair(ValueError):
    pass


class TranslationFailed(RuntimeError):
    """The backend produced no output that passed the checks (HTTP 503)."""


class Backend(Protocol):
    id: str
    model: str

    def languages(self) -> list[str]: ...
    def available(self) -> bool: ...
    def translate(self, texts: list[str], source: str, target: str, client: str = "") -> list[str]: ...


def language_name(code: str) -> str:
    return WHISPER_LANGUAGES.get(code, code).title()


# -- the LLM backend ------------------------------------------------------------------------------
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
        if not re.search(r"[^\W\d_]", PLACEHOLDER_STRIP.sub("", masked)):
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
        parts = PLACEHOLDER_SPLIT.split(masked)  # text, n, text, n, ..., text
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


PLACEHOLDER_STRIP = re.compile(r"⟦\d+⟧")
PLACEHOLDER_SPLIT = re.compile(r"⟦(\d+)⟧")


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


# -- CTranslate2 NMT backends ---------------------------------------------------------------------
@dataclass(frozen=True)
class NMTSpec:
    id: str
    name: str
    hub_repo: str  # the original model; `vocable models pull` converts it to CTranslate2
    family: str  # "nllb" | "madlad"


NMT_MODELS: dict[str, NMTSpec] = {
    spec.id: spec for spec in (
        NMTSpec("nllb-200-distilled-600M", "NLLB-200 distilled 600M", "facebook/nllb-200-distilled-600M", "nllb"),
        NMTSpec("nllb-200-distilled-1.3B", "NLLB-200 distilled 1.3B", "facebook/nllb-200-distilled-1.3B", "nllb"),
        NMTSpec("madlad400-3b-mt", "MADLAD-400 3B MT", "google/madlad400-3b-mt", "madlad"),
    )
}

# ISO 639-1 → FLORES-200 code used by NLLB, for the languages Whisper knows that NLLB covers.
NLLB_CODES: dict[str, str] = {
    "af": "afr_Latn", "am": "amh_Ethi", "ar": "arb_Arab", "as": "asm_Beng", "az": "azj_Latn",
    "ba": "bak_Cyrl", "be": "bel_Cyrl", "bg": "bul_Cyrl", "bn": "ben_Beng", "bo": "bod_Tibt",
    "bs": "bos_Latn", "ca": "cat_Latn", "cs": "ces_Latn", "cy": "cym_Latn", "da": "dan_Latn",
    "de": "deu_Latn", "el": "ell_Grek", "en": "eng_Latn", "es": "spa_Latn", "et": "est_Latn",
    "eu": "eus_Latn", "fa": "pes_Arab", "fi": "fin_Latn", "fo": "fao_Latn", "fr": "fra_Latn",
    "gl": "glg_Latn", "gu": "guj_Gujr", "ha": "hau_Latn", "he": "heb_Hebr", "hi": "hin_Deva",
    "hr": "hrv_Latn", "ht": "hat_Latn", "hu": "hun_Latn", "hy": "hye_Armn", "id": "ind_Latn",
    "is": "isl_Latn", "it": "ita_Latn", "ja": "jpn_Jpan", "jw": "jav_Latn", "ka": "kat_Geor",
    "kk": "kaz_Cyrl", "km": "khm_Khmr", "kn": "kan_Knda", "ko": "kor_Hang", "lb": "ltz_Latn",
    "ln": "lin_Latn", "lo": "lao_Laoo", "lt": "lit_Latn", "lv": "lvs_Latn", "mg": "plt_Latn",
    "mi": "mri_Latn", "mk": "mkd_Cyrl", "ml": "mal_Mlym", "mn": "khk_Cyrl", "mr": "mar_Deva",
    "ms": "zsm_Latn", "mt": "mlt_Latn", "my": "mya_Mymr", "ne": "npi_Deva", "nl": "nld_Latn",
    "nn": "nno_Latn", "no": "nob_Latn", "oc": "oci_Latn", "pa": "pan_Guru", "pl": "pol_Latn",
    "ps": "pbt_Arab", "pt": "por_Latn", "ro": "ron_Latn", "ru": "rus_Cyrl", "sa": "san_Deva",
    "sd": "snd_Arab", "si": "sin_Sinh", "sk": "slk_Latn", "sl": "slv_Latn", "sn": "sna_Latn",
    "so": "som_Latn", "sq": "als_Latn", "sr": "srp_Cyrl", "su": "sun_Latn", "sv": "swe_Latn",
    "sw": "swh_Latn", "ta": "tam_Taml", "te": "tel_Telu", "tg": "tgk_Cyrl", "th": "tha_Thai",
    "tk": "tuk_Latn", "tl": "tgl_Latn", "tr": "tur_Latn", "tt": "tat_Cyrl", "uk": "ukr_Cyrl",
    "ur": "urd_Arab", "uz": "uzn_Latn", "vi": "vie_Latn", "yi": "ydd_Hebr", "yo": "yor_Latn",
    "yue": "yue_Hant", "zh": "zho_Hans",
}


def nmt_dir(model_dir: Path, model_id: str) -> Path:
    return model_dir / "translation" / model_id


def nmt_installed(model_dir: Path) -> list[str]:
    return [m for m in NMT_MODELS if (nmt_dir(model_dir, m) / "model.bin").is_file()]


def pull_nmt(model_id: str, model_dir: Path) -> Path:
    """Operator action (needs a network): fetch the hub model and convert it to CTranslate2."""
    spec = NMT_MODELS.get(model_id)
    if spec is None:
        raise KeyError(f"Unknown translation model '{model_id}'. Known: {', '.join(NMT_MODELS)}.")
    import ctranslate2
    from transformers import AutoTokenizer

    target = nmt_dir(model_dir, model_id)
    staging = target.with_name(target.name + ".partial")
    target.parent.mkdir(parents=True, exist_ok=True)
    converter = ctranslate2.converters.TransformersConverter(spec.hub_repo)
    converter.convert(str(staging), quantization="int8", force=True)
    AutoTokenizer.from_pretrained(spec.hub_repo).save_pretrained(str(staging))
    (staging / "vocable.json").write_text(json.dumps({"id": spec.id, "family": spec.family}))
    if target.exists():
        import shutil

        shutil.rmtree(target)
    staging.rename(target)
    return target


class CT2Backend:
    """NLLB-200 / MADLAD-400 on CTranslate2; a batch is translated in one pass."""

    def __init__(self, spec: NMTSpec, path: Path, device: str = "cpu", threads: int = 0):
        self.spec = spec
        self.id = spec.id
        self.model = spec.id
        self.path = path
        self.device = device
        self.threads = threads
        self._loaded = None
        self._lock = threading.Lock()

    def languages(self) -> list[str]:
        if self.spec.family == "nllb":
            return sorted(NLLB_CODES)
        return sorted(WHISPER_LANGUAGES)  # MADLAD-400 covers 400+ languages, these among them

    def available(self) -> bool:
        return (self.path / "model.bin").is_file()

    def _load(self):
        if self._loaded is None:
            with self._lock:
                if self._loaded is None:
                    import ctranslate2
                    from transformers import AutoTokenizer

                    translator = ctranslate2.Translator(
                        str(self.path), device=self.device, compute_type="int8",
                        intra_threads=self.threads,
                    )
                    tokenizer = AutoTokenizer.from_pretrained(str(self.path), local_files_only=True)
                    self._loaded = (translator, tokenizer)
        return self._loaded

    def translate(self, texts: list[str], source: str, target: str, client: str = "") -> list[str]:
        translator, tokenizer = self._load()
        if self.spec.family == "nllb":
            tokenizer.src_lang = NLLB_CODES[source]
            batch = [tokenizer.convert_ids_to_tokens(tokenizer.encode(t)) for t in texts]
            results = translator.translate_batch(
                batch, target_prefix=[[NLLB_CODES[target]]] * len(texts), beam_size=2,
            )
            return [
                tokenizer.decode(tokenizer.convert_tokens_to_ids(r.hypotheses[0][1:]), skip_special_tokens=True)
                for r in results
            ]
        # MADLAD-400: the target language is a "<2xx>" token in front of the source.
        batch = [tokenizer.convert_ids_to_tokens(tokenizer.encode(f"<2{target}> {t}")) for t in texts]
        results = translator.translate_batch(batch, beam_size=2)
        return [
            tokenizer.decode(tokenizer.convert_tokens_to_ids(r.hypotheses[0]), skip_special_tokens=True)
            for r in results
        ]


# -- the seam the API uses ------------------------------------------------------------------------
@dataclass
class Translation:
    texts: list[str]
    source: str
    target: str
    backend: str
    model: str


class Translator:
    """Chooses a backend and checks the pair. Default: the best installed NMT model, else the LLM."""

    def __init__(self, llm, model_dir: Path, device: str = "cpu", preferred: str = "auto"):
        self.llm_backend = LLMBackend(llm)
        self.model_dir = model_dir
        self.device = device
        self.preferred = preferred
        self._nmt: dict[str, CT2Backend] = {}

    def backends(self) -> list[Backend]:
        found: list[Backend] = []
        for model_id in nmt_installed(self.model_dir):
            if model_id not in self._nmt:
                self._nmt[model_id] = CT2Backend(
                    NMT_MODELS[model_id], nmt_dir(self.model_dir, model_id), self.device
                )
            found.append(self._nmt[model_id])
        found.append(self.llm_backend)
        return found

    def backend(self, requested: str | None = None) -> Backend:
        wanted = requested or self.preferred
        available = self.backends()
        if wanted and wanted != "auto":
            for b in available:
                if b.id == wanted:
                    return b
            raise UnsupportedPair(
                f"Translation backend '{wanted}' is not installed. Installed: "
                f"{', '.join(b.id for b in available)}. Add an NMT model with "
                f"'vocable models pull {next(iter(NMT_MODELS))}'."
            )
        return available[0]

    def listing(self) -> list[dict]:
        installed = {b.id: b for b in self.backends()}
        default = self.backend().id
        out = []
        for b in installed.values():
            out.append({
                "id": b.id, "model": b.model, "installed": True, "default": b.id == default,
                "languages": [{"code": c, "name": WHISPER_LANGUAGES.get(c, c)} for c in b.languages()],
                "pairs": "any source to any target among the languages",
            })
        for spec in NMT_MODELS.values():
            if spec.id not in installed:
                out.append({
                    "id": spec.id, "model": spec.hub_repo, "installed": False, "default": False,
                    "install": f"vocable models pull {spec.id}",
                })
        return out

    def resolve_source(self, texts: list[str], source: str, backend: Backend) -> str:
        if source != "auto":
            return source
        return self.llm_backend.detect(" ".join(texts)[:5000], backend.languages())

    def translate(self, texts: list[str], source: str, target: str,
                  backend: str | None = None, client: str = "") -> Translation:
        chosen = self.backend(backend)
        langs = chosen.languages()
        source = self.resolve_source(texts, source, chosen)
        if source not in langs or target not in langs:
            bad = source if source not in langs else target
            raise UnsupportedPair(
                f"Unsupported language pair {source}→{target}: the '{chosen.id}' backend does not "
                f"translate {'from' if bad == source else 'into'} '{bad}'. It translates between: "
                f"{', '.join(langs)}. More languages: 'vocable models pull "
                f"{next(iter(NMT_MODELS))}' (NLLB-200, 200 languages)."
            )
        if source == target:
            return Translation(list(texts), source, target, chosen.id, chosen.model)
        out = chosen.translate(list(texts), source, target, client)
        return Translation(out, source, target, chosen.id, chosen.model)
