"""The account API over HTTP on real transcripts: listing, pagination, filters, detail, exports,
isolation between accounts, deletion, usage and workers. Runs on SQLite and PostgreSQL.

One live server per database for the whole module; its transcript is made once by
POST /v1/transcribe from call-2spk.wav (a real two-speaker phone call) with the base model.
Rows for pagination and filters are copies of that real transcript with other dates, statuses
and languages, written straight to the database under an account of their own.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import unquote

import pytest
import sqlalchemy as sa
import srt
import webvtt
from docx import Document
from pypdf import PdfReader

from tests.api.test_transcribe import uploads_left
from tests.conftest import LiveServer, make_settings, postgres_database
from vocable.accounts.keys import create_account, create_key
from vocable.services import Services
from vocable.storage.blobs import transcript_audio_key
from vocable.storage.models import Transcript, new_id
from vocable.transcription import formats
from vocable.transcription.jobs import to_transcription

EXPECTED_WORDS = ("hello", "diane", "jersey", "texas", "chicago")


@dataclass
class Stack:
    server: LiveServer
    alice: str  # owns the real transcript
    bob: str  # another account
    carol: str  # owns the copies used for pagination and filters
    carol_id: int
    alice_id: int
    transcript_id: str

    def client(self, key):
        return self.server.client(key)

    @property
    def db(self):
        return self.server.services.db


def _account(db, email, **kw):
    account = create_account(db, email, **kw)
    return account.id, create_key(db, account.id, name="test")[1]


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def stack(request, tmp_path_factory, registry, whisper, data_dir):
    tmp = tmp_path_factory.mktemp(f"accounts-{request.param}")
    with (
        postgres_database() if request.param == "postgresql" else _sqlite(tmp)
    ) as url:
        services = Services.create(make_settings(tmp, url), registry=registry, whisper=whisper)
        with LiveServer(services) as server:
            alice_id, alice = _account(services.db, "alice@example.com", plan="paid", credits=100)
            _, bob = _account(services.db, "bob@example.com")
            carol_id, carol = _account(services.db, "carol@example.com")
            with open(data_dir / "call-2spk.wav", "rb") as audio:
                response = server.client(alice).post(
                    "/v1/transcribe",
                    files={"file": ("call-2spk.wav", audio, "audio/wav")},
                    data={"model": "base", "language": "en"},
                )
            assert response.status_code == 200, response.text
            transcript_id = response.headers["X-Transcript-Id"]
            yield Stack(server, alice, bob, carol, carol_id, alice_id, transcript_id)


class _sqlite:
    def __init__(self, tmp):
        self.url = f"sqlite:///{tmp / 'vocable.db'}"

    def __enter__(self):
        return self.url

    def __exit__(self, *exc):
        return False


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def _copy(stack: Stack, account_id: int, with_audio: bool = False, **changes) -> str:
    """A copy of the real transcript's row with some fields changed; returns the new id. The copy
    has no stored audio unless ``with_audio`` (then a copy of the real one's, under its own key)."""
    copy_id = new_id()
    blobs = stack.server.services.blobs
    with stack.db.session() as s:
        row = s.get(Transcript, stack.transcript_id)
        data = {c.name: getattr(row, c.name) for c in Transcript.__table__.columns if c.name != "id"}
        data.update(id=copy_id, account_id=account_id, audio_key="", **changes)
        if with_audio:
            with blobs.open(row.audio_key) as audio:
                blobs.put(transcript_audio_key(copy_id), audio)
            data["audio_key"] = transcript_audio_key(copy_id)
        s.add(Transcript(**data))
    return copy_id


# -- listing, detail -----------------------------------------------------------------------------
def test_list_shows_own_transcripts_without_segments(stack):
    body = stack.client(stack.alice).get("/api/v1/transcripts/").json()
    assert body["count"] == 1 and body["page"] == 1 and body["next"] is None and body["previous"] is None
    (item,) = body["results"]
    assert item["id"] == stack.transcript_id
    assert item["status"] == "completed" and item["language"] == "en"
    assert item["filename"] == "call-2spk.wav" and 29 < item["duration"] < 31
    assert "segments" not in item and "text" not in item and "words" not in item
    assert set(EXPECTED_WORDS[:2]) <= set(_words(item["preview"]))
    assert datetime.fromisoformat(item["created_at"]).tzinfo is not None


def test_detail_has_segments_words_and_speakers(stack, manifest):
    body = stack.client(stack.alice).get(f"/api/v1/transcripts/{stack.transcript_id}/").json()
    assert body["id"] == stack.transcript_id and body["status"] == "completed"
    assert body["language"] == "en" and 29 < body["duration"] < 31
    assert set(EXPECTED_WORDS) <= set(_words(body["text"]))
    assert body["speakers"] and all(s["speaker"] in body["speakers"] for s in body["segments"])
    words = [w for s in body["segments"] for w in s["words"]]
    assert len(words) > 40
    for segment in body["segments"]:
        assert 0 <= segment["confidence"] <= 1
        for w in segment["words"]:
            assert segment["start"] - 0.01 <= w["start"] <= w["end"] <= segment["end"] + 0.01
    starts = [w["start"] for w in words]
    assert starts == sorted(starts)


# -- pagination and filters ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def carol_rows(stack):
    """Seven copies under carol: ids by name, created on distinct days (newest = c0)."""
    now = datetime.now(UTC).replace(microsecond=0)
    specs = {
        "c0": {"created_at": now - timedelta(hours=1)},
        "c1": {"created_at": now - timedelta(days=1), "language": "fr"},
        "c2": {"created_at": now - timedelta(days=2), "status": "failed", "error": "bad file"},
        "c3": {"created_at": now - timedelta(days=3), "language": "fr"},
        "c4": {"created_at": now - timedelta(days=4), "status": "queued", "text": "", "segments": []},
        "c5": {"created_at": now - timedelta(days=10)},
        "c6": {"created_at": now - timedelta(days=40), "language": "de"},
    }
    rows = {name: _copy(stack, stack.carol_id, **spec) for name, spec in specs.items()}
    return rows, {name: spec["created_at"] for name, spec in specs.items()}


def _ids(stack, **params):
    response = stack.client(stack.carol).get("/api/v1/transcripts/", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_pagination_newest_first(stack, carol_rows):
    rows, _ = carol_rows
    order = [rows[f"c{i}"] for i in range(7)]
    first = _ids(stack, page_size=3)
    assert first["count"] == 7 and first["previous"] is None
    assert [r["id"] for r in first["results"]] == order[:3]
    # Follow the links the API gives, as a client would.
    second = stack.client(stack.carol).get(first["next"]).json()
    assert second["page"] == 2 and [r["id"] for r in second["results"]] == order[3:6]
    third = stack.client(stack.carol).get(second["next"]).json()
    assert [r["id"] for r in third["results"]] == order[6:] and third["next"] is None
    back = stack.client(stack.carol).get(third["previous"]).json()
    assert [r["id"] for r in back["results"]] == order[3:6]
    past_end = _ids(stack, page=9, page_size=3)
    assert past_end["count"] == 7 and past_end["results"] == [] and past_end["next"] is None
    assert _ids(stack)["page_size"] == 20 and len(_ids(stack)["results"]) == 7


def test_filters(stack, carol_rows):
    rows, created = carol_rows

    def ids(**params):
        return {r["id"] for r in _ids(stack, **params)["results"]}

    def names(*n):
        return {rows[x] for x in n}

    assert ids(status="failed") == names("c2")
    assert ids(status="queued,failed") == names("c2", "c4")
    assert ids(status="completed") == names("c0", "c1", "c3", "c5", "c6")
    assert ids(language="fr") == names("c1", "c3")
    assert ids(language="de", status="completed") == names("c6")
    assert _ids(stack, language="fr")["count"] == 2
    day = lambda name: created[name].date().isoformat()
    assert ids(created_after=day("c3")) == names("c0", "c1", "c2", "c3")
    assert ids(created_before=day("c5")) == names("c5", "c6")  # a date is the whole day
    assert ids(created_after=day("c5"), created_before=day("c2")) == names("c2", "c3", "c4", "c5")
    assert ids(date=day("c4")) == names("c4")
    moment = (created["c1"] + timedelta(seconds=1)).isoformat()
    assert ids(created_before=moment, created_after=day("c2")) == names("c1", "c2")
    assert ids(created_after=moment) == names("c0")
    east = timezone(timedelta(hours=5))
    assert ids(created_after=(created["c1"] + timedelta(seconds=1)).astimezone(east).isoformat()) == names("c0")
    assert ids(language="fr", status="failed") == set()

    for bad in ({"status": "done"}, {"language": "xx"}, {"created_after": "yesterday"},
                {"page": 0}, {"page_size": 500}, {"date": "2025-13-01"}):
        response = stack.client(stack.carol).get("/api/v1/transcripts/", params=bad)
        assert response.status_code == 400 and set(response.json()) == {"error"}, bad


# -- exports -------------------------------------------------------------------------------------
def _export(stack, fmt, key=None, transcript_id=None):
    return stack.client(key or stack.alice).get(
        f"/api/v1/transcripts/{transcript_id or stack.transcript_id}/export/{fmt}/"
    )


@pytest.fixture(scope="module")
def stored(stack):
    """The real transcript as the pipeline's result type, and its detail body."""
    with stack.db.session() as s:
        row = s.get(Transcript, stack.transcript_id)
    detail = stack.client(stack.alice).get(f"/api/v1/transcripts/{stack.transcript_id}/").json()
    return to_transcription(row), detail


def _disposition_name(response) -> str:
    header = response.headers["content-disposition"]
    assert header.startswith("attachment;")
    return unquote(header.split("filename*=UTF-8''", 1)[1])


@pytest.mark.parametrize("fmt", ["txt", "srt", "vtt", "json"])
def test_text_exports_are_the_shared_formatter(stack, stored, fmt):
    transcription, _ = stored
    response = _export(stack, fmt)
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == formats.CONTENT_TYPES[fmt].split(";")[0]
    assert _disposition_name(response) == f"call-2spk.{fmt}"
    assert response.content.decode("utf-8") == formats.render(transcription, fmt)


def test_srt_and_vtt_parse(stack, stored):
    _, detail = stored
    subtitles = list(srt.parse(_export(stack, "srt").text))
    assert len(subtitles) >= len(detail["segments"])
    assert set(EXPECTED_WORDS) <= set(_words(" ".join(s.content for s in subtitles)))
    assert all(a.start <= b.start for a, b in itertools.pairwise(subtitles))
    assert subtitles[-1].end.total_seconds() <= detail["duration"] + 0.5
    captions = webvtt.from_buffer(io.StringIO(_export(stack, "vtt").text)).captions
    assert len(captions) == len(subtitles)
    assert set(EXPECTED_WORDS) <= set(_words(" ".join(c.text for c in captions)))


def test_json_and_txt_content(stack, stored):
    _, detail = stored
    body = json.loads(_export(stack, "json").content)
    assert body["text"] == detail["text"] and body["segments"] == detail["segments"]
    assert body["speakers"] == detail["speakers"] and body["language"] == "en"
    txt = _export(stack, "txt").text
    assert set(EXPECTED_WORDS) <= set(_words(txt))


def test_csv_export(stack, stored):
    _, detail = stored
    response = _export(stack, "csv")
    assert response.headers["content-type"].startswith("text/csv")
    assert _disposition_name(response) == "call-2spk.csv"
    reader = csv.DictReader(io.StringIO(response.text))
    assert reader.fieldnames == ["start", "end", "speaker", "text", "confidence"]
    rows = list(reader)
    assert len(rows) == len(detail["segments"])
    for row, segment in zip(rows, detail["segments"]):
        assert float(row["start"]) == pytest.approx(segment["start"], abs=0.001)
        assert float(row["end"]) == pytest.approx(segment["end"], abs=0.001)
        assert row["speaker"] == segment["speaker"]
        assert row["text"] == segment["text"].strip()
        assert float(row["confidence"]) == pytest.approx(segment["confidence"], abs=0.001)


def _docx_text(content: bytes) -> tuple[Document, str]:
    doc = Document(io.BytesIO(content))
    cells = [c.text for t in doc.tables for r in t.rows for c in r.cells]
    return doc, "\n".join([p.text for p in doc.paragraphs] + cells)


def test_docx_export(stack, stored):
    _, detail = stored
    response = _export(stack, "docx")
    assert response.headers["content-type"] == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    assert _disposition_name(response) == "call-2spk.docx"
    doc, text = _docx_text(response.content)
    assert doc.paragraphs[0].text == "call-2spk" and doc.core_properties.title == "call-2spk"
    assert "English (en)" in text and "00:00:30" in text
    assert all(speaker in text for speaker in detail["speakers"])
    assert set(_words(detail["text"])) <= set(_words(text))
    # Paragraphs are "[hh:mm:ss] Speaker N: text".
    stamped = [p.text for p in doc.paragraphs if re.match(r"\[\d\d:\d\d:\d\d\] ", p.text)]
    assert stamped and all(any(f"] {s}: " in p for s in detail["speakers"]) for p in stamped)


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_pdf_export(stack, stored):
    _, detail = stored
    response = _export(stack, "pdf")
    assert response.headers["content-type"] == "application/pdf"
    assert _disposition_name(response) == "call-2spk.pdf"
    assert response.content.startswith(b"%PDF-")
    text = _pdf_text(response.content)
    flat = " ".join(text.split())
    assert flat.startswith("call-2spk") and "English (en)" in flat and "00:00:30" in flat
    assert all(speaker in flat for speaker in detail["speakers"])
    # Every word of the transcript, in order, paragraph by paragraph.
    for segment in detail["segments"]:
        assert " ".join(segment["text"].split()) in flat


def test_unknown_format_and_unfinished_transcript(stack, carol_rows):
    rows, _ = carol_rows
    response = _export(stack, "mp3")
    assert response.status_code == 400 and "pdf" in response.json()["error"]
    queued = _export(stack, "pdf", key=stack.carol, transcript_id=rows["c4"])
    assert queued.status_code == 409 and "queued" in queued.json()["error"]


def test_unicode_export(stack):
    """Accented and CJK text survives every document format (the PDF embeds a CJK font)."""
    segments = [
        {"start": 0.0, "end": 2.5, "text": "Bonjour, ça va très bien à Montréal.", "speaker": "Speaker 1",
         "confidence": 0.9, "words": []},
        {"start": 2.5, "end": 5.0, "text": "Straße, Æsir, Łódź, naïve café, Ελλάδα, Москва.",
         "speaker": "Speaker 2", "confidence": 0.8, "words": []},
        {"start": 5.0, "end": 8.0, "text": "你好，世界。今天我们开会讨论项目进度。", "speaker": "Speaker 1",
         "confidence": 0.7, "words": []},
        {"start": 8.0, "end": 10.0, "text": "こんにちは、東京。안녕하세요 서울.", "speaker": "Speaker 2",
         "confidence": 0.6, "words": []},
    ]
    transcript_id = _copy(
        stack, stack.carol_id, filename="réunion 会议.m4a", language="zh", duration=10.0,
        text=" ".join(s["text"] for s in segments), segments=segments,
        speakers=["Speaker 1", "Speaker 2"], status="completed",
    )
    lines = [s["text"] for s in segments]

    pdf = _export(stack, "pdf", stack.carol, transcript_id)
    assert pdf.status_code == 200 and _disposition_name(pdf) == "réunion-会议.pdf"
    assert 'filename="reunion.pdf"' in pdf.headers["content-disposition"]
    text = _pdf_text(pdf.content)
    squeezed = re.sub(r"\s+", "", text)
    assert "réunion会议" in squeezed and "LanguageChinese(zh)" in squeezed
    for line in lines:
        assert re.sub(r"\s+", "", line) in squeezed, line

    _, docx_text = _docx_text(_export(stack, "docx", stack.carol, transcript_id).content)
    assert all(line in docx_text for line in lines)
    rows = list(csv.DictReader(io.StringIO(_export(stack, "csv", stack.carol, transcript_id).text)))
    assert [r["text"] for r in rows] == lines
    subtitles = list(srt.parse(_export(stack, "srt", stack.carol, transcript_id).text))
    assert "".join(s.content for s in subtitles).replace("\n", "").count("你好，世界") == 1


# -- isolation and deletion ----------------------------------------------------------------------
def test_other_accounts_cannot_see_export_or_delete(stack):
    path = f"/api/v1/transcripts/{stack.transcript_id}/"
    bob = stack.client(stack.bob)
    assert bob.get("/api/v1/transcripts/").json()["count"] == 0
    missing = bob.get("/api/v1/transcripts/0123456789abcdef0123456789abcdef/").json()
    for response in (bob.get(path), bob.get(path + "export/pdf/"), bob.get(path + "export/txt/"),
                     bob.delete(path)):
        assert response.status_code == 404
        assert response.json() == missing == {"error": "No such transcript."}
    for response in (stack.client(None).get(path), stack.client(None).get("/api/v1/transcripts/")):
        assert response.status_code == 401
    assert stack.client(stack.alice).get(path).json()["status"] == "completed"


def test_delete_removes_transcript_and_derived_rows(stack):
    transcript_id = _copy(stack, stack.alice_id, with_audio=True)
    blobs = stack.server.services.blobs
    assert blobs.exists(transcript_audio_key(transcript_id))
    # A table derived from transcripts, as later features add them (chat sessions, embeddings):
    # the foreign key's ON DELETE CASCADE must be honoured by the database the server uses.
    with stack.db.session() as s:
        s.execute(sa.text(
            "CREATE TABLE IF NOT EXISTS derived_probe (id VARCHAR(40) PRIMARY KEY, "
            "transcript_id VARCHAR(32) NOT NULL REFERENCES transcripts(id) ON DELETE CASCADE)"
        ))
        s.execute(sa.text("INSERT INTO derived_probe VALUES (:id, :t)"), {"id": transcript_id, "t": transcript_id})
    alice = stack.client(stack.alice)
    assert alice.get("/api/v1/transcripts/").json()["count"] == 2
    response = alice.delete(f"/api/v1/transcripts/{transcript_id}/")
    assert response.status_code == 200 and response.json() == {"id": transcript_id, "deleted": True}
    assert alice.get(f"/api/v1/transcripts/{transcript_id}/").status_code == 404
    assert alice.get(f"/api/v1/transcripts/{transcript_id}/export/pdf/").status_code == 404
    assert alice.delete(f"/api/v1/transcripts/{transcript_id}/").status_code == 404
    assert [r["id"] for r in alice.get("/api/v1/transcripts/").json()["results"]] == [stack.transcript_id]
    with stack.db.session() as s:
        assert s.get(Transcript, transcript_id) is None
        left = s.execute(sa.text("SELECT count(*) FROM derived_probe WHERE transcript_id = :t"),
                         {"t": transcript_id}).scalar()
    assert left == 0
    assert not blobs.exists(transcript_audio_key(transcript_id))
    assert blobs.exists(transcript_audio_key(stack.transcript_id))  # the original keeps its own


def test_stored_transcript_keeps_its_audio_until_deleted(stack, data_dir):
    """An account's transcript keeps exactly its upload, as a blob named by its key (so any
    process can open it); nothing else of the request stays, and DELETE removes the blob."""
    services = stack.server.services
    audio = (data_dir / "jfk.wav").read_bytes()
    _, key = _account(stack.db, "erin@example.com", plan="paid", credits=10)
    before = set(uploads_left(stack.server))
    response = stack.client(key).post(
        "/v1/transcribe", files={"file": ("jfk.wav", audio, "audio/wav")},
        data={"model": "base", "diarize": "false"},
    )
    assert response.status_code == 200, response.text
    transcript_id = response.headers["X-Transcript-Id"]
    audio_key = transcript_audio_key(transcript_id)
    with stack.db.session() as s:
        assert s.get(Transcript, transcript_id).audio_key == audio_key
    assert services.blobs.size(audio_key) == len(audio)
    with services.blobs.open(audio_key) as blob:
        assert blob.read() == audio
    assert set(uploads_left(stack.server)) - before == {services.blobs.path(audio_key)}
    assert set(uploads_left(stack.server, kept=[transcript_id])) == before

    assert stack.client(key).delete(f"/api/v1/transcripts/{transcript_id}/").status_code == 200
    assert not services.blobs.exists(audio_key)
    assert set(uploads_left(stack.server)) == before


def test_running_job_cannot_be_deleted(stack, carol_rows):
    rows, _ = carol_rows
    response = stack.client(stack.carol).delete(f"/api/v1/transcripts/{rows['c4']}/")
    assert response.status_code == 409 and "queued" in response.json()["error"]
    assert stack.client(stack.carol).get(f"/api/v1/transcripts/{rows['c4']}/").status_code == 200


# -- usage and workers ---------------------------------------------------------------------------
def test_usage_counts_what_was_spent(stack, data_dir, manifest):
    """A fresh paid account transcribes jfk.wav (11 s: 1 credit) asynchronously, reads the result
    where the 202 answer points (this module's detail route), and makes a few account calls."""
    _, key = _account(stack.db, "dave@example.com", plan="paid", credits=10)
    client = stack.client(key)
    with open(data_dir / "jfk.wav", "rb") as audio:
        response = client.post("/v1/transcribe", files={"file": ("jfk.wav", audio, "audio/wav")},
                               data={"model": "base", "async": "true"})
    assert response.status_code == 202, response.text
    polls, deadline = 0, time.monotonic() + 300
    while True:
        polls += 1
        job = client.get(response.json()["url"])
        assert job.status_code == 200
        if job.json()["status"] in ("completed", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    job = job.json()
    assert job["status"] == "completed" and job["id"] == response.json()["id"]
    assert {"country", "americans"} <= set(_words(job["text"])) and job["segments"][0]["words"]
    account = client.get("/api/v1/account/").json()
    assert account["credits"] == 9 and account["minutes_left"] == 9 and account["minutes_used"] == 1
    assert client.get("/api/v1/transcripts/").json()["count"] == 1
    usage = client.get("/api/v1/usage/").json()

    days = usage["days"]
    assert len(days) == 30
    today = datetime.now(UTC).date()
    assert days[-1]["date"] == today.isoformat() == usage["end"]
    assert days[0]["date"] == (today - timedelta(days=29)).isoformat() == usage["start"]
    assert [d["date"] for d in days] == sorted(d["date"] for d in days)
    for day in days[:-1]:
        assert (day["audio_minutes"], day["transcriptions"], day["requests"], day["credits_spent"]) == (0, 0, 0, 0)
        assert day["requests_by_endpoint"] == {}
    spent = days[-1]
    assert spent["audio_minutes"] == 1 and spent["transcriptions"] == 1 and spent["credits_spent"] == 1
    # transcribe: the upload; account: the polls, GET account, GET transcripts and this GET usage.
    assert spent["requests_by_endpoint"] == {"transcribe": 1, "account": polls + 3}
    assert spent["requests"] == polls + 4
    assert usage["totals"] == {k: v for k, v in spent.items() if k != "date"}


def test_cloud_lists_the_in_process_workers(stack):
    body = stack.client(stack.alice).get("/api/v1/cloud/").json()
    (worker,) = body["workers"]
    assert worker["kind"] == "in-process" and worker["status"] in ("idle", "busy")
    assert worker["device"] == stack.server.services.whisper.device.kind
    assert "base" in worker["models_loaded"]  # loaded by the transcription above
    assert worker["load"]["capacity"] == stack.server.services.settings.workers
    assert 0 <= worker["load"]["utilization"] <= 1
    assert body["account"] == {"active_jobs": 0, "concurrent_jobs": 5}
    assert stack.client(None).get("/api/v1/cloud/").status_code == 401
