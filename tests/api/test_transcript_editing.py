"""Editing, audio and search over HTTP on real transcripts (base model): PATCH changes what the
exports and chat's retrieval read; GET .../audio answers byte ranges from the blob store, with a
key or a media token; GET /api/v1/search/ finds a phrase in two transcripts and a paraphrase.

One live server per database (SQLite, PostgreSQL) for the module; its transcripts are made once by POST /v1/transcribe.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from tests.conftest import LiveServer, make_settings, postgres_database
from vocable.accounts.keys import create_account, create_key, revoke_key
from vocable.services import Services


@dataclass
class Stack:
    server: LiveServer
    key: str
    other: str
    call: str  # call-2spk.wav, diarized
    jfk_wav: str
    jfk_mp3: str

    def client(self, key=None, **kw):
        return self.server.client(self.key if key is None else key, **kw)


def _transcribe(server, key, path, **data):
    with open(path, "rb") as audio, server.client(key) as http:
        response = http.post("/v1/transcribe", files={"file": (path.name, audio)},
                             data={"model": "base", "language": "en", **data})
    assert response.status_code == 200, response.text
    return response.headers["X-Transcript-Id"]


@contextmanager
def _database(kind):
    if kind == "postgresql":
        with postgres_database() as url:
            yield url
    else:
        yield ""  # the SQLite file in the data dir


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def stack(request, tmp_path_factory, registry, whisper, embedder, data_dir):
    tmp = tmp_path_factory.mktemp(f"editing-{request.param}")
    with _database(request.param) as url:
        services = Services.create(make_settings(tmp, url), registry=registry, whisper=whisper,
                                   embedder=embedder)
        with LiveServer(services) as server:
            yield _accounts(server, services, data_dir)


def _accounts(server, services, data_dir) -> Stack:
    """Two accounts and the real transcripts: call-2spk (diarized) and jfk as WAV and MP3."""
    account = create_account(services.db, "editor@example.com", plan="paid", credits=100)
    key = create_key(services.db, account.id, name="t")[1]
    other = create_key(services.db, create_account(services.db, "o@example.com").id)[1]
    call = _transcribe(server, key, data_dir / "call-2spk.wav")
    wav = _transcribe(server, key, data_dir / "jfk.wav", diarize="false")
    mp3 = _transcribe(server, key, data_dir / "jfk.mp3", diarize="false")
    return Stack(server, key, other, call, wav, mp3)


def _detail(stack, tid):
    return stack.client().get(f"/api/v1/transcripts/{tid}/").json()


def _patch(stack, tid, body, key=None):
    return stack.client(key).patch(f"/api/v1/transcripts/{tid}/", json=body)


# -- PATCH ----------------------------------------------------------------------------------------
def test_rename_and_edit_show_in_exports_and_history(stack):
    before = _detail(stack, stack.call)
    assert before["version"] == 0 and before["updated_at"] is None and before["has_audio"]
    first_speaker = before["segments"][0]["speaker"]
    old_words = before["segments"][0]["words"]
    new_text = before["segments"][0]["text"] + " Corrected by hand."
    response = _patch(stack, stack.call, {
        "version": 0,
        "speakers": {first_speaker: "Diane"},
        "segments": [{"index": 0, "text": new_text}],
    })
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["version"] == 1 and body["updated_at"] and body["changed_segments"] == [0]
    assert "Diane" in body["speakers"] and first_speaker not in body["speakers"]
    seg = body["segments"][0]
    assert seg["speaker"] == "Diane" and seg["text"] == " ".join(new_text.split())
    assert " ".join(w["word"] for w in seg["words"]) == seg["text"]
    # the words that stayed keep their timings
    assert [(w["start"], w["end"]) for w in seg["words"][: len(old_words)]] == [
        (w["start"], w["end"]) for w in old_words]
    assert "Corrected by hand." in body["text"]

    for fmt in ("txt", "srt", "vtt", "json", "docx"):
        export = stack.client().get(f"/api/v1/transcripts/{stack.call}/export/{fmt}/")
        assert export.status_code == 200
    txt = stack.client().get(f"/api/v1/transcripts/{stack.call}/export/txt/").text
    assert "Diane: " in txt and "Corrected by hand." in txt and f"{first_speaker}:" not in txt
    vtt = stack.client().get(f"/api/v1/transcripts/{stack.call}/export/vtt/").text
    assert "Corrected by hand." in vtt

    # a stale version is refused; the history lists the edit
    stale = _patch(stack, stack.call, {"version": 0, "speakers": {"Diane": "D."}})
    assert stale.status_code == 409 and "version" in stale.json()["error"]
    history = stack.client().get(f"/api/v1/transcripts/{stack.call}/edits/").json()["edits"]
    assert [e["version"] for e in history] == [1]
    assert history[0]["operations"][0] == {"op": "rename_speaker", "from": first_speaker, "to": "Diane"}


def test_merge_and_split_keep_words_and_timings_consistent(stack):
    before = _detail(stack, stack.call)
    n = len(before["segments"])
    a, b = before["segments"][1], before["segments"][2]
    merged = _patch(stack, stack.call, {"operations": [
        {"op": "set_speaker", "segment": 2, "speaker": a["speaker"]},
        {"op": "merge", "segment": 1},
    ]}).json()
    assert len(merged["segments"]) == n - 1
    m = merged["segments"][1]
    assert m["start"] == a["start"] and m["end"] == b["end"]
    assert len(m["words"]) == len(a["words"]) + len(b["words"])
    split = _patch(stack, stack.call, {"operations": [
        {"op": "split", "segment": 1, "word": len(a["words"])}]}).json()
    assert len(split["segments"]) == n
    left, right = split["segments"][1], split["segments"][2]
    assert left["end"] <= right["start"] and left["words"][-1]["word"] == a["words"][-1]["word"]
    for seg in split["segments"]:
        assert " ".join(w["word"] for w in seg["words"]) == seg["text"]
        assert all(seg["start"] - 0.01 <= w["start"] <= w["end"] <= seg["end"] + 0.01 for w in seg["words"])


def test_chat_retrieval_reads_the_edited_text(stack):
    services = stack.server.services
    segments = _detail(stack, stack.call)["segments"]
    # embed once (as chat does), then edit: the edited segment is re-embedded, only it
    services.chat.retrieve(stack.call, segments, "where do they live")
    before = services.embedder.texts_embedded
    last = len(segments) - 1
    response = _patch(stack, stack.call, {"segments": [
        {"index": last, "text": "We both keep bees and sell the honey at the market."}]})
    assert response.status_code == 200
    assert services.embedder.texts_embedded - before == 1
    segments = _detail(stack, stack.call)["segments"]
    hits = services.chat.retrieve(stack.call, segments, "Who keeps bees and sells honey?")
    assert hits[0].segment_order == last and "honey" in hits[0].text
    assert services.embedder.texts_embedded - before == 2  # the question only


def _account_id(stack):
    from vocable.accounts.keys import authenticate
    return authenticate(stack.server.services.db, stack.key, "127.0.0.1").account_id


@pytest.mark.parametrize("body, status", [
    ({"operations": [{"op": "merge", "segment": 999}]}, 400),
    ({"operations": "merge"}, 400),
    ({"nothing": 1}, 400),
    ([1, 2], 400),
])
def test_bad_edits_are_400s(stack, body, status):
    response = _patch(stack, stack.call, body)
    assert response.status_code == status and set(response.json()) == {"error"}, response.text


def test_another_account_cannot_edit(stack):
    response = _patch(stack, stack.call, {"speakers": {"Diane": "X"}}, key=stack.other)
    assert response.status_code == 404 and response.json() == {"error": "No such transcript."}


# -- audio ----------------------------------------------------------------------------------------
def test_audio_ranges(stack, data_dir):
    original = (data_dir / "jfk.wav").read_bytes()
    url = f"/api/v1/transcripts/{stack.jfk_wav}/audio"
    whole = stack.client().get(url)
    assert whole.status_code == 200 and whole.content == original
    assert whole.headers["accept-ranges"] == "bytes" and whole.headers["content-type"] == "audio/wav"
    part = stack.client().get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == original[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(original)}"
    assert part.headers["content-length"] == "100"
    tail = stack.client().get(url, headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == original[-10:]
    open_ended = stack.client().get(url, headers={"Range": f"bytes={len(original) - 5}-"})
    assert open_ended.content == original[-5:]
    beyond = stack.client().get(url, headers={"Range": f"bytes=0-{len(original) * 2}"})
    assert beyond.status_code == 206 and beyond.content == original
    for bad in (f"bytes={len(original)}-", "bytes=50-10", "pages=1-2", "bytes=x-y"):
        r = stack.client().get(url, headers={"Range": bad})
        assert r.status_code == 416, bad
        assert r.headers["content-range"] == f"bytes */{len(original)}" and "error" in r.json()
    head = stack.client().head(url, headers={"Range": "bytes=0-9"})
    assert head.status_code == 206 and head.headers["content-length"] == "10" and not head.content
    mp3 = stack.client().get(f"/api/v1/transcripts/{stack.jfk_mp3}/audio", headers={"Range": "bytes=0-3"})
    assert mp3.headers["content-type"] == "audio/mpeg" and mp3.content == (data_dir / "jfk.mp3").read_bytes()[:4]


def test_audio_auth_by_key_or_media_token(stack, data_dir):
    url = f"/api/v1/transcripts/{stack.jfk_wav}/audio"
    with stack.server.client() as anonymous:
        assert anonymous.get(url).status_code == 401
        assert stack.client(stack.other).get(url).status_code == 404
        issued = stack.client().post(f"/api/v1/transcripts/{stack.jfk_wav}/audio/token")
        assert issued.status_code == 200, issued.text
        token = issued.json()["token"]
        assert token.startswith("vat_") and issued.json()["expires_in"] > 60
        # many ranged reads with one token (a player seeking)
        for start in (0, 1000, 5000):
            r = anonymous.get(url, params={"token": token}, headers={"Range": f"bytes={start}-{start + 9}"})
            assert r.status_code == 206 and len(r.content) == 10
        other = anonymous.get(f"/api/v1/transcripts/{stack.jfk_mp3}/audio", params={"token": token})
        assert other.status_code == 401 and "another transcript" in other.json()["error"]
        assert anonymous.get(url, params={"token": "vat_nope"}).status_code == 401
        assert stack.client(stack.other).post(
            f"/api/v1/transcripts/{stack.jfk_wav}/audio/token").status_code == 404
    # a revoked key's tokens stop working
    db = stack.server.services.db
    account_id = _account_id(stack)
    row, raw = create_key(db, account_id, name="short-lived")
    token = stack.client(raw).post(f"/api/v1/transcripts/{stack.jfk_wav}/audio/token").json()["token"]
    revoke_key(db, account_id, row.id)
    with stack.server.client() as anonymous:
        refused = anonymous.get(url, params={"token": token})
    assert refused.status_code == 401 and "revoked" in refused.json()["error"]


# -- search ---------------------------------------------------------------------------------------
def test_search_finds_a_phrase_in_two_transcripts(stack):
    body = stack.client().get("/api/v1/search/", params={"q": "what your country can do"}).json()
    words = [h for h in body["results"] if h["match"] == "words"]
    # The phrase itself first, in both transcripts; a segment holding all the words apart (Whisper
    # may cut "... can do for you, | ask what you can do for your country.") ranks after them.
    phrase = [h for h in words if h["score"] == 1.0]
    assert words[:len(phrase)] == phrase
    assert {h["transcript_id"] for h in phrase} == {stack.jfk_wav, stack.jfk_mp3}
    assert all(h["score"] < 1.0 for h in words[len(phrase):])
    for hit in phrase:
        (a, b), *_ = hit["highlights"]
        assert hit["text"][a:b].lower().replace(",", "") == "what your country can do"
        assert hit["start"] >= 0 and hit["word"] is not None and hit["filename"].startswith("jfk.")
    # the hit opens the transcript at the phrase's first word
    detail = _detail(stack, words[0]["transcript_id"])
    seg = detail["segments"][words[0]["segment"]]
    assert seg["words"][words[0]["word"]]["start"] == words[0]["start"]
    assert seg["words"][words[0]["word"]]["word"].lower() == "what"


def test_search_by_meaning_finds_a_paraphrase(stack):
    q = "serve the nation instead of asking what it gives you"
    assert not [h for h in stack.client().get("/api/v1/search/", params={"q": q, "mode": "words"}).json()["results"]]
    body = stack.client().get("/api/v1/search/", params={"q": q, "mode": "meaning"}).json()
    top = body["results"][0]
    assert top["match"] == "meaning" and top["transcript_id"] in {stack.jfk_wav, stack.jfk_mp3}
    assert "country" in top["text"].lower()
    unrelated = stack.client().get("/api/v1/search/", params={"q": "recipe for chocolate cake"}).json()
    assert all(h["transcript_id"] == stack.call or h["score"] < 0.5 for h in unrelated["results"])


def test_search_filters_and_isolation(stack):
    q = {"q": "country"}
    assert stack.client().get("/api/v1/search/", params=q | {"max_duration": 5}).json()["results"] == []
    assert stack.client().get("/api/v1/search/", params=q | {"language": "fr"}).json()["results"] == []
    assert stack.client().get("/api/v1/search/", params=q | {"min_duration": 5}).json()["results"]
    assert stack.client(stack.other).get("/api/v1/search/", params=q).json()["results"] == []
    for bad in ({"q": ""}, {"q": "x", "mode": "fuzzy"}, {"q": "x", "limit": 0}):
        r = stack.client().get("/api/v1/search/", params=bad)
        assert r.status_code == 400 and set(r.json()) == {"error"}, bad
    listed = stack.client().get("/api/v1/transcripts/", params={"min_duration": 20}).json()
    assert [t["id"] for t in listed["results"]] == [stack.call]


def test_media_tokens_never_reach_a_log_line():
    from vocable.api.server import redact

    token = "vat_" + "A1b2C3d4E5f6G7h8I9j0K1l2"
    line = f'"GET /api/v1/transcripts/abc/audio?token={token} HTTP/1.1" 206'
    assert token not in redact(line) and "token=[redacted]" in redact(line)
    assert redact(f"pasted {token} here") == "pasted vat_[redacted] here"
