"""The enhancement pipeline: a media file in, denoised and loudness-normalised audio out, in any
of the encoder's formats. It knows nothing of HTTP: the route, the CLI and ``bench/enhance.py``
call ``enhance_file``.

Memory stays flat whatever the length: the file is decoded 30 s at a time and denoised block by
block (``DenoiseExecutor``), its 16 kHz float samples go to an unnamed temporary file while the
loudness meter reads them, then a second pass reads them back a block at a time (with context on
both sides for the true-peak interpolation, the limiter's look-ahead and the resampler), applies
the gain and the limiter, resamples and encodes into a second unnamed temporary file. Unnamed
(``tempfile.TemporaryFile``): nothing is ever visible on disk, and the space is freed when the
file is closed, on every path, crash included.

Loudness: -16 LUFS integrated (BS.1770-4, pyloudnorm's filters and gating), true peak at most
-1 dBTP (4x oversampled). A gain that would push peaks over the ceiling engages the look-ahead
limiter rather than lowering the whole file; the limited result is measured again and the gain
corrected (at most twice) so the loudness lands on the target. Without normalisation the
limiter still holds true peaks under 0 dBFS: the output never clips. Silence stays silence: no
gain for audio below the absolute gate, and at most ``MAX_GAIN_DB`` for very quiet audio.
"""

from __future__ import annotations

import math
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO, Self

import numpy as np
from scipy.signal import resample_poly

from vocable.audio.decode import SAMPLE_RATE, AudioError, iter_audio
from vocable.audio.encode import FORMATS, AudioEncoder
from vocable.audio.loudness import (
    CEILING_DBTP,
    LIMITER_MARGIN_DB,
    PEAK_CONTEXT,
    TARGET_LUFS,
    LoudnessMeter,
    gain_of,
    limiter_context,
    limiter_gain,
    oversampled_peaks,
)

OUTPUT_FORMATS = ("wav", "flac", "mp3", "ogg", "opus")
SAMPLE_RATES = (8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000)
MAX_GAIN_DB = 30.0  # very quiet audio is raised at most this much (residual noise stays low)
BLOCK = 30 * SAMPLE_RATE  # samples per block of the second pass
RESAMPLE_CONTEXT = SAMPLE_RATE // 5  # 0.2 s: a whole number of samples at every output rate
CORRECTIONS = 2  # re-renders when the limiter moved the loudness off the target
ON_TARGET_LU = 0.3


class EnhanceOptionsError(AudioError):
    """An option the pipeline cannot honour (a 400 for the caller)."""


@dataclass(frozen=True)
class EnhanceOptions:
    denoise: bool = True
    normalize: bool = True
    sample_rate: int | None = None  # None: 16 kHz, the rate everything is processed at
    format: str = "wav"

    def checked(self) -> EnhanceOptions:
        fmt = (self.format or "wav").strip().lower()
        if fmt not in OUTPUT_FORMATS:
            raise EnhanceOptionsError(
                f"Unknown format {self.format!r}: use one of {', '.join(OUTPUT_FORMATS)}."
            )
        rate = self.sample_rate or SAMPLE_RATE
        if rate not in SAMPLE_RATES:
            raise EnhanceOptionsError(
                f"Unsupported sample_rate {rate}: use one of {', '.join(map(str, SAMPLE_RATES))}."
            )
        return EnhanceOptions(self.denoise, self.normalize, rate, fmt)


