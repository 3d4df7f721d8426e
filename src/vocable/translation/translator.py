"""Translation behind one seam (``Translator``), with two kinds of backend (``base.Backend``).

* ``llm`` (the default, always available; ``llm_backend.py``): the local LLM, with numbers,
  amounts, dates, times, e-mails and URLs protected (``vocable.translation.protect``: placeholders
  before, restored and checked after) and the output language verified. Languages:
  ``LLM_LANGUAGES``, any pair among them.
* CTranslate2 NMT (NLLB-200 or MADLAD-400; ``nmt.py``): a real translation model, much faster and
  better, that an operator installs with ``vocable models pull nllb-200-distilled-600M`` (or
  ``madlad400-3b-mt``) where a network is available: the hub model is converted to CTranslate2
  int8 into ``<model_dir>/translation/<id>/``. Installed models are picked up on start.

``Translator.translate(texts, source, target, backend=None)`` is what the API calls. An
unsupported pair raises ``UnsupportedPair`` naming what each backend supports.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vocable.languages import WHISPER_LANGUAGES
from vocable.registry.pool import ModelPool
from vocable.registry.translation import NMT_MODELS, TranslationRegistry
from vocable.translation.base import Backend, UnsupportedPair
from vocable.translation.llm_backend import LLMBackend
from vocable.translation.nmt import CT2Backend


@dataclass
class Translation:
    texts: list[str]
    source: str
    target: str
    backend: str
    model: str


class Translator:
    """Chooses a backend and checks the pair. Default: the best installed NMT model, else the LLM."""

    def __init__(
        self, llm, model_dir: Path, device: str = "cpu", preferred: str = "auto",
        pool: ModelPool | None = None,
    ):
        self.llm_backend = LLMBackend(llm)
        self.model_dir = model_dir
        self.registry = TranslationRegistry(model_dir)
        self.device = device
        self.preferred = preferred
        # NMT models load through the process's model pool (without one: a pool of its own)
        self.pool = pool if pool is not None else ModelPool()
        self._nmt: dict[str, CT2Backend] = {}

    def backends(self) -> list[Backend]:
        found: list[Backend] = []
        for model_id in self.registry.installed():
            if model_id not in self._nmt:
                self._nmt[model_id] = CT2Backend(
                    NMT_MODELS[model_id], self.registry.path(model_id), self.device, pool=self.pool
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
