"""The file transcription pipeline: a media file in, a finished ``Transcription`` out.

It knows nothing of HTTP or storage: the job runner, the CLI and benchmarks all call it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vocable.audio import probe
from vocable.results import Transcription
from vocable.transcription.recognize import (
    ProgressFn,
    RecognitionOptions,
    SegmentFn,
    recognize_file,
)
from vocable.transcription.whisper import WhisperExecutor

# Below this, one 30 s window holds the whole file: batching has nothing to batch.
BATCHED_FROM_S = 30.0


@dataclass
class TranscribeOptions:
    model: str | None = None
    language: str | None = None  # None or "auto" detects
    diarize: bool = True
    speakers: int = 0  # expected speakers, 0 = automatic
    batched: bool | None = None  # None = batched for anything longer than one window
    task: str = "transcribe"  # or "translate" (to English)
    prompt: str | None = None  # Whisper's initial prompt
    temperature: float = 0.0  # the first sampling temperature (see RecognitionOptions)
    # Denoise (vocable.audio.denoise) before recognition; diarization still hears the original.
    enhance: bool = False


def transcribe_file(
    path: str | Path,
    options: TranscribeOptions,
    whisper: WhisperExecutor,
    diarizer=None,
    progress: ProgressFn | None = None,
    on_segment: SegmentFn | None = None,
    voices=None,
    denoiser=None,
) -> Transcription:
    """``on_segment`` sees each segment as soon as it is recognized (before speakers are known).
    ``voices``: the account's enrolled voices (diarization names the speakers that match).
    ``denoiser``: a ``DenoiseExecutor``, used when ``options.enhance``."""
    info = probe(path)
    model_id = whisper.resolve(options.model)
    model = whisper.model(model_id)
    batched = options.batched if options.batched is not None else info.duration > BATCHED_FROM_S
    language = None if options.language in (None, "", "auto") else options.language
    recognition = RecognitionOptions(
        language=language, batched=batched, task=options.task,
        initial_prompt=options.prompt or None, temperature=options.temperature,
    )
    if options.enhance and denoiser is not None:
        denoiser.check()
        result = recognize_file(model, path, recognition, progress, on_segment, denoiser.process)
    else:
        result = recognize_file(model, path, recognition, progress, on_segment)
    result.model = model_id
    if options.diarize:
        result = label_speakers(result, path, options.speakers, diarizer, voices)
    return result



def label_speakers(
    result: Transcription, path, speakers: int, diarizer=None, voices=None
) -> Transcription:
    """Speaker labels for every segment and word. Without a diarizer, everything is Speaker 1."""
    if diarizer is not None:
        if voices:
            return diarizer.apply(result, path, speakers, voices=voices)
        return diarizer.apply(result, path, speakers)
    if not result.segments:
        return result
    for segment in result.segments:
        segment.speaker = "Speaker 1"
        for word in segment.words:
            word.speaker = "Speaker 1"
    result.speakers = ["Speaker 1"]
    return result
