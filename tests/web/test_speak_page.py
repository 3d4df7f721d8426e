"""The Speak page (web/js/pages/speak.js) in headless Chromium: speak text with a key, hear it
(the audio element plays the answer), download it; a bad reference shows the server's error."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from tests.conftest import LiveServer, make_settings
from tests.web.test_web_ui import (
    downloaded,
    new_account,
    no_script_errors,
    open_page,
    visible,
    wait,
)
from vocable.services import Services


@pytest.fixture(scope="module")
def server(tmp_path_factory, registry, whisper, pool, tts):
    services = Services.create(
        make_settings(tmp_path_factory.mktemp("web-speak")), registry=registry, whisper=whisper,
        pool=pool, tts=tts,
    )
    with LiveServer(services) as live:
        yield live


def test_speak_text_play_and_download(browser, server, downloads, tmp_path):
    _, key = new_account(server, "speak@example.com")
    open_page(browser, server, "speak", key)
    visible(browser, "#tts-text").send_keys("Hello from the web page.")
    wait(browser).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#tts-voice option")) > 1)
    browser.find_element(By.ID, "tts-submit").click()
    info = visible(browser, "#tts-info", timeout=120)
    assert "joe" in info.text and "bundled" in info.text
    duration = wait(browser, 30).until(lambda d: d.execute_script(
        "const a = document.getElementById('tts-audio'); return a.readyState >= 1 && a.duration"))
    assert 0.5 < duration < 10
    browser.find_element(By.CSS_SELECTOR, "#tts-result button").click()
    assert downloaded(downloads, ".wav").stat().st_size > 10_000
    # a reference that is not audio: the server's message on the page
    bad = tmp_path / "notes.wav"
    bad.write_text("not a recording\n" * 20)
    browser.find_element(By.ID, "tts-reference").send_keys(str(bad))
    browser.find_element(By.ID, "tts-submit").click()
    alert = visible(browser, ".alert-error", timeout=60)
    assert "Error" in alert.text and len(alert.text) > 10
    no_script_errors(browser)
