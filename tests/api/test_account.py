"""GET/PUT /api/v1/account/ and the key lifecycle over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from vocable.accounts.keys import create_account, create_key
from vocable.accounts.profile import EMAIL_PREFERENCES


def _key(server, email, **kw):
    account = create_account(server.services.db, email, **kw)
    return create_key(server.services.db, account.id, name="first")[1]


def test_get_account_free_and_paid(server):
    free = server.client(_key(server, "Free@Example.com")).get("/api/v1/account/")
    assert free.status_code == 200
    body = free.json()
    assert body["email"] == "free@example.com" and body["plan"] == "free"
    assert body["uses_credits"] is False and body["credits"] == 0
    assert body["monthly_minutes"] == 600 and body["minutes_used"] == 0 and body["minutes_left"] == 600
    assert body["month"] == datetime.now(UTC).strftime("%Y-%m")
    assert body["email_preferences"] == EMAIL_PREFERENCES
    assert body["limits"] == {"max_upload_mb": 500, "concurrent_jobs": 2, "requests_per_minute": 60}

    paid = server.client(_key(server, "paid@example.com", plan="paid", credits=42)).get("/api/v1/account/").json()
    assert paid["plan"] == "paid" and paid["uses_credits"] is True
    assert paid["credits"] == 42 and paid["minutes_left"] == 42 and paid["monthly_minutes"] is None


def test_free_minutes_used_this_month(server):
    key = _key(server, "used@example.com")
    month = datetime.now(UTC).strftime("%Y-%m")
    from vocable.storage.models import Account
    with server.services.db.session() as s:
        account = s.query(Account).filter_by(email="used@example.com").one()
        account.minutes_used, account.minutes_month = 125, month
    body = server.client(key).get("/api/v1/account/").json()
    assert body["minutes_used"] == 125 and body["minutes_left"] == 475
    with server.services.db.session() as s:  # last month's minutes do not count
        s.query(Account).filter_by(email="used@example.com").one().minutes_month = "2000-01"
    body = server.client(key).get("/api/v1/account/").json()
    assert body["minutes_used"] == 0 and body["minutes_left"] == 600


def test_put_changes_what_a_user_may_change(server):
    client = server.client(_key(server, "ann@example.com"))
    response = client.put("/api/v1/account/", json={
        "name": "  Ann Example ", "email": "Ann.New@Example.org",
        "email_preferences": {"transcript_completed": True, "usage_alerts": False},
    })
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["name"] == "Ann Example" and body["email"] == "ann.new@example.org"
    assert body["email_preferences"] == {**EMAIL_PREFERENCES, "transcript_completed": True, "usage_alerts": False}
    # Preferences merge: one change leaves the others as they were.
    body = client.put("/api/v1/account/", json={"email_preferences": {"newsletter": True}}).json()
    assert body["email_preferences"]["transcript_completed"] is True and body["email_preferences"]["newsletter"] is True
    assert client.get("/api/v1/account/").json() == body


def test_put_refuses_plan_credits_and_bad_values(server):
    key = _key(server, "bea@example.com", plan="free", credits=0)
    _key(server, "taken@example.com")
    client = server.client(key)
    before = client.get("/api/v1/account/").json()
    cases = [
        ({"plan": "paid"}, 400, "plan"),
        ({"credits": 1000000}, 400, "credits"),
        ({"name": "x", "plan": "paid", "credits": 5}, 400, "plan, credits"),
        ({"minutes_left": 5000}, 400, "minutes_left"),
        ({"email": "not-an-email"}, 400, "not a valid email"),
        ({"email": "TAKEN@example.com"}, 409, "already uses"),
        ({"email_preferences": {"spam_me": True}}, 400, "spam_me"),
        ({"email_preferences": {"newsletter": "yes"}}, 400, "true or false"),
        ({"email_preferences": ["newsletter"]}, 400, "email_preferences"),
        ({"favourite_colour": "blue"}, 400, "favourite_colour"),
        ({"name": "n" * 500}, 400, "name"),
    ]
    for payload, status, fragment in cases:
        response = client.put("/api/v1/account/", json=payload)
        assert response.status_code == status, (payload, response.text)
        assert set(response.json()) == {"error"} and fragment in response.json()["error"], payload
    not_json = client.put("/api/v1/account/", content=b"{", headers={"content-type": "application/json"})
    assert not_json.status_code == 400 and set(not_json.json()) == {"error"}
    assert client.get("/api/v1/account/").json() == before
    assert server.client(None).put("/api/v1/account/", json={"name": "x"}).status_code == 401


def test_key_create_list_revoke(server):
    key = _key(server, "keys@example.com")
    client = server.client(key)
    created = client.post("/api/v1/keys/", json={"name": "laptop"})
    assert created.status_code == 201
    new = created.json()
    assert new["key"].startswith("voc_") and new["name"] == "laptop" and new["prefix"] == new["key"][:12]
    # The new key works at once, and shows up in the list with when it was last used.
    assert server.client(new["key"]).get("/api/v1/account/").json()["email"] == "keys@example.com"
    listing = {k["name"]: k for k in client.get("/api/v1/keys/").json()["keys"]}
    assert set(listing) == {"first", "laptop"}
    assert "key" not in listing["laptop"] and listing["laptop"]["last_used_at"] is not None
    assert listing["laptop"]["created_at"] and listing["laptop"]["active"] is True
    # Revoked at once: the very next request with it is refused.
    assert client.delete(f"/api/v1/keys/{new['id']}/").json() == {"id": new["id"], "revoked": True}
    assert server.client(new["key"]).get("/api/v1/account/").status_code == 401
    listing = {k["name"]: k for k in client.get("/api/v1/keys/").json()["keys"]}
    assert listing["laptop"]["active"] is False and listing["laptop"]["revoked_at"] is not None
