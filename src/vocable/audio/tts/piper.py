"""Piper voices (VITS graphs in ONNX, espeak-ng phonemes): one sentence in, float samples out.

Loaded through the model pool by ``TTSService`` (family ``tts``, the voice's id). ``piper-tts``
brings the ONNX Runtime session and the espeak-ng phonemizer with its data (the phonemizer is one
process-wide espeak-ng instance, so one sentence is spoken at a time per process).
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

# espeak-ng (inside piper) is a process-wide C library: one phonemization at a time.
_ESPEAK_LOCK = threading.Lock()
PEAK = 0.9  # each sentence's loudest sample: Piper's raw output peaks anywhere from 0.3 to 1.0


class PiperEngine:
    def __init__(self, model: Path, config: Path, threads: int = 0):
        import onnxruntime
        from piper import PiperVoice
        from piper.config import PiperConfig

        self._voice = PiperVoice.load(model, config)
        if threads:
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = threads
            self._voice.session = onnxruntime.InferenceSession(
                str(model), options, providers=["CPUExecutionProvider"]
            )
        self.config: PiperConfig = self._voice.config
        self.sample_rate: int = self.config.sample_rate
        self.speakers = self.config.num_speakers

    def synthesize(self, text: str, speed: float = 1.0) -> np.ndarray:
        """``text`` (one sentence or a few, already normalized) as float32 samples in [-1, 1]."""
        from piper.config import SynthesisConfig

        config = SynthesisConfig(
            length_scale=(self.config.length_scale or 1.0) / max(speed, 0.05),
            normalize_audio=False,
        )
        pieces: list[np.ndarray] = []
        with _ESPEAK_LOCK:
            for chunk in self._voice.synthesize(text, config):
                pieces.append(chunk.audio_float_array)
        if not pieces:
            return np.zeros(0, dtype=np.float32)
        audio = np.concatenate(pieces).astype(np.float32)
        peak = float(np.abs(audio).max()) if audio.size else 0.0
        if peak > 1e-4:
            audio *= PEAK / peak
        return audio
