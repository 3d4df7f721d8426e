"""Fixtures for the LLM tests: one real transcript of call-2spk (Whisper base), one live server that
shares the session's LLM and embedder, an account with a key, stored transcripts."""

from __future__ import annotations

import pytest

from tests.conftest import LiveServer, make_settings
from vocable.accounts.keys import create_account, create_key
from vocable.results import Transcription
from vocable.services import Services
from vocable.storage.models import Transcript
from vocable.transcription.pipeline import TranscribeOptions, transcribe_file


@pytest.fixture(scope="session")
def call_transcription(data_dir, whisper) -> Transcription:
    """call-2spk.wav transcribed by the bundled Whisper base model (once per run)."""
    return transcribe_file(
        data_dir / "call-2spk.wav", TranscribeOptions(model="base", diarize=False), whisper
    )


@pytest.fixture(scope="session")
def ai_server(tmp_path_factory, registry, whisper, llm, embedder):
    """One SQLite server for the LLM endpoint tests (they only add rows of their own)."""
    settings = make_settings(tmp_path_factory.mktemp("ai"))
    services = Services.create(
        settings, registry=registry, whisper=whisper, llm=llm, embedder=embedder
    )
    with LiveServer(services) as server:
        yield server


def new_key(server: LiveServer, email: str) -> tuple[int, str]:
    account = create_account(server.services.db, email)
    _, raw = create_key(server.services.db, account.id)
    return account.id, raw


@pytest.fixture(scope="session")
def account(ai_server) -> tuple[int, str]:
    return new_key(ai_server, "llm-tests@example.com")


def store_transcript(server: LiveServer, account_id: int, result: Transcription, status="completed"):
    data = result.to_dict()
    with server.services.db.session() as s:
        row = Transcript(
            account_id=account_id, status=status, filename="call-2spk.wav",
            language=data["language"], duration=data["duration"], model=data["model"],
            text=data["text"], segments=data["segments"], speakers=data["speakers"],
        )
        s.add(row)
        s.flush()
        return row.id


@pytest.fixture(scope="session")
def call_transcript_id(ai_server, account, call_transcription) -> str:
    return store_transcript(ai_server, account[0], call_transcription)
