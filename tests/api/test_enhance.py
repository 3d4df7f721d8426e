"""POST /v1/enhance-audio end to end over real HTTP, on real speech: a valid WAV as long as the
input, noise removed (SI-SDR up), loudness on target, bad input refused cleanly, nothing left on
disk; and enhance=true on /v1/transcribe."""

from __future__ import annotations

import io

import av
import numpy as np
import pyloudnorm
import pytest
import soundfile

from tests.evaluation import wer
from vocable.audio import decode_audio
from vocable.audio.encode import encode
from vocable.audio.loudness import db, true_peak
from vocable.audio.quality import mix_at_snr, si_sdr


@pytest.fixture(scope="module")
def enhance_server(tmp_path_factory, registry, whisper, diarization, pool):
    from tests.conftest import LiveServer, make_settings
    from vocable.services import Services

    settings = make_settings(tmp_path_factory.mktemp("enhance"))
    services = Services.create(
        settings, registry=registry, whisper=whisper, diarization=diarization, pool=pool
    )
    with LiveServer(services) as server:
        yield server


@pytest.fixture(scope="module")
def speech(data_dir):
    return decode_audio(data_dir / "jfk.wav")[: 16000 * 6]


@pytest.fixture(scope="module")
def noisy_wav(speech):
    noise = np.random.default_rng(7).standard_normal(speech.size).astype(np.float32)
    return encode(mix_at_snr(speech, noise, 5.0) * 0.5, 16000, "wav")


def post(server, content, data=None, filename="noisy.wav", ip="10.3.0.1", key=None):
    with server.client(key, headers={"X-Forwarded-For": ip}) as client:
        return client.post("/v1/enhance-audio", files={"file": (filename, content)}, data=data or {})


def left_on_disk(server) -> list:
    receiving = server.services.settings.data_dir / "uploads"
    blobs = server.services.blobs.root
    files = list(receiving.iterdir()) if receiving.exists() else []
    return files + ([p for p in blobs.rglob("*") if p.is_file()] if blobs.exists() else [])


def test_enhanced_wav_is_clean_loud_and_as_long(enhance_server, speech, noisy_wav):
    response = post(enhance_server, noisy_wav)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "audio/wav"
    assert float(response.headers["x-duration"]) == pytest.approx(6.0, abs=0.01)
    assert float(response.headers["x-processing-time"]) > 0
    audio, rate = soundfile.read(io.BytesIO(response.content), dtype="float64")
    info = soundfile.info(io.BytesIO(response.content))
    assert (rate, info.subtype, info.channels) == (16000, "PCM_16", 1)
    assert audio.size == speech.size
    before = si_sdr(mix_at_snr(speech, np.random.default_rng(7).standard_normal(speech.size), 5.0),
                    speech)
    after = si_sdr(audio, speech)
    assert after > before + 6.0, (before, after)  # measured: about +8 dB
    loudness = pyloudnorm.Meter(16000).integrated_loudness(audio)
    assert loudness == pytest.approx(-16.0, abs=1.0)
    assert db(true_peak(audio)) <= -1.0 + 0.1
    assert float(response.headers["x-loudness"]) == pytest.approx(loudness, abs=0.1)
    assert not left_on_disk(enhance_server)


def test_options_format_rate_and_no_processing(enhance_server, noisy_wav):
    response = post(enhance_server, noisy_wav, {"format": "flac", "sample_rate": "48000"}, ip="10.3.0.2")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "audio/flac"
    with av.open(io.BytesIO(response.content)) as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        assert stream.codec_context.name == "flac" and stream.sample_rate == 48000
    assert samples == 6 * 48000
    # neither denoising nor normalisation: the input comes back (16-bit rounding aside)
    plain = post(enhance_server, noisy_wav, {"denoise": "false", "normalize": "false"}, ip="10.3.0.3")
    assert plain.status_code == 200 and plain.headers["x-denoise"] == "off"
    original, _ = soundfile.read(io.BytesIO(noisy_wav))
    returned, _ = soundfile.read(io.BytesIO(plain.content))
    np.testing.assert_allclose(returned, original, atol=2 / 32768)
    assert not left_on_disk(enhance_server)


@pytest.mark.parametrize("content, data, message", [
    (b"", {}, "empty"),
    (b"this is not audio at all" * 100, {}, "not a readable audio"),
    (None, {"format": "aiff"}, "format"),
    (None, {"sample_rate": "12345"}, "sample_rate"),
    (None, {"denoise": "maybe"}, "denoise"),
])
def test_bad_input_is_a_clean_400(enhance_server, noisy_wav, content, data, message):
    response = post(enhance_server, noisy_wav if content is None else content, data, ip="10.3.0.4")
    assert response.status_code == 400, response.text
    assert message in response.json()["error"]
    assert not left_on_disk(enhance_server)


def test_missing_file_and_not_multipart(enhance_server):
    with enhance_server.client(headers={"X-Forwarded-For": "10.3.0.5"}) as client:
        missing = client.post("/v1/enhance-audio", data={"denoise": "true"}, files={"x": ("a", b"")})
        assert missing.status_code == 400 and "error" in missing.json()
        raw = client.post("/v1/enhance-audio", content=b"abc", headers={"content-type": "audio/wav"})
        assert raw.status_code == 400 and "multipart" in raw.json()["error"]
    assert not left_on_disk(enhance_server)


def test_models_list_the_denoiser(enhance_server):
    with enhance_server.client() as client:
        models = client.get("/v1/models").json()
    denoise = [m for m in models["models"] if m["family"] == "denoise"]
    assert [m["id"] for m in denoise] == ["dtln"] and denoise[0]["installed"]


def test_transcribe_with_enhance(enhance_server, data_dir, manifest):
    path = data_dir / "jfk.wav"
    with enhance_server.client(headers={"X-Forwarded-For": "10.3.0.6"}) as client:
        response = client.post(
            "/v1/transcribe", files={"file": (path.name, path.read_bytes())},
            data={"enhance": "true", "diarize": "false"},
        )
    assert response.status_code == 200, response.text
    assert wer(manifest["jfk.wav"]["reference"], response.json()["text"]) <= 0.1
    assert not left_on_disk(enhance_server)
