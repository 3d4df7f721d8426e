"""CTranslate2 NMT backends (NLLB-200, MADLAD-400): the backend that runs an installed model,
loaded through the model pool. Which models exist, where an installed one lives and the
operator's pull (hub model converted to int8): ``vocable.registry.translation``.
"""

from __future__ import annotations

from pathlib import Path

from vocable.languages import WHISPER_LANGUAGES
from vocable.registry.pool import ModelPool
from vocable.registry.translation import FAMILY, NMTSpec

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


class CT2Backend:
    """NLLB-200 / MADLAD-400 on CTranslate2; a batch is translated in one pass."""

    def __init__(
        self, spec: NMTSpec, path: Path, device: str = "cpu", threads: int = 0,
        pool: ModelPool | None = None,
    ):
        self.spec = spec
        self.id = spec.id
        self.model = spec.id
        self.path = path
        self.device = device
        self.threads = threads
        self.pool = pool if pool is not None else ModelPool()

    def languages(self) -> list[str]:
        if self.spec.architecture == "nllb":
            return sorted(NLLB_CODES)
        return sorted(WHISPER_LANGUAGES)  # MADLAD-400 covers 400+ languages, these among them

    def available(self) -> bool:
        return (self.path / "model.bin").is_file()

    def _load(self):
        """(translator, tokenizer), loaded once through the pool."""

        def load():
            import ctranslate2
            from transformers import AutoTokenizer

            translator = ctranslate2.Translator(
                str(self.path), device=self.device, compute_type="int8",
                intra_threads=self.threads,
            )
            tokenizer = AutoTokenizer.from_pretrained(str(self.path), local_files_only=True)
            return translator, tokenizer

        return self.pool.get(FAMILY, self.id, load)

    def translate(self, texts: list[str], source: str, target: str, client: str = "") -> list[str]:
        translator, tokenizer = self._load()
        if self.spec.architecture == "nllb":
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
