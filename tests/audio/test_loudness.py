"""Loudness: the streamed BS.1770 meter equals pyloudnorm's, true peak sees between samples, the
limiter holds its ceiling (no model needed)."""

from __future__ import annotations

import numpy as np
import pyloudnorm
import pytest

from vocable.audio import decode_audio
from vocable.audio.loudness import (
    LoudnessMeter,
    db,
    limiter_context,
    limiter_gain,
    oversampled_peaks,
    true_peak,
)


@pytest.mark.parametrize("name", ["jfk.wav", "call-2spk.wav"])
def test_meter_fed_in_pieces_equals_pyloudnorm(data_dir, name):
    audio = decode_audio(data_dir / name)
    meter = LoudnessMeter(16000)
    for start in range(0, audio.size, 4321):  # pieces that match no block or hop boundary
        meter.feed(audio[start:start + 4321])
    expected = pyloudnorm.Meter(16000).integrated_loudness(audio.astype(np.float64))
    assert meter.integrated() == pytest.approx(expected, abs=1e-6)


def test_silence_has_no_loudness():
    meter = LoudnessMeter(16000)
    meter.feed(np.zeros(16000 * 3, dtype=np.float32))
    assert meter.integrated() == -np.inf


def test_true_peak_sees_the_peak_between_samples():
    # A sine at a quarter of the rate, sampled 45 degrees off its crest: every sample is at
    # 0.707 of the wave's true peak of 1.0 (sample peak -3 dB, true peak 0 dBTP).
    n = np.arange(16000)
    tone = np.sin(2 * np.pi * n / 4 + np.pi / 4)
    assert np.abs(tone).max() == pytest.approx(0.7071, abs=1e-3)
    assert db(true_peak(tone)) == pytest.approx(0.0, abs=0.2)


def test_limiter_holds_the_ceiling(data_dir):
    audio = decode_audio(data_dir / "call-2spk.wav").astype(np.float64) * 8.0  # peaks up to +24 dB
    ctx = limiter_context(16000) + 64
    peaks = oversampled_peaks(audio, np.zeros(64), np.zeros(64))
    padded = np.concatenate([np.zeros(ctx - 64), peaks, np.zeros(ctx - 64)])
    gain = limiter_gain(padded, 0.5, 16000)
    assert gain.size == audio.size and gain.max() <= 1.0
    assert db(true_peak(audio * gain)) <= db(0.5) + 0.3
