"""The SDK's speakers methods (sync and async) against a live server: enrol a voice from a clip
(jfk.wav, one speaker), list, get, rename, delete, and the errors as exceptions."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from vocable_sdk import AsyncVocable, BadRequestError, NotFoundError, Speaker, Vocable

from tests.conftest import LiveServer, make_settings
from vocable.accounts.keys import create_account, create_key


@pytest.fixture(scope="module")
def server(tmp_path_factory, registry, whisper, diarization):
    from vocable.services import Services

    services = Services.create(make_settings(tmp_path_factory.mktemp("sdk-speakers")),
                               registry=registry, whisper=whisper, diarization=diarization)
    with LiveServer(services) as live:
        yield live


def test_speakers_sync_and_async(server, data_dir):
    db = server.services.db
    key = create_key(db, create_account(db, "sdk-speakers@example.com").id)[1]
    with Vocable(api_key=key, base_url=server.url) as client:
        jfk = client.speakers.enroll("John", data_dir / "jfk.wav")
        assert isinstance(jfk, Speaker) and jfk.name == "John" and jfk.speech_seconds >= 2
        assert [s.id for s in client.speakers.list()] == [jfk.id]
        assert client.speakers.rename(jfk.id, "JFK").name == "JFK"
        with pytest.raises(BadRequestError):
            client.speakers.enroll("Nobody", np.zeros(16000 * 3, dtype="<i2").tobytes(), filename="x.raw")
        with pytest.raises(ValueError):
            client.speakers.enroll("Both")  # neither a clip nor a transcript speaker

    async def rest() -> None:
        async with AsyncVocable(api_key=key, base_url=server.url) as client:
            assert (await client.speakers.get(jfk.id)).name == "JFK"
            await client.speakers.delete(jfk.id)
            with pytest.raises(NotFoundError):
                await client.speakers.get(jfk.id)
            assert await client.speakers.list() == []

    asyncio.run(rest())
