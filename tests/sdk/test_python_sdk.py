"""The Python SDK (sdks/python, ``vocable_sdk``) against a live server (tests/sdk/sdk_stack.py):
real transcription of jfk.wav with the bundled ``base`` model, typed results, the account API,
pagination, and the mapping of every documented error status to its exception."""

from __future__ import annotations

import asyncio
import io
import time
import wave
from array import array
from pathlib import Path

import numpy as np
import pytest
import srt
from vocable_sdk import (
    Account,
    Analysis,
    APIConnectionError,
    AsyncVocable,
    AuthenticationError,
    BadRequestError,
    ChatAnswer,
    ChatSource,
    Embeddings,
    Generation,
    NotFoundError,
    PayloadTooLargeError,
    PaymentRequiredError,
    RateLimitError,
    Segment,
    Summary,
    Transcription,
    TranscriptionJob,
    TranscriptSummary,
    Translation,
    Vocable,
    VocableError,
    Word,
    iter_pcm_file,
    paced,
    streaming,
)
from vocable_sdk import (
    Transcript as SdkTranscript,
)

from tests.evaluation import wer
from tests.sdk.sdk_stack import Stack, copy_transcripts, running_stack

REFERENCE_MAX_WER = 0.15


@pytest.fixture(scope="module")
def stack(tmp_path_factory, registry, whisper, llm, embedder, analyzer, diarization, tts):
    with running_stack(
        tmp_path_factory.mktemp("sdk-py"),
        tts=tts,
        registry=registry,
        whisper=whisper,
        llm=llm,
        embedder=embedder,
        analysis=analyzer,
        diarization=diarization,
    ) as stack:
        yield stack


@pytest.fixture(scope="module")
def lister_transcripts(stack: Stack, transcribed: Transcription) -> list[str]:
    return copy_transcripts(stack, transcribed)


@pytest.fixture(scope="module")
def transcribed(stack, data_dir) -> Transcription:
    """The module's one synchronous JSON transcription (diarization on, the default)."""
    with stack.client(stack.key) as client:
        return client.transcribe(data_dir / "jfk.wav", model="base")


# -- transcription -------------------------------------------------------------------------------
def test_transcribe_path_gives_typed_result(transcribed, manifest):
    result = transcribed
    assert isinstance(result, Transcription)
    assert result.language == "en" and result.model == "base"
    assert result.duration == pytest.approx(manifest["jfk.wav"]["duration_s"], abs=0.2)
    assert wer(manifest["jfk.wav"]["reference"], result.text) <= REFERENCE_MAX_WER
    assert result.segments and all(isinstance(s, Segment) for s in result.segments)
    assert result.speakers == ["Speaker 1"]
    for segment in result.segments:
        assert segment.speaker == "Speaker 1" and 0 < segment.confidence <= 1
        assert segment.words and all(isinstance(w, Word) for w in segment.words)
        for word in segment.words:
            assert segment.start <= word.start <= word.end <= segment.end
    assert result.id, "a keyed transcription is stored and its id returned"
    assert result.raw["text"] == result.text


def test_transcribe_bytes_as_subtitles(stack, data_dir):
    audio = (data_dir / "jfk.wav").read_bytes()
    with stack.client(stack.key) as client:
        body = client.transcribe(
            audio,
            filename="jfk.wav",
            model="base",
            language="en",
            diarize=False,
            response_format="srt",
        )
    assert isinstance(body, str)
    cues = list(srt.parse(body))
    assert cues and all(c.end > c.start for c in cues)
    assert "country" in " ".join(c.content for c in cues).lower()


