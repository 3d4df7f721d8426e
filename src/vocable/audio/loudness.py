"""Loudness: ITU-R BS.1770-4 integrated loudness as ``pyloudnorm`` implements it, measured block by
block (flat memory on a two-hour file), true peak by 4x oversampling, and a look-ahead true-peak
limiter so that normalising to -16 LUFS never pushes a peak over the -1 dBTP ceiling (or clips).

* ``LoudnessMeter``: pyloudnorm's K-weighting filters (its ``Meter``'s two biquads, run with
  carried state) and its gating (400 ms blocks every 100 ms, -70 LUFS absolute and -10 LU relative
  gates), fed piece by piece; ``integrated()`` equals ``pyloudnorm.Meter.integrated_loudness`` of
  the whole signal (tests/audio/test_loudness.py checks it).
* ``true_peak``: pyloudnorm measures sample peaks only; BS.1770-4 Annex 2 measures the true peak
  on the signal oversampled 4x (at 16 kHz and above). Here the 4x interpolation is
  ``scipy.signal.resample_poly``'s Kaiser-windowed sinc polyphase filter (in place of the Annex's
  48-tap example filter, same purpose), computed on blocks with context on both sides.
* ``limiter_gain``: the gain curve that keeps ``gain * x`` at or under a true-peak ceiling: the
  needed reduction at each sample, held over a look-ahead window on both sides (minimum filter),
  then smoothed by a moving average no wider than that window, so the smoothed gain at a peak is
  never above what the peak needs.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.ndimage import minimum_filter1d, uniform_filter1d
from scipy.signal import lfilter, resample_poly

TARGET_LUFS = -16.0
CEILING_DBTP = -1.0
BLOCK_S = 0.4  # gating block (BS.1770)
STEP_S = 0.1  # 75 % overlap
ABSOLUTE_GATE = -70.0
RELATIVE_GATE = -10.0
OVERSAMPLE = 4
PEAK_CONTEXT = 64  # input samples either side of a block the interpolation filter needs
# Limiter: the gain reaches its value HOLD samples before a peak and keeps it HOLD after; it is
# smoothed over 2 * SMOOTH + 1 samples (SMOOTH <= HOLD). At 16 kHz: 5 ms hold, 10 ms smoothing.
LIMITER_HOLD_S = 0.005
LIMITER_SMOOTH_S = 0.004
LIMITER_MARGIN_DB = 0.1  # aim this much under the ceiling (interpolation between gain steps)


def db(value: float) -> float:
    return 20.0 * math.log10(value) if value > 0 else -math.inf


def gain_of(decibels: float) -> float:
    return 10.0 ** (decibels / 20.0)


class LoudnessMeter:
    """Integrated loudness of a mono signal fed piece by piece (``feed``), read with
    ``integrated()`` (LUFS; -inf for silence). Memory: one float per 100 ms of audio."""

    def __init__(self, rate: int):
        import pyloudnorm

        if rate % 10:
            raise ValueError("the loudness meter needs a sample rate divisible by 10")
        self.rate = rate
        meter = pyloudnorm.Meter(rate)  # the BS.1770 K-weighting filters, as pyloudnorm designs them
        self._stages = [
            (np.asarray(f.b, dtype=np.float64), np.asarray(f.a, dtype=np.float64),
             float(getattr(f, "passband_gain", 1.0)))
            for f in meter._filters.values()
        ]
        self._zi = [np.zeros(max(len(a), len(b)) - 1) for b, a, _ in self._stages]
        self.hop = int(rate * STEP_S)
        self._hops: list[float] = []  # sum of squares of the weighted signal, per 100 ms
        self._partial = 0.0
        self._partial_n = 0
        self.samples = 0

    def feed(self, samples: np.ndarray) -> None:
        x = np.asarray(samples, dtype=np.float64).reshape(-1)
        if not x.size:
            return
        self.samples += x.size
        for i, (b, a, passband_gain) in enumerate(self._stages):
            x, self._zi[i] = lfilter(b, a, x, zi=self._zi[i])
            if passband_gain != 1.0:
                x = x * passband_gain
        squares = np.square(x)
        start = 0
        if self._partial_n:
            take = min(self.hop - self._partial_n, squares.size)
            self._partial += float(squares[:take].sum())
            self._partial_n += take
            start = take
            if self._partial_n == self.hop:
                self._hops.append(self._partial)
                self._partial, self._partial_n = 0.0, 0
        rest = squares[start:]
        whole = rest.size // self.hop
        if whole:
            self._hops.extend(rest[: whole * self.hop].reshape(whole, self.hop).sum(axis=1).tolist())
        tail = rest[whole * self.hop:]
        if tail.size:
            self._partial += float(tail.sum())
            self._partial_n += tail.size

    def integrated(self) -> float:
        """Gated integrated loudness (LUFS), as pyloudnorm computes it. Shorter than one block
        (400 ms): the mean square of what there is."""
        hops = np.asarray(self._hops + ([self._partial] if self._partial_n else []))
        block = int(BLOCK_S * self.rate)
        duration = self.samples / self.rate
        if duration < BLOCK_S:
            z = np.array([hops.sum() / max(1, self.samples)])
        else:
            count = int(np.round((duration - BLOCK_S) / STEP_S)) + 1
            per = int(BLOCK_S / STEP_S)
            padded = np.concatenate([hops, np.zeros(max(0, count + per - hops.size))])
            sums = np.convolve(padded, np.ones(per), mode="valid")[:count]
            z = sums / block
        with np.errstate(divide="ignore"):
            levels = -0.691 + 10.0 * np.log10(z)
        gated = z[levels >= ABSOLUTE_GATE]
        if not gated.size:
            return -math.inf
        relative = -0.691 + 10.0 * math.log10(gated.mean()) + RELATIVE_GATE
        kept = z[(levels > relative) & (levels > ABSOLUTE_GATE)]
        if not kept.size:
            return -math.inf
        return -0.691 + 10.0 * math.log10(kept.mean())


def oversampled_peaks(x: np.ndarray, context_before: np.ndarray, context_after: np.ndarray) -> np.ndarray:
    """Per input sample n, the largest magnitude of the 4x oversampled signal in [n, n+1)."""
    x = np.asarray(x, dtype=np.float64)
    if not x.size:
        return np.zeros(0)
    before, after = np.asarray(context_before, np.float64), np.asarray(context_after, np.float64)
    joined = np.concatenate([before, x, after])
    up = resample_poly(joined, OVERSAMPLE, 1)
    start = before.size * OVERSAMPLE
    up = up[start:start + x.size * OVERSAMPLE]
    return np.maximum(np.abs(up).reshape(x.size, OVERSAMPLE).max(axis=1), np.abs(x))


def true_peak(x: np.ndarray) -> float:
    """True peak (linear) of a whole (short) signal."""
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    return float(oversampled_peaks(x, np.zeros(0), np.zeros(0)).max()) if x.size else 0.0


def limiter_gain(peaks: np.ndarray, ceiling: float, rate: int) -> np.ndarray:
    """Gain (<= 1) per sample so that ``gain * peaks`` stays at or under ``ceiling``. ``peaks``
    must carry ``limiter_context(rate)`` samples of context on each side; the result is for the
    middle part only."""
    hold, smooth = _limiter_widths(rate)
    context = hold + smooth
    with np.errstate(divide="ignore"):
        needed = np.minimum(1.0, ceiling / np.maximum(peaks, 1e-12))
    held = minimum_filter1d(needed, size=2 * hold + 1, mode="nearest")
    smoothed = np.minimum(uniform_filter1d(held, size=2 * smooth + 1, mode="nearest"), 1.0)
    return smoothed[context:peaks.size - context] if peaks.size > 2 * context else smoothed


def limiter_context(rate: int) -> int:
    hold, smooth = _limiter_widths(rate)
    return hold + smooth


def _limiter_widths(rate: int) -> tuple[int, int]:
    return max(1, round(LIMITER_HOLD_S * rate)), max(1, round(LIMITER_SMOOTH_S * rate))
