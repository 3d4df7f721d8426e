"""Every answer format decodes back to the same audio, whole or encoded piece by piece."""

import io

import av
import numpy as np
import pytest

from vocable.audio.encode import FORMATS, UnknownFormat, audio_format, encode, encode_pieces

RATE = 24000


def _tone(seconds: float = 1.5) -> np.ndarray:
    t = np.arange(int(RATE * seconds)) / RATE
    return (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


def _decode(data: bytes) -> tuple[np.ndarray, int]:
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        frames = [f.to_ndarray().reshape(-1) for f in container.decode(stream)]
        samples = np.concatenate(frames)
        if samples.dtype.kind == "i":  # s16 from flac and wav, floats from the lossy codecs
            samples = samples.astype(np.float32) / 32768.0
        return samples, stream.rate


@pytest.mark.parametrize("name", sorted(set(FORMATS) - {"pcm"}))
def test_each_format_decodes_back_to_the_signal(name):
    signal = _tone()
    whole = encode(signal, RATE, name)
    pieces = b"".join(encode_pieces(np.array_split(signal, 7), RATE, name))
    decoded, rate = _decode(whole)
    # Streaming changes nothing but when bytes leave (Ogg streams differ only in their random
    # serial number): the same audio decodes from both.
    again, _ = _decode(pieces)
    assert decoded.size == again.size and np.allclose(decoded, again, atol=1e-4)
    # Lossy codecs pad a frame or two and Opus runs at 48 kHz: same duration within 0.1 s.
    assert abs(decoded.size / rate - signal.size / RATE) < 0.1
    assert 0.3 < float(np.max(np.abs(decoded))) < 0.7


def test_wav_and_pcm_are_exact_16_bit():
    signal = np.array([0.0, 0.5, -0.5, 1.0, -1.0, 2.0, -2.0], dtype=np.float32)
    pcm = np.frombuffer(encode(signal, RATE, "pcm"), dtype="<i2")
    assert pcm.tolist() == [0, 16384, -16384, 32767, -32767, 32767, -32767]  # clipped, not wrapped
    wav = encode(signal, RATE, "wav")
    assert wav[:4] == b"RIFF" and wav[44:] == pcm.tobytes()


def test_an_unknown_format_is_named_in_the_error():
    with pytest.raises(UnknownFormat, match="use one of"):
        audio_format("wma")