@dataclass
class EnhancedAudio:
    file: BinaryIO  # unnamed temporary file holding the encoded audio, at offset 0; close it
    size: int  # bytes
    format: str
    media_type: str
    sample_rate: int
    duration: float  # seconds, as long as the input
    denoised: bool
    loudness_in: float  # LUFS before normalisation (after denoising)
    loudness_out: float  # LUFS of what is answered (measured at 16 kHz)
    true_peak_out: float  # dBTP of what is answered (measured at 16 kHz, 4x oversampled)
    gain_db: float
    limited: bool  # the limiter reduced some peaks
    processing_s: float

    def chunks(self, size: int = 1 << 16) -> Iterator[bytes]:
        """The encoded bytes, piece by piece; closes the file at the end (or when abandoned)."""
        try:
            while chunk := self.file.read(size):
                yield chunk
        finally:
            self.file.close()

    def close(self) -> None:
        self.file.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def enhance_file(
    path: str | Path,
    options: EnhanceOptions,
    denoiser=None,
    work_dir: str | Path | None = None,
) -> EnhancedAudio:
    """Enhance the media file at ``path``. ``denoiser``: a ``DenoiseExecutor`` (needed when
    ``options.denoise``). ``work_dir``: where the unnamed temporary files live."""
    options = options.checked()
    if options.denoise and denoiser is None:
        raise RuntimeError("denoising needs a DenoiseExecutor")
    started = time.monotonic()
    directory = str(work_dir) if work_dir is not None else None
    raw = tempfile.TemporaryFile(dir=directory)  # noqa: SIM115 - closed in the finally below
    out = None
    blocks: Iterable[np.ndarray] = iter_audio(path, window_s=30.0)
    if options.denoise:
        blocks = denoiser.process(blocks)  # holds the model until closed (below, on every path)
    try:
        meter = LoudnessMeter(SAMPLE_RATE)
        n = 0
        for block in blocks:
            block = np.asarray(block, dtype=np.float32)
            raw.write(block.tobytes())
            meter.feed(block)
            n += block.size
        if n == 0:
            raise AudioError("The file holds no decodable audio.")
        loudness_in = meter.integrated()
        gain_db = 0.0
        if options.normalize and math.isfinite(loudness_in):
            gain_db = min(TARGET_LUFS - loudness_in, MAX_GAIN_DB)
        ceiling = gain_of((CEILING_DBTP if options.normalize else 0.0) - LIMITER_MARGIN_DB)

        out = tempfile.TemporaryFile(dir=directory)  # noqa: SIM115 - the caller's to close
        for attempt in range(CORRECTIONS + 1):
            out.seek(0)
            out.truncate()
            result = _render(raw, n, gain_db, ceiling, options, out)
            loudness_out, peak, limited = result
            off = TARGET_LUFS - loudness_out
            if (not options.normalize or not limited or not math.isfinite(loudness_out)
                    or abs(off) <= ON_TARGET_LU or gain_db + off > MAX_GAIN_DB
                    or attempt == CORRECTIONS):
                break
            gain_db += off
        size = out.tell()
        out.seek(0)
        fmt = FORMATS[options.format]
        return EnhancedAudio(
            file=out, size=size, format=options.format, media_type=fmt.media_type,
            sample_rate=options.sample_rate, duration=round(n / SAMPLE_RATE, 3),
            denoised=options.denoise, loudness_in=loudness_in, loudness_out=loudness_out,
            true_peak_out=20 * math.log10(peak) if peak > 0 else -math.inf,
            gain_db=gain_db, limited=limited, processing_s=time.monotonic() - started,
        )
    except BaseException:
        if out is not None:
            out.close()
        raise
    finally:
        close = getattr(blocks, "close", None)
        if close is not None:
            close()
        raw.close()


def _read(raw: BinaryIO, n: int, lo: int, hi: int) -> np.ndarray:
    """Samples [lo, hi) of the raw float file, zeros outside [0, n)."""
    x = np.zeros(hi - lo, dtype=np.float64)
    a, b = max(lo, 0), min(hi, n)
    if b > a:
        raw.seek(4 * a)
        x[a - lo:b - lo] = np.frombuffer(raw.read(4 * (b - a)), dtype=np.float32)
    return x


def _render(
    raw: BinaryIO, n: int, gain_db: float, ceiling: float, options: EnhanceOptions, out: BinaryIO
) -> tuple[float, float, bool]:
    """Gain, limiter, resampling and encoding of the whole raw signal into ``out``. Returns the
    loudness (LUFS) and true peak (linear) of the result at 16 kHz, and whether it limited."""
    rate = options.sample_rate
    ratio = Fraction(rate, SAMPLE_RATE)
    up, down = ratio.numerator, ratio.denominator
    total_out = n * up // down
    encoder = AudioEncoder(options.format, rate, length=total_out)
    meter = LoudnessMeter(SAMPLE_RATE)
    gain = gain_of(gain_db)
    lim = limiter_context(SAMPLE_RATE)
    c = RESAMPLE_CONTEXT if rate != SAMPLE_RATE else 0
    margin = c + lim + PEAK_CONTEXT
    peak, limited, written = 0.0, False, 0
    for a in range(0, n, BLOCK):
        e = min(n, a + BLOCK)
        x = _read(raw, n, a - margin, e + margin) * gain
        inner = x[PEAK_CONTEXT:x.size - PEAK_CONTEXT]  # [a - c - lim, e + c + lim)
        peaks = oversampled_peaks(inner, x[:PEAK_CONTEXT], x[x.size - PEAK_CONTEXT:])
        g = limiter_gain(peaks, ceiling, SAMPLE_RATE)  # [a - c, e + c)
        y = inner[lim:inner.size - lim] * g
        middle = slice(c, c + e - a)
        limited = limited or bool((g[middle] < 0.9999).any())
        body = y[middle]
        meter.feed(body)
        peak = max(peak, float((peaks[lim:peaks.size - lim][middle] * g[middle]).max(initial=0.0)))
        if rate == SAMPLE_RATE:
            piece = body
        else:
            resampled = resample_poly(y, up, down)
            start = c * up // down
            count = min(e * up // down, total_out) - a * up // down
            piece = resampled[start:start + count]
            if piece.size < count:
                piece = np.concatenate([piece, np.zeros(count - piece.size)])
        written += piece.size
        out.write(encoder.feed(piece.astype(np.float32)))
    out.write(encoder.finish())
    return meter.integrated(), peak, limited
