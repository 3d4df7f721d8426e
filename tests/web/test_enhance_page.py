"""The Clean up audio page (web/js/pages/enhance.js) in headless Chromium: upload a recording,
hear the original and the result, download it; a file that is not audio shows the server's
error."""

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
def server(tmp_path_factory, registry, whisper, pool):
    services = Services.create(
        make_settings(tmp_path_factory.mktemp("web-enhance")), registry=registry, whisper=whisper,
        pool=pool,
    )
    with LiveServer(services) as live:
        yield live


def test_clean_up_play_and_download(browser, server, downloads, data_dir, tmp_path):
    _, key = new_account(server, "enhance@example.com")
    open_page(browser, server, "enhance", key)
    visible(browser, "#enhance-file").send_keys(str(data_dir / "jfk.wav"))
    browser.find_element(By.ID, "enhance-submit").click()
    visible(browser, "#enhance-result", timeout=180)
    facts = browser.find_element(By.CSS_SELECTOR, "#enhance-result + p").text
    assert "11.0 s of audio" in facts and "LUFS" in facts, facts
    durations = wait(browser, 30).until(lambda d: d.execute_script(
        "const a = [...document.querySelectorAll('figure audio')];"
        "return a.length === 2 && a.every((e) => e.readyState >= 1) && a.map((e) => e.duration)"))
    assert abs(durations[0] - durations[1]) < 0.1  # as long as the original
    browser.find_element(By.CSS_SELECTOR, ".actions button.primary[type=button]").click()
    assert downloaded(downloads, ".wav").stat().st_size > 100_000
    bad = tmp_path / "notes.mp3"
    bad.write_text("not a recording\n" * 20)
    visible(browser, "#enhance-file").send_keys(str(bad))
    browser.find_element(By.ID, "enhance-submit").click()
    alert = visible(browser, ".alert-error", timeout=60)
    assert len(alert.text) > 10
    no_script_errors(browser)
