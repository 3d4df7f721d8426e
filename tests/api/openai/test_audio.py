"""/v1/audio/transcriptions and /v1/audio/translations driven by the official `openai` Python SDK,
on real speech with the bundled `base` model: every response format, word timestamps, streamed
events, translation of German speech to English, the diarization extension, errors in OpenAI's
shape, and the same credits as POST /v1/transcribe."""

from __future__ import annotations

import io
import itertools

import httpx
import openai
import pytest
import srt
import webvtt

from tests.accuracy import FILE_WER_MAX
from tests.api.openai.conftest import credits_left, new_account, sdk
from tests.evaluation import wer


@pytest.fixture(scope="module")
def jfk(data_dir) -> tuple[str, bytes]:
    return ("jfk.wav", (data_dir / "jfk.wav").read_bytes())


@pytest.fixture(scope="module")
def reference(manifest) -> str:
    return manifest["jfk.wav"]["reference"]


@pytest.fixture
def german_clip(german_wav) -> tuple[str, bytes]:
    return (german_wav.name, german_wav.read_bytes())


def test_every_response_format(client, openai_server, account, jfk, reference):
    account_id, _ = account
    before = credits_left(openai_server, account_id)
    transcriptions = client.audio.transcriptions

    # json; the seed's large-v3-turbo is not installed here: base serves it, and says so.
    raw = transcriptions.with_raw_response.create(file=jfk, model="large-v3-turbo")
    assert raw.headers["X-Vocable-Model"] == "base" and raw.headers["X-Transcript-Id"]
    result = raw.parse()
    assert wer(reference, result.text) <= FILE_WER_MAX["jfk.wav"], result.text
    assert result.usage.type == "duration" and result.usage.seconds == pytest.approx(11.0, abs=0.2)

    text = transcriptions.create(file=jfk, model="whisper-1", response_format="text")
    assert isinstance(text, str) and "ask not what your country" in text.lower()

    subtitles = list(srt.parse(transcriptions.create(file=jfk, model="base", response_format="srt")))
    assert subtitles and all(s.end > s.start for s in subtitles)
    assert "country" in " ".join(s.content for s in subtitles).lower()

    vtt = transcriptions.create(file=jfk, model="gpt-4o-transcribe", response_format="vtt")
    captions = webvtt.from_buffer(io.StringIO(vtt)).captions
    assert captions and "country" in " ".join(c.text for c in captions).lower()

    verbose = transcriptions.create(
        file=jfk, model="whisper-1", response_format="verbose_json", language="en",
        prompt="Inaugural address, 1961.", timestamp_granularities=["word", "segment"],
    )
    assert verbose.language == "english" and verbose.duration == pytest.approx(11.0, abs=0.2)
    assert wer(reference, verbose.text) <= FILE_WER_MAX["jfk.wav"]
    assert verbose.segments and verbose.segments[0].id == 0
    for segment in verbose.segments:
        assert 0 <= segment.start < segment.end <= verbose.duration + 0.05
        assert segment.avg_logprob <= 0 and segment.compression_ratio > 0
        assert not hasattr(segment, "speaker")  # diarization is an extension, off by default
    words = verbose.words
    assert len(words) >= 20 and all(w.start <= w.end for w in words)
    assert all(a.start <= b.start for a, b in itertools.pairwise(words))
    assert words[-1].end <= verbose.duration + 0.05

    segments_only = transcriptions.create(file=jfk, model="whisper-1", response_format="verbose_json")
    assert segments_only.segments and segments_only.words is None  # OpenAI's default: segments

    # The same admission and credits as POST /v1/transcribe: 11 s is one credit each time.
    assert credits_left(openai_server, account_id) == before - 6


def test_streamed_transcription_events(client, jfk, reference):
    stream = client.audio.transcriptions.create(file=jfk, model="gpt-4o-transcribe", stream=True)
    events = list(stream)
    *deltas, done = events
    assert deltas and all(e.type == "transcript.text.delta" for e in deltas)
    assert done.type == "transcript.text.done"
    assert "".join(e.delta for e in deltas) == done.text
    assert wer(reference, done.text) <= FILE_WER_MAX["jfk.wav"]


# The SDK marks OpenAI's hosted translations deprecated; the route is what is tested here.
@pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")
def test_translation_of_german_speech_to_english(client, german_clip):
    # The clip is German (detected as such) and its transcription is German...
    heard = client.audio.transcriptions.create(
        file=german_clip, model="whisper-1", response_format="verbose_json"
    )
    assert heard.language == "german" and "morgen" in heard.text.lower()
    # ...its translation is English.
    translated = client.audio.translations.create(file=german_clip, model="whisper-1")
    english = translated.text.lower()
    assert "good morning" in english and "coffee" in english, translated.text
    assert "morgen" not in english and "kaffee" not in english
    verbose = client.audio.translations.create(
        file=german_clip, model="base", response_format="verbose_json"
    )
    assert verbose.language == "english" and "coffee" in verbose.text.lower()
    assert verbose.segments and verbose.segments[-1].end <= verbose.duration + 0.05


def test_diarization_extension(client, jfk):
    verbose = client.audio.transcriptions.create(
        file=jfk, model="whisper-1", response_format="verbose_json",
        timestamp_granularities=["word", "segment"], extra_body={"diarize": True},
    )
    assert verbose.model_extra["speakers"] == ["Speaker 1"]
    assert {s.speaker for s in verbose.segments} == {"Speaker 1"}
    assert {w.speaker for w in verbose.words} == {"Speaker 1"}


def test_errors_in_openai_shape(openai_server, client, jfk):
    with pytest.raises(openai.BadRequestError) as unknown:
        client.audio.transcriptions.create(file=jfk, model="large-v9")
    assert unknown.value.code == "model_not_found" and unknown.value.type == "invalid_request_error"
    assert "Unknown model 'large-v9'. Installed models: base, tiny.en." in unknown.value.message

    with pytest.raises(openai.BadRequestError, match="unknown language 'xx'"):
        client.audio.transcriptions.create(file=jfk, model="whisper-1", language="xx")

    with pytest.raises(openai.AuthenticationError) as bad_key:
        sdk(openai_server, "voc_not_a_key").audio.transcriptions.create(file=jfk, model="whisper-1")
    assert bad_key.value.code == "invalid_api_key"

    _, broke = new_account(openai_server, "broke-openai@example.com", credits=0)
    with pytest.raises(openai.APIStatusError) as no_credits:
        sdk(openai_server, broke).audio.transcriptions.create(file=jfk, model="whisper-1")
    assert no_credits.value.status_code == 402 and no_credits.value.code == "insufficient_quota"

    # The wire shape itself (and the seed's routes keep theirs).
    with httpx.Client(base_url=openai_server.url) as http:
        body = http.post("/v1/audio/transcriptions", data={"model": "whisper-1"}).json()
        assert body == {"error": {
            "message": "Expected a multipart/form-data body with a 'file' field.",
            "type": "invalid_request_error", "param": None, "code": None,
        }}
        assert http.post("/v1/transcribe", data={"model": "base"}).json() == {
            "error": "Expected a multipart/form-data body with a 'file' field."
        }
