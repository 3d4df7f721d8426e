"""The transcript pages in real Chromium against a live server with real models: edit and rename
then the export shows the change; a click on a word seeks the audio there, the word being spoken
is highlighted, the keyboard shortcuts drive the player; search finds a phrase in two transcripts
and a paraphrase, and a hit opens the transcript at that moment; every analysis and generation
type renders; axe-core finds no serious or critical violation; screenshots at 390, 1366 and
1920 px keep the layout (no sideways scrolling).

One browser and one server for the module; the transcripts are made once with the base model.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from tests.conftest import LiveServer, make_settings
from tests.web.test_web_ui import (
    downloaded,
    no_script_errors,
    open_page,
    visible,
    wait,
)
from vocable.accounts.keys import create_account, create_key
from vocable.services import Services

AXE = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = Path(os.environ.get("VOCABLE_TEST_SCREENSHOTS", "/tmp/vocable-screenshots"))
LLM_WAIT_S = 400  # one generation on a busy 2-core machine


@pytest.fixture(scope="module")
def server(tmp_path_factory, registry, whisper, embedder, llm, analyzer):
    services = Services.create(
        make_settings(tmp_path_factory.mktemp("web-transcripts")), registry=registry,
        whisper=whisper, embedder=embedder, llm=llm, analysis=analyzer,
    )
    with LiveServer(services) as live:
        yield live


def _transcribe(server, key, path, **data):
    with open(path, "rb") as audio, server.client(key) as http:
        response = http.post("/v1/transcribe", files={"file": (path.name, audio)},
                             data={"model": "base", "language": "en", **data})
    assert response.status_code == 200, response.text
    return response.json()["id"]


@pytest.fixture(scope="module")
def account(server, data_dir):
    acc = create_account(server.services.db, "pages@example.com", plan="paid", credits=100)
    key = create_key(server.services.db, acc.id, name="browser")[1]
    ids = {
        "call": _transcribe(server, key, data_dir / "call-2spk.wav"),
        "jfk": _transcribe(server, key, data_dir / "jfk.wav", diarize="false"),
        "jfk_mp3": _transcribe(server, key, data_dir / "jfk.mp3", diarize="false"),
    }
    return key, ids


def _js(browser, script, *args):
    return browser.execute_script(script, *args)


def _texts(browser, css):
    """The text of every element matching ``css``, read at once (the page re-renders after an
    edit, so elements found earlier may be gone)."""
    return _js(browser, "return [...document.querySelectorAll(arguments[0])].map((e) => e.textContent)", css)


def _search_done(browser):
    """Search results on screen (the first search loads the embedding model: allow for it)."""
    wait(browser, 180).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".search-results, main .alert-error:not([hidden])"))
    errors = _texts(browser, "main .alert-error:not([hidden])")
    assert not errors, errors


def _audio_ready(browser):
    wait(browser, 30).until(lambda d: _js(d, "const a = document.getElementById('player'); return a && a.readyState >= 1"))


# -- editing ------------------------------------------------------------------------------------
def test_edit_and_rename_then_the_export_shows_it(browser, server, account, downloads):
    key, ids = account
    open_page(browser, server, f"transcripts/{ids['call']}", key)
    first = visible(browser, ".speaker-form input")
    old_name = first.get_attribute("value")
    first.clear()
    first.send_keys("Diane", Keys.ENTER)
    wait(browser).until(lambda d: "Diane" in _texts(d, ".segment .speaker"))
    assert old_name not in _texts(browser, ".segment .speaker")
    # the focus stays on the renamed speaker's field (keyboard users keep their place)
    assert _js(browser, "return document.activeElement.dataset.speaker") == "Diane"

    browser.find_element(By.CSS_SELECTOR, ".segment[data-index='0'] .segment-tools button").click()
    area = visible(browser, "#segment-edit-0")
    area.send_keys(" Corrected in the browser.")
    area.send_keys(Keys.CONTROL, Keys.ENTER)
    wait(browser).until(lambda d: "Corrected in the browser." in "".join(
        _texts(d, ".segment[data-index='0'] .segment-text")))
    words = browser.find_elements(By.CSS_SELECTOR, ".segment[data-index='0'] .word")
    assert words[-1].text == "browser." and float(words[-1].get_attribute("data-start")) > 0

    browser.find_element(By.CSS_SELECTOR, "button[data-format='txt']").click()
    txt = downloaded(downloads, ".txt").read_text()
    assert "Diane: " in txt and "Corrected in the browser." in txt and f"{old_name}:" not in txt
    for stale in downloads.iterdir():
        stale.unlink()
    no_script_errors(browser)


def test_merge_and_split_from_the_page(browser, server, account):
    key, ids = account
    open_page(browser, server, f"transcripts/{ids['call']}", key)
    visible(browser, ".segment[data-index='1']")
    count = len(browser.find_elements(By.CSS_SELECTOR, ".segment"))
    second_words = len(browser.find_elements(By.CSS_SELECTOR, ".segment[data-index='1'] .word"))
    browser.find_element(By.CSS_SELECTOR, "[aria-label='Merge with next, segment 2']").click()
    wait(browser).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".segment")) == count - 1)
    # select the first word of what was segment 3, then split before it
    browser.find_elements(By.CSS_SELECTOR, ".segment[data-index='1'] .word")[second_words].click()
    browser.find_element(By.CSS_SELECTOR, ".segment[data-index='1'] .split-button").click()
    wait(browser).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".segment")) == count)


# -- the player ---------------------------------------------------------------------------------
def test_click_a_word_and_the_audio_seeks_there(browser, server, account):
    key, ids = account
    open_page(browser, server, f"transcripts/{ids['jfk']}", key)
    _audio_ready(browser)
    word = next(w for w in browser.find_elements(By.CSS_SELECTOR, ".word") if "country" in w.text.lower())
    start = float(word.get_attribute("data-start"))
    word.click()
    wait(browser, 10).until(lambda d: abs(_js(d, "return document.getElementById('player').currentTime") - start) < 0.05)
    assert "current" in word.get_attribute("class")  # the word at the audio's time is marked
    # shortcuts: j goes back 5 s, n to the next segment, k plays
    body = browser.find_element(By.TAG_NAME, "body")
    browser.find_element(By.ID, "player-time").click()
    body.send_keys("j")
    assert _js(browser, "return document.getElementById('player').currentTime") == pytest.approx(max(0, start - 5), abs=0.05)
    body.send_keys("k")
    wait(browser, 10).until(lambda d: _js(d, "return !document.getElementById('player').paused"))
    wait(browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".word.current"))
    browser.find_element(By.ID, "play-toggle").send_keys("k")
    wait(browser, 10).until(lambda d: _js(d, "return document.getElementById('player').paused"))
    # ranged requests really happen: the audio comes from .../audio?token=, never with the key
    src = _js(browser, "return document.getElementById('player').currentSrc")
    assert "/audio?token=vat_" in src and key not in src
    no_script_errors(browser)


# -- search -------------------------------------------------------------------------------------
def test_search_finds_a_phrase_in_two_transcripts_and_a_paraphrase(browser, server, account):
    key, _ = account
    open_page(browser, server, "search", key)
    box = visible(browser, "#search-q")
    box.send_keys("what your country can do", Keys.ENTER)
    _search_done(browser)
    groups = browser.find_elements(By.CSS_SELECTOR, ".hit-group")
    assert len(groups) == 2
    marks = [m.text.lower() for m in browser.find_elements(By.CSS_SELECTOR, ".hit[data-match='words'] mark")]
    assert marks.count("what your country can do") >= 2

    box = visible(browser, "#search-q")
    box.clear()
    box.send_keys("serve the nation instead of asking what it gives you")
    Select(browser.find_element(By.ID, "search-mode")).select_by_value("meaning")
    browser.find_element(By.CSS_SELECTOR, ".search-form button[type=submit]").click()
    wait(browser).until(lambda d: "mode=meaning" in d.current_url and d.find_elements(By.CSS_SELECTOR, ".hit"))
    hit = browser.find_element(By.CSS_SELECTOR, ".hit[data-match='meaning'] .hit-link")
    assert "country" in browser.find_element(By.CSS_SELECTOR, ".hit .hit-text").text.lower()
    hit.click()
    found = visible(browser, ".segment.found")
    assert "country" in found.text.lower()
    _audio_ready(browser)
    wait(browser, 10).until(lambda d: _js(d, "return document.getElementById('player').currentTime") >= 0)


# -- AI -----------------------------------------------------------------------------------------
ANALYSES = {
    "sentiment": ".sentiment-chart",
    "topics": ".topic-list, .chips",
    "entities": ".chips, .muted",
    "action_items": ".checklist, .muted",
    "questions": ".qa-list, .muted",
    "pii_redact": ".redacted",
}
GENERATIONS = {
    "meeting_notes": ".markdown", "blog_post": ".markdown", "social_media": ".markdown",
    "newsletter": ".markdown", "show_notes": ".markdown", "study_guide": ".markdown",
    "key_quotes": ".quotes blockquote", "flashcards": ".flashcard", "quiz": ".quiz fieldset",
    "chapter_markers": ".chapters li",
}


def _run(browser, part, kind, timeout):
    Select(browser.find_element(By.ID, f"{part}-type")).select_by_value(kind)
    browser.find_element(By.CSS_SELECTOR, f"form[aria-labelledby='{part}-title'] button[type=submit]").click()
    wait(browser, timeout).until(lambda d: d.find_elements(
        By.CSS_SELECTOR, f"#{part}-output [data-type='{kind}']") or d.find_elements(
        By.CSS_SELECTOR, f"form[aria-labelledby='{part}-title'] .alert-error:not([hidden])"))
    errors = browser.find_elements(By.CSS_SELECTOR, f"form[aria-labelledby='{part}-title'] .alert-error:not([hidden])")
    assert not errors, errors[0].text
    return browser.find_element(By.CSS_SELECTOR, f"#{part}-output [data-type='{kind}']")


def test_every_analysis_type_renders(browser, server, account):
    key, ids = account
    open_page(browser, server, f"transcripts/{ids['call']}", key)
    visible(browser, "#analyze-type")
    for kind, css in ANALYSES.items():
        shown = _run(browser, "analyze", kind, LLM_WAIT_S)
        assert shown.find_elements(By.CSS_SELECTOR, css), kind
    # entities are marked inside the transcript's own words
    shown = _run(browser, "analyze", "entities", 60)
    assert shown.find_elements(By.CSS_SELECTOR, "mark.ent")
    assert any("Texas" in m.text or "Chicago" in m.text or "Jersey" in m.text
               for m in shown.find_elements(By.CSS_SELECTOR, "mark.ent"))
    sentiment = _run(browser, "analyze", "sentiment", 60)
    assert len(sentiment.find_elements(By.CSS_SELECTOR, ".sentiment-row")) >= 2  # per speaker
    assert sentiment.find_elements(By.CSS_SELECTOR, ".timeline .cell")
    no_script_errors(browser)


# The page has one renderer per shape: the six document types share the Markdown one, so one of
# them stands for all (every type's content is tested over the API in tests/llm/test_text_api.py).
RENDERERS = ["meeting_notes", "key_quotes", "flashcards", "quiz", "chapter_markers"]


@pytest.mark.parametrize("kind", RENDERERS)
def test_each_generation_renderer(browser, server, account, kind):
    """One test per renderer (each is a real LLM run, a minute or more on two busy cores), on the
    short JFK transcript; the type menu offers all ten."""
    key, ids = account
    open_page(browser, server, f"transcripts/{ids['jfk']}", key)
    visible(browser, "#generate-type")
    offered = _js(browser, "return [...document.querySelectorAll('#generate-type option')].map((o) => o.value)")
    assert set(GENERATIONS) <= set(offered), offered
    began = time.monotonic()
    shown = _run(browser, "generate", kind, LLM_WAIT_S)
    print(f"{kind}: {time.monotonic() - began:.1f} s")
    assert shown.find_elements(By.CSS_SELECTOR, GENERATIONS[kind]), kind
    if kind == "flashcards":
        card = shown.find_element(By.CSS_SELECTOR, ".flashcard")
        card.click()
        assert card.get_attribute("aria-expanded") == "true"
        assert shown.find_element(By.CSS_SELECTOR, ".card-back").is_displayed()
    if kind == "quiz":
        question = shown.find_element(By.CSS_SELECTOR, ".quiz-question")
        question.find_element(By.CSS_SELECTOR, "input[type=radio]").click()
        question.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        assert question.find_element(By.CSS_SELECTOR, ".quiz-feedback").text
    if kind in ("key_quotes", "chapter_markers") and shown.find_elements(By.CSS_SELECTOR, "button.timestamp"):
        shown.find_element(By.CSS_SELECTOR, "button.timestamp").click()  # plays the audio there
        wait(browser, 10).until(lambda d: _js(d, "return !document.getElementById('player').paused"))
    no_script_errors(browser)


def test_translate_and_download_subtitles(browser, server, account, downloads):
    key, ids = account
    open_page(browser, server, f"transcripts/{ids['jfk']}", key)
    target = visible(browser, "#translate-target")
    wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#translate-target option[value='es']"))
    Select(target).select_by_value("es")
    browser.find_element(By.CSS_SELECTOR, "form[aria-labelledby='translate-title'] button[type=submit]").click()
    visible(browser, "#translate-output button[data-format='srt']", timeout=LLM_WAIT_S).click()
    srt_file = downloaded(downloads, ".srt")
    text = srt_file.read_text()
    assert srt_file.name.endswith(".es.srt") and "-->" in text and "país" in text.lower()
    srt_file.unlink()


# -- accessibility and layout -------------------------------------------------------------------
def _axe(browser):
    assert AXE.exists(), f"{AXE} missing: cd tests/web/axe && npm ci (make test does it)"
    if not _js(browser, "return Boolean(window.axe)"):
        _js(browser, AXE.read_text())
    result = browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})
          .then((r) => done(r.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
                 nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' '))}))))
          .catch((e) => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));
    """)
    return [v for v in result if v["impact"] in ("serious", "critical")]


