"""The operator console over real HTTP: admin only; plan and credit changes apply to the very
next request; disable and delete (keys, transcripts, stored audio go with the account); usage
across accounts; the server's models and workers; invite codes."""

from __future__ import annotations

import pytest

from tests.api.test_auth import FAST_HASH, browser, signup
from vocable.accounts.keys import create_account, create_key


@pytest.fixture
def console(start_server, database_url):
    server = start_server(database_url, **FAST_HASH)
    admin = create_account(server.services.db, "root@example.com", role="admin")
    return server, server.client(create_key(server.services.db, admin.id)[1]), admin.id


def test_admin_only(console):
    server, _, _ = console
    user = create_account(server.services.db, "plain@example.com")
    plain = server.client(create_key(server.services.db, user.id)[1])
    for method, path in [("GET", "/api/v1/admin/accounts/"), ("GET", "/api/v1/admin/usage/"),
                         ("GET", "/api/v1/admin/server/"), ("POST", f"/api/v1/admin/accounts/{user.id}/credits/"),
                         ("DELETE", f"/api/v1/admin/accounts/{user.id}/")]:
        refused = plain.request(method, path, json={"credits": 5} if method == "POST" else None)
        assert refused.status_code == 403 and "admin" in refused.json()["error"], path
        assert server.client().request(method, path).status_code == 401
    assert plain.get("/api/v1/account/").json()["credits"] == 0


def test_plan_and_credits_change_the_limits_at_once(console, data_dir):
    server, admin, _ = console
    body = signup(browser(server), "grow@example.com").json()
    key, account_id = body["key"]["key"], body["account"]["id"]
    user = server.client(key)
    before = user.get("/api/v1/account/").json()
    assert before["plan"] == "free" and before["limits"]["max_upload_mb"] == 500
    found = admin.get("/api/v1/admin/accounts/", params={"q": "grow"}).json()
    assert found["total"] == 1 and found["accounts"][0]["id"] == account_id
    paid = admin.patch(f"/api/v1/admin/accounts/{account_id}/", json={"plan": "paid"})
    assert paid.status_code == 200 and paid.json()["plan"] == "paid"
    now = user.get("/api/v1/account/").json()
    assert now["plan"] == "paid" and now["limits"]["max_upload_mb"] == 2048 and now["credits"] == 0
    audio = (data_dir / "jfk.wav").read_bytes()
    files = {"file": ("jfk.wav", audio, "audio/wav")}
    broke = user.post("/v1/transcribe", files=files, data={"diarize": "false"})
    assert broke.status_code == 402
    granted = admin.post(f"/api/v1/admin/accounts/{account_id}/credits/", json={"credits": 3})
    assert granted.status_code == 200 and granted.json()["credits"] == 3
    done = user.post("/v1/transcribe", files=files, data={"diarize": "false"})
    assert done.status_code == 200, done.text
    assert user.get("/api/v1/account/").json()["credits"] == 2  # 11 s of audio: one credit
    assert admin.patch(f"/api/v1/admin/accounts/{account_id}/",
                       json={"plan": "gold"}).status_code == 400
    usage = admin.get("/api/v1/admin/usage/", params={"days": 7}).json()
    assert usage["totals"]["transcriptions"] == 1 and usage["totals"]["audio_minutes"] == 1
    assert usage["top_accounts"][0]["email"] == "grow@example.com"
    assert usage["days"][-1]["active_accounts"] >= 1
    server_view = admin.get("/api/v1/admin/server/").json()
    assert any(m["id"] == "base" and m["installed"] for m in server_view["models"])
    assert server_view["workers"] and server_view["signup"]["signup"] == "open"


def test_disable_and_delete(console, data_dir):
    server, admin, admin_id = console
    body = signup(browser(server), "bye@example.com").json()
    key, account_id = body["key"]["key"], body["account"]["id"]
    server.services.console.grant_credits(account_id, 5)
    server.services.console.set_plan(account_id, "paid")
    user = server.client(key)
    done = user.post("/v1/transcribe", data={"diarize": "false"},
                     files={"file": ("jfk.wav", (data_dir / "jfk.wav").read_bytes(), "audio/wav")})
    assert done.status_code == 200
    transcripts = user.get("/api/v1/transcripts/").json()
    audio_key = server.services.jobs.get(transcripts["results"][0]["id"]).audio_key
    assert audio_key and server.services.blobs.exists(audio_key)

    off = admin.patch(f"/api/v1/admin/accounts/{account_id}/", json={"disabled": True})
    assert off.status_code == 200 and off.json()["disabled"]
    assert user.get("/api/v1/account/").status_code == 403
    assert admin.patch(f"/api/v1/admin/accounts/{admin_id}/",
                       json={"disabled": True}).status_code == 400  # not yourself
    gone = admin.delete(f"/api/v1/admin/accounts/{account_id}/")
    assert gone.status_code == 200
    assert admin.get(f"/api/v1/admin/accounts/{account_id}/").status_code == 404
    assert user.get("/api/v1/account/").status_code == 401  # the key went with it
    assert not server.services.blobs.exists(audio_key)
    assert server.services.jobs.get(transcripts["results"][0]["id"]) is None


def test_invites_from_the_console(start_server):
    server = start_server(signup="invite", **FAST_HASH)
    admin = server.client(create_key(server.services.db, create_account(
        server.services.db, "root@example.com", role="admin").id)[1])
    made = admin.post("/api/v1/admin/invites/", json={"max_uses": 1, "note": "Dee"})
    assert made.status_code == 201 and made.json()["code"].startswith("inv_")
    assert signup(browser(server), "dee@example.com", invite=made.json()["code"]).status_code == 201
    listed = admin.get("/api/v1/admin/invites/").json()["invites"]
    assert listed[0]["uses"] == 1 and not listed[0]["active"] and "code" not in listed[0]
    second = admin.post("/api/v1/admin/invites/", json={}).json()
    assert admin.delete(f"/api/v1/admin/invites/{second['id']}/").status_code == 200
    assert signup(browser(server, "10.0.9.9"), "eve@example.com",
                  invite=second["code"]).status_code == 403
