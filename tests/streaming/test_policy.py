"""The streaming policy's parts that need no Whisper decode: silence handling, odd byte counts.
(Decoding is tested end to end in tests/api/test_stream.py.)"""

from __future__ import annotations

import numpy as np

from vocable.audio import SAMPLE_RATE
from vocable.streaming.policy import Done, StreamOptions, StreamTranscriber


def test_silence_needs_no_decode_and_keeps_no_audio():
    """Ten minutes of faint noise, in odd-sized pieces: no decode is ever asked for, the buffer
    stays at the pre-roll, every sample is counted, and the end is reported."""
    opts = StreamOptions()
    stream = StreamTranscriber("base", "en", opts)
    rng = np.random.default_rng(0)
    pcm = (rng.normal(0, 0.002, 600 * SAMPLE_RATE) * 32767).astype("<i2").tobytes()
    offset, largest_buffer = 0, 0.0
    while offset < len(pcm):
        size = int(rng.integers(1, 20_000)) | 1  # odd sizes: a byte waits for the next piece
        stream.push_pcm16(pcm[offset:offset + size])
        offset += size
        request, events = stream.prepare()
        assert request is None and not events
        largest_buffer = max(largest_buffer, stream.buffer_s)
    stream.close_input()
    request, events = stream.prepare()
    assert request is None
    assert events == [Done(duration=600.0, language="en")]
    assert largest_buffer <= opts.speech_pad_s + 0.1
