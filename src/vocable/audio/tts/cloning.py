"""Zero-shot voice cloning: the backend seam.

No package ships zero-shot cloning weights, so nothing here is bundled. An operator installs a
model with ``vocable models pull f5-tts`` (where a network exists) or by making a directory
``<model_dir>/tts/<id>/`` with a ``vocable.json`` naming its ``kind``; ``BACKENDS`` maps a kind
to the factory that loads such a directory. When one is installed, a request with a reference is
spoken by it (``X-Voice: cloned``).

A backend is a callable ``factory(path) -> Cloner``; a ``Cloner`` speaks one piece of text in the
reference's voice: ``clone(text, reference, reference_rate, reference_text, speed) -> (samples,
rate)``. ``reference_text`` is what the reference says (F5-TTS needs it), from the server's own
transcription.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np


class CloningUnavailable(RuntimeError):
    """An installed cloning model cannot be loaded (its runtime package is missing, a file is)."""


class Cloner(Protocol):
    sample_rate: int

    def clone(
        self, text: str, reference: np.ndarray, reference_rate: int, reference_text: str,
        speed: float = 1.0,
    ) -> np.ndarray: ...


ClonerFactory = Callable[[Path], Cloner]


class F5Cloner:
    """F5-TTS (flow matching over mel frames, Vocos vocoder), through the ``f5-tts`` package's API.

    The model directory holds what ``vocable models pull f5-tts`` fetched: a ``*.safetensors``
    checkpoint and ``vocab.txt``, and optionally ``vocos/`` (the vocoder, config.yaml +
    pytorch_model.bin) so that nothing is fetched at load time."""

    sample_rate = 24000

    def __init__(self, path: Path):
        try:
            from f5_tts.api import F5TTS
        except ImportError as exc:
            raise CloningUnavailable(
                f"The cloning model in {path} needs the f5-tts package (pip install f5-tts)."
            ) from exc
        checkpoints = sorted(path.glob("*.safetensors")) + sorted(path.glob("*.pt"))
        vocab = path / "vocab.txt"
        if not checkpoints or not vocab.is_file():
            raise CloningUnavailable(f"{path} lacks an F5-TTS checkpoint and vocab.txt.")
        vocoder = path / "vocos"
        self._model = F5TTS(
            ckpt_file=str(checkpoints[0]), vocab_file=str(vocab), device="cpu",
            vocoder_local_path=str(vocoder) if vocoder.is_dir() else None,
        )

    def clone(self, text, reference, reference_rate, reference_text, speed=1.0):
        import tempfile

        import soundfile as sf

        with tempfile.NamedTemporaryFile(suffix=".wav") as ref:
            sf.write(ref.name, reference, reference_rate)
            wav, rate, _ = self._model.infer(
                ref_file=ref.name, ref_text=reference_text, gen_text=text, speed=speed,
                remove_silence=False, show_info=lambda *a, **k: None,
            )
        self.sample_rate = int(rate)
        return np.asarray(wav, dtype=np.float32)


BACKENDS: dict[str, ClonerFactory] = {"f5-tts": F5Cloner}
