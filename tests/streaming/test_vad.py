"""Incremental VAD: the same probabilities as faster-whisper's whole-file pass."""

from __future__ import annotations

import numpy as np
from faster_whisper.vad import get_vad_model

from vocable.audio import decode_audio
from vocable.streaming.vad import VAD_WINDOW, StreamingVad


def test_incremental_vad_matches_whole_file_vad(data_dir):
    audio = decode_audio(data_dir / "call-2spk.wav")
    audio = audio[: len(audio) // VAD_WINDOW * VAD_WINDOW]
    whole = np.asarray(get_vad_model()(audio)).reshape(-1)
    vad, pieces, start = StreamingVad(), [], 0
    rng = np.random.default_rng(1)
    while start < len(audio):
        n = VAD_WINDOW * int(rng.integers(1, 40))
        pieces.append(vad(audio[start:start + n].reshape(-1, VAD_WINDOW)))
        start += n
    assert np.allclose(np.concatenate(pieces), whole, atol=1e-5)
