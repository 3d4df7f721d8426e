"""Sign-up on the page in a real browser (headless Chromium): sign up, confirm the address through
a local SMTP server, get the first key, transcribe signed in (the session cookie and its CSRF
token, no key pasted), sign out and back in; the operator's admin page."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from tests.api.test_auth import FAST_HASH
from tests.conftest import LiveServer, make_settings
from tests.smtp import LocalSMTP, link
from tests.web.test_web_ui import WAIT_S, no_script_errors, visible, wait
from vocable.accounts.keys import create_account
from vocable.services import Services

PASSWORD = "a page password"


@pytest.fixture(scope="module")
def smtp():
    with LocalSMTP() as server:
        yield server


@pytest.fixture(scope="module")
def server(tmp_path_factory, registry, whisper, smtp):
    settings = make_settings(tmp_path_factory.mktemp("web-auth"), **FAST_HASH, **smtp.settings,
                             signup_plan="paid", signup_credits=30)
    with LiveServer(Services.create(settings, registry=registry, whisper=whisper)) as live:
        yield live


def ready(browser) -> None:
    wait(browser).until(lambda d: d.execute_script("return document.documentElement.dataset.ready"))


def fill(browser, css: str, text: str) -> None:
    element = visible(browser, css)
    element.clear()
    element.send_keys(text)


def test_sign_up_verify_transcribe_sign_out_and_in(browser, server, smtp, data_dir):
    browser.get(server.url + "/")
    browser.execute_script("localStorage.clear()")
    browser.delete_all_cookies()
    browser.get(server.url + "/#/signup")
    browser.refresh()
    ready(browser)
    fill(browser, "#signup-email", "page@example.com")
    fill(browser, "#signup-password", PASSWORD)
    browser.find_element(By.ID, "signup-form-submit").click()
    assert visible(browser, "#signup-sent").text.startswith("Check your mail")
    smtp.inbox.wait_for("page@example.com")

    # the mail was lost: the sign-in page sends a new link
    browser.get(server.url + "/#/signin")
    ready(browser)
    visible(browser, "#resend-link").click()
    fill(browser, "#resend-email", "page@example.com")
    browser.find_element(By.ID, "resend-form-submit").click()
    assert visible(browser, "#resend-sent").text.startswith("If an account waits")
    browser.get(link(smtp.inbox.wait_for("page@example.com", count=2)[1]))
    key = visible(browser, "[data-first-key] #first-key").get_attribute("value")
    assert key.startswith("voc_")
    with server.client(key) as http:  # the key is a real one, for programs
        assert http.get("/api/v1/account/").json()["email"] == "page@example.com"
    cookie = browser.get_cookie("vocable_session")
    assert cookie and cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert browser.execute_script("return document.cookie").find("vocable_session") == -1
    browser.find_element(By.ID, "first-key-done").click()
    ready(browser)
    visible(browser, "#signout")
    wait(browser).until(lambda d: d.find_element(By.ID, "key-label").text == "page@example.com")
    assert browser.execute_script("return localStorage.getItem('vocable.apiKey')") is None

    # transcribe signed in: the upload carries the cookie and the CSRF token, no key
    visible(browser, "#model:not([disabled])")
    browser.find_element(By.ID, "file").send_keys(str(data_dir / "jfk.wav"))
    browser.find_element(By.ID, "transcribe-submit").click()
    visible(browser, ".result .segment .segment-text", timeout=WAIT_S)
    text = " ".join(e.text for e in browser.find_elements(By.CSS_SELECTOR, ".result .segment-text"))
    assert "ask not what your country can do for you" in text.lower()
    with server.client(key) as http:  # stored as the account's transcript
        assert http.get("/api/v1/transcripts/").json()["count"] == 1

    browser.find_element(By.ID, "signout").click()
    ready(browser)
    visible(browser, "#signin-link")
    assert browser.get_cookie("vocable_session") is None
    fill(browser, "#signin-email", "page@example.com")
    fill(browser, "#signin-password", "wrong password")
    browser.find_element(By.ID, "signin-form-submit").click()
    alert = visible(browser, "main .alert-error[role=alert]")
    assert "Incorrect email or password." in alert.text
    fill(browser, "#signin-password", PASSWORD)
    browser.find_element(By.ID, "signin-form-submit").click()
    ready(browser)
    visible(browser, "#signout")
    browser.get(server.url + "/#/transcripts")
    wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, "main a[href*='#/transcripts/']"))
    no_script_errors(browser)


def test_admin_page_grants_credits(browser, server):
    from vocable.accounts.passwords import Passwords

    hashed = Passwords.for_settings(server.services.settings).hash(PASSWORD)
    create_account(server.services.db, "boss@example.com", role="admin", password_hash=hashed,
                   verified=True)
    user = create_account(server.services.db, "client@example.com", plan="paid", credits=1)
    browser.get(server.url + "/")
    browser.delete_all_cookies()  # whoever the shared browser was signed in as, it is not now
    browser.execute_script("localStorage.clear()")
    browser.get(server.url + "/#/signin")
    browser.refresh()
    ready(browser)
    fill(browser, "#signin-email", "boss@example.com")
    fill(browser, "#signin-password", PASSWORD)
    browser.find_element(By.ID, "signin-form-submit").click()
    ready(browser)
    visible(browser, "a[href='#/admin']").click()
    row = visible(browser, "tr[data-account='client@example.com']")
    row.find_element(By.XPATH, ".//button[text()='Grant']").click()
    # read in one script: the table is drawn anew after the grant (an element found before
    # the redraw is stale)
    wait(browser).until(lambda d: d.execute_script(
        "const c = document.querySelector(\"tr[data-account='client@example.com'] .account-credits\");"
        "return c && c.textContent.trim()") == "61")
    assert server.services.console.account(user.id)["credits"] == 61
    no_script_errors(browser)
