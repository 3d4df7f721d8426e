"""Speakers known by name (``/api/v1/speakers/``): an account's enrolled voices.

A voice is enrolled from a clip of it, or from one speaker of a stored transcript (that
speaker's stretches of the transcript's stored audio). Either way the diarization worker turns the
audio into a voiceprint, a CAM++ embedding (``DiarizationExecutor.voiceprint``); the audio itself
is never kept. Voiceprints belong to one account (every query is scoped to it: another account's
voice is not found) and go with it (the table's foreign key cascades). Later transcripts of the
account with diarization name the speakers that match (``voices.match_voices``).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
from sqlalchemy import func, select

from vocable.audio import SAMPLE_RATE, decode_audio
from vocable.diarization.voices import (
    EMBEDDING_MODEL,
    MIN_ENROL_SPEECH_S,
    Voice,
    from_bytes,
    to_bytes,
)
from vocable.storage.blobs import BlobNotFound, BlobStore
from vocable.storage.db import Database
from vocable.storage.models import Transcript, Voiceprint, utcnow
from vocable.transcription.store import TranscriptNotCompleted, TranscriptNotFound

MAX_NAME = 100
MAX_VOICES = 200  # per account
MAX_ENROL_S = 120.0  # at most this much of a speaker's speech is used (and charged)
PAD_S = 0.1  # around each of a transcript speaker's segments
_GENERIC = re.compile(r"speaker\s*\d+", re.IGNORECASE)


class SpeakerNotFound(LookupError):
    def __init__(self) -> None:
        super().__init__("No such speaker.")


class SpeakerInputError(ValueError):
    """A bad name, a clip without enough speech, a transcript speaker that does not exist..."""


class SpeakerNameTaken(Exception):
    def __init__(self, name: str):
        super().__init__(f"You already have a speaker named '{name}'.")


def clean_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise SpeakerInputError("A speaker needs a name: send 'name'.")
    name = " ".join(name.split())
    if len(name) > MAX_NAME:
        raise SpeakerInputError(f"A speaker's name is at most {MAX_NAME} characters.")
    if _GENERIC.fullmatch(name):
        raise SpeakerInputError(f"'{name}' is how unknown speakers are labelled; choose a real name.")
    return name


def public(row: Voiceprint) -> dict[str, Any]:
    return {
        "id": row.id, "name": row.name, "speech_seconds": round(row.speech_s, 2),
        "source": row.source, "model": row.model,
        "created_at": row.created_at, "updated_at": row.updated_at,
    }


class Speakers:
    def __init__(self, db: Database, blobs: BlobStore, diarization):
        self.db = db
        self.blobs = blobs
        self.diarization = diarization  # DiarizationExecutor (its worker makes voiceprints)

    # -- reading -----------------------------------------------------------------------------------
    def list(self, account_id: int) -> list[dict[str, Any]]:
        with self.db.session() as s:
            rows = s.scalars(
                select(Voiceprint).where(Voiceprint.account_id == account_id)
                .order_by(Voiceprint.created_at, Voiceprint.id)
            )
            return [public(r) for r in rows]

    def get(self, account_id: int, speaker_id: str) -> dict[str, Any]:
        with self.db.session() as s:
            return public(self._own(s, account_id, speaker_id))

    def voices(self, account_id: int | None) -> list[Voice]:
        """The account's voiceprints, for naming the speakers of its transcripts."""
        if account_id is None:
            return []
        with self.db.session() as s:
            rows = s.execute(
                select(Voiceprint.name, Voiceprint.embedding).where(
                    Voiceprint.account_id == account_id, Voiceprint.model == EMBEDDING_MODEL
                )
            ).all()
        return [Voice(name, from_bytes(emb)) for name, emb in rows]

    # -- changing ----------------------------------------------------------------------------------
    def rename(self, account_id: int, speaker_id: str, name: object) -> dict[str, Any]:
        name = clean_name(name)
        with self.db.session() as s:
            row = self._own(s, account_id, speaker_id)
            self._check_free(s, account_id, name, speaker_id)
            row.name, row.updated_at = name, utcnow()
            return public(row)

    def delete(self, account_id: int, speaker_id: str) -> None:
        with self.db.session() as s:
            s.delete(self._own(s, account_id, speaker_id))

    def check_enrolment(self, account_id: int, name: object) -> str:
        """Before any audio is processed (or paid): the name, and room for one more voice."""
        name = clean_name(name)
        with self.db.session() as s:
            self._check_free(s, account_id, name)
            count = s.scalar(select(func.count()).where(Voiceprint.account_id == account_id))
            if count >= MAX_VOICES:
                raise SpeakerInputError(f"An account holds at most {MAX_VOICES} speakers.")
        return name

    def enrol(self, account_id: int, name: str, audio: np.ndarray, source: str) -> dict[str, Any]:
        """Make the voiceprint of ``audio`` (16 kHz mono, one voice) and keep it as ``name``."""
        name = self.check_enrolment(account_id, name)
        embedding, speech_s = self.diarization.voiceprint(audio)
        if speech_s < MIN_ENROL_SPEECH_S:
            raise SpeakerInputError(
                f"Not enough clear speech to enrol a voice: {speech_s:.1f} s heard, "
                f"{MIN_ENROL_SPEECH_S:.0f} s of one person talking alone needed."
            )
        with self.db.session() as s:
            self._check_free(s, account_id, name)
            row = Voiceprint(account_id=account_id, name=name, embedding=to_bytes(embedding),
                             model=EMBEDDING_MODEL, speech_s=speech_s, source=source[:300])
            s.add(row)
            s.flush()
            return public(row)

    # -- audio to enrol from -----------------------------------------------------------------------
    @staticmethod
    def clip_audio(path) -> np.ndarray:
        """A clip's audio (``AudioError`` for what cannot be decoded), its first MAX_ENROL_S."""
        return decode_audio(path)[: int(MAX_ENROL_S * SAMPLE_RATE)]

    def transcript_spans(
        self, account_id: int, transcript_id: str, label: object
    ) -> tuple[str, list[tuple[float, float]]]:
        """The stored audio's key and the stretches where ``label`` speaks in the transcript
        (merged, padded, at most MAX_ENROL_S in all)."""
        if not isinstance(label, str) or not label.strip():
            raise SpeakerInputError("Say which speaker of the transcript: send 'speaker' (e.g. 'Speaker 2').")
        if not isinstance(transcript_id, str) or not transcript_id:
            raise SpeakerInputError("Send 'transcript_id' (or a 'file' to enrol from a clip).")
        with self.db.session() as s:
            row = s.scalar(select(Transcript).where(
                Transcript.id == transcript_id, Transcript.account_id == account_id))
            if row is None:
                raise TranscriptNotFound()
            if row.status != "completed":
                raise TranscriptNotCompleted(row.status)
            key, segments, speakers = row.audio_key, row.segments or [], row.speakers or []
        label = label.strip()
        if label not in speakers:
            known = ", ".join(f"'{k}'" for k in speakers) or "none"
            raise SpeakerInputError(f"The transcript has no speaker '{label}' (its speakers: {known}).")
        if not key or not self.blobs.exists(key):
            raise SpeakerInputError("The transcript's audio is not kept, so no voice can be taken from it.")
        spans = []
        for seg in segments:
            if seg.get("speaker") != label:
                continue
            words = seg.get("words") or []
            start = words[0]["start"] if words else seg["start"]
            end = words[-1]["end"] if words else seg["end"]
            spans.append((max(0.0, start - PAD_S), end + PAD_S))
        spans.sort()
        merged: list[list[float]] = []
        for a, b in spans:
            if merged and a <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        out, total = [], 0.0
        for a, b in merged:
            b = min(b, a + MAX_ENROL_S - total)
            if b <= a:
                break
            out.append((a, b))
            total += b - a
        return key, out

    def transcript_audio(self, key: str, spans: list[tuple[float, float]]) -> np.ndarray:
        try:
            with self.blobs.local_path(key) as path:
                audio = decode_audio(path)
        except BlobNotFound:
            raise SpeakerInputError("The transcript's audio is not kept, so no voice can be taken from it.") from None
        parts = [audio[int(a * SAMPLE_RATE):int(b * SAMPLE_RATE)] for a, b in spans]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)

    # -- helpers -----------------------------------------------------------------------------------
    @staticmethod
    def _own(s, account_id: int, speaker_id: str) -> Voiceprint:
        row = s.get(Voiceprint, speaker_id) if isinstance(speaker_id, str) and len(speaker_id) <= 32 else None
        if row is None or row.account_id != account_id:
            raise SpeakerNotFound()
        return row

    @staticmethod
    def _check_free(s, account_id: int, name: str, except_id: str | None = None) -> None:
        query = select(Voiceprint.id).where(
            Voiceprint.account_id == account_id, func.lower(Voiceprint.name) == name.lower())
        if except_id:
            query = query.where(Voiceprint.id != except_id)
        if s.scalar(query) is not None:
            raise SpeakerNameTaken(name)