def test_async_job_from_file_object_then_wait(stack, data_dir, manifest):
    with stack.client(stack.key) as client, open(data_dir / "jfk.wav", "rb") as audio:
        job = client.transcribe(audio, model="base", diarize=False, async_=True)
        assert isinstance(job, TranscriptionJob) and job.status == "queued" and job.id
        transcript = client.transcripts.wait(job.id, timeout=300, poll_interval=0.2)
    assert isinstance(transcript, SdkTranscript)
    assert transcript.id == job.id and transcript.status == "completed" and transcript.done
    assert transcript.filename == "jfk.wav" and transcript.speakers == []
    assert transcript.options["diarize"] is False
    assert wer(manifest["jfk.wav"]["reference"], transcript.text) <= REFERENCE_MAX_WER
    assert (
        transcript.created_at.tzinfo is not None
        and transcript.completed_at >= transcript.created_at
    )


def test_stored_transcript_get_export_delete(stack, transcribed, tmp_path):
    with stack.client(stack.key) as client:
        stored = client.transcripts.get(transcribed.id)
        assert stored.text == transcribed.text and stored.status == "completed"
        assert [s.text for s in stored.segments] == [s.text for s in transcribed.segments]

        txt = client.transcripts.export(transcribed.id, "txt")
        assert b"country" in txt.lower()
        pdf_path = tmp_path / "jfk.pdf"
        pdf = client.transcripts.export(transcribed.id, "pdf", path=pdf_path)
        assert pdf.startswith(b"%PDF") and pdf_path.read_bytes() == pdf
        with pytest.raises(BadRequestError, match="xls"):
            client.transcripts.export(transcribed.id, "xls")

        client.transcripts.delete(transcribed.id)
        with pytest.raises(NotFoundError) as missing:
            client.transcripts.get(transcribed.id)
    assert missing.value.status == 404 and str(missing.value) == "No such transcript."


# -- account API ---------------------------------------------------------------------------------
def test_account_keys_usage(stack):
    with stack.client(stack.key) as client:
        account = client.account.get()
        assert isinstance(account, Account) and account.plan == "paid" and account.uses_credits
        assert account.limits.concurrent_jobs == 5 and account.credits <= 30
        updated = client.account.update(name="SDK Test", email_preferences={"usage_alerts": False})
        assert updated.name == "SDK Test" and updated.email_preferences["usage_alerts"] is False

        created = client.keys.create("second")
        assert created.key and created.active and created.name == "second"
        assert created.id in {k.id for k in client.keys.list()}
        with stack.client(created.key) as second:
            assert second.account.get().id == account.id
        client.keys.revoke(created.id)
        with stack.client(created.key) as second, pytest.raises(AuthenticationError):
            second.account.get()
        with pytest.raises(NotFoundError):
            client.keys.revoke(created.id)

        usage = client.usage.get(days=7)
        assert len(usage.days) == 7 and usage.days[-1].date == usage.end
        assert usage.totals.requests >= 1
        assert "workers" in client.cloud.get()


def test_meta_endpoints_need_no_key(stack):
    with stack.client() as client:
        assert client.health().status == "ok"
        models = {m.id: m for m in client.models()}
        assert models["base"].installed
        assert any(lang.code == "en" for lang in client.languages())


def test_pagination_and_filters(stack, lister_transcripts):
    ids = lister_transcripts
    with stack.client(stack.lister) as client:
        first = client.transcripts.list(page=1, page_size=3)
        assert first.count == len(ids) and len(first.results) == 3 and first.has_next
        assert first.previous is None
        last = client.transcripts.list(page=3, page_size=3)
        assert len(last.results) == 1 and not last.has_next and last.previous
        listed = [item.id for item in client.transcripts.iter(page_size=3)]
        assert listed == ids  # newest first, each once, across three pages
        assert all(isinstance(i, TranscriptSummary) for i in client.transcripts.iter(page_size=50))
        failed = list(client.transcripts.iter(status="failed"))
        assert [f.id for f in failed] == ids[:2] and all(f.status == "failed" for f in failed)
        both = client.transcripts.list(status=["failed", "completed"], language="en")
        assert both.count == len(ids)
        assert client.transcripts.list(created_after="2099-01-01").count == 0
        with pytest.raises(BadRequestError, match="status"):
            client.transcripts.list(status="sleeping")


