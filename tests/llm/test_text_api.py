"""/v1/summarize, /v1/generate and /api/v1/transcripts/:id/generate/ on the real model, over real
HTTP, on a real transcript (call-2spk by Whisper base) and on a one-hour synthetic meeting."""

from __future__ import annotations

import re

import pytest

from tests.llm.longform import CITIES, PEOPLE, meeting_segments, plain_text
from vocable.llm.textgen import (
    GENERATE_TYPES,
    SUMMARY_STYLES,
    ActionItems,
    ChapterMarkers,
    Flashcards,
    KeyQuotes,
    Quiz,
    Source,
    Writer,
)
from vocable.results import Transcription

SCHEMAS = {"flashcards": Flashcards, "quiz": Quiz, "key_quotes": KeyQuotes,
           "chapter_markers": ChapterMarkers}
# Words an answer may capitalise although the transcript does not contain them.
FORMAT_WORDS = {"I", "Q", "A", "B", "C", "D", "Subject", "Answer", "Speaker", "None", "Topics",
                "Participants", "Discussion", "Decisions", "Action", "Overview", "Key", "Review",
                "Hi", "Hello", "Dear", "Welcome", "Thanks", "Best", "Regards", "Cheers", "OK"}


def invented(output: str, source: str) -> set[str]:
    """Names (capitalised words inside a sentence) and numbers in ``output`` absent from ``source``.
    Headings and list labels are skipped; everything else must come from the transcript."""
    words = {w.lower().rstrip("s") for w in re.findall(r"[A-Za-z']+", source)}
    found = set()
    for line in output.splitlines():
        line = line.strip()
        for number in re.findall(r"(?<![\w.])\d[\d,]*(?:\.\d+)?", line):
            if number.replace(",", "") not in source.replace(",", ""):
                found.add(number)
        title_words = re.findall(r"[A-Za-z]+", line)
        title_case = sum(w[0].isupper() for w in title_words) >= 0.6 * max(1, len(title_words))
        if line.startswith(("#", "Subject:")) or line.endswith(":") or title_case:
            continue  # headings and titles may word things their own way
        for m in re.finditer(r"(?<=[a-z,;] )([A-Z][a-z]+)", line):
            word = m.group(1)
            if word not in FORMAT_WORDS and word.lower().rstrip("s") not in words:
                found.add(word)
    return found


@pytest.fixture(scope="module")
def client(ai_server, account):
    with ai_server.client(account[1]) as c:
        yield c


@pytest.fixture(scope="module")
def call_text(call_transcription: Transcription) -> str:
    return call_transcription.text


@pytest.mark.parametrize("style", SUMMARY_STYLES)
def test_summarize_every_style_is_grounded(client, call_text, style):
    response = client.post("/v1/summarize", json={"text": call_text, "style": style})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["style"] == style and body["model"] == "qwen2.5-coder-1.5b-instruct"
    summary = body["summary"]
    assert summary.strip()
    assert not invented(summary, call_text), summary
    if style == "brief":
        for name in ("Diane", "Sheila", "New Jersey", "Texas"):
            assert name in summary, summary
    if style == "bullet_points":
        assert sum(1 for line in summary.splitlines() if line.lstrip().startswith("-")) >= 2
    if style == "action_items":
        ActionItems.model_validate({"action_items": body["action_items"]})


@pytest.mark.parametrize("kind", GENERATE_TYPES)
def test_generate_every_type(client, call_text, kind):
    response = client.post("/v1/generate", json={"text": call_text, "type": kind})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["type"] == kind and body["content"].strip()
    if kind in SCHEMAS:
        SCHEMAS[kind].model_validate(body["result"])
    else:
        assert "result" not in body
        assert not invented(body["content"], call_text), body["content"]
    if kind == "key_quotes":  # quotes are the transcript's own words
        for quote in body["result"]["quotes"]:
            assert quote["quote"] in call_text
    if kind == "flashcards":
        assert all(c["front"].strip() and c["back"].strip() for c in body["result"]["flashcards"])
    if kind == "quiz":
        for q in body["result"]["questions"]:
            assert len(q["options"]) == 4 and 0 <= q["answer_index"] <= 3


def test_stored_transcript_chapters_and_quotes_carry_timestamps(
    ai_server, client, call_transcript_id, call_transcription
):
    duration = call_transcription.duration
    segment_starts = [s.start for s in call_transcription.segments]
    body = client.post(
        f"/api/v1/transcripts/{call_transcript_id}/generate/", json={"type": "chapter_markers"}
    ).json()
    chapters = ChapterMarkers.model_validate(body["result"]).chapters
    assert body["transcript_id"] == call_transcript_id
    starts = [c.start for c in chapters]
    assert starts == sorted(starts) and starts[0] == segment_starts[0]
    assert all(s in segment_starts and 0 <= s <= duration for s in starts)
    assert all(re.fullmatch(r"\d{2}:\d{2}", c.timestamp) for c in chapters)

    body = client.post(
        f"/api/v1/transcripts/{call_transcript_id}/generate/", json={"type": "key_quotes"}
    ).json()
    for quote in KeyQuotes.model_validate(body["result"]).quotes:
        assert quote.start in segment_starts and quote.quote in call_transcription.text


def test_transcript_generate_is_private_and_validated(ai_server, client, call_transcript_id):
    from tests.llm.conftest import new_key

    _, other_key = new_key(ai_server, "someone-else@example.com")
    with ai_server.client(other_key) as other:
        response = other.post(
            f"/api/v1/transcripts/{call_transcript_id}/generate/", json={"type": "quiz"}
        )
    assert response.status_code == 404 and response.json() == {"error": "No such transcript."}
    response = client.post(f"/api/v1/transcripts/{call_transcript_id}/generate/", json={"type": "poem"})
    assert response.status_code == 400 and "type" in response.json()["error"]
    with ai_server.client() as anonymous:
        response = anonymous.post(
            f"/api/v1/transcripts/{call_transcript_id}/generate/", json={"type": "quiz"}
        )
    assert response.status_code == 401


def test_bad_requests_are_400(client):
    for body in ({"text": "", "style": "brief"}, {"text": "Hello there.", "style": "haiku"},
                 {"style": "brief"}):
        response = client.post("/v1/summarize", json=body)
        assert response.status_code == 400 and set(response.json()) == {"error"}, response.text
    response = client.post("/v1/generate", json={"text": "Hello there."})
    assert response.status_code == 400 and "type" in response.json()["error"]


def test_one_hour_transcript_is_map_reduced_within_context(ai_server, llm, embedder):
    """A one-hour meeting (about 14,000 tokens with its times, more than the model's 8,192-token
    window here) is condensed and summarized in parts; every call fits, the summary is grounded."""
    segments = meeting_segments(60)
    assert segments[-1]["end"] >= 3600
    source = Source.from_segments(segments)
    assert llm.count_tokens(source.render()) > llm.context_tokens
    # Smaller parts than the defaults keep the test affordable on two CPU cores; the path is
    # the same (condense, map, reduce) and times travel through the notes.
    settings = ai_server.services.settings.model_copy(
        update={"llm_chunk_tokens": 1200, "llm_read_budget_tokens": 2400}
    )
    result = Writer(llm, embedder, settings=settings).summarize(source, "brief")
    assert result.condensed and result.chunks >= 2 and result.calls >= 3
    text = plain_text(segments)
    assert result.text.strip()
    assert not invented(result.text, text + " " + source.render()), result.text
    assert any(word in result.text for word in (*PEOPLE, *CITIES, "billing", "mobile", "data"))
