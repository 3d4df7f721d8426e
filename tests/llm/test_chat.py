"""Chat over a stored transcript (RAG) on the real model and real embeddings, over real HTTP."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.llm.conftest import new_key, store_transcript
from vocable.llm.chat import DONT_KNOW, TranscriptChat, segment_vectors
from vocable.storage.db import Database
from vocable.storage.models import ChatMessage, SegmentEmbedding


def chicago_segment(transcription) -> int:
    return next(i for i, s in enumerate(transcription.segments) if "originally from Chicago" in s.text)


@pytest.mark.accuracy
def test_chat_answers_from_the_right_segment_and_says_when_it_does_not_know(
    ai_server, account, call_transcript_id, call_transcription, embedder
):
    db = ai_server.services.db
    url = f"/api/v1/transcripts/{call_transcript_id}/chat/"
    with ai_server.client(account[1]) as client:
        before = embedder.texts_embedded
        response = client.post(url, json={"question": "Where is Sheila from originally?"})
        assert response.status_code == 200, response.text
        body = response.json()
        assert "chicago" in body["answer"].lower(), body
        assert body["answered"] is True
        orders = [s["segment_order"] for s in body["sources"]]
        assert orders[0] == chicago_segment(call_transcription), body
        for source in body["sources"]:
            assert source["text"] == call_transcription.segments[source["segment_order"]].text.strip()
            assert 0 < source["score"] <= 1
        session_id = body["session_id"]
        assert session_id
        segments = len(call_transcription.segments)
        assert embedder.texts_embedded - before == segments + 1  # segments once, then the question
        with db.session() as s:
            stored = s.scalar(sa.select(sa.func.count()).select_from(SegmentEmbedding)
                              .where(SegmentEmbedding.transcript_id == call_transcript_id))
        assert stored == segments

        # Same session, a question the call does not answer: no guess, no sources.
        before = embedder.texts_embedded
        response = client.post(url, json={"question": "What is Diane's phone number?",
                                          "session_id": session_id})
        body = response.json()
        assert response.status_code == 200, body
        assert body["session_id"] == session_id
        assert body["answered"] is False and body["sources"] == []
        assert "don't know" in body["answer"].lower() or "does not say" in body["answer"].lower()
        assert not any(ch.isdigit() for ch in body["answer"])
        # The segments were not embedded again: only the question (and the follow-up query).
        assert embedder.texts_embedded - before <= 2

    with db.session() as s:
        messages = s.scalars(sa.select(ChatMessage).where(ChatMessage.session_id == session_id)
                             .order_by(ChatMessage.id)).all()
    assert [m.role for m in messages] == ["user", "assistant", "user", "assistant"]
    assert messages[0].content == "Where is Sheila from originally?"
    assert messages[1].sources and messages[3].sources == []


def test_chat_is_private_and_validated(ai_server, account, call_transcript_id, call_transcription):
    url = f"/api/v1/transcripts/{call_transcript_id}/chat/"
    other_id, other_key = new_key(ai_server, "chat-other@example.com")
    with ai_server.client(other_key) as other:
        response = other.post(url, json={"question": "Who is Diane?"})
        assert response.status_code == 404 and response.json() == {"error": "No such transcript."}
        # A session of another transcript cannot be borrowed either.
        other_transcript = store_transcript(ai_server, other_id, call_transcription)
    with ai_server.client(account[1]) as client:
        response = client.post(url, json={"question": "Who?", "session_id": "nope"})
        assert response.status_code == 404 and "session" in response.json()["error"].lower()
        response = client.post(url, json={"question": "   "})
        assert response.status_code == 400
        response = client.post(f"/api/v1/transcripts/{other_transcript}/chat/",
                               json={"question": "Who is Diane?"})
        assert response.status_code == 404
        pending = store_transcript(ai_server, account[0], call_transcription, status="processing")
        response = client.post(f"/api/v1/transcripts/{pending}/chat/", json={"question": "Who?"})
        assert response.status_code == 400 and "processing" in response.json()["error"]
    with ai_server.client() as anonymous:
        assert anonymous.post(url, json={"question": "Who is Diane?"}).status_code == 401


def test_segment_embeddings_are_stored_once_on_each_database(
    database_url, llm, embedder, call_transcription
):
    """The new tables work on SQLite and PostgreSQL; a changed segment is embedded again."""
    from vocable.accounts.keys import create_account
    from vocable.storage.models import Transcript

    db = Database(database_url)
    db.migrate()
    account = create_account(db, "vectors@example.com")
    segments = [s.__dict__ | {"words": []} for s in call_transcription.segments]
    with db.session() as s:
        row = Transcript(account_id=account.id, status="completed", segments=segments)
        s.add(row)
        s.flush()
        transcript_id = row.id
    before = embedder.texts_embedded
    orders, first = segment_vectors(db, embedder, transcript_id, segments)
    assert orders == list(range(len(segments))) and first.shape == (len(segments), 384)
    again_orders, again = segment_vectors(db, embedder, transcript_id, segments)
    assert again_orders == orders and (again == first).all()
    assert embedder.texts_embedded - before == len(segments)
    segments[0] = segments[0] | {"text": "A different first sentence."}
    _, changed = segment_vectors(db, embedder, transcript_id, segments)
    assert not (changed[0] == first[0]).all()
    # Sessions and messages on this database: an off-topic question is answered "don't know"
    # from retrieval alone (no segment is about it), without the LLM.
    assistant = TranscriptChat(db, llm, embedder)
    first = assistant.ask(account.id, transcript_id, "Quantum chromodynamics of gluons?")
    assert not first.answered and first.answer == DONT_KNOW and first.sources == []
    second = assistant.ask(account.id, transcript_id, "Explain photosynthesis in algae.",
                           first.session_id)
    assert second.session_id == first.session_id
    with db.session() as s:
        roles = s.scalars(sa.select(ChatMessage.role).where(
            ChatMessage.session_id == first.session_id).order_by(ChatMessage.id)).all()
    assert roles == ["user", "assistant", "user", "assistant"]
    with db.session() as s:
        s.execute(sa.delete(Transcript).where(Transcript.id == transcript_id))
    with db.session() as s:  # embeddings and chats go with their transcript
        assert s.scalar(sa.select(sa.func.count()).select_from(SegmentEmbedding)) == 0
        assert s.scalar(sa.select(sa.func.count()).select_from(ChatMessage)) == 0
    db.dispose()