# -- errors --------------------------------------------------------------------------------------
def test_error_401(stack):
    with stack.client("voc_not_a_real_key") as client, pytest.raises(AuthenticationError) as bad:
        client.account.get()
    assert bad.value.status == 401 and str(bad.value) == "Invalid or revoked API key."


def test_error_402_no_credits(stack, data_dir):
    with stack.client(stack.broke) as client, pytest.raises(PaymentRequiredError) as refused:
        client.transcribe(data_dir / "jfk.wav", model="base")
    assert refused.value.status == 402
    assert str(refused.value) == "No credits remaining. Upgrade your plan."
    assert refused.value.body == {"error": "No credits remaining. Upgrade your plan."}


def test_error_404(stack):
    with stack.client(stack.key) as client, pytest.raises(NotFoundError) as missing:
        client.transcripts.export("0" * 32, "txt")
    assert missing.value.status == 404 and isinstance(missing.value, VocableError)


def test_error_413_file_over_plan_limit(stack, data_dir):
    big = (data_dir / "jfk.wav").read_bytes() * 4  # 1.4 MB against the 1 MB anonymous cap
    with (
        stack.client(headers={"X-Forwarded-For": "10.77.0.2"}) as client,
        pytest.raises(PayloadTooLargeError) as refused,
    ):
        client.transcribe(io.BytesIO(big), filename="big.wav")
    assert refused.value.status == 413 and "1 MB" in str(refused.value)


def test_error_429_with_retry_after(stack):
    with stack.client(stack.limited) as client:
        client.account.get()
        client.account.get()
        with pytest.raises(RateLimitError) as limited:
            client.account.get()
    assert limited.value.status == 429 and "2 requests per minute" in str(limited.value)
    assert 0 < limited.value.retry_after <= 61


def test_error_400_and_no_key_and_connection(stack, data_dir):
    with stack.client(stack.key) as client:
        with pytest.raises(BadRequestError, match="unknown language 'xx'"):
            client.transcribe(data_dir / "jfk.wav", language="xx")
        with pytest.raises(BadRequestError) as undecodable:
            client.transcribe(b"not audio at all" * 64, filename="x.mp3")
        assert undecodable.value.status == 400
    with (
        stack.client() as anonymous,
        pytest.raises(AuthenticationError, match="API key is required"),
    ):
        anonymous.transcripts.list()
    with (
        Vocable(base_url="http://127.0.0.1:9") as nowhere,
        pytest.raises(APIConnectionError) as down,
    ):
        nowhere.health()
    assert down.value.status is None


# -- asyncio client ------------------------------------------------------------------------------
def test_async_client(stack, lister_transcripts):
    ids = lister_transcripts

    async def main() -> None:
        async with AsyncVocable(api_key=stack.lister, base_url=stack.server.url) as client:
            account, models = await asyncio.gather(client.account.get(), client.models())
            assert account.plan == "paid" and any(m.id == "base" for m in models)
            listed = [item.id async for item in client.transcripts.iter(page_size=2)]
            assert listed == ids
            detail = await client.transcripts.get(ids[0])
            assert detail.status == "failed" or detail.text
            vtt = await client.transcripts.export(ids[-1], "vtt")
            assert vtt.startswith(b"WEBVTT")
            with pytest.raises(NotFoundError):
                await client.transcripts.get("missing")
        async with AsyncVocable(api_key=stack.broke, base_url=stack.server.url) as broke:
            with pytest.raises(PaymentRequiredError):
                await broke.transcribe(b"RIFF" + b"\0" * 100, filename="a.wav")

    asyncio.run(main())


# -- text AI (local LLM, embeddings, analysis, translation) --------------------------------------
SPEECH = (
    "And so my fellow Americans, ask not what your country can do for you, "
    "ask what you can do for your country."
)


