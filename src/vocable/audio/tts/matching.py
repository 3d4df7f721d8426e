"""Voice matching: the closest available voice, moved toward a reference voice with WORLD.

Not cloning (no network here learns the reference's voice); named ``matched`` wherever it shows.
Given a reference (3-10 s of someone speaking):

1. ``VoiceProfile`` of the reference and of each candidate voice (the candidate's from a fixed
   calibration text it speaks once): its CAM++ embedding, its log-F0 mean and spread over voiced
   frames, and its mean log spectral envelope over voiced frames (WORLD's CheapTrick).
2. The candidate whose embedding is closest to the reference's is chosen.
3. Its speech is analysed with WORLD (DIO + StoneMask F0, CheapTrick envelope, D4C aperiodicity)
   and resynthesised with (a) its log-F0 moved to the reference's mean and spread, (b) its
   envelope's frequency axis warped by ``alpha`` (a vocal-tract length change: formants move
   together), and (c) the remaining average-envelope difference to the reference applied,
   smoothed, with strength ``beta`` (timbre and the recording's colour).
4. ``alpha`` and ``beta`` are chosen per reference by the speaker embedding itself: a few
   settings are tried on the calibration speech and the one whose CAM++ embedding is closest to
   the reference's is kept, the mildest warp of those within ``SIMILARITY_SLACK`` of the best
   (``MatchPlan.similarity`` is that achieved cosine).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vocable.audio.tts.speaker import SpeakerEncoder

FRAME_MS = 5.0
F0_FLOOR, F0_CEIL = 60.0, 500.0
ALPHAS = (0.88, 0.94, 1.0, 1.06, 1.12, 1.18)  # tried at beta 1, then BETAS at the chosen alpha
# Of warps within this much similarity of the best, the mildest is kept: a strong warp costs
# intelligibility (bench/tts.py: WER 0.04 → 0.10 at 1.22 for a similarity gain within noise).
SIMILARITY_SLACK = 0.02
BETAS = (0.0, 0.5, 1.0)
EQ_MAX_HZ = 7600.0  # the reference is decoded at 16 kHz: nothing is known of it above this
EQ_LIMIT_DB = 12.0
# Spoken once per voice: its profile comes from all of it, the search runs on its first sentences.
CALIBRATION_TEXT = (
    "The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background. "
    "It is easy to tell the depth of a well. These days a chicken leg is a rare dish."
)
SEARCH_S = 3.5  # of calibration speech each trial converts and embeds


def _world(samples: np.ndarray, rate: int):
    import pyworld

    x = np.ascontiguousarray(samples, dtype=np.float64)
    f0, t = pyworld.dio(x, rate, f0_floor=F0_FLOOR, f0_ceil=F0_CEIL, frame_period=FRAME_MS)
    f0 = pyworld.stonemask(x, f0, t, rate)
    sp = pyworld.cheaptrick(x, f0, t, rate)
    ap = pyworld.d4c(x, f0, t, rate)
    return f0, sp, ap


@dataclass(frozen=True)
class VoiceProfile:
    embedding: np.ndarray
    logf0_mean: float
    logf0_std: float
    log_envelope: np.ndarray  # mean log power envelope of voiced frames, on ``freqs``
    freqs: np.ndarray

    @classmethod
    def of(cls, samples: np.ndarray, rate: int, encoder: SpeakerEncoder, analysis=None) -> VoiceProfile:
        f0, sp, _ = analysis if analysis is not None else _world(samples, rate)
        voiced = f0 > 0
        if voiced.sum() < 10:
            raise ValueError("no voiced speech")
        logf0 = np.log(f0[voiced])
        freqs = np.linspace(0, rate / 2, sp.shape[1])
        return cls(
            embedding=encoder.embed(samples, rate),
            logf0_mean=float(logf0.mean()), logf0_std=float(max(logf0.std(), 1e-3)),
            log_envelope=np.log(sp[voiced] + 1e-12).mean(0), freqs=freqs,
        )

    def envelope_on(self, freqs: np.ndarray) -> np.ndarray:
        return np.interp(freqs, self.freqs, self.log_envelope)


@dataclass(frozen=True)
class MatchPlan:
    """How to move one voice toward one reference, and how close that got."""

    target: VoiceProfile
    source: VoiceProfile
    alpha: float
    beta: float
    similarity: float  # CAM++ cosine of the converted calibration speech to the reference
    baseline: float  # the same, of the voice as it is


def _smooth(values: np.ndarray, width: int) -> np.ndarray:
    if width <= 1:
        return values
    kernel = np.hanning(width)
    kernel /= kernel.sum()
    padded = np.pad(values, width, mode="edge")
    return np.convolve(padded, kernel, mode="same")[width:-width]


def convert(
    samples: np.ndarray, rate: int, plan: MatchPlan, analysis=None
) -> np.ndarray:
    """``samples`` (the source voice) resynthesised toward ``plan.target``."""
    import pyworld

    f0, sp, ap = analysis if analysis is not None else _world(samples, rate)
    src, tgt = plan.source, plan.target
    voiced = f0 > 0
    new_f0 = np.zeros_like(f0)
    new_f0[voiced] = np.exp(
        (np.log(f0[voiced]) - src.logf0_mean) / src.logf0_std * tgt.logf0_std + tgt.logf0_mean
    )
    freqs = np.linspace(0, rate / 2, sp.shape[1])
    log_sp = np.log(sp + 1e-12)
    # frequency warp: the new envelope at f is the old one at f / alpha
    warped = np.stack([np.interp(freqs / plan.alpha, freqs, row) for row in log_sp])
    if plan.beta > 0:
        src_env = np.interp(freqs / plan.alpha, src.freqs, src.log_envelope)
        diff = tgt.envelope_on(freqs) - src_env
        diff -= diff[(freqs > 300) & (freqs < 3000)].mean()  # colour only; loudness is not copied
        limit = EQ_LIMIT_DB / 10 * np.log(10)
        diff = np.clip(_smooth(diff, max(3, sp.shape[1] // 24)), -limit, limit)
        diff[freqs > EQ_MAX_HZ] = diff[freqs <= EQ_MAX_HZ][-1] if (freqs <= EQ_MAX_HZ).any() else 0
        warped = warped + plan.beta * diff
    out = pyworld.synthesize(new_f0, np.exp(warped), ap, rate, FRAME_MS).astype(np.float32)
    peak = float(np.abs(out).max()) if out.size else 0.0
    ref_peak = float(np.abs(samples).max()) if samples.size else 0.0
    if peak > 1e-4:
        out *= (ref_peak or 0.9) / peak
    return out[: len(samples)]


class VoiceMatcher:
    """Plans a match for a reference, and converts speech with a plan."""

    def __init__(self, encoder: SpeakerEncoder):
        self.encoder = encoder

    def reference_profile(self, samples_16k: np.ndarray, rate: int = 16000) -> VoiceProfile:
        return VoiceProfile.of(samples_16k, rate, self.encoder)

    def plan(
        self, target: VoiceProfile, source: VoiceProfile, calibration: np.ndarray, rate: int,
        analysis=None,
    ) -> MatchPlan:
        """Try warps (then envelope strengths at the best warp) on the calibration speech; keep
        the setting whose embedding is closest to the reference."""
        calibration = calibration[: int(SEARCH_S * rate)]
        analysis = _world(calibration, rate)
        baseline = self.encoder.similarity(source.embedding, target.embedding)

        def score(alpha: float, beta: float) -> MatchPlan:
            trial = MatchPlan(target, source, alpha, beta, 0.0, baseline)
            out = convert(calibration, rate, trial, analysis)
            sim = self.encoder.similarity(self.encoder.embed(out, rate), target.embedding)
            return MatchPlan(target, source, alpha, beta, sim, baseline)

        trials = [score(a, 1.0) for a in ALPHAS]
        top = max(p.similarity for p in trials)
        best = min(
            (p for p in trials if p.similarity >= top - SIMILARITY_SLACK),
            key=lambda p: abs(np.log(p.alpha)),
        )
        for beta in BETAS:
            if beta != best.beta:
                trial = score(best.alpha, beta)
                if trial.similarity > best.similarity:
                    best = trial
        return best
