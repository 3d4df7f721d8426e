"""The streaming policy's parts that need no Whisper decode: incremental VAD, silence handling,
odd byte counts, loop cutting. (Decoding is tested end to end in tests/api/test_stream.py.)"""

from __future__ import annotations

import numpy as np
from faster_whisper.vad import get_vad_model

from vocable.audio import decode_audio
from vocable.results import Word
from vocable.streaming.policy import (
    SAMPLE_RATE,
    VAD_WINDOW,
    Done,
    StreamingVad,
    StreamOptions,
    StreamTranscriber,
    _cut_loop,
)


def test_incremental_vad_matches_whole_file_vad(data_dir):
    audio = decode_audio(data_dir / "call-2spk.wav")
    audio = audio[: len(audio) // VAD_WINDOW * VAD_WINDOW]
    whole = np.asarray(get_vad_model()(audio)).reshape(-1)
    vad, pieces, start = StreamingVad(), [], 0
    rng = np.random.default_rng(1)
    while start < len(audio):
        n = VAD_WINDOW * int(rng.integers(1, 40))
        pieces.append(vad(audio[start:start + n].reshape(-1, VAD_WINDOW)))
        start += n
    assert np.allclose(np.concatenate(pieces), whole, atol=1e-5)


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


def words(text: str) -> list[Word]:
    return [Word(" " + w, i, i + 0.5) for i, w in enumerate(text.split())]


def test_loops_are_cut_where_they_start():
    assert [w.word for w in _cut_loop([], words("I I I I I I"))] == [" I"]
    assert [w.word for w in _cut_loop([], words("go on go on go on go on"))] == [" go", " on"]
    # Counting what was committed just before.
    assert _cut_loop(words("yeah yeah"), words("yeah yeah yeah")) == []
    # Ordinary repetitions stay.
    kept = words("hello hello hello said the man who said that")
    assert _cut_loop([], kept) == kept
