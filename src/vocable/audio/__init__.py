"""Audio in and out: decoding any media file (``decode``); the audio tools build on it."""

from vocable.audio.decode import (
    MIN_SPEECH_S,
    SAMPLE_RATE,
    AudioError,
    AudioTooShort,
    MediaInfo,
    decode_audio,
    iter_audio,
    probe,
)

__all__ = [
    "MIN_SPEECH_S",
    "SAMPLE_RATE",
    "AudioError",
    "AudioTooShort",
    "MediaInfo",
    "decode_audio",
    "iter_audio",
    "probe",
]