def test_embed(stack):
    with stack.client(stack.key) as client:
        out = client.embed(["Hello world", "How are you", "Hello world"])
    assert isinstance(out, Embeddings) and out.dimensions == 384 and out.model
    assert len(out.embeddings) == 3 and all(len(v) == 384 for v in out.embeddings)
    vectors = np.asarray(out.embeddings)
    assert np.linalg.norm(vectors, axis=1) == pytest.approx(1.0, abs=1e-3)
    assert vectors[0] @ vectors[2] == pytest.approx(1.0, abs=1e-4)
    assert vectors[0] @ vectors[1] < 0.9


def test_summarize_and_generate(stack):
    with stack.client(stack.key) as client:
        summary = client.summarize(SPEECH)
        assert isinstance(summary, Summary) and summary.style == "brief" and summary.model
        assert "country" in summary.summary.lower()
        quotes = client.generate(SPEECH, "key_quotes")
        assert isinstance(quotes, Generation) and quotes.type == "key_quotes" and quotes.content
        assert isinstance(quotes.result, dict)
        with pytest.raises(BadRequestError, match="type"):
            client.generate(SPEECH, "sonnet")


def test_analyze_and_translate(stack):
    with stack.client(stack.key) as client:
        sentiment = client.analyze(SPEECH, "sentiment")
        assert isinstance(sentiment, Analysis) and sentiment.type == "sentiment"
        assert sentiment.language == "en" and sentiment.result
        with pytest.raises(BadRequestError):
            client.analyze(SPEECH, "horoscope")
        one = client.translate("Hello, my friend.", "es")
        assert isinstance(one, Translation) and one.translated_text.strip()
        assert (one.source_language, one.target_language) == ("en", "es")
        many = client.translate_many(["Good morning.", "Thank you very much."], "fr")
        assert len(many) == 2 and all(t.translated_text.strip() for t in many)
        assert all(t.target_language == "fr" for t in many)


def test_stored_transcript_analyze(stack, lister_transcripts):
    completed = lister_transcripts[-1]  # the oldest copy: completed
    with stack.client(stack.lister) as client:
        questions = client.transcripts.analyze(completed, "questions")
        assert isinstance(questions, Analysis) and questions.type == "questions"
        assert questions.raw["transcript_id"] == completed and questions.language == "en"
        with pytest.raises(NotFoundError):
            client.transcripts.analyze("0" * 32, "sentiment")
        with pytest.raises(BadRequestError, match="failed"):
            client.transcripts.analyze(lister_transcripts[0], "sentiment")


def test_stored_transcript_chat_and_generate(stack, lister_transcripts):
    completed = lister_transcripts[-1]  # the oldest copy: completed
    with stack.client(stack.lister) as client:
        answer = client.transcripts.chat(completed, "What should the listeners ask?")
        assert isinstance(answer, ChatAnswer) and answer.answer and answer.session_id
        assert answer.sources and all(isinstance(src, ChatSource) for src in answer.sources)
        assert any("country" in src.text.lower() for src in answer.sources)
        follow_up = client.transcripts.chat(
            completed, "And who is speaking to them?", session_id=answer.session_id
        )
        assert follow_up.session_id == answer.session_id and follow_up.answer
        chapters = client.transcripts.generate(completed, "chapter_markers")
        assert chapters.type == "chapter_markers" and chapters.content
        with pytest.raises(NotFoundError):
            client.transcripts.chat("0" * 32, "Anyone there?")


# -- streaming -----------------------------------------------------------------------------------
STREAM_MAX_WER = 0.20  # streaming decodes short windows: a little below file quality


@pytest.fixture(scope="module")
def jfk(data_dir) -> Path:
    return data_dir / "jfk.wav"


def test_stream_file_paced(stack, manifest, jfk):
    with stack.client(stack.key) as client:
        events = list(client.stream_file(jfk, language="en", model="base", speed=2.0))
    finals = [e for e in events if e.type == "final"]
    assert events[-1].type == "done" and events[-1].is_final
    assert events[-1].duration == pytest.approx(11.0, abs=0.1)
    assert [e.type for e in events].count("done") == 1
    assert finals and all(e.words and e.start is not None and e.end >= e.start for e in finals)
    text = " ".join(e.text for e in finals)
    assert wer(manifest["jfk.wav"]["reference"], text) <= STREAM_MAX_WER, text


