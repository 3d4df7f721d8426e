"""The official `openai` Python package against a live server: one server per test module, an
account (paid, with credits) and its key, and the SDK's client pointed at the server."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import openai
import pytest

from tests.conftest import LiveServer, make_settings
from vocable.accounts.keys import create_account, create_key
from vocable.services import Services
from vocable.storage.models import Account

CREDITS = 50
# A few German sentences for espeak-ng (Debian's speech synthesizer): a non-English clip made here.
GERMAN = "Guten Morgen. Das Wetter ist heute sehr schön. Ich trinke gern Kaffee mit Milch."


@pytest.fixture(scope="module")
def openai_server(tmp_path_factory, registry, pool, whisper, llm, embedder, diarization, tts):
    settings = make_settings(tmp_path_factory.mktemp("openai"))
    services = Services.create(
        settings, registry=registry, pool=pool, whisper=whisper, llm=llm, embedder=embedder,
        diarization=diarization, tts=tts,
    )
    with LiveServer(services) as server:
        yield server


def new_account(server: LiveServer, email: str, credits: int = CREDITS) -> tuple[int, str]:
    account = create_account(server.services.db, email, plan="paid", credits=credits)
    return account.id, create_key(server.services.db, account.id)[1]


def credits_left(server: LiveServer, account_id: int) -> int:
    with server.services.db.session() as s:
        return s.get(Account, account_id).credits


@pytest.fixture(scope="module")
def account(openai_server) -> tuple[int, str]:
    return new_account(openai_server, "openai-sdk@example.com")


def sdk(server: LiveServer, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key=key, max_retries=0, timeout=300)


@pytest.fixture(scope="module")
def client(openai_server, account) -> openai.OpenAI:
    with sdk(openai_server, account[1]) as client:
        yield client


@pytest.fixture
def german_wav(tmp_path) -> Path:
    """GERMAN, spoken by espeak-ng into a WAV file of this test."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        pytest.fail("espeak-ng is not installed (make test installs it: apt-get install espeak-ng)")
    path = tmp_path / "german.wav"
    subprocess.run([espeak, "-v", "de", "-s", "140", "-w", str(path), GERMAN], check=True)
    return path
