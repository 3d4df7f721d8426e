"""Shared fixtures: real speech data, a real database (SQLite or PostgreSQL), a live HTTP server.

Models are loaded once per test run: session-scoped executors on one session model pool, shared by
every app built here.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Self

import httpx
import pytest
import sqlalchemy as sa
import uvicorn

from vocable.analysis import Analyzer
from vocable.api.app import create_app
from vocable.api.server import uvicorn_options
from vocable.config import Settings, default_plans
from vocable.llm.embed import Embedder
from vocable.llm.runtime import LLMExecutor
from vocable.registry.llm import LLMRegistry
from vocable.registry.pool import ModelPool
from vocable.registry.speech import ModelRegistry
from vocable.services import Services
from vocable.transcription.whisper import WhisperExecutor

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("VOCABLE_TEST_DATA", ROOT.parent / "shared" / "data"))
MODEL_DIR = Path(os.environ.get("VOCABLE_TEST_MODEL_DIR", ROOT / ".cache" / "models"))
PG_ADMIN_URL = os.environ.get("VOCABLE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


# -- data ----------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def data_dir() -> Path:
    assert SHARED_DATA.is_dir(), f"speech data not found at {SHARED_DATA}"
    return SHARED_DATA


@pytest.fixture(scope="session")
def manifest(data_dir) -> dict[str, dict]:
    return {item["audio"]: item for item in json.loads((data_dir / "manifest.json").read_text())}


# -- models (once per run) -----------------------------------------------------------------------
@pytest.fixture(scope="session")
def registry() -> ModelRegistry:
    return ModelRegistry(MODEL_DIR)


@pytest.fixture(scope="session")
def pool():
    """The run's model pool: the session executors load through it, each model once per run."""
    pool = ModelPool(Settings(model_dir=MODEL_DIR).model_idle_unload_s)
    yield pool
    pool.close()


@pytest.fixture(scope="session")
def whisper(registry, pool) -> WhisperExecutor:
    return WhisperExecutor(registry, Settings(model_dir=MODEL_DIR, default_model="base"), pool)


@pytest.fixture(scope="session")
def llm(pool) -> LLMExecutor:
    """The one local LLM of the run (loads on first use), shared by every server built here."""
    settings = Settings(model_dir=MODEL_DIR)
    return LLMExecutor(LLMRegistry(MODEL_DIR), settings, pool)


@pytest.fixture(scope="session")
def embedder(pool) -> Embedder:
    return Embedder(Settings(model_dir=MODEL_DIR), pool)


@pytest.fixture(scope="session")
def parse(embedder, pool):
    """spaCy's parse from the analysis toolkit, as ``Services.writer`` gives it to the checks."""
    from vocable.analysis.nlp import NlpToolkit

    return NlpToolkit(embedder, pool).parse


@pytest.fixture(scope="session")
def diarization(pool):
    """The one diarization worker of the run (starts on first use), shared by every server."""
    from vocable.diarization.executor import DiarizationExecutor

    # as a server runs it
    executor = DiarizationExecutor.for_settings(Settings(model_dir=MODEL_DIR), pool=pool)
    yield executor
    executor.close()


# -- databases -----------------------------------------------------------------------------------
@contextmanager
def postgres_database():
    """A fresh, empty PostgreSQL database for one test; dropped afterwards."""
    name = f"vocable_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as exc:  # pragma: no cover - environment problem
        pytest.fail(f"PostgreSQL at {PG_ADMIN_URL} is not reachable: {exc}")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'vocable.db'}"
    else:
        with postgres_database() as url:
            yield url


# -- live server ---------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """A real uvicorn server in a thread, so tests speak real HTTP (and WebSocket) to the app. It
    runs with the options of `vocable serve` (``uvicorn_options``): only the address and the log
    level differ."""

    def __init__(self, services: Services):
        self.services = services
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        options = uvicorn_options(services.settings) | {
            "host": "127.0.0.1", "port": self.port, "log_level": "warning",
        }
        config = uvicorn.Config(create_app(services=services), **options)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Self:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)

    def client(self, key: str | None = None, **kwargs) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        headers.update(kwargs.pop("headers", {}))
        return httpx.Client(base_url=self.url, headers=headers, timeout=300, **kwargs)


def make_settings(tmp_path: Path, database_url: str = "", **overrides) -> Settings:
    values = {
        "data_dir": tmp_path / "data",
        "model_dir": MODEL_DIR,
        "database_url": database_url,
        "default_model": "base",
        # Tests pose as many clients from loopback: the test client is a trusted proxy.
        "trust_forwarded_for": True,
        "trusted_proxies": ["127.0.0.1"],
    }
    return Settings(**(values | overrides))


@pytest.fixture(scope="session")
def tts(pool, whisper):
    """Speech synthesis (Piper voice, CAM++ for matching), once per run, shared by every server."""
    from vocable.services import tts_service

    return tts_service(Settings(model_dir=MODEL_DIR), pool, whisper)


@pytest.fixture(scope="session")
def analyzer(embedder, llm, pool) -> Analyzer:
    """Text analysis tools (spaCy, Presidio, ...) load once per run, shared by every server."""
    return Analyzer(embedder, llm, pool)


@pytest.fixture
def start_server(tmp_path, registry, pool, whisper, llm, embedder, analyzer, diarization):
    """Factory: ``start_server(database_url=..., plans=...)`` → a running LiveServer."""
    servers: list[LiveServer] = []

    def _start(database_url: str = "", **overrides) -> LiveServer:
        settings = make_settings(tmp_path / f"s{len(servers)}", database_url, **overrides)
        services = Services.create(
            settings, registry=registry, pool=pool, whisper=whisper, llm=llm, embedder=embedder,
            analysis=analyzer,
            diarization=diarization,
        )
        server = LiveServer(services).__enter__()
        servers.append(server)
        return server

    yield _start
    for server in servers:
        server.__exit__(None, None, None)


@pytest.fixture
def server(start_server, database_url) -> LiveServer:
    """A live server on a fresh database, run once on SQLite and once on PostgreSQL."""
    return start_server(database_url)


@pytest.fixture
def plans():
    return default_plans()
