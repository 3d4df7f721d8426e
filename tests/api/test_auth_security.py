"""Sign-in security over real HTTP: brute force slowed per address and per IP, one answer for
unknown addresses and wrong passwords, a disabled account refused everywhere (REST, sessions,
stream tickets, WebSocket)."""

from __future__ import annotations

import asyncio
import json

from tests.api.test_auth import FAST_HASH, PASSWORD, browser, signup
from tests.api.test_stream import session as ws_session
from vocable.api.routes.stream import CLOSE_UNAUTHORIZED

CLOSE_FORBIDDEN = 4403


def signin(client, email, password=PASSWORD):
    return client.post("/api/v1/auth/signin", json={"email": email, "password": password})


def test_brute_force_is_slowed_per_account_and_per_ip(start_server):
    server = start_server(signin_attempts_per_account=3, signin_attempts_per_ip=5, **FAST_HASH)
    assert signup(browser(server, "10.2.0.1"), "victim@example.com").status_code == 201
    attacker = browser(server, "10.2.0.66")
    for _ in range(3):
        assert signin(attacker, "victim@example.com", "guess").status_code == 401
    slowed = signin(attacker, "victim@example.com", PASSWORD)  # even the right one, for now
    assert slowed.status_code == 429 and int(slowed.headers["Retry-After"]) > 0
    assert "Too many attempts" in slowed.json()["error"]
    # another IP does not get a fresh budget for the same address
    assert signin(browser(server, "10.2.0.67"), "victim@example.com", "guess").status_code == 429
    # per IP: guesses spread over many addresses run out too
    sprayer = browser(server, "10.2.0.99")
    for n in range(5):
        assert signin(sprayer, f"user{n}@example.com", "guess").status_code == 401
    assert signin(sprayer, "someone@example.com", "guess").status_code == 429
    # an address that nobody guessed is untouched from a clean IP
    assert signup(browser(server, "10.2.0.2"), "other@example.com").status_code == 201
    assert signin(browser(server, "10.2.0.3"), "other@example.com").status_code == 200


def test_unknown_address_and_wrong_password_answer_alike(start_server):
    server = start_server(**FAST_HASH)
    assert signup(browser(server, "10.3.0.1"), "real@example.com").status_code == 201
    wrong = signin(browser(server, "10.3.0.2"), "real@example.com", "not the password")
    unknown = signin(browser(server, "10.3.0.3"), "nobody@example.com", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"error": "Incorrect email or password."}
    assert "set-cookie" not in wrong.headers and "set-cookie" not in unknown.headers
    # without SMTP a reset is the operator's, whatever the address
    a = browser(server).post("/api/v1/auth/reset", json={"email": "real@example.com"})
    b = browser(server).post("/api/v1/auth/reset", json={"email": "nobody@example.com"})
    assert a.status_code == b.status_code == 400 and a.json() == b.json()
    assert "operator" in a.json()["error"]


def test_disabled_account_is_refused_everywhere_at_once(start_server):
    server = start_server(**FAST_HASH)
    web = browser(server, "10.4.0.1")
    body = signup(web, "gone@example.com").json()
    key, csrf, account_id = body["key"]["key"], body["csrf_token"], body["account"]["id"]
    ticket = web.post("/v1/stream/ticket", headers={"X-CSRF-Token": csrf}).json()["ticket"]
    keyed = server.client(key)
    assert keyed.get("/api/v1/account/").status_code == 200
    key_ticket = keyed.post("/v1/stream/ticket").json()["ticket"]

    server.services.console.set_disabled(account_id, True)

    for method, path in [("GET", "/api/v1/account/"), ("GET", "/api/v1/keys/"),
                         ("GET", "/api/v1/transcripts/"), ("POST", "/v1/stream/ticket"),
                         ("POST", "/v1/summarize")]:
        answer = keyed.request(method, path, json={"text": "hi"} if method == "POST" else None)
        assert answer.status_code == 403, (path, answer.text)
        assert "disabled" in answer.json()["error"]
    transcribe = keyed.post("/v1/transcribe", files={"file": ("a.wav", b"RIFF....", "audio/wav")})
    assert transcribe.status_code == 403
    assert web.get("/api/v1/keys/").status_code == 401  # its sessions ended
    assert signin(browser(server, "10.4.0.2"), "gone@example.com").status_code == 403
    # the WebSocket: a key in the header, and a ticket bought before the account was disabled
    messages, code = asyncio.run(ws_session(server, [json.dumps({})], key=key))
    assert code == CLOSE_FORBIDDEN and "disabled" in messages[0]["error"]
    messages, code = asyncio.run(_ws_ticket(server, key_ticket))
    assert code == CLOSE_FORBIDDEN and "disabled" in messages[0]["error"], messages
    # the session that bought this one ended, and its tickets with it
    messages, code = asyncio.run(_ws_ticket(server, ticket))
    assert code == CLOSE_UNAUTHORIZED, messages

    server.services.console.set_disabled(account_id, False)
    assert keyed.get("/api/v1/account/").status_code == 200  # keys work again
    assert web.get("/api/v1/keys/").status_code == 401  # sessions do not come back


def _ws_ticket(server, ticket):
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    async def run():
        messages = []
        async with connect(f"{server.url.replace('http', 'ws')}/v1/stream?ticket={ticket}") as ws:
            try:
                await ws.send(json.dumps({}))
                async for raw in ws:
                    messages.append(json.loads(raw))
            except ConnectionClosed:
                pass
            return messages, ws.close_code

    return run()


def test_work_already_admitted_is_charged_no_further_once_disabled(start_server):
    """An open stream reserves its next minute through the quota: a disabled account's is
    refused (the stream then ends with 4403), and nothing more is taken from its credits."""
    import pytest

    from vocable.accounts.keys import Principal, create_account
    from vocable.accounts.quota import AccountSuspended

    server = start_server(**FAST_HASH)
    account = create_account(server.services.db, "mid@example.com", plan="paid", credits=10)
    principal = Principal(plan="paid", ip="10.5.0.1", account_id=account.id)
    server.services.quota.reserve(principal, 60)
    server.services.console.set_disabled(account.id, True)
    with pytest.raises(AccountSuspended):
        server.services.quota.reserve(principal, 60)
    assert server.services.console.account(account.id)["credits"] == 9
