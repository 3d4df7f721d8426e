"""Signal measures shared by the tests, ``bench/enhance.py`` and the enhancement code's checks:
SI-SDR and mixing at a chosen SNR."""

from __future__ import annotations

import numpy as np


def si_sdr(estimate: np.ndarray, reference: np.ndarray) -> float:
    """Scale-invariant signal-to-distortion ratio in dB (Le Roux et al., 2019)."""
    est = np.asarray(estimate, np.float64) - np.mean(estimate)
    ref = np.asarray(reference, np.float64) - np.mean(reference)
    n = min(est.size, ref.size)
    est, ref = est[:n], ref[:n]
    target = np.dot(est, ref) / max(np.dot(ref, ref), 1e-20) * ref
    error = est - target
    return float(10 * np.log10(max(np.dot(target, target), 1e-20) / max(np.dot(error, error), 1e-20)))


def mix_at_snr(speech: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """``speech`` plus ``noise`` (cut or repeated to its length) scaled to ``snr_db``."""
    speech = np.asarray(speech, np.float64)
    noise = np.resize(np.asarray(noise, np.float64), speech.size)
    scale = np.sqrt(np.mean(speech**2) / (np.mean(noise**2) * 10 ** (snr_db / 10)))
    return (speech + scale * noise).astype(np.float32)
