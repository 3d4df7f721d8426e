"""/v1/translate on the bundled LLM: numbers survive, batch equals single, the output is in the
target language, unsupported pairs are a 400 naming what is supported. Plus the protection
layer on its own (no model)."""

from __future__ import annotations

import pytest

from vocable.translation.protect import (
    PlaceholderMismatch,
    digits_for_words,
    protect,
    render,
    restore,
)

SENTENCES = [
    "The contract for $40,000 was signed at 10:30 on 2024-03-14.",
    "We expect forty thousand visitors and 12 speakers; write to info@example.com.",
]
# The values each sentence must keep, as each target language writes them.
KEPT = {
    "es": [["$40.000", "10:30", "2024-03-14"], ["40.000", "12", "info@example.com"]],
    "fr": [["$40\u202f000", "10:30", "2024-03-14"], ["40\u202f000", "12", "info@example.com"]],
    "de": [["$40.000", "10:30", "2024-03-14"], ["40.000", "12", "info@example.com"]],
}


# -- protection, no model ------------------------------------------------------------------------
def test_protect_and_restore_round_trip():
    text = digits_for_words("Pay forty thousand dollars at ten o'clock, see https://x.org/a?b=1.")
    assert text == "Pay 40,000 dollars at 10:00, see https://x.org/a?b=1."
    masked, spans = protect(text)
    assert masked == "Pay ⟦1⟧ dollars at ⟦2⟧, see ⟦3⟧."
    assert [s.kind for s in spans] == ["number", "time", "url"]
    assert restore("Paga ⟦1⟧ dólares a las ⟦2⟧, ver ⟦3⟧.", spans, "es") == \
        "Paga 40.000 dólares a las 10:00, ver https://x.org/a?b=1."
    with pytest.raises(PlaceholderMismatch):
        restore("Paga ⟦1⟧ dólares a las diez, ver ⟦3⟧.", spans, "es")  # a value was lost
    with pytest.raises(PlaceholderMismatch):
        restore("⟦1⟧ ⟦1⟧ ⟦2⟧ ⟦3⟧", spans, "es")  # or doubled


def test_numbers_render_in_the_target_convention():
    _, spans = protect("$1,249.99, 3.5%, 7 pm, 2024, bob@x.io")
    assert [render(s, "de") for s in spans] == ["$1.249,99", "3,5%", "19:00", "2024", "bob@x.io"]
    assert [render(s, "en") for s in spans] == ["$1,249.99", "3.5%", "7 pm", "2024", "bob@x.io"]


# -- the API, on the LLM ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def translate_server(tmp_path_factory, registry, whisper, llm, embedder, analyzer):
    from tests.conftest import LiveServer, make_settings
    from vocable.config import default_plans
    from vocable.services import Services

    plans = default_plans()
    plans["anonymous"].requests_per_minute = 1000
    services = Services.create(
        make_settings(tmp_path_factory.mktemp("translate"), plans=plans), registry=registry,
        whisper=whisper, llm=llm, embedder=embedder, analysis=analyzer,
    )
    with LiveServer(services) as server:
        yield server


@pytest.mark.parametrize("target", ["es", "fr", "de"])
def test_translation_keeps_every_number_and_batch_equals_single(translate_server, target):
    client = translate_server.client()
    batch = client.post("/v1/translate", json={"texts": SENTENCES, "target": target})
    assert batch.status_code == 200, batch.text
    body = batch.json()
    assert body["source_language"] == "en" and body["target_language"] == target
    outputs = [t["translated_text"] for t in body["translations"]]
    detector = translate_server.services.translator.llm_backend
    for sentence, output, kept in zip(SENTENCES, outputs, KEPT[target]):
        for value in kept:
            assert value in output, (sentence, output, value)
        assert detector.detect(output) == target, output
        assert output != sentence
    single = client.post("/v1/translate", json={"text": SENTENCES[0], "target": target}).json()
    assert single["translated_text"] == outputs[0]
    assert single["source_language"] == "en" and single["target_language"] == target


def test_unsupported_pair_is_a_400_saying_what_is_supported(translate_server):
    client = translate_server.client()
    response = client.post("/v1/translate", json={"text": "Hello", "target": "sw"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert "en→sw" in error and "It translates between: en, es, fr, de, it, pt, nl" in error
    assert client.post("/v1/translate", json={"text": "Hola", "source": "xx", "target": "en"}).status_code == 400
    listing = client.get("/v1/translate/languages").json()
    llm_backend = next(b for b in listing["backends"] if b["id"] == "llm")
    assert listing["default_backend"] == "llm" and llm_backend["installed"]
    assert {"es", "fr", "de"} <= {lang["code"] for lang in llm_backend["languages"]}
    nmt = [b for b in listing["backends"] if not b["installed"]]
    assert nmt and all(b["install"].startswith("vocable models pull ") for b in nmt)


def test_request_errors(translate_server):
    client = translate_server.client()
    neither = client.post("/v1/translate", json={"target": "es"})
    assert neither.status_code == 400 and "text" in neither.json()["error"]
    both = client.post("/v1/translate", json={"text": "a", "texts": ["b"], "target": "es"})
    assert both.status_code == 400
    no_target = client.post("/v1/translate", json={"text": "a"})
    assert no_target.status_code == 400 and set(no_target.json()) == {"error"}
    too_long = client.post("/v1/translate", json={"text": "a" * 6000, "target": "es"})
    assert too_long.status_code == 400 and "5000" in too_long.json()["error"]


def test_auto_source_and_same_language(translate_server):
    client = translate_server.client()
    same = client.post("/v1/translate", json={
        "text": "Das Treffen beginnt morgen um 10:30 Uhr im großen Saal.", "source": "auto", "target": "de"})
    assert same.status_code == 200
    assert same.json()["source_language"] == "de"
    assert same.json()["translated_text"] == "Das Treffen beginnt morgen um 10:30 Uhr im großen Saal."
