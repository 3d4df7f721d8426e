"""The translation model registry: the CTranslate2 NMT models (NLLB-200, MADLAD-400) an operator
can install.

Their one source is the hub: ``vocable models pull <id>`` downloads the original model and converts
it to CTranslate2 int8 into ``<model_dir>/translation/<id>/`` (needs a network), where it is found
afterwards as a local directory. Nothing is bundled: without a pulled model, translation runs on
the LLM (``translation.llm_backend``).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from vocable.registry.sources import HubRepo, LocalPath, Source, hub_source

FAMILY = "translation"  # these models' name in the model pool and the listings
NMT_FILES = ("model.bin",)


@dataclass(frozen=True)
class NMTSpec:
    id: str
    name: str
    sources: tuple[Source, ...]  # the hub repository of the original model, converted on pull
    architecture: str  # "nllb" | "madlad"

    @property
    def source(self) -> str:
        return self.sources[0].kind

    @property
    def hub_repo(self) -> str:
        hub = hub_source(self.sources)
        return hub.repo if hub is not None else ""


NMT_MODELS: dict[str, NMTSpec] = {
    spec.id: spec for spec in (
        NMTSpec("nllb-200-distilled-600M", "NLLB-200 distilled 600M",
                (HubRepo("facebook/nllb-200-distilled-600M"),), "nllb"),
        NMTSpec("nllb-200-distilled-1.3B", "NLLB-200 distilled 1.3B",
                (HubRepo("facebook/nllb-200-distilled-1.3B"),), "nllb"),
        NMTSpec("madlad400-3b-mt", "MADLAD-400 3B MT", (HubRepo("google/madlad400-3b-mt"),), "madlad"),
    )
}


@dataclass
class TranslationRegistry:
    model_dir: Path  # the shared model dir; NMT models live in <model_dir>/translation/<id>/

    def all(self) -> list[NMTSpec]:
        return list(NMT_MODELS.values())

    def local(self, model_id: str) -> LocalPath:
        return LocalPath(self.model_dir / "translation" / model_id, NMT_FILES)

    def is_installed(self, model_id: str) -> bool:
        return model_id in NMT_MODELS and self.local(model_id).available()

    def installed(self) -> list[str]:
        return [m for m in NMT_MODELS if self.is_installed(m)]

    def path(self, model_id: str) -> Path:
        return self.local(model_id).fetch()

    def default_model(self, preferred: str = "auto") -> str | None:
        """The NMT model translation uses by default: the preferred one, or with "auto" the first
        installed; None means the LLM translates."""
        installed = self.installed()
        if preferred in installed:
            return preferred
        return installed[0] if preferred == "auto" and installed else None

    def pull(self, model_id: str) -> Path:
        """Operator action (needs a network): fetch the hub model and convert it to CTranslate2."""
        spec = NMT_MODELS.get(model_id)
        if spec is None:
            raise KeyError(f"Unknown translation model '{model_id}'. Known: {', '.join(NMT_MODELS)}.")
        import ctranslate2
        from transformers import AutoTokenizer

        target = self.local(model_id).path
        staging = target.with_name(target.name + ".partial")
        target.parent.mkdir(parents=True, exist_ok=True)
        converter = ctranslate2.converters.TransformersConverter(spec.hub_repo)
        converter.convert(str(staging), quantization="int8", force=True)
        AutoTokenizer.from_pretrained(spec.hub_repo).save_pretrained(str(staging))
        (staging / "vocable.json").write_text(json.dumps({"id": spec.id, "family": spec.architecture}))
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
        return target