def test_stream_session_with_own_chunks_async(stack, manifest, jfk):
    async def main() -> tuple[list[str], str, float | None]:
        async with AsyncVocable(api_key=stack.key, base_url=stack.server.url) as client:
            async with client.stream(language="en", model="base") as session:
                kinds = [e.type async for e in session.transcribe(iter_pcm_file(jfk, 250))]
            return kinds, session.text, session.duration

    kinds, text, duration = asyncio.run(main())  # sent as fast as the server reads it
    assert kinds[-1] == "done" and "final" in kinds and set(kinds) <= {"partial", "final", "done"}
    assert duration == pytest.approx(11.0, abs=0.1)
    assert wer(manifest["jfk.wav"]["reference"], text) <= STREAM_MAX_WER, text


def test_stream_refusals_raise_http_error_classes(stack):
    with pytest.raises(AuthenticationError) as bad_key, stack.client("voc_wrong").stream():
        pass
    assert bad_key.value.status == 401 and bad_key.value.close_code == 4401
    with pytest.raises(PaymentRequiredError) as broke, stack.client(stack.broke).stream():
        pass
    assert broke.value.close_code == 4402 and "credits" in str(broke.value).lower()
    with stack.client(stack.key) as client:
        with (
            pytest.raises(BadRequestError, match="unknown language 'xx'"),
            client.stream(language="xx"),
        ):
            pass
        with pytest.raises(BadRequestError, match="Unknown model 'nope'"), client.stream(model="nope"):
            pass


def test_stream_source_failure_ends_the_stream(stack):
    def microphone():
        yield b"\0" * 32000  # one second of silence, then the device fails
        raise OSError("microphone unplugged")

    with (
        stack.client(stack.key) as client,
        client.stream(language="en") as session,
        pytest.raises(OSError, match="unplugged"),
    ):
        for _ in session.transcribe(microphone()):
            pass
    assert not session.finals


# -- PCM helpers (no server) ---------------------------------------------------------------------
def test_pcm_from_files(data_dir, tmp_path):
    with wave.open(str(data_dir / "jfk.wav"), "rb") as source:  # 16 kHz mono s16 already
        raw = source.readframes(source.getnframes())
    chunks = list(iter_pcm_file(data_dir / "jfk.wav", chunk_ms=100))
    assert b"".join(chunks) == raw  # PyAV: nothing to convert, the samples as they are
    assert {len(c) for c in chunks[:-1]} == {3200}

    # The same sound at 48 kHz stereo (each sample three times, on both channels).
    samples = array("h", raw)
    wide = array("h", (v for v in samples for _ in range(6)))
    path = tmp_path / "stereo48k.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(48000)
        out.writeframes(wide.tobytes())
    assert b"".join(streaming._wav_pcm(path)) == raw  # the fallback without PyAV
    decoded = np.frombuffer(b"".join(iter_pcm_file(path)), np.int16)  # PyAV's (filtered) resampler
    assert len(decoded) == len(samples)
    assert np.corrcoef(decoded, np.asarray(samples))[0, 1] > 0.98


def test_paced_sends_at_real_time():
    half_second = [b"\0" * 3200] * 5  # five chunks of 100 ms
    started = time.monotonic()
    assert list(paced(half_second, speed=1.0)) == half_second
    assert time.monotonic() - started >= 0.38  # the last chunk is due at 0.4 s


def test_tts(stack, data_dir):
    from vocable_sdk import Speech

    from vocable.audio import decode_audio
    from vocable.audio.encode import encode

    with stack.client(stack.key) as client:
        speech = client.tts("Hello from the Python SDK.", format="flac")
        assert isinstance(speech, Speech) and speech.content_type == "audio/flac"
        assert speech.voice == "bundled" and speech.voice_id == "joe"
        assert speech.duration and speech.duration > 0.5 and speech.generation_time
        assert speech.audio[:4] == b"fLaC"
        with pytest.raises(BadRequestError, match="reference"):
            client.tts("Hi.", reference=encode(decode_audio(data_dir / "jfk.wav")[:8000], 16000))


