"""Sign-up, sign-in, sessions and CSRF over real HTTP (a live server, SQLite and PostgreSQL)."""

from __future__ import annotations

import httpx
import pytest

from vocable.accounts.invites import create_invite

# argon2 at a test cost (the server's default is 64 MiB x 3 passes: seconds on a busy CPU)
FAST_HASH = {"password_time_cost": 1, "password_memory_kib": 8192, "password_parallelism": 1}
PASSWORD = "correct horse battery"


@pytest.fixture
def auth_server(start_server, database_url):
    return start_server(database_url, **FAST_HASH)


def browser(server, ip: str = "10.1.0.1", **headers) -> httpx.Client:
    """A client with a cookie jar, posing as one browser at ``ip`` (the test client is a proxy)."""
    return server.client(headers={"X-Forwarded-For": ip, **headers})


def signup(client: httpx.Client, email: str, password: str = PASSWORD, **extra) -> httpx.Response:
    return client.post("/api/v1/auth/signup", json={"email": email, "password": password, **extra})


def test_signup_gives_session_cookie_and_first_key(auth_server):
    web = browser(auth_server)
    answer = signup(web, "Ann@Example.com")
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["account"]["email"] == "ann@example.com"
    assert body["account"]["plan"] == "free" and body["account"]["role"] == "user"
    assert body["key"]["key"].startswith("voc_") and body["csrf_token"]
    cookie = answer.headers["set-cookie"]
    assert "vocable_session=vss_" in cookie and "HttpOnly" in cookie
    assert "SameSite=lax" in cookie and "Secure" not in cookie  # plain http here
    # the key works as any key; the session works as the browser's credential
    key_client = auth_server.client(body["key"]["key"])
    assert key_client.get("/api/v1/account/").json()["email"] == "ann@example.com"
    me = web.get("/api/v1/auth/me").json()
    assert me["signed_in"] and me["via"] == "session" and me["csrf_token"] == body["csrf_token"]
    assert web.get("/api/v1/keys/").json()["keys"][0]["name"] == "first key"
    # nothing about the password is ever in an answer
    assert PASSWORD not in answer.text


def test_cookie_is_secure_behind_tls(auth_server):
    web = browser(auth_server, **{"X-Forwarded-Proto": "https"})
    answer = signup(web, "tls@example.com")
    assert answer.status_code == 201 and "Secure" in answer.headers["set-cookie"]


def test_csrf_token_required_for_cookie_calls_that_change_state(auth_server):
    web = browser(auth_server)
    body = signup(web, "csrf@example.com").json()
    refused = web.post("/api/v1/keys/", json={"name": "no token"})
    assert refused.status_code == 403 and "CSRF" in refused.json()["error"]
    wrong = web.post("/api/v1/keys/", json={"name": "x"}, headers={"X-CSRF-Token": "nope"})
    assert wrong.status_code == 403
    put = web.put("/api/v1/account/", json={"name": "Mallory"})
    assert put.status_code == 403
    ok = web.post("/api/v1/keys/", json={"name": "with token"},
                  headers={"X-CSRF-Token": body["csrf_token"]})
    assert ok.status_code == 201
    assert web.get("/api/v1/keys/").status_code == 200  # reads need no token
    # API-key calls are not affected (a page on another site cannot set Authorization)
    by_key = auth_server.client(body["key"]["key"]).post("/api/v1/keys/", json={"name": "prog"})
    assert by_key.status_code == 201
    # a stream ticket bought by the session needs the token too
    assert web.post("/v1/stream/ticket").status_code == 403
    ticket = web.post("/v1/stream/ticket", headers={"X-CSRF-Token": body["csrf_token"]})
    assert ticket.status_code == 200 and ticket.json()["ticket"].startswith("vst_")


def test_signout_and_signin_rotate_the_session(auth_server):
    web = browser(auth_server)
    body = signup(web, "bo@example.com").json()
    first = web.cookies["vocable_session"]
    # sign in again from the same browser: a new id, the old one is dead
    again = web.post("/api/v1/auth/signin", json={"email": "bo@example.com", "password": PASSWORD})
    assert again.status_code == 200, again.text
    second = web.cookies["vocable_session"]
    assert second != first
    stale = auth_server.client(cookies={"vocable_session": first})
    assert stale.get("/api/v1/keys/").status_code == 401
    assert stale.get("/api/v1/auth/me").json() == {"signed_in": False}
    # sign out needs the token; afterwards the cookie is gone and the session dead
    assert web.post("/api/v1/auth/signout").status_code == 403
    csrf = again.json()["csrf_token"]
    out = web.post("/api/v1/auth/signout", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 200 and "vocable_session" not in web.cookies
    replay = auth_server.client(cookies={"vocable_session": second})
    assert replay.get("/api/v1/keys/").status_code == 401
    assert body["key"]["key"]  # keys live on after sign-out
    assert auth_server.client(body["key"]["key"]).get("/api/v1/keys/").status_code == 200


def test_password_change_revokes_every_session(auth_server):
    laptop, phone = browser(auth_server, "10.1.0.2"), browser(auth_server, "10.1.0.3")
    csrf = signup(laptop, "cy@example.com").json()["csrf_token"]
    assert phone.post("/api/v1/auth/signin",
                      json={"email": "cy@example.com", "password": PASSWORD}).status_code == 200
    wrong = laptop.post("/api/v1/auth/password", headers={"X-CSRF-Token": csrf},
                        json={"current_password": "not it", "new_password": "another secret"})
    assert wrong.status_code == 401
    changed = laptop.post("/api/v1/auth/password", headers={"X-CSRF-Token": csrf},
                          json={"current_password": PASSWORD, "new_password": "another secret"})
    assert changed.status_code == 200, changed.text
    assert laptop.get("/api/v1/keys/").status_code == 200  # this browser got a new session
    assert phone.get("/api/v1/keys/").status_code == 401  # the other one is signed out
    old = browser(auth_server, "10.1.0.4").post(
        "/api/v1/auth/signin", json={"email": "cy@example.com", "password": PASSWORD})
    assert old.status_code == 401


def test_bad_signups(auth_server):
    web = browser(auth_server)
    short = signup(web, "d@example.com", password="short")
    assert short.status_code == 400 and "at least 8" in short.json()["error"]
    assert signup(web, "not-an-email").status_code == 400
    assert signup(web, "d@example.com").status_code == 201
    taken = signup(browser(auth_server, "10.1.0.9"), "D@example.com")
    assert taken.status_code == 409 and set(taken.json()) == {"error"}
    extra = web.post("/api/v1/auth/signup", json={"email": "e@example.com", "password": PASSWORD,
                                                  "plan": "paid"})
    assert extra.status_code == 400  # nobody picks their own plan


def test_invite_only_refuses_without_a_code(start_server):
    server = start_server(signup="invite", **FAST_HASH)
    web = browser(server)
    none = signup(web, "i@example.com")
    assert none.status_code == 403 and "invite" in none.json()["error"].lower()
    bad = signup(web, "i@example.com", invite="inv_made-up")
    assert bad.status_code == 403
    _, code = create_invite(server.services.db, max_uses=1)
    ok = signup(web, "i@example.com", invite=code)
    assert ok.status_code == 201, ok.text
    used_up = signup(browser(server, "10.1.0.7"), "j@example.com", invite=code)
    assert used_up.status_code == 403
    closed = start_server(signup="closed", **FAST_HASH)
    shut = signup(browser(closed), "k@example.com")
    assert shut.status_code == 403 and "closed" in shut.json()["error"]
    assert closed.client().get("/api/v1/auth/config").json()["signup"] == "closed"
