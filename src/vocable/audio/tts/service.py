"""Speech synthesis for every surface (/v1/tts, /v1/audio/speech, the CLI): what to say, in which
voice, piece by piece.

``TTSService.start(text, voice=, speed=, reference=)`` decides how the text is spoken and returns
a ``Synthesis`` whose ``pieces()`` yields float samples a sentence at a time (bounded memory: a
sentence is synthesised, converted and handed on before the next one starts):

* no reference: the voice asked for, else the best installed Piper voice (``bundled``);
* a reference and an installed cloning model: that model, in the reference's voice (``cloned``);
* a reference and no cloning model: voice matching (``matched``, ``audio.tts.matching``): the
  closest installed Piper voice by CAM++ embedding, moved toward the reference with WORLD.

``similarity`` is the CAM++ cosine of the answer's voice to the reference (matching: measured on
the voice's calibration speech converted with the chosen setting; cloning: on the first piece).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vocable.audio import SAMPLE_RATE, decode_audio, probe
from vocable.audio.tts.cloning import BACKENDS, Cloner, ClonerFactory
from vocable.audio.tts.matching import (
    CALIBRATION_TEXT,
    MatchPlan,
    VoiceMatcher,
    VoiceProfile,
    convert,
)
from vocable.audio.tts.normalize import sentences
from vocable.audio.tts.piper import PiperEngine
from vocable.audio.tts.speaker import SpeakerEncoder
from vocable.registry.pool import ModelPool
from vocable.registry.tts import FAMILY, InstalledVoice, VoiceNotFound, VoiceRegistry

REFERENCE_MIN_S = 3.0
REFERENCE_MAX_S = 10.0
SILENCE_DBFS = -50.0  # a reference quieter than this (RMS) holds no voice to match
PAUSE_S = 0.25  # between sentences
CHARS_PER_S = 14.0  # English read aloud at speed 1 (estimate for the reservation)
# OpenAI's voice names: the default voice speaks for each of them.
OPENAI_VOICES = frozenset({
    "alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer", "verse",
    "marin", "cedar",
})


class TTSInputError(ValueError):
    """Text or options the service refuses (a 400 for the caller)."""


class BadReference(TTSInputError):
    """A reference voice sample that cannot be used: too short, too long, silent."""


@dataclass
class Synthesis:
    """One request's speech: how it is spoken, and its samples piece by piece."""

    voice: str  # the voice id that speaks (the cloning model's id when cloned)
    mode: str  # "bundled" | "matched" | "cloned"
    sample_rate: int
    similarity: float | None
    _pieces: Iterator[np.ndarray]
    reference_s: float = 0.0
    samples: int = 0
    generation_s: float = 0.0
    done: bool = False
    _first: np.ndarray | None = None
    plan: MatchPlan | None = None  # matching: the setting chosen
    _started: float = field(default_factory=time.monotonic)

    @property
    def duration_s(self) -> float:
        return self.samples / self.sample_rate

    def pieces(self) -> Iterator[np.ndarray]:
        """Samples a sentence at a time (a short pause after each but the last). Once it is
        exhausted, ``samples``, ``duration_s`` and ``generation_s`` (wall time from the start to
        the last piece made) are final."""
        pause = np.zeros(int(PAUSE_S * self.sample_rate), dtype=np.float32)
        previous, self._first = self._first, None
        for piece in self._pieces:
            if previous is not None:
                self.samples += len(previous) + len(pause)
                yield np.concatenate([previous, pause])
            previous = piece
        self.generation_s = time.monotonic() - self._started
        if previous is not None:
            self.samples += len(previous)
            yield previous
        self.done = True

    def read_all(self) -> np.ndarray:
        return np.concatenate(list(self.pieces()) or [np.zeros(0, dtype=np.float32)])


@dataclass(frozen=True)
class _VoiceData:
    """A Piper voice's calibration speech and profile, made once per voice per process."""

    calibration: np.ndarray
    profile: VoiceProfile


