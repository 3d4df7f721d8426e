"""Recognition internals: chunk-wise encoding on CPU, batched vs sequential, bounded windows."""

from __future__ import annotations

import numpy as np
import pytest
from faster_whisper import BatchedInferencePipeline
from faster_whisper.audio import pad_or_trim

from tests.accuracy import JOINED_WER_MAX, record
from tests.evaluation import wer
from vocable.audio import SAMPLE_RATE, decode_audio
from vocable.transcription.recognize import (
    RecognitionOptions,
    _ChunkwiseEncoder,
    _silence_cut_windows,
    recognize_windows,
)


@pytest.fixture(scope="module")
def model(whisper):
    return whisper.model("base")


@pytest.fixture(scope="module")
def call_audio(data_dir) -> np.ndarray:
    return decode_audio(data_dir / "call-2spk.wav")


def test_chunkwise_encoding_equals_batch_encoding(model, data_dir, call_audio):
    jfk = decode_audio(data_dir / "jfk.wav")
    features = np.stack(
        [pad_or_trim(model.feature_extractor(a)[..., :-1]) for a in (jfk, call_audio)]
    )
    batch = np.asarray(model.encode(features))
    chunkwise = np.asarray(_ChunkwiseEncoder(model).encode(features))
    assert chunkwise.shape == batch.shape == (2, 1500, 512)
    # Same numbers up to int8 GEMM blocking; and each chunk stays in its place.
    np.testing.assert_allclose(chunkwise, batch, atol=0.05)
    assert not np.allclose(chunkwise[0], chunkwise[1], atol=0.05)


@pytest.mark.accuracy
def test_batched_recognition_matches_faster_whisper_and_sequential(
    model, data_dir, call_audio, manifest, record_property
):
    # 41 s: two VAD chunks in one batch, so the chunk-wise encoder really splits it.
    audio = np.concatenate([decode_audio(data_dir / "jfk.wav"), call_audio])
    reference = manifest["jfk.wav"]["reference"] + " " + manifest["call-2spk.wav"]["reference"]
    options = RecognitionOptions(language="en", batched=True)
    ours = recognize_windows(model, [audio], options)
    segments, _ = BatchedInferencePipeline(model).transcribe(
        audio, language="en", batch_size=options.batch_size, beam_size=options.beam_size,
        word_timestamps=True, vad_filter=True,
    )
    theirs = " ".join(s.text.strip() for s in segments)
    record(record_property, "wer[ours-vs-faster-whisper]", wer(theirs, ours.text))
    assert wer(theirs, ours.text) <= 0.02  # chunk-wise encoding changes nothing that matters
    sequential = recognize_windows(model, [audio], RecognitionOptions(language="en", batched=False))
    record(record_property, "wer[batched]", wer(reference, ours.text))
    record(record_property, "wer[sequential]", wer(reference, sequential.text))
    assert wer(reference, ours.text) <= JOINED_WER_MAX
    assert abs(wer(reference, ours.text) - wer(reference, sequential.text)) <= 0.05


def test_long_audio_is_cut_in_bounded_windows_at_quiet_points():
    rng = np.random.default_rng(0)
    seconds = 95
    audio = (rng.standard_normal(seconds * SAMPLE_RATE) * 0.1).astype(np.float32)
    quiet = int(52.3 * SAMPLE_RATE)  # the only silence inside the last 20 s of the first window
    audio[quiet : quiet + SAMPLE_RATE // 5] = 0.0
    chunks = (audio[i : i + 7 * SAMPLE_RATE] for i in range(0, len(audio), 7 * SAMPLE_RATE))
    windows = list(_silence_cut_windows(chunks, window_s=60))
    assert sum(len(w) for w in windows) == len(audio)
    assert np.array_equal(np.concatenate(windows), audio)
    # No window holds more than window_s plus one incoming chunk: memory is bounded.
    assert all(len(w) <= (60 + 7) * SAMPLE_RATE for w in windows)
    assert abs(len(windows[0]) / SAMPLE_RATE - 52.4) < 0.15  # cut inside the silence
