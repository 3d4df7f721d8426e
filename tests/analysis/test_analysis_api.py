"""/v1/analyze and /api/v1/transcripts/{id}/analyze/ over real HTTP, on a real transcript of
call-2spk.wav (transcribed by the server itself), with account scoping and rate limits."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import LiveServer, make_settings
from vocable.accounts.keys import create_account, create_key
from vocable.config import default_plans
from vocable.services import Services
from vocable.storage.models import Transcript


def _reference_turns(stm: Path) -> list[tuple[float, float, str]]:
    """(start, end, speaker) of the reference utterances (speakers named Diane and Sheila)."""
    turns = []
    for line in stm.read_text().splitlines():
        parts = line.split(None, 5)
        turns.append((float(parts[3]), float(parts[4]), parts[2]))
    return turns


def _speaker_for(start: float, end: float, turns) -> str:
    overlap: dict[str, float] = {}
    for t0, t1, name in turns:
        overlap[name] = overlap.get(name, 0.0) + max(0.0, min(end, t1) - max(start, t0))
    return max(overlap, key=overlap.get)


@pytest.fixture(scope="module")
def stack(tmp_path_factory, registry, whisper, llm, embedder, analyzer, data_dir):
    tmp = tmp_path_factory.mktemp("analysis-api")
    plans = default_plans()
    plans["free"].requests_per_minute = 1000
    services = Services.create(
        make_settings(tmp, plans=plans), registry=registry, whisper=whisper, llm=llm,
        embedder=embedder, analysis=analyzer,
    )
    with LiveServer(services) as server:
        db = services.db
        alice = create_account(db, "alice@example.com", plan="paid", credits=100)
        alice_key = create_key(db, alice.id, name="t")[1]
        bob = create_account(db, "bob@example.com")
        bob_key = create_key(db, bob.id, name="t")[1]
        with open(data_dir / "call-2spk.wav", "rb") as audio:
            response = server.client(alice_key).post(
                "/v1/transcribe", files={"file": ("call-2spk.wav", audio, "audio/wav")},
                data={"model": "base", "language": "en"},
            )
        assert response.status_code == 200, response.text
        transcript_id = response.headers["X-Transcript-Id"]
        # Speaker labels: the reference turns stand in for diarization (a separate part), so
        # "who asked" is checked against known speakers.
        turns = _reference_turns(data_dir / "call-2spk.stm")
        with db.session() as s:
            row = s.get(Transcript, transcript_id)
            segments = [dict(seg, speaker=_speaker_for(seg["start"], seg["end"], turns))
                        for seg in row.segments]
            row.segments = segments
            row.speakers = sorted({seg["speaker"] for seg in segments})
        yield server, alice_key, bob_key, transcript_id


def _post(server, key, transcript_id, kind):
    return server.client(key).post(f"/api/v1/transcripts/{transcript_id}/analyze/", json={"type": kind})


def test_entities_on_the_real_transcript(stack):
    server, alice, _, tid = stack
    response = _post(server, alice, tid, "entities")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["type"] == "entities" and body["transcript_id"] == tid and body["language"] == "en"
    places = {e["text"] for e in body["result"]["entities"] if e["type"] == "place"}
    assert {"New Jersey", "Texas", "Chicago"} <= places, body["result"]["entities"]
    for e in body["result"]["entities"]:
        assert e["speaker"] in ("Diane", "Sheila") and e["segment"] is not None


def test_sentiment_per_segment_and_speaker(stack):
    server, alice, _, tid = stack
    result = _post(server, alice, tid, "sentiment").json()["result"]
    assert {s["speaker"] for s in result["speakers"]} == {"Diane", "Sheila"}
    assert result["segments"] and all(s["start"] is not None for s in result["segments"])
    assert result["label"] in ("positive", "neutral", "negative")
    assert sum(result["counts"].values()) == len(result["sentences"])


def test_questions_on_the_real_transcript(stack):
    server, alice, _, tid = stack
    result = _post(server, alice, tid, "questions").json()["result"]
    # Whisper base writes this call without a single question mark, and no sentence of it opens
    # like a question: the known answer is none (the crafted-text tests cover who asked).
    assert result == {"questions": [], "total": 0, "answered": 0}


def test_questions_name_the_asker_on_a_stored_transcript(stack):
    server, alice, _, tid = stack
    with server.services.db.session() as s:
        row = s.get(Transcript, tid)
        data = {c.name: getattr(row, c.name) for c in Transcript.__table__.columns if c.name != "id"}
        data["segments"] = [
            {"start": 0.0, "end": 2.0, "speaker": "Diane", "text": "Where are you from originally?"},
            {"start": 2.0, "end": 4.0, "speaker": "Sheila", "text": "I am originally from Chicago."},
            {"start": 4.0, "end": 6.0, "speaker": "Sheila", "text": "Do you like New Jersey?"},
        ]
        copy = Transcript(**data)
        s.add(copy)
        s.flush()
        copy_id = copy.id
    result = _post(server, alice, copy_id, "questions").json()["result"]
    first, second = result["questions"]
    assert (first["speaker"], first["answered"], first["answer"]["speaker"]) == ("Diane", True, "Sheila")
    assert first["segment"] == 0 and first["answer"]["segment"] == 1
    assert (second["speaker"], second["answered"]) == ("Sheila", False)


def test_topics_and_pii_and_action_items_on_the_transcript(stack):
    server, alice, _, tid = stack
    topics = _post(server, alice, tid, "topics").json()["result"]
    assert topics["keyphrases"] and topics["topics"]
    phrases = " ".join(k["phrase"] for k in topics["keyphrases"])
    assert "New Jersey" in phrases or "Chicago" in phrases or "Texas" in phrases

    pii = _post(server, alice, tid, "pii_redact").json()["result"]
    for place in ("New Jersey", "Texas", "Chicago"):
        assert place not in pii["redacted_text"]
    assert {s["speaker"] for s in pii["segments"]} == {"Diane", "Sheila"}
    assert any(i["type"] in ("person", "location") for i in pii["items"])

    actions = _post(server, alice, tid, "action_items").json()
    assert actions["result"]["action_items"] == []  # small talk: nothing to do


def test_another_accounts_transcript_is_not_found(stack):
    server, _, bob, tid = stack
    response = _post(server, bob, tid, "entities")
    assert response.status_code == 404 and response.json() == {"error": "No such transcript."}
    assert _post(server, bob, "0" * 32, "entities").status_code == 404
    anonymous = server.client().post(f"/api/v1/transcripts/{tid}/analyze/", json={"type": "entities"})
    assert anonymous.status_code == 401


def test_v1_analyze_shapes_and_errors(stack):
    server, alice, _, _ = stack
    client = server.client(alice)
    ok = client.post("/v1/analyze", json={"text": "I love Paris in the spring!", "type": "sentiment"})
    assert ok.status_code == 200 and ok.json()["result"]["label"] == "positive"
    anon = server.client().post("/v1/analyze", json={"text": "Email bob@example.com", "type": "pii_redact"})
    assert anon.status_code == 200 and anon.json()["result"]["redacted_text"] == "Email [EMAIL]"

    bad_type = client.post("/v1/analyze", json={"text": "hi", "type": "summary"})
    assert bad_type.status_code == 400 and "sentiment" in bad_type.json()["error"]
    empty = client.post("/v1/analyze", json={"text": "  ", "type": "sentiment"})
    assert empty.status_code == 400 and "error" in empty.json()
    missing = client.post("/v1/analyze", json={"type": "sentiment"})
    assert missing.status_code == 400 and set(missing.json()) == {"error"}
    spanish = client.post("/v1/analyze", json={
        "text": "La reunión de mañana empieza a las diez y todos deben traer el informe.",
        "type": "entities"})
    assert spanish.status_code == 400
    assert "'es'" in spanish.json()["error"] and "entities: en" in spanish.json()["error"]
    languages = server.client().get("/v1/analyze/languages").json()["types"]
    assert languages["pii_redact"] == ["en"] and set(languages) == {
        "sentiment", "topics", "entities", "action_items", "questions", "pii_redact"}


def test_analyze_is_rate_limited_and_costs_no_credits(tmp_path, registry, whisper, llm, embedder, analyzer):
    plans = default_plans()
    plans["paid"].requests_per_minute = 2
    services = Services.create(
        make_settings(tmp_path, plans=plans), registry=registry, whisper=whisper, llm=llm,
        embedder=embedder, analysis=analyzer,
    )
    with LiveServer(services) as server:
        account = create_account(services.db, "p@example.com", plan="paid", credits=5)
        key = create_key(services.db, account.id, name="t")[1]
        client = server.client(key)
        codes = [client.post("/v1/analyze", json={"text": "Great!", "type": "sentiment"}).status_code
                 for _ in range(3)]
        assert codes == [200, 200, 429]
        limited = client.post("/v1/analyze", json={"text": "Great!", "type": "sentiment"})
        assert "Retry-After" in limited.headers and "error" in limited.json()
        assert client.get("/api/v1/account/").json()["credits"] == 5