# -- audio tools ----------------------------------------------------------------------------------
def test_enhance_audio(stack, data_dir, tmp_path):
    from vocable_sdk import EnhancedAudio

    with stack.client(stack.key) as client:
        out = client.enhance_audio(data_dir / "jfk.mp3")
        assert isinstance(out, EnhancedAudio) and out.content_type == "audio/wav"
        assert out.duration == pytest.approx(11.0, abs=0.05) and out.processing_time > 0
        assert out.loudness == pytest.approx(-16.0, abs=1.0) and out.true_peak <= -0.9
        assert out.denoise == "dtln"
        with wave.open(str(out.save(tmp_path / "clean.wav"))) as w:
            assert (w.getframerate(), w.getsampwidth()) == (16000, 2)
            assert w.getnframes() == 11 * 16000
        flac = client.enhance_audio((data_dir / "jfk.wav").read_bytes(), format="flac",
                                    denoise=False)
        assert flac.content_type == "audio/flac" and flac.denoise == "off"
        with pytest.raises(BadRequestError, match="not a readable audio"):
            client.enhance_audio(b"not audio" * 50)

    async def run():
        async with AsyncVocable(base_url=stack.server.url, api_key=stack.key) as client:
            return await client.enhance_audio(data_dir / "jfk.wav", normalize=False)

    assert asyncio.run(run()).duration == pytest.approx(11.0, abs=0.05)


# -- editing, audio, search (issue 17) ------------------------------------------------------------
def test_edit_audio_and_search(stack, data_dir):
    from vocable_sdk import ConflictError

    with stack.client(stack.key) as client:
        made = client.transcribe(data_dir / "jfk.wav", model="base", diarize=False)
        edited = client.transcripts.edit_segment(made.id, 0, made.segments[0].text + " Edited.")
        assert edited.version == 1 and edited.changed_segments == [0] and "Edited." in edited.text
        with pytest.raises(ConflictError):
            client.transcripts.edit(made.id, [{"op": "edit_text", "segment": 0, "text": "x"}], version=0)
        history = client.transcripts.edits(made.id)
        assert [e.version for e in history] == [1] and history[0].operations[0]["op"] == "edit_text"
        assert b"Edited." in client.transcripts.export(made.id, "srt")

        original = (data_dir / "jfk.wav").read_bytes()
        assert client.transcripts.audio(made.id, start=10, end=19) == original[10:20]
        assert client.transcripts.audio(made.id) == original
        token = client.transcripts.audio_token(made.id)
        assert token.token.startswith("vat_") and "token=" in token.url

        found = client.search("what your country can do")
        assert any(h.transcript_id == made.id and h.match == "words" for h in found.results)
        hit = next(h for h in found.results if h.transcript_id == made.id)
        a, b = hit.highlights[0]
        assert hit.text[a:b].lower().startswith("what your country")
        meaning = client.search("serve the nation", mode="meaning", min_duration=5)
        assert meaning.results and meaning.results[0].match == "meaning"


def test_edit_and_search_async(stack, data_dir):
    async def main() -> None:
        async with AsyncVocable(api_key=stack.key, base_url=stack.server.url) as client:
            made = await client.transcribe(data_dir / "jfk.wav", model="base", diarize=False)
            split = await client.transcripts.split_segment(made.id, 0, word=3)
            assert len(split.segments) == len(made.segments) + 1
            merged = await client.transcripts.merge_segments(made.id, 0)
            assert merged.segments[0].text == made.segments[0].text
            found = await client.search("fellow Americans", mode="words")
            assert any(h.transcript_id == made.id for h in found.results)

    asyncio.run(main())
