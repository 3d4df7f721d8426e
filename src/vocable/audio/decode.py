"""Audio decoding with PyAV (FFmpeg in its wheel): any audio or video file → 16 kHz mono float32.

Files are read from disk in windows, so memory stays bounded however long the file is.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

SAMPLE_RATE = 16000
# Shorter audio cannot hold a word (the shortest syllables last about 0.1 s): it is refused, and
# costs nothing, rather than transcribed to an empty text for a credit. Files and streams alike.
MIN_SPEECH_S = 0.1


class AudioError(ValueError):
    """The input is not usable audio; the message says why, for the user."""


class AudioTooShort(AudioError):
    def __init__(self, duration_s: float):
        super().__init__(
            f"The audio is too short to hold speech ({duration_s * 1000:.3g} ms): send at least "
            f"{MIN_SPEECH_S:g} s of audio."
        )
        self.duration_s = duration_s


@dataclass(frozen=True)
class MediaInfo:
    duration: float  # seconds of audio
    container: str
    codec: str
    has_video: bool


def probe(path: str | Path) -> MediaInfo:
    """Check that a file holds decodable, complete audio and tell its duration, cheaply.

    Decodes only a few frames at the start and near the declared end: an empty file, a non-media
    file, a container without audio, a truncated file and audio shorter than ``MIN_SPEECH_S`` are
    all refused here, before any work (and before any charge).
    """
    path = Path(path)
    if path.stat().st_size == 0:
        raise AudioError("The file is empty.")
    container = _open(path)
    with container:
        if not container.streams.audio:
            kind = "video file has no audio track" if container.streams.video else "file has no audio track"
            raise AudioError(f"The {kind}: nothing to transcribe.")
        stream = container.streams.audio[0]
        first = _first_frame_time(container, stream)
        if first is None:
            raise AudioError("The file's audio track holds no decodable audio (corrupt or empty).")
        declared = _declared_duration(container, stream)
        if declared is None:
            duration = _demuxed_duration(path)
        else:
            duration = declared
            if declared > 2.0:
                end = _last_frame_time_near(container, stream, declared)
                if end is None or end < declared * 0.9 - 1.0:
                    raise AudioError(
                        f"The file is truncated: it declares {declared:.1f} s of audio but the "
                        f"audio ends at {end or 0:.1f} s."
                    )
        if round(duration, 4) < MIN_SPEECH_S:  # 1600 samples are 0.1 s, whatever the rounding
            raise AudioTooShort(duration)
        return MediaInfo(
            duration=float(duration),
            container=container.format.name,
            codec=stream.codec_context.name,
            has_video=bool(container.streams.video),
        )


def iter_audio(path: str | Path, window_s: float = 300.0) -> Iterator[np.ndarray]:
    """Yield the audio as 16 kHz mono float32 arrays of about ``window_s`` seconds each."""
    window = int(window_s * SAMPLE_RATE)
    pending: list[np.ndarray] = []
    pending_len = 0
    for chunk in _decode_chunks(path):
        pending.append(chunk)
        pending_len += len(chunk)
        if pending_len >= window:
            joined = np.concatenate(pending)
            yield joined[:window]
            rest = joined[window:]
            pending, pending_len = ([rest], len(rest)) if len(rest) else ([], 0)
    if pending_len:
        yield np.concatenate(pending)


def decode_audio(path: str | Path) -> np.ndarray:
    """The whole file as one array (for short inputs; long files go through ``iter_audio``)."""
    chunks = list(_decode_chunks(path))
    return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)


def _decode_chunks(path: str | Path) -> Iterator[np.ndarray]:
    container = _open(Path(path))
    with container:
        if not container.streams.audio:
            raise AudioError("The file has no audio track: nothing to transcribe.")
        stream = container.streams.audio[0]
        stream.thread_type = "AUTO"
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        for packet in container.demux(stream):
            try:
                frames = packet.decode()
            except av.error.InvalidDataError:
                continue  # one damaged packet: skip it, as players do
            for frame in frames:
                frame.pts = None  # let the resampler run on sample counts, robust to bad timestamps
                for out in resampler.resample(frame):
                    yield out.to_ndarray().reshape(-1).astype(np.float32, copy=False)
        for out in resampler.resample(None):
            yield out.to_ndarray().reshape(-1).astype(np.float32, copy=False)


def _open(path: Path):
    try:
        return av.open(os.fspath(path), metadata_errors="ignore")
    except (av.error.InvalidDataError, av.error.FFmpegError, UnicodeDecodeError) as exc:
        raise AudioError(
            "The file is not a readable audio or video file (unsupported or corrupt format)."
        ) from exc


def _declared_duration(container, stream) -> float | None:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / av.time_base
    return None


def _first_frame_time(container, stream) -> float | None:
    try:
        for packet in container.demux(stream):
            try:
                for frame in packet.decode():
                    return float(frame.time or 0.0)
            except av.error.InvalidDataError:
                continue
    except av.error.FFmpegError:
        return None
    return None


def _last_frame_time_near(container, stream, declared: float) -> float | None:
    last = None
    try:
        target = max(0.0, declared * 0.97 - 0.5)
        container.seek(int(target / stream.time_base), stream=stream)
        frames = 0
        for packet in container.demux(stream):
            try:
                for frame in packet.decode():
                    if frame.time is not None:
                        last = float(frame.time) + frame.samples / (frame.sample_rate or SAMPLE_RATE)
                    frames += 1
            except av.error.InvalidDataError:
                continue
            if frames >= 3:
                break
    except av.error.FFmpegError:
        return last
    return last


def _demuxed_duration(path: Path) -> float:
    """Duration when the container declares none: sum packet durations (no decoding)."""
    with _open(path) as container:
        stream = container.streams.audio[0]
        total = 0
        for packet in container.demux(stream):
            if packet.duration:
                total += packet.duration
        return float(total * stream.time_base) if stream.time_base else 0.0
