"""A live session kept as a stored transcript (``"save": true`` in the stream config).

While the stream runs, the audio it was charged for goes to a WAV file (the web page plays a saved
session like a file transcript) and its finals are collected; at the end they become one
``Transcription``. The file lives in the uploads directory until it is stored, so a crash leaves
nothing that the next start-up does not sweep.
"""

from __future__ import annotations

import secrets
import wave
from datetime import UTC, datetime
from pathlib import Path

from vocable.audio import SAMPLE_RATE
from vocable.results import Segment, Transcription, Word
from vocable.streaming.policy import Final


class LiveRecording:
    def __init__(self, directory: Path):
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"live-{secrets.token_hex(8)}.wav"
        self._wav = wave.open(str(self.path), "wb")  # noqa: SIM115 - closed in close()
        self._wav.setnchannels(1)
        self._wav.setsampwidth(2)
        self._wav.setframerate(SAMPLE_RATE)
        self._carry = b""  # an odd byte, completed by the next piece
        self._closed = False
        self.finals: list[Final] = []
        # The extension tells the web page's player (and exports) what the kept audio is.
        self.title = f"Live session {datetime.now(UTC):%Y-%m-%d %H-%M} UTC.wav"

    def write(self, pcm16: bytes) -> None:
        data = self._carry + pcm16
        usable = len(data) - len(data) % 2
        self._carry = data[usable:]
        if usable and not self._closed:
            self._wav.writeframes(data[:usable])

    def add(self, final: Final) -> None:
        self.finals.append(final)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._wav.close()

    def discard(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)

    def result(self, duration: float, language: str | None, model: str) -> Transcription:
        segments = [
            Segment(
                start=f.start, end=f.end, text=f.text, speaker=f.speaker,
                confidence=_mean([w.probability for w in f.words]),
                words=[Word(w.word, w.start, w.end, w.probability, f.speaker) for w in f.words],
            )
            for f in self.finals
        ]
        speakers = list(dict.fromkeys(s.speaker for s in segments if s.speaker))
        return Transcription(
            text=" ".join(s.text for s in segments), language=language or "",
            duration=duration, segments=segments, speakers=speakers, model=model,
        )


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 1.0
