"""Speech recognition with faster-whisper: windows of audio in, a ``Transcription`` out.

Long audio is read in windows cut at the quietest moment near their end, so a two-hour file needs
no more memory than one window. Within a window, speech is found by the Silero VAD that
faster-whisper ships and decoded in batches (``BatchedInferencePipeline``) or sequentially.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import ctranslate2
import numpy as np
from faster_whisper import BatchedInferencePipeline, WhisperModel

from vocable.audio import SAMPLE_RATE, iter_audio
from vocable.results import Segment, Transcription, Word

ProgressFn = Callable[[float], None]  # called with seconds of audio done so far
SegmentFn = Callable[[Segment], None]  # called with each segment as it is recognized

TASKS = ("transcribe", "translate")  # Whisper's tasks: the speech's language, or English

# A segment whose text compresses this well is a repetition loop, not speech.
MAX_COMPRESSION_RATIO = 2.8


@dataclass
class RecognitionOptions:
    language: str | None = None  # ISO 639-1 code; None detects it
    batched: bool = True
    batch_size: int = 8
    beam_size: int = 5
    word_timestamps: bool = True
    window_s: float = 600.0  # audio decoded and recognised at a time
    initial_prompt: str | None = None  # text the audio continues (style, spellings of names)
    task: str = "transcribe"  # or "translate": English text whatever the language spoken
    # The first sampling temperature; Whisper retries a failed window at higher ones (+0.2 up to
    # 1.0), so 0 is its usual schedule. Batched decoding uses only the first.
    temperature: float = 0.0


def recognize_file(
    model: WhisperModel,
    path: str | Path,
    options: RecognitionOptions,
    progress: ProgressFn | None = None,
    on_segment: SegmentFn | None = None,
    transform: Callable[[Iterable[np.ndarray]], Iterable[np.ndarray]] | None = None,
) -> Transcription:
    """Transcribe a file on disk, window by window. ``transform`` rewrites the decoded audio
    stream first (the denoiser, for enhance=true), block by block."""
    audio = iter_audio(path)
    windows = _silence_cut_windows(transform(audio) if transform else audio, options.window_s)
    return recognize_windows(model, windows, options, progress, on_segment)


def recognize_windows(
    model: WhisperModel,
    windows: Iterable[np.ndarray],
    options: RecognitionOptions,
    progress: ProgressFn | None = None,
    on_segment: SegmentFn | None = None,
) -> Transcription:
    segments: list[Segment] = []
    language, language_probability = options.language, 1.0
    offset = 0.0
    for audio in windows:
        window_segments, info = _recognize(model, audio, options, language)
        if language is None:  # detected on the first window, kept for the rest
            language, language_probability = info.language, info.language_probability
        for segment in window_segments:  # decoded lazily: each one as soon as it is recognized
            segments.append(_shift(segment, offset))
            if on_segment:
                on_segment(segment)
        offset += len(audio) / SAMPLE_RATE
        del audio, window_segments
        release_free_heap()
        if progress:
            progress(offset)
    return Transcription(
        text=" ".join(s.text for s in segments).strip(),
        language=language or "",
        language_probability=round(float(language_probability), 4),
        duration=round(offset, 3),
        segments=segments,
    )


def _recognize(model: WhisperModel, audio: np.ndarray, options: RecognitionOptions, language):
    common = {
        "language": language,
        "beam_size": options.beam_size,
        "word_timestamps": options.word_timestamps,
        "vad_filter": True,
        "condition_on_previous_text": False,  # stops one bad segment from derailing the next
        "compression_ratio_threshold": 2.4,
        "log_prob_threshold": -1.0,
        "no_speech_threshold": 0.6,
        "initial_prompt": options.initial_prompt,
        "task": options.task,
        "temperature": temperatures(options.temperature),
    }
    if options.batched:
        # The pipeline holds per-call state: one per call.
        pipeline = BatchedInferencePipeline(_ChunkwiseEncoder(model) if _on_cpu(model) else model)
        raw, info = pipeline.transcribe(audio, batch_size=options.batch_size, **common)
    else:
        raw, info = model.transcribe(audio, **common)
    return (seg for seg in (_to_segment(r) for r in raw) if seg is not None), info


def temperatures(first: float) -> tuple[float, ...]:
    """Whisper's fallback schedule from ``first``: 0.0, 0.2, ... 1.0 for 0 (faster-whisper's own)."""
    schedule = [first]
    while schedule[-1] + 0.2 <= 1.0 + 1e-9:
        schedule.append(round(schedule[-1] + 0.2, 2))
    return tuple(schedule)


def _on_cpu(model: WhisperModel) -> bool:
    return model.model.device == "cpu"


class _ChunkwiseEncoder:
    """A ``WhisperModel`` whose ``encode`` runs the chunks of a batch one at a time.

    ``BatchedInferencePipeline`` encodes a whole batch in one call. On a CPU that costs ~20% more
    than encoding chunk by chunk (a batch's activations no longer fit in cache), while decoding
    does gain from the batch (~40% less CPU for 8 chunks): so on CPU the chunks are encoded one
    by one and decoded together. Everything else is the wrapped model's.
    """

    def __init__(self, model: WhisperModel):
        self._model = model

    def __getattr__(self, name: str):
        return getattr(self._model, name)

    def encode(self, features: np.ndarray) -> ctranslate2.StorageView:
        if features.ndim == 2 or len(features) == 1:
            return self._model.encode(features)
        outputs = [np.asarray(self._model.encode(chunk[None])) for chunk in features]
        return ctranslate2.StorageView.from_array(np.concatenate(outputs))


def _to_segment(raw) -> Segment | None:
    text = raw.text.strip()
    if not text:
        return None
    # Whisper's own silence rule: likely no speech and a low-confidence decode.
    if raw.no_speech_prob > 0.6 and raw.avg_logprob < -1.0:
        return None
    if _compression_ratio(text) > MAX_COMPRESSION_RATIO:
        return None
    start, end = float(raw.start), float(raw.end)
    words = []
    previous_end = start
    for w in raw.words or []:
        # Keep word times inside their segment and never going backwards.
        w_start = min(max(float(w.start), previous_end), end)
        w_end = min(max(float(w.end), w_start), end)
        words.append(Word(w.word.strip(), round(w_start, 3), round(w_end, 3), round(float(w.probability), 4)))
        previous_end = w_end
    words = [w for w in words if w.word]
    return Segment(
        start=round(start, 3),
        end=round(end, 3),
        text=text,
        confidence=round(min(1.0, math.exp(raw.avg_logprob)), 4),
        words=words,
    )


def _shift(segment: Segment, offset: float) -> Segment:
    if offset == 0:
        return segment
    segment.start = round(segment.start + offset, 3)
    segment.end = round(segment.end + offset, 3)
    for w in segment.words:
        w.start = round(w.start + offset, 3)
        w.end = round(w.end + offset, 3)
    return segment


def _compression_ratio(text: str) -> float:
    data = text.encode()
    return len(data) / len(zlib.compress(data)) if len(data) > 40 else 1.0


def _silence_cut_windows(chunks: Iterable[np.ndarray], window_s: float) -> Iterator[np.ndarray]:
    """Re-cut fixed windows at the quietest 100 ms in their last 20 s, so no word is split."""
    carry = np.zeros(0, dtype=np.float32)
    search = int(20 * SAMPLE_RATE)
    frame = SAMPLE_RATE // 10
    for chunk in chunks:
        audio = np.concatenate([carry, chunk]) if len(carry) else chunk
        if len(audio) < window_s * SAMPLE_RATE:  # last, short window
            carry = audio
            continue
        tail = audio[-search:]
        n = len(tail) // frame
        energy = np.square(tail[: n * frame].reshape(n, frame)).mean(axis=1)
        cut = len(audio) - len(tail) + int(np.argmin(energy)) * frame + frame // 2
        yield audio[:cut]
        carry = audio[cut:].copy()
    if len(carry):
        yield carry


def release_free_heap() -> None:
    """Give the heap's free pages back to the system (glibc's ``malloc_trim``; elsewhere nothing).

    Each window frees hundreds of MB of buffers (decoded audio, features, VAD and decoder state),
    but glibc keeps freed heap memory for reuse, fragmented over its per-thread arenas: without
    this, a job process holds more memory the more windows its file has (bench/long_memory.py),
    also while the diarization worker, after recognition, reaches its own peak.
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass
