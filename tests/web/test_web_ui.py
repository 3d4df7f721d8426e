"""The web interface in a real browser (Debian's headless Chromium, driven by Selenium) against a
live server with the real base model: transcribe a real recording, read and delete a stored
transcript with a key, create and revoke a key, see the API's error for a bad file, and
transcribe live from a microphone (Chromium's fake capture device playing the same recording).

One browser and one server for the module (Chromium takes seconds to start on a shared CPU).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import sqlalchemy as sa
import srt
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from tests.conftest import LiveServer, make_settings
from vocable.accounts.keys import create_account, create_key
from vocable.services import Services
from vocable.storage.models import ApiKey, StreamTicket

WAIT_S = 120  # a transcription on a busy 2-core machine


@pytest.fixture(scope="module")
def server(tmp_path_factory, registry, whisper):
    services = Services.create(
        make_settings(tmp_path_factory.mktemp("web-ui")), registry=registry, whisper=whisper
    )
    with LiveServer(services) as live:
        yield live


def new_account(server: LiveServer, email: str) -> tuple[int, str]:
    account = create_account(server.services.db, email, plan="paid", credits=60)
    return account.id, create_key(server.services.db, account.id, name="first")[1]


def open_page(browser: WebDriver, server: LiveServer, route: str = "", key: str | None = None) -> None:
    """Load the page at ``#/route`` with ``key`` stored (or none: anonymous)."""
    browser.get(server.url + "/")
    if key:
        browser.execute_script("localStorage.setItem('vocable.apiKey', arguments[0])", key)
    else:
        browser.execute_script("localStorage.clear()")
    browser.get(f"{server.url}/#/{route}")
    browser.refresh()  # a hash-only change does not reload: start the app again with the key
    wait(browser).until(lambda d: d.execute_script("return document.documentElement.dataset.ready"))


def wait(browser: WebDriver, timeout: float = 30) -> WebDriverWait:
    # The page re-renders tables after each API answer: an element found just before is then
    # stale, and the condition is simply tried again.
    return WebDriverWait(browser, timeout, ignored_exceptions=(StaleElementReferenceException,))


def visible(browser: WebDriver, css: str, timeout: float = 30):
    return wait(browser, timeout).until(EC.visibility_of_element_located((By.CSS_SELECTOR, css)))


def downloaded(folder: Path, suffix: str, timeout: float = 30) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [p for p in folder.iterdir() if p.suffix == suffix]
        if done:
            return done[0]
        time.sleep(0.1)
    raise AssertionError(f"no {suffix} file downloaded into {folder}: {list(folder.iterdir())}")


def no_script_errors(browser: WebDriver) -> None:
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"
              # a failed API call is logged by the browser; the page shows it, that is tested
              and "Failed to load resource" not in e["message"]]
    assert not errors, errors


# -- tests ---------------------------------------------------------------------------------------
def test_anonymous_upload_shows_the_transcript(browser, server, data_dir, manifest, downloads):
    open_page(browser, server)
    model = visible(browser, "#model option[selected], #model option:checked")
    assert model.get_attribute("value") == "base"  # the server's default among installed models
    # Record every state the progress view goes through (it may pass quickly).
    browser.execute_script("""
        window.seenStates = [];
        new MutationObserver(() => {
          const card = document.querySelector('.progress-card');
          if (card && !seenStates.includes(card.dataset.state)) seenStates.push(card.dataset.state);
        }).observe(document.getElementById('main'), {subtree: true, childList: true, attributes: true});
    """)
    browser.find_element(By.ID, "file").send_keys(str(data_dir / "jfk.wav"))
    browser.find_element(By.ID, "transcribe-submit").click()

    segment = visible(browser, ".result .segment .segment-text", timeout=WAIT_S)
    text = " ".join(e.text for e in browser.find_elements(By.CSS_SELECTOR, ".result .segment-text"))
    assert "ask not what your country can do for you" in text.lower()
    assert segment.is_displayed()
    assert browser.execute_script("return window.seenStates") == ["uploading", "waiting"]
    stamp = browser.find_element(By.CSS_SELECTOR, ".result .segment .timestamp").text
    assert stamp.startswith("0:0") and "–" in stamp
    assert "English" in browser.find_element(By.CSS_SELECTOR, ".result .meta").text
    assert "not kept" in browser.find_element(By.CSS_SELECTOR, ".result").text

    # Subtitles of an anonymous result are made in the page from the JSON on screen.
    browser.find_element(By.XPATH, "//section[contains(@class,'result')]//button[text()='SRT']").click()
    cues = list(srt.parse(downloaded(downloads, ".srt").read_text()))
    assert cues and "ask not" in " ".join(c.content for c in cues).lower()
    assert cues[-1].end.total_seconds() <= manifest["jfk.wav"]["duration_s"] + 0.5
    no_script_errors(browser)


def test_a_bad_file_shows_the_servers_error(browser, server, tmp_path):
    bad = tmp_path / "notes.wav"
    bad.write_text("this is not audio, only text pretending to be a wav file\n" * 20)
    with open(bad, "rb") as f, server.client() as http:
        expected = http.post("/v1/transcribe", files={"file": ("notes.wav", f, "audio/wav")})
    assert expected.status_code == 400
    message = expected.json()["error"]

    open_page(browser, server)
    visible(browser, "#model:not([disabled])")
    browser.find_element(By.ID, "file").send_keys(str(bad))
    browser.find_element(By.ID, "transcribe-submit").click()
    alert = visible(browser, "main .alert-error[role=alert]", timeout=WAIT_S)
    assert alert.text == f"Error: {message}"
    assert not browser.find_elements(By.CSS_SELECTOR, ".result")
    # The form is usable again for the next try.
    assert browser.find_element(By.ID, "transcribe-submit").is_enabled()


def test_stored_transcript_list_detail_export_delete(browser, server, data_dir, downloads):
    _, key = new_account(server, "lister@example.com")
    with open(data_dir / "jfk.wav", "rb") as f, server.client(key) as http:
        made = http.post("/v1/transcribe", files={"file": ("jfk.wav", f, "audio/wav")},
                         data={"model": "base"})
    assert made.status_code == 200, made.text
    transcript_id = made.json()["id"]

    open_page(browser, server, "transcripts")
    assert "API key is needed" in browser.find_element(By.ID, "main").text
    # A wrong key is refused in the dialog and not kept.
    browser.find_element(By.ID, "key-button").click()
    key_input = visible(browser, "#key-input")
    key_input.send_keys("voc_not-a-real-key")
    browser.find_element(By.ID, "key-save").click()
    wait(browser).until(lambda d: d.find_element(By.ID, "key-error").text)
    assert browser.find_element(By.ID, "key-error").text == "Invalid or revoked API key."
    assert browser.execute_script("return localStorage.getItem('vocable.apiKey')") is None
    key_input.clear()
    key_input.send_keys(key)
    browser.find_element(By.ID, "key-save").click()
    wait(browser).until(lambda d: d.find_element(By.ID, "key-label").text == "lister@example.com")

    link = visible(browser, f"tr[data-id='{transcript_id}'] a.transcript-link")
    assert link.text == "jfk.wav"
    row = browser.find_element(By.CSS_SELECTOR, f"tr[data-id='{transcript_id}']").text
    assert "completed" in row.lower() and "English" in row and "11 s" in row
    link.click()

    # The list's own heading is replaced by the detail's: wait for the new one, not a stale element.
    wait(browser).until(
        lambda d: d.find_element(By.TAG_NAME, "h1").text == "jfk.wav"
    )
    text = browser.find_element(By.CSS_SELECTOR, ".segments").text.lower()
    assert "ask not what your country can do for you" in text
    formats = [b.get_attribute("data-format") for b in browser.find_elements(By.CSS_SELECTOR, "[data-format]")]
    assert formats == ["txt", "srt", "vtt", "json", "csv", "docx", "pdf"]
    browser.find_element(By.CSS_SELECTOR, "[data-format='vtt']").click()
    vtt = downloaded(downloads, ".vtt").read_text()
    with server.client(key) as http:  # the server's own export, byte for byte
        assert vtt == http.get(f"/api/v1/transcripts/{transcript_id}/export/vtt/").text

    browser.find_element(By.XPATH, "//button[text()='Delete']").click()
    visible(browser, "#confirm-delete").click()
    wait(browser).until(lambda d: d.current_url.endswith("#/transcripts"))
    visible(browser, ".empty h2")
    assert browser.find_element(By.CSS_SELECTOR, ".empty h2").text == "No transcripts yet"
    with server.client(key) as http:
        assert http.get(f"/api/v1/transcripts/{transcript_id}/").status_code == 404
    no_script_errors(browser)


def test_create_and_revoke_a_key(browser, server):
    account_id, key = new_account(server, "keys@example.com")
    open_page(browser, server, "account", key=key)
    plan = visible(browser, "section[aria-labelledby='plan-title']").text
    assert "Paid" in plan and "60" in plan  # plan and credits from /api/v1/account/
    visible(browser, "section[aria-labelledby='usage-title']")

    browser.find_element(By.ID, "key-name").send_keys("laptop")
    browser.find_element(By.XPATH, "//button[text()='Create key']").click()
    raw = visible(browser, "#new-key").get_attribute("value")
    assert raw.startswith("voc_") and raw != key
    with server.client(raw) as http:  # the key shown once works
        assert http.get("/api/v1/account/").json()["id"] == account_id

    rows = browser.find_elements(By.CSS_SELECTOR, "#keys-table tbody tr")
    assert len(rows) == 2
    (new_row,) = [r for r in rows if r.find_element(By.TAG_NAME, "th").text == "laptop"]
    key_id = new_row.get_attribute("data-key-id")
    new_row.find_element(By.XPATH, ".//button[text()='Revoke']").click()
    visible(browser, f"tr[data-key-id='{key_id}'] button[aria-label='Confirm revoking laptop']").click()
    wait(browser).until(lambda d: "revoked" in d.find_element(
        By.CSS_SELECTOR, f"tr[data-key-id='{key_id}']").get_attribute("class"))
    with server.client(raw) as http:
        response = http.get("/api/v1/account/")
    assert response.status_code == 401 and response.json() == {"error": "Invalid or revoked API key."}
    with server.client(key) as http:  # the browser's own key still works
        assert http.get("/api/v1/account/").status_code == 200
    no_script_errors(browser)


def live_finals_text(driver: WebDriver) -> str:
    """The live page's finals as one lower-case text (without their times and speaker labels);
    a sentence may be split over two finals (at a pause or the maximum segment length)."""
    texts = driver.find_elements(By.CSS_SELECTOR, "#live-finals .final-text")
    return " ".join(t.text.lower() for t in texts)


def test_live_microphone_shows_partials_and_finals(browser, server):
    account_id, key = new_account(server, "live@example.com")
    open_page(browser, server, "live", key=key)
    assert browser.find_element(By.CSS_SELECTOR, "[data-nav='live']").is_displayed()
    wait(browser).until(lambda d: d.find_element(By.ID, "live-model").is_enabled())
    browser.execute_script("""
        window.partials = [];
        new MutationObserver(() => {
          const text = document.getElementById('live-partial').textContent;
          if (text && !partials.includes(text)) partials.push(text);
        }).observe(document.getElementById('live-partial'), {childList: true, characterData: true, subtree: true});
    """)
    assert browser.find_element(By.ID, "live-save").is_selected()  # with a key, kept by default
    browser.find_element(By.ID, "live-diarize").click()
    browser.find_element(By.ID, "live-start").click()
    try:
        wait(browser, WAIT_S).until(
            lambda d: "what you can do for your country" in live_finals_text(d)
        )
    except TimeoutException:
        state = {i: browser.find_element(By.ID, i).text for i in ("live-status-text", "live-partial", "live-finals")}
        pytest.fail(f"no final with the last words after {WAIT_S} s: {state}, console: "
                    f"{[e['message'] for e in browser.get_log('browser')]}")
    browser.find_element(By.ID, "live-stop").click()
    wait(browser, WAIT_S).until(
        lambda d: d.find_element(By.ID, "live-status-text").text.startswith("Finished")
    )
    finals = live_finals_text(browser)
    # ("my fellow Americans" through the browser's microphone path was once "might fell America")
    assert "americ" in finals and "what your country can do for you" in finals
    assert browser.execute_script("return window.partials.length") > 0  # interim text was shown
    # One voice: every final is labelled Speaker 1; the session was kept as a transcript.
    labels = {e.text for e in browser.find_elements(By.CSS_SELECTOR, "#live-finals .speaker")}
    assert labels == {"Speaker 1"}, labels
    link = visible(browser, "#live-saved a")
    transcript_id = link.get_attribute("href").rsplit("/", 1)[-1]
    with server.client(key) as http:
        kept = http.get(f"/api/v1/transcripts/{transcript_id}/").json()
    assert kept["status"] == "completed" and "country" in kept["text"].lower()
    assert not browser.find_elements(By.CSS_SELECTOR, "main .alert-error:not([hidden])")
    with server.client(key) as http:  # streamed audio is charged like file audio
        assert http.get("/api/v1/account/").json()["credits"] < 60
    with server.services.db.session() as s:  # the page opened the stream with a ticket, not ?token=
        used = s.scalars(
            sa.select(StreamTicket.used_at).join(ApiKey).where(ApiKey.account_id == account_id)
        ).all()
    assert len(used) == 1 and used[0] is not None
    no_script_errors(browser)