def _pages(account):
    _, ids = account
    return {
        "transcribe": "",
        "transcripts": "transcripts",
        "detail": f"transcripts/{ids['call']}",
        "search": "search?q=country",
        "account": "account",
    }


def test_axe_finds_no_serious_violations(browser, server, account):
    key, _ = account
    browser.set_window_size(1366, 900)
    for name, route in _pages(account).items():
        open_page(browser, server, route, key)
        if name == "detail":
            visible(browser, ".segment .word")
            # with an analysis and a generated document on screen too
            _run(browser, "analyze", "entities", LLM_WAIT_S)
        if name == "search":
            _search_done(browser)
        bad = _axe(browser)
        assert not bad, (name, bad)
    open_page(browser, server, "", None)  # the anonymous page too
    assert not _axe(browser)


@pytest.mark.parametrize("width", [390, 1366, 1920])
def test_screenshots_and_no_sideways_scrolling(browser, server, account, width):
    key, _ = account
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.set_window_size(width, 1000)
    for name, route in _pages(account).items():
        open_page(browser, server, route, key)
        if name == "detail":
            visible(browser, ".segment .word")
        if name == "account":  # the keys table, which overflowed at 1366 px once
            _js(browser, "document.getElementById('keys-table').scrollIntoView()", visible(browser, "#keys-table"))
        if name == "search":
            _search_done(browser)
        overflow = _js(browser, "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, (name, width, overflow)
        browser.save_screenshot(str(SHOTS / f"{name}-{width}.png"))
    browser.set_window_size(1200, 1000)