class TTSService:
    def __init__(
        self,
        registry: VoiceRegistry,
        pool: ModelPool,
        encoder: SpeakerEncoder | None = None,
        transcribe: Callable[[np.ndarray], str] | None = None,
        *,
        max_chars: int = 20_000,
        backends: dict[str, ClonerFactory] | None = None,
        threads: int = 0,
    ):
        self.registry = registry
        self.pool = pool
        self.encoder = encoder
        self.matcher = VoiceMatcher(encoder) if encoder is not None else None
        self.transcribe = transcribe  # what a reference says, for cloning models that need it
        self.max_chars = max_chars
        self.backends = dict(BACKENDS if backends is None else backends)
        self.threads = threads
        self._profiles: dict[str, _VoiceData] = {}
        self._profile_lock = threading.Lock()

    # -- what there is ------------------------------------------------------------------------------
    def voices(self) -> list[InstalledVoice]:
        return self.registry.installed()

    def default_voice_id(self) -> str | None:
        voice = self.registry.default_voice()
        return voice.id if voice is not None else None

    def resolve_voice(self, voice: str | None) -> InstalledVoice:
        """The installed voice a request names (None, "default", "auto" or an OpenAI name: the
        default voice)."""
        if voice is None or voice in ("", "default", "auto") or voice.lower() in OPENAI_VOICES:
            found = self.registry.default_voice()
            if found is None:
                raise VoiceNotFound(voice or "default", [])
            return found
        found = self.registry.voice(voice)
        if found.spec.kind != "piper":
            raise VoiceNotFound(voice, [v.id for v in self.registry.installed("piper")])
        return found

    # -- input --------------------------------------------------------------------------------------
    def check_text(self, text: str | None) -> str:
        text = (text or "").strip()
        if not text:
            raise TTSInputError("Missing text: send what to say as the 'text' field.")
        if len(text) > self.max_chars:
            raise TTSInputError(f"Text too long: {len(text)} characters (at most {self.max_chars}).")
        if not any(c.isalnum() for c in text):
            raise TTSInputError("The text has nothing to say (no letters or digits).")
        return text

    @staticmethod
    def check_speed(speed: float) -> float:
        if not 0.25 <= speed <= 4.0:
            raise TTSInputError("speed must be between 0.25 and 4.0.")
        return speed

    def estimate_s(self, text: str, speed: float = 1.0) -> float:
        """Roughly how long ``text`` takes to say (for the reservation; the charge is the real one)."""
        return max(1.0, len(text) / CHARS_PER_S / speed)

    def load_reference(self, path: str | Path) -> np.ndarray:
        """The reference voice sample as 16 kHz mono, or a clear refusal: not audio
        (``AudioError``), too short, too long, silent."""
        declared = probe(path).duration  # a long file is refused before it is decoded
        if declared > 2 * REFERENCE_MAX_S + 5:
            raise BadReference(
                f"The reference is {declared:.0f} s long: send at most {REFERENCE_MAX_S:g} s of one "
                "person speaking (cut it to the clearest part)."
            )
        audio = decode_audio(path)
        seconds = len(audio) / SAMPLE_RATE
        if seconds < REFERENCE_MIN_S - 0.05:
            raise BadReference(
                f"The reference is {seconds:.1f} s long: send {REFERENCE_MIN_S:g} to "
                f"{REFERENCE_MAX_S:g} s of one person speaking."
            )
        if seconds > REFERENCE_MAX_S + 0.05:
            raise BadReference(
                f"The reference is {seconds:.1f} s long: send at most {REFERENCE_MAX_S:g} s of one "
                "person speaking (cut it to the clearest part)."
            )
        rms = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64)))) if audio.size else 0.0
        if rms <= 0 or 20 * np.log10(rms) < SILENCE_DBFS:
            raise BadReference("The reference is silent: send a recording of someone speaking.")
        return audio

    # -- synthesis ----------------------------------------------------------------------------------
    def engine(self, voice: InstalledVoice) -> PiperEngine:
        model, config = voice.piper_files()
        return self.pool.get(FAMILY, voice.id, lambda: PiperEngine(model, config, self.threads))

    def start(
        self, text: str, voice: str | None = None, speed: float = 1.0,
        reference: np.ndarray | None = None,
    ) -> Synthesis:
        """Decide how to speak ``text`` (already checked) and synthesise its first piece.
        ``generation_s`` counts from here (choosing and planning a match included)."""
        started = time.monotonic()
        synthesis = self._start(text, voice, speed, reference)
        synthesis._started = started
        return synthesis

    def _start(
        self, text: str, voice: str | None, speed: float, reference: np.ndarray | None
    ) -> Synthesis:
        speed = self.check_speed(speed)
        parts = sentences(text)
        named = voice not in (None, "", "default", "auto") and voice.lower() not in OPENAI_VOICES
        if reference is None:
            chosen = self.resolve_voice(voice)
            engine = self.engine(chosen)
            synthesis = Synthesis(
                chosen.id, "bundled", engine.sample_rate, None,
                (engine.synthesize(s, speed) for s in parts),
            )
            return self._prime(synthesis)
        ref_s = len(reference) / SAMPLE_RATE
        cloner = self.registry.cloner()
        if cloner is not None and not named:
            return self._prime(self._cloned(cloner, parts, reference, speed), ref_s, reference)
        return self._prime(self._matched(parts, voice if named else None, reference, speed), ref_s)

    def _prime(
        self, synthesis: Synthesis, reference_s: float = 0.0, reference: np.ndarray | None = None
    ) -> Synthesis:
        """Synthesise the first piece now: errors surface before an answer starts, and a cloned
        voice's similarity is measured on it."""
        synthesis.reference_s = reference_s
        first = next(synthesis._pieces, None)
        if first is None:
            raise TTSInputError("The text has nothing to say.")
        synthesis._first = first
        if reference is not None and self.encoder is not None and synthesis.similarity is None:
            synthesis.similarity = round(self.encoder.similarity(
                self.encoder.embed(first, synthesis.sample_rate), self.encoder.embed(reference)
            ), 4)
        return synthesis

    def _cloned(self, cloner_voice: InstalledVoice, parts, reference: np.ndarray, speed: float) -> Synthesis:
        kind = cloner_voice.manifest().get("kind") or cloner_voice.spec.backend
        factory = self.backends.get(kind)
        if factory is None:
            raise TTSInputError(f"The cloning model '{cloner_voice.id}' is of an unknown kind '{kind}'.")
        model: Cloner = self.pool.get(FAMILY, cloner_voice.id, lambda: factory(cloner_voice.path))
        ref_text = self.transcribe(reference) if self.transcribe is not None else ""
        pieces = (model.clone(s, reference, SAMPLE_RATE, ref_text, speed) for s in parts)
        return Synthesis(cloner_voice.id, "cloned", model.sample_rate, None, pieces)

    def _voice_data(self, voice: InstalledVoice) -> _VoiceData:
        with self._profile_lock:
            cached = self._profiles.get(voice.id)
        if cached is not None:
            return cached
        engine = self.engine(voice)
        calibration = engine.synthesize(CALIBRATION_TEXT)
        data = _VoiceData(calibration, VoiceProfile.of(calibration, engine.sample_rate, self.encoder))
        with self._profile_lock:
            self._profiles[voice.id] = data
        return data

    def _matched(self, parts, voice: str | None, reference: np.ndarray, speed: float) -> Synthesis:
        if self.matcher is None or self.encoder is None:
            raise TTSInputError("Voice matching is not available on this server.")
        try:
            target = self.matcher.reference_profile(reference, SAMPLE_RATE)
        except ValueError as exc:
            raise BadReference(
                "The reference holds no voiced speech: send a recording of someone speaking."
            ) from exc
        candidates = [self.resolve_voice(voice)] if voice else self.registry.installed("piper")
        if not candidates:
            raise VoiceNotFound("default", [])
        scored = []
        for candidate in candidates:
            data = self._voice_data(candidate)
            scored.append((self.encoder.similarity(data.profile.embedding, target.embedding), candidate, data))
        _, chosen, data = max(scored, key=lambda s: s[0])
        engine = self.engine(chosen)
        plan: MatchPlan = self.matcher.plan(target, data.profile, data.calibration, engine.sample_rate)
        rate = engine.sample_rate
        pieces = (convert(engine.synthesize(s, speed), rate, plan) for s in parts)
        synthesis = Synthesis(chosen.id, "matched", rate, round(plan.similarity, 4), pieces)
        synthesis.plan = plan
        return synthesis
