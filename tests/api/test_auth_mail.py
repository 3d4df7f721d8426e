"""Email over a real local SMTP server (aiosmtpd, started here): address verification, password
reset (a link works once, expires), the "transcript ready" notice and its preference, and the
same answers for taken and free addresses."""

from __future__ import annotations

import time

import pytest

from tests.api.test_auth import FAST_HASH, PASSWORD, browser, signup
from tests.smtp import LocalSMTP, body, link, token


@pytest.fixture
def smtp():
    with LocalSMTP() as server:
        yield server


@pytest.fixture
def mail_server(start_server, smtp, database_url):
    return start_server(database_url, **FAST_HASH, **smtp.settings)


def verify(client, raw):
    return client.post("/api/v1/auth/verify", json={"token": raw})


def test_signup_verifies_the_address_then_gives_the_key(mail_server, smtp):
    web = browser(mail_server, "10.6.0.1")
    config = web.get("/api/v1/auth/config").json()
    assert config["verification"] and config["password_reset"]
    pending = signup(web, "new@example.com")
    assert pending.status_code == 202 and pending.json()["status"] == "verification_sent"
    assert "set-cookie" not in pending.headers
    # not verified: sign-in says so (only to someone who knows the password)
    early = web.post("/api/v1/auth/signin", json={"email": "new@example.com", "password": PASSWORD})
    assert early.status_code == 403 and "Confirm your address" in early.json()["error"]
    mail = smtp.inbox.wait_for("new@example.com")[0]
    assert mail["Subject"] == "Confirm your Vocable address"
    assert link(mail).startswith(mail_server.url + "/#/verify?token=")
    done = verify(web, token(mail))
    assert done.status_code == 200, done.text
    key = done.json()["key"]["key"]
    assert mail_server.client(key).get("/api/v1/account/").json()["email"] == "new@example.com"
    assert web.get("/api/v1/auth/me").json()["via"] == "session"
    again = verify(browser(mail_server, "10.6.0.2"), token(mail))
    assert again.status_code == 400 and "already used" in again.json()["error"]
    signed = web.post("/api/v1/auth/signin", json={"email": "new@example.com", "password": PASSWORD})
    assert signed.status_code == 200


def test_signup_answers_alike_for_a_taken_address(mail_server, smtp):
    assert signup(browser(mail_server, "10.7.0.1"), "taken@example.com").status_code == 202
    first = smtp.inbox.wait_for("taken@example.com")[0]
    assert verify(browser(mail_server, "10.7.0.1"), token(first)).status_code == 200
    taken = signup(browser(mail_server, "10.7.0.2"), "taken@example.com", password="other password")
    fresh = signup(browser(mail_server, "10.7.0.3"), "fresh@example.com", password="other password")
    assert taken.status_code == fresh.status_code == 202
    assert taken.json() == fresh.json()
    note = smtp.inbox.wait_for("taken@example.com", count=2)[1]
    assert "already has one" in body(note) and "token=" not in body(note)


