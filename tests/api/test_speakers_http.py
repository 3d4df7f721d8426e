"""Speakers known by name (/api/v1/speakers/): enrolment from a clip or a transcript speaker,
list, rename, delete; later diarized transcripts of the account name a matching voice, and a
voice never enrolled stays ``Speaker N``. Real models on the shared AMI and call recordings."""

from __future__ import annotations

import io
from collections import Counter, defaultdict

import numpy as np
import pytest
import soundfile as sf
from sqlalchemy import delete, func, select

from vocable.accounts.keys import create_account, create_key


@pytest.fixture(scope="module")
def spk_server(tmp_path_factory, registry, whisper, diarization):
    from tests.conftest import LiveServer, make_settings
    from vocable.services import Services

    settings = make_settings(tmp_path_factory.mktemp("speakers"))
    services = Services.create(settings, registry=registry, whisper=whisper, diarization=diarization)
    with LiveServer(services) as server:
        yield server


def _key(server, email: str) -> tuple[int, str]:
    account = create_account(server.services.db, email)
    return account.id, create_key(server.services.db, account.id, name="k")[1]


def turns_of(rttm, uri: str) -> dict[str, list[tuple[float, float]]]:
    out = defaultdict(list)
    for line in rttm.read_text().splitlines():
        f = line.split()
        if f and f[1] == uri:
            out[f[7]].append((float(f[3]), float(f[3]) + float(f[4])))
    return dict(out)


def alone_mask(turns, who: str, n: int, rate: int = 16000) -> np.ndarray:
    mine, others = np.zeros(n, bool), np.zeros(n, bool)
    for k, spans in turns.items():
        for a, b in spans:
            (mine if k == who else others)[int(a * rate):int(b * rate)] = True
    return mine & ~others


def wav_bytes(audio: np.ndarray) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, audio, 16000, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def enrol_clip(client, name: str, audio: np.ndarray):
    return client.post("/api/v1/speakers/", files={"file": (f"{name}.wav", wav_bytes(audio))},
                       data={"name": name})


def enrol_meeting(client, data_dir, uri: str) -> list[str]:
    """Every person of ``uri`` enrolled from their turns in ami.rttm where nobody else talks."""
    audio, _ = sf.read(data_dir / "ami" / f"{uri}.wav", dtype="float32")
    turns = turns_of(data_dir / "ami" / "ami.rttm", uri)
    names = []
    for who in sorted(turns):
        r = enrol_clip(client, who, audio[alone_mask(turns, who, len(audio))])
        assert r.status_code == 201, r.text
        assert r.json()["name"] == who and r.json()["speech_seconds"] >= 2
        names.append(who)
    return names


def transcribe(client, path):
    r = client.post("/v1/transcribe", files={"file": (path.name, path.read_bytes())})
    assert r.status_code == 200, r.text
    return r.json()


def named_right(body, rttm, uri: str) -> dict[str, tuple[str, float]]:
    """Per reference person: the label the transcript's segments carry over most of that person's
    solo turns, and its share of them, by time. Time, not a count of words: in tst01 Whisper
    base hears a handful of words of FEO070's one long turn, and how many varies between CPUs."""
    turns = turns_of(rttm, uri)
    out = {}
    for who, spans in turns.items():
        others = [sp for k, v in turns.items() if k != who for sp in v]
        labels = Counter()
        for seg in body["segments"]:
            for a, b in spans:
                lo, hi = max(a, seg["start"]), min(b, seg["end"])
                if hi <= lo:
                    continue
                # minus the stretches where someone else talks too
                busy = sum(max(0.0, min(hi, d) - max(lo, c)) for c, d in others)
                labels[seg["speaker"]] += max(0.0, (hi - lo) - busy)
        if sum(labels.values()) >= 1.0:  # a second of their own speech transcribed
            label, seconds = labels.most_common(1)[0]
            out[who] = (label, seconds / sum(labels.values()))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("enrol,later", [("dev00", "dev01"), ("tst00", "tst01")])
def test_enrolled_people_are_named_later_in_the_meeting(spk_server, data_dir, enrol, later):
    _, key = _key(spk_server, f"{enrol}@example.com")
    with spk_server.client(key) as client:
        names = enrol_meeting(client, data_dir, enrol)
        body = transcribe(client, data_dir / "ami" / f"{later}.wav")
    found = named_right(body, data_dir / "ami" / "ami.rttm", later)
    assert found, body["speakers"]
    # every person with speech of their own is labelled with their own name, and no one else's
    # name is given to them
    for who, (label, share) in found.items():
        assert label == who, (who, label, share, body["speakers"])
    assert set(body["speakers"]) <= set(names) | {f"Speaker {i}" for i in range(1, 9)}


