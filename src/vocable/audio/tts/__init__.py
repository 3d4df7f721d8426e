"""Speech synthesis: Piper voices, voice matching (WORLD), the zero-shot cloning seam."""

from vocable.audio.tts.cloning import CloningUnavailable
from vocable.audio.tts.normalize import normalize, sentences
from vocable.audio.tts.service import BadReference, Synthesis, TTSInputError, TTSService
from vocable.audio.tts.speaker import SpeakerEncoder

__all__ = [
    "BadReference",
    "CloningUnavailable",
    "SpeakerEncoder",
    "Synthesis",
    "TTSInputError",
    "TTSService",
    "normalize",
    "sentences",
]