def test_reset_link_works_once(mail_server, smtp):
    web = browser(mail_server, "10.8.0.1")
    assert signup(web, "forgot@example.com").status_code == 202
    verify(web, token(smtp.inbox.wait_for("forgot@example.com")[0]))
    other = browser(mail_server, "10.8.0.2")
    assert other.post("/api/v1/auth/signin",
                      json={"email": "forgot@example.com", "password": PASSWORD}).status_code == 200
    known = browser(mail_server, "10.8.0.3").post("/api/v1/auth/reset",
                                                  json={"email": "forgot@example.com"})
    unknown = browser(mail_server, "10.8.0.4").post("/api/v1/auth/reset",
                                                    json={"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 202 and known.json() == unknown.json()
    mail = smtp.inbox.wait_for("forgot@example.com", count=2)[1]
    assert mail["Subject"] == "Choose a new Vocable password"
    raw = token(mail)
    confirm = browser(mail_server, "10.8.0.5")
    weak = confirm.post("/api/v1/auth/reset/confirm", json={"token": raw, "password": "short"})
    assert weak.status_code == 400  # a refused password leaves the link usable
    ok = confirm.post("/api/v1/auth/reset/confirm", json={"token": raw, "password": "brand new pw"})
    assert ok.status_code == 200, ok.text
    twice = confirm.post("/api/v1/auth/reset/confirm", json={"token": raw, "password": "third pw!!"})
    assert twice.status_code == 400 and "already used" in twice.json()["error"]
    assert other.get("/api/v1/keys/").status_code == 401  # every session ended
    signin = browser(mail_server, "10.8.0.6").post(
        "/api/v1/auth/signin", json={"email": "forgot@example.com", "password": "brand new pw"})
    assert signin.status_code == 200
    assert not smtp.inbox.to("nobody@example.com")


def test_reset_link_expires(start_server, smtp):
    server = start_server(**FAST_HASH, **smtp.settings, reset_link_ttl_s=1)
    web = browser(server, "10.9.0.1")
    signup(web, "late@example.com")
    verify(web, token(smtp.inbox.wait_for("late@example.com")[0]))
    web.post("/api/v1/auth/reset", json={"email": "late@example.com"})
    raw = token(smtp.inbox.wait_for("late@example.com", count=2)[1])
    time.sleep(1.5)
    late = web.post("/api/v1/auth/reset/confirm", json={"token": raw, "password": "too late now"})
    assert late.status_code == 400 and "expired" in late.json()["error"]


def test_transcript_ready_notice_honours_the_preference(start_server, smtp, data_dir):
    server = start_server(**FAST_HASH, **smtp.settings, signup_plan="paid", signup_credits=10)
    web = browser(server, "10.10.0.1")
    signup(web, "notify@example.com")
    key = verify(web, token(smtp.inbox.wait_for("notify@example.com")[0])).json()["key"]["key"]
    client = server.client(key)
    audio = (data_dir / "jfk.wav").read_bytes()

    def transcribe():
        answer = client.post("/v1/transcribe", data={"diarize": "false"},
                             files={"file": ("jfk.wav", audio, "audio/wav")})
        assert answer.status_code == 200, answer.text
        return answer.headers.get("X-Transcript-Id") or answer.json().get("id")

    transcribe()  # preference off (the default): no mail
    assert client.put("/api/v1/account/", json={
        "email_preferences": {"transcript_completed": True}}).status_code == 200
    transcript_id = transcribe()
    notice = smtp.inbox.wait_for("notify@example.com", count=2)[1]
    assert notice["Subject"] == "Your transcript is ready: jfk.wav"
    assert f"/#/transcripts/{transcript_id}" in body(notice)
    time.sleep(0.5)
    assert len(smtp.inbox.to("notify@example.com")) == 2  # the first transcription sent none


def test_a_new_address_is_confirmed_before_it_signs_in(mail_server, smtp):
    web = browser(mail_server, "10.11.0.1")
    signup(web, "old@example.com")
    key = verify(web, token(smtp.inbox.wait_for("old@example.com")[0])).json()["key"]["key"]
    client = mail_server.client(key)
    changed = client.put("/api/v1/account/", json={"email": "New@Example.com"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["email"] == "new@example.com" and changed.json()["email_verified"] is False
    notice = smtp.inbox.wait_for("old@example.com", count=2)[1]
    assert "changed to new@example.com" in body(notice) and "token=" not in body(notice)
    confirm = smtp.inbox.wait_for("new@example.com")[0]
    assert "now the address of your Vocable account" in body(confirm)
    # someone else's address is not taken as confirmed: no sign-in with it until the link
    early = browser(mail_server, "10.11.0.2").post(
        "/api/v1/auth/signin", json={"email": "new@example.com", "password": PASSWORD})
    assert early.status_code == 403 and "Confirm your address" in early.json()["error"]
    assert client.get("/api/v1/account/").status_code == 200  # the key keeps working
    done = verify(browser(mail_server, "10.11.0.3"), token(confirm))
    assert done.status_code == 200 and done.json()["key"] is None  # no second "first key"
    assert client.get("/api/v1/account/").json()["email_verified"] is True
    assert len(client.get("/api/v1/keys/").json()["keys"]) == 1
    signed = browser(mail_server, "10.11.0.4").post(
        "/api/v1/auth/signin", json={"email": "new@example.com", "password": PASSWORD})
    assert signed.status_code == 200


def test_a_lost_confirmation_link_is_sent_again(mail_server, smtp):
    web = browser(mail_server, "10.12.0.1")
    signup(web, "lost@example.com")
    first = smtp.inbox.wait_for("lost@example.com")[0]
    again = browser(mail_server, "10.12.0.2").post("/api/v1/auth/verify/resend",
                                                   json={"email": "Lost@example.com"})
    unknown = browser(mail_server, "10.12.0.3").post("/api/v1/auth/verify/resend",
                                                     json={"email": "nobody@example.com"})
    assert again.status_code == unknown.status_code == 202 and again.json() == unknown.json()
    second = smtp.inbox.wait_for("lost@example.com", count=2)[1]
    assert token(second) != token(first)
    assert verify(web, token(second)).status_code == 200
    # confirmed now: asking again sends nothing (the same answer)
    done = web.post("/api/v1/auth/verify/resend", json={"email": "lost@example.com"})
    assert done.status_code == 202 and done.json() == unknown.json()
    time.sleep(1.0)
    assert len(smtp.inbox.to("lost@example.com")) == 2 and not smtp.inbox.to("nobody@example.com")
