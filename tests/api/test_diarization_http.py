"""Diarization through POST /v1/transcribe: speaker labels in json/txt/srt/vtt, fixed counts, and a
worker crash that fails one request cleanly while the server lives on."""

from __future__ import annotations

import io
import os
import signal
import threading
import time

import pytest
import srt
import webvtt


@pytest.fixture(scope="module")
def diar_server(tmp_path_factory, registry, whisper, diarization):
    from tests.conftest import LiveServer, make_settings
    from vocable.services import Services

    settings = make_settings(tmp_path_factory.mktemp("diarize"))
    services = Services.create(settings, registry=registry, whisper=whisper, diarization=diarization)
    with LiveServer(services) as server:
        yield server


def post(server, path, data=None, ip="10.9.0.1"):
    with server.client(headers={"X-Forwarded-For": ip}) as client:
        return client.post("/v1/transcribe", files={"file": (path.name, path.read_bytes())},
                           data=data or {})


def test_call_gets_two_labelled_speakers(diar_server, data_dir):
    response = post(diar_server, data_dir / "call-2spk.wav", ip="10.9.0.2")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["speakers"] == ["Speaker 1", "Speaker 2"]
    assert body["segments"][0]["speaker"] == "Speaker 1"  # named in order of first speech
    for segment in body["segments"]:
        assert segment["speaker"] in body["speakers"]
        assert {w["speaker"] for w in segment["words"]} == {segment["speaker"]}
    # a change of speaker always starts a new segment, so both voices get segments
    assert {s["speaker"] for s in body["segments"]} == {"Speaker 1", "Speaker 2"}


@pytest.mark.parametrize("count", [2, 3])
def test_speakers_parameter_is_honoured(diar_server, data_dir, count):
    response = post(diar_server, data_dir / "call-2spk.wav", {"speakers": str(count)}, ip=f"10.9.1.{count}")
    assert response.status_code == 200, response.text
    assert len(response.json()["speakers"]) == count


def test_one_speaker_file(diar_server, data_dir):
    body = post(diar_server, data_dir / "jfk.wav", ip="10.9.0.3").json()
    assert body["speakers"] == ["Speaker 1"]
    assert all(s["speaker"] == "Speaker 1" for s in body["segments"])


def test_text_formats_carry_speaker_labels(diar_server, data_dir):
    path = data_dir / "call-2spk.wav"
    vtt = post(diar_server, path, {"response_format": "vtt"}, ip="10.9.2.1").text
    voices = {c.voice for c in webvtt.from_buffer(io.StringIO(vtt)).captions}
    assert voices == {"Speaker 1", "Speaker 2"}
    subtitles = list(srt.parse(post(diar_server, path, {"response_format": "srt"}, ip="10.9.2.2").text))
    assert {s.content.split(":")[0] for s in subtitles} == {"Speaker 1", "Speaker 2"}
    txt = post(diar_server, path, {"response_format": "txt"}, ip="10.9.2.3").text
    assert txt.startswith("Speaker 1: ") and "\nSpeaker 2: " in txt


def test_worker_crash_fails_the_request_and_the_server_lives(diar_server, data_dir, diarization):
    diarization.start()
    pid = diarization.worker_pid
    result: dict[str, object] = {}

    def request() -> None:
        result["response"] = post(diar_server, data_dir / "ami" / "dev00.wav", ip="10.9.3.1")

    thread = threading.Thread(target=request)
    thread.start()
    deadline = time.monotonic() + 120
    while not diarization._lock.locked() and time.monotonic() < deadline:  # wait for diarization
        time.sleep(0.05)
    os.kill(pid, signal.SIGSEGV)
    thread.join(timeout=300)
    response = result["response"]
    assert response.status_code == 500
    error = response.json()["error"]
    assert "diarization worker crashed" in error and "SIGSEGV" in error
    assert "Traceback" not in error
    again = post(diar_server, data_dir / "jfk.wav", ip="10.9.3.2")
    assert again.status_code == 200 and again.json()["speakers"] == ["Speaker 1"]