def test_a_voice_never_enrolled_stays_speaker_n(spk_server, data_dir):
    _, key = _key(spk_server, "call@example.com")
    with spk_server.client(key) as client:
        enrol_meeting(client, data_dir, "dev00")
        enrol_meeting(client, data_dir, "tst00")
        assert len(client.get("/api/v1/speakers/").json()["items"]) == 6
        body = transcribe(client, data_dir / "call-2spk.wav")
    assert body["speakers"] == ["Speaker 1", "Speaker 2"]
    assert {w["speaker"] for s in body["segments"] for w in s["words"]} <= {"Speaker 1", "Speaker 2"}


def test_enrol_from_a_transcript_speaker_then_rename_list_delete(spk_server, data_dir):
    account_id, key = _key(spk_server, "crud@example.com")
    _, other = _key(spk_server, "other@example.com")
    db = spk_server.services.db
    with spk_server.client(key) as client:
        first = client.post("/v1/transcribe", files={"file": ("call.wav", (data_dir / "call-2spk.wav").read_bytes())})
        assert first.status_code == 200, first.text
        tid = first.json()["id"]
        minutes = client.get("/api/v1/account/").json()["minutes_used"]
        r = client.post("/api/v1/speakers/", json={"name": "Diane", "transcript_id": tid, "speaker": "Speaker 1"})
        assert r.status_code == 201, r.text
        diane = r.json()
        assert diane["name"] == "Diane" and diane["source"].startswith("transcript ")
        assert "embedding" not in diane
        # it ran the models on that speaker's speech: charged (a started minute)
        assert client.get("/api/v1/account/").json()["minutes_used"] == minutes + 1

        body = transcribe(client, data_dir / "call-2spk.wav")
        assert "Diane" in body["speakers"] and len(body["speakers"]) == 2
        assert body["segments"][0]["speaker"] == "Diane"  # she speaks first in the call

        minutes = client.get("/api/v1/account/").json()["minutes_used"]
        # the same name again, a generic label, no name, bad sources: refused, nothing charged
        for payload, status in [
            ({"name": "diane", "transcript_id": tid, "speaker": "Speaker 2"}, 409),
            ({"name": "Speaker 3", "transcript_id": tid, "speaker": "Speaker 2"}, 400),
            ({"transcript_id": tid, "speaker": "Speaker 2"}, 400),
            ({"name": "Sheila", "transcript_id": tid, "speaker": "Speaker 9"}, 400),
            ({"name": "Sheila", "transcript_id": "nope", "speaker": "Speaker 2"}, 404),
            ({"name": "Sheila"}, 400),
        ]:
            r = client.post("/api/v1/speakers/", json=payload)
            assert r.status_code == status, (payload, r.text)
            assert set(r.json()) == {"error"}
        silence = enrol_clip(client, "Quiet", np.zeros(16000 * 5, dtype=np.float32))
        assert silence.status_code == 400 and "speech" in silence.json()["error"]
        r = client.post("/api/v1/speakers/", files={"file": ("x.wav", b"not audio")}, data={"name": "X"})
        assert r.status_code == 400, r.text
        assert client.get("/api/v1/account/").json()["minutes_used"] == minutes  # refunded

        listed = client.get("/api/v1/speakers/").json()
        assert listed["count"] == 1 and listed["items"][0]["id"] == diane["id"]
        r = client.patch(f"/api/v1/speakers/{diane['id']}/", json={"name": "Diane K."})
        assert r.status_code == 200 and r.json()["name"] == "Diane K."
        assert client.get(f"/api/v1/speakers/{diane['id']}/").json()["name"] == "Diane K."
        body = transcribe(client, data_dir / "call-2spk.wav")
        assert "Diane K." in body["speakers"]

    with spk_server.client(other) as client:  # another account's voice is not found
        assert client.get(f"/api/v1/speakers/{diane['id']}/").status_code == 404
        assert client.delete(f"/api/v1/speakers/{diane['id']}/").status_code == 404
        assert client.get("/api/v1/speakers/").json()["count"] == 0
    with spk_server.client() as client:
        assert client.get("/api/v1/speakers/").status_code == 401
        assert client.post("/api/v1/speakers/", json={"name": "A"}).status_code == 401

    with spk_server.client(key) as client:
        assert client.delete(f"/api/v1/speakers/{diane['id']}/").json() == {"id": diane["id"], "deleted": True}
        assert client.get(f"/api/v1/speakers/{diane['id']}/").status_code == 404
        r = client.post("/api/v1/speakers/", json={"name": "Sheila", "transcript_id": tid, "speaker": "Speaker 2"})
        assert r.status_code == 201, r.text

    # voiceprints go with the account
    from vocable.storage.models import Account, Voiceprint

    with db.session() as s:
        assert s.scalar(select(func.count()).where(Voiceprint.account_id == account_id)) == 1
        s.execute(delete(Account).where(Account.id == account_id))
    with db.session() as s:
        assert s.scalar(select(func.count()).where(Voiceprint.account_id == account_id)) == 0
