"""Voice activity over a stream: Silero VAD (shipped with faster-whisper), run incrementally on
32 ms windows."""

from __future__ import annotations

import numpy as np

VAD_WINDOW = 512  # Silero VAD frame at 16 kHz (32 ms)
VAD_CONTEXT = 64


class StreamingVad:
    """Silero VAD over a stream: same probabilities as faster-whisper's whole-file pass, carried
    across calls (LSTM state and the 64-sample context of the previous window)."""

    def __init__(self) -> None:
        from faster_whisper.vad import get_vad_model

        self._session = get_vad_model().session  # one ONNX session per process; run() is thread-safe
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(VAD_CONTEXT, dtype=np.float32)

    def __call__(self, windows: np.ndarray) -> np.ndarray:
        """Speech probability of each row of ``windows`` (shape (n, 512))."""
        if len(windows) == 0:
            return np.zeros(0, dtype=np.float32)
        context = np.concatenate([self._context[None], windows[:-1, -VAD_CONTEXT:]], axis=0)
        batch = np.concatenate([context, windows], axis=1)
        probs, self._h, self._c = self._session.run(
            None, {"input": batch, "h": self._h, "c": self._c}
        )
        self._context = windows[-1, -VAD_CONTEXT:].copy()
        return np.asarray(probs, dtype=np.float32).reshape(-1)
