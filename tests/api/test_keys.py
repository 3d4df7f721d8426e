"""API keys over HTTP: hashing, listing, revocation, 401s. Runs on SQLite and PostgreSQL."""

import sqlalchemy as sa

from vocable.accounts.keys import create_account, create_key, hash_key
from vocable.storage.models import ApiKey


def _account_key(server, email="ann@example.com", **kw):
    account = create_account(server.services.db, email, **kw)
    return account, create_key(server.services.db, account.id, name="first")[1]


def test_raw_key_is_never_stored(server):
    _, raw = _account_key(server)
    created = server.client(raw).post("/api/v1/keys/", json={"name": "ci"})
    assert created.status_code == 201
    second = created.json()["key"]
    with server.services.db.session() as s:
        stored = s.scalars(sa.select(ApiKey)).all()
        dump = repr([(k.key_hash, k.prefix, k.name, k.id) for k in stored])
    assert raw not in dump and second not in dump
    assert {k.key_hash for k in stored} == {hash_key(raw), hash_key(second)}
    listing = server.client(raw).get("/api/v1/keys/").json()["keys"]
    assert [k["name"] for k in listing] == ["first", "ci"]
    assert all("key" not in k for k in listing)
    assert listing[1]["prefix"] == second[:12]


def test_missing_bad_and_revoked_keys(server):
    _, raw = _account_key(server)
    anonymous = server.client().get("/api/v1/keys/")
    assert anonymous.status_code == 401 and "API key" in anonymous.json()["error"]
    bad = server.client("voc_not-a-key").get("/api/v1/keys/")
    assert bad.status_code == 401 and bad.json() == {"error": "Invalid or revoked API key."}
    malformed = server.client().get("/api/v1/keys/", headers={"Authorization": "Basic abc"})
    assert malformed.status_code == 401

    second = server.client(raw).post("/api/v1/keys/", json={}).json()
    assert server.client(second["key"]).get("/api/v1/keys/").status_code == 200
    assert server.client(raw).delete(f"/api/v1/keys/{second['id']}/").status_code == 200
    revoked = server.client(second["key"]).get("/api/v1/keys/")
    assert revoked.status_code == 401 and revoked.json()["error"] == "Invalid or revoked API key."
    again = server.client(raw).delete(f"/api/v1/keys/{second['id']}/")
    assert again.status_code == 404 and "error" in again.json()


def test_other_accounts_keys_cannot_be_revoked(server):
    _, raw_a = _account_key(server, "a@example.com")
    _, raw_b = _account_key(server, "b@example.com")
    key_b = server.client(raw_b).get("/api/v1/keys/").json()["keys"][0]["id"]
    assert server.client(raw_a).delete(f"/api/v1/keys/{key_b}/").status_code == 404
    assert server.client(raw_b).get("/api/v1/keys/").status_code == 200


def test_validation_errors_use_error_shape(server):
    _, raw = _account_key(server)
    response = server.client(raw).post("/api/v1/keys/", json={"name": "x" * 500})
    assert response.status_code == 400
    assert set(response.json()) == {"error"} and "name" in response.json()["error"]
    response = server.client(raw).post(
        "/api/v1/keys/", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400 and set(response.json()) == {"error"}
