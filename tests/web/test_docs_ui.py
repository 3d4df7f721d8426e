"""/docs (Swagger UI) and /redoc in a real browser: both render the API from assets this server
serves, under their Content-Security-Policy, and nothing is loaded from anywhere else.

ReDoc's sidebar asks for its vendor's logo from a CDN (hard-coded in its build): the policy blocks
it, so the request never leaves the machine, and ReDoc hides the image. That one refusal is the
only console error allowed.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.conftest import LiveServer, make_settings
from tests.web.conftest import CHROMEDRIVER, CHROMIUM
from vocable.services import Services

REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


@pytest.fixture(scope="module")
def browser():
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).exists()]
    if missing:
        pytest.fail(f"{', '.join(missing)} missing: apt-get install chromium chromium-driver")
    profile = tempfile.mkdtemp(prefix="vocable-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--window-size=1200,1000",
                 f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def server(tmp_path_factory, registry, whisper):
    services = Services.create(
        make_settings(tmp_path_factory.mktemp("docs-ui")), registry=registry, whisper=whisper
    )
    with LiveServer(services) as live:
        yield live


@pytest.mark.parametrize(("page", "operation"), [
    ("/docs", ".opblock"),  # one block per operation
    ("/redoc", "[data-section-id^='operation/']"),
])
def test_docs_page_renders_under_its_csp(browser, server, page, operation):
    browser.get_log("browser")  # start from an empty console
    browser.get(server.url + page)
    WebDriverWait(browser, 60).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, operation)) >= 20
    )
    assert "/v1/transcribe" in browser.find_element(By.TAG_NAME, "body").text
    errors = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    unexpected = [m for m in errors if REDOC_LOGO not in m]
    assert not unexpected, unexpected
    # Every resource the page loaded came from this server (the blocked logo is listed too).
    urls = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    assert f"{server.url}/openapi.json" in urls
    elsewhere = [u for u in urls if not u.startswith(server.url + "/")]
    assert elsewhere in ([], [REDOC_LOGO]), elsewhere
    if elsewhere:  # refused by the policy, never fetched
        assert any("Content Security Policy" in m for m in errors if REDOC_LOGO in m), errors
