"""Float samples → the formats the audio tools answer in: 16-bit WAV, raw PCM, and FLAC, MP3,
Ogg/Opus and AAC through PyAV (FFmpeg in its wheel).

``AudioEncoder`` encodes piece by piece, so a long answer (two hours of enhanced audio, a long text
spoken sentence by sentence) can be streamed to the client without holding it whole.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import av
import numpy as np


@dataclass(frozen=True)
class AudioFormat:
    name: str
    media_type: str
    # PyAV container and codec; None for the formats written here (wav, pcm).
    container: str | None = None
    codec: str | None = None
    # Opus encodes only at these rates; the samples are resampled to the nearest one above.
    rates: tuple[int, ...] = ()


FORMATS: dict[str, AudioFormat] = {
    f.name: f
    for f in (
        AudioFormat("wav", "audio/wav"),
        AudioFormat("pcm", "audio/L16"),  # raw signed 16-bit little-endian, mono
        AudioFormat("flac", "audio/flac", "flac", "flac"),
        AudioFormat("mp3", "audio/mpeg", "mp3", "libmp3lame"),
        AudioFormat("ogg", "audio/ogg", "ogg", "libopus", (8000, 12000, 16000, 24000, 48000)),
        AudioFormat("opus", "audio/ogg", "ogg", "libopus", (8000, 12000, 16000, 24000, 48000)),
        AudioFormat("aac", "audio/aac", "adts", "aac"),
    )
}


class UnknownFormat(ValueError):
    def __init__(self, name: str):
        super().__init__(
            f"Unknown audio format {name!r}: use one of {', '.join(sorted(FORMATS))}."
        )


def audio_format(name: str) -> AudioFormat:
    try:
        return FORMATS[name.strip().lower()]
    except KeyError:
        raise UnknownFormat(name) from None


def to_pcm16(samples: np.ndarray) -> bytes:
    """Float samples in [-1, 1] → 16-bit PCM, rounded (never wrapped: out-of-range is clipped)."""
    clipped = np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0)
    return np.round(clipped * 32767.0).astype("<i2").tobytes()


def wav_header(sample_rate: int, n_samples: int | None) -> bytes:
    """A 16-bit mono WAV header; ``n_samples=None`` writes the "unknown length" sizes that
    streamed WAV uses (players read to the end of the data)."""
    data = 0xFFFFFFFF - 36 if n_samples is None else n_samples * 2
    return (
        b"RIFF" + struct.pack("<I", min(36 + data, 0xFFFFFFFF)) + b"WAVE"
        + b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, sample_rate, sample_rate * 2, 2, 16)
        + b"data" + struct.pack("<I", data)
    )


class _Sink:
    """A write-only file PyAV muxes into; ``drain`` hands over what was written so far."""

    def __init__(self):
        self._chunks: list[bytes] = []

    def write(self, data) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def drain(self) -> bytes:
        out, self._chunks = b"".join(self._chunks), []
        return out


class AudioEncoder:
    """Encode mono float32 samples piece by piece: ``feed`` returns the bytes ready so far,
    ``finish`` the rest. ``length`` (samples) lets WAV write exact sizes while streaming."""

    def __init__(self, fmt: str | AudioFormat, sample_rate: int, length: int | None = None):
        self.format = fmt if isinstance(fmt, AudioFormat) else audio_format(fmt)
        self.sample_rate = sample_rate
        self._length = length
        self._started = False
        self._container = None
        if self.format.container is not None:
            self._open_container()

    def _open_container(self) -> None:
        rate = self.sample_rate
        if self.format.rates:
            rate = next((r for r in self.format.rates if r >= rate), self.format.rates[-1])
        self._sink = _Sink()
        self._container = av.open(self._sink, mode="w", format=self.format.container)
        self._stream = self._container.add_stream(self.format.codec, rate=rate)
        self._stream.layout = "mono"
        # Encoders take their own sample format and frame size: the resampler converts both.
        self._resampler = av.AudioResampler(
            format=self._stream.codec_context.format or "s16", layout="mono", rate=rate,
            frame_size=self._stream.codec_context.frame_size or None,
        )

    def feed(self, samples: np.ndarray) -> bytes:
        samples = np.clip(np.asarray(samples, dtype=np.float32).reshape(-1), -1.0, 1.0)
        if self._container is None:
            out = b""
            if not self._started and self.format.name == "wav":
                out = wav_header(self.sample_rate, self._length)
            self._started = True
            return out + to_pcm16(samples)
        if samples.size == 0:
            return b""
        frame = av.AudioFrame.from_ndarray(samples[None, :], format="flt", layout="mono")
        frame.sample_rate = self.sample_rate
        return self._encode(self._resampler.resample(frame))

    def finish(self) -> bytes:
        if self._container is None:
            if not self._started and self.format.name == "wav":
                self._started = True
                return wav_header(self.sample_rate, self._length or 0)
            return b""
        out = self._encode(self._resampler.resample(None))
        for packet in self._stream.encode(None):
            self._container.mux(packet)
        self._container.close()
        return out + self._sink.drain()

    def _encode(self, frames) -> bytes:
        for frame in frames:
            for packet in self._stream.encode(frame):
                self._container.mux(packet)
        return self._sink.drain()


def encode(samples: np.ndarray, sample_rate: int, fmt: str = "wav") -> bytes:
    """The whole of a (short) signal in one format."""
    encoder = AudioEncoder(fmt, sample_rate, length=int(np.asarray(samples).size))
    return encoder.feed(samples) + encoder.finish()


def encode_pieces(
    pieces: Iterable[np.ndarray], sample_rate: int, fmt: str = "wav", length: int | None = None
) -> Iterator[bytes]:
    """Encode a stream of sample blocks, yielding bytes as they are ready (for streamed answers)."""
    encoder = AudioEncoder(fmt, sample_rate, length=length)
    for piece in pieces:
        if chunk := encoder.feed(piece):
            yield chunk
    if tail := encoder.finish():
        yield tail
