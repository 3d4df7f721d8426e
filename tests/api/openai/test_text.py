"""/v1/embeddings, /v1/chat/completions and /v1/models driven by the official `openai` Python SDK,
on the bundled MiniLM and the bundled local LLM."""

from __future__ import annotations

import httpx
import numpy as np
import openai
import pytest
from pydantic import BaseModel

from tests.api.openai.conftest import sdk


def test_embeddings_as_floats_and_base64(openai_server, client, account):
    texts = ["The cat sat on the mat.", "A kitten rested on the rug.", "Stock markets fell."]
    # The SDK asks for base64 unless told otherwise, and decodes it.
    encoded = client.embeddings.create(model="text-embedding-3-small", input=texts)
    assert encoded.model == "all-MiniLM-L6-v2" and len(encoded.data) == 3
    assert [d.index for d in encoded.data] == [0, 1, 2]
    floats = client.embeddings.create(
        model="all-MiniLM-L6-v2", input=texts, encoding_format="float"
    )
    a = np.array([d.embedding for d in encoded.data])
    b = np.array([d.embedding for d in floats.data])
    assert a.shape == (3, 384) and np.allclose(a, b, atol=1e-6)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-4)
    assert a[0] @ a[1] > a[0] @ a[2] + 0.2  # cat/kitten are closer than cat/markets
    # One vector per text, as POST /v1/embed gives (the same embedder).
    with openai_server.client(account[1]) as http:
        native = http.post("/v1/embed", json={"texts": texts[:1]}).json()["embeddings"][0]
    assert np.allclose(a[0], native, atol=1e-6)
    one = client.embeddings.create(model="any", input="Hello world", encoding_format="float")
    assert len(one.data) == 1 and one.usage.prompt_tokens == one.usage.total_tokens == 4
    assert encoded.usage.prompt_tokens > 3 * 4

    with pytest.raises(openai.BadRequestError, match="token ids"):
        client.embeddings.create(model="x", input=[[1, 2, 3]])
    with pytest.raises(openai.BadRequestError, match="dimensions"):
        client.embeddings.create(model="x", input="hi", dimensions=256)


def test_chat_completion(client):
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini",
        messages=[
            {"role": "developer", "content": "Answer with one word."},
            {"role": "user", "content": "What is the capital of France?"},
        ],
        max_tokens=8, temperature=0,
    )
    assert raw.headers["X-Vocable-Model"] == "qwen2.5-coder-1.5b-instruct"
    completion = raw.parse()
    assert completion.object == "chat.completion"
    assert completion.model == "qwen2.5-coder-1.5b-instruct"
    choice = completion.choices[0]
    assert "paris" in choice.message.content.lower() and choice.message.role == "assistant"
    assert choice.finish_reason == "stop"
    usage = completion.usage
    assert usage.prompt_tokens > 10 and 0 < usage.completion_tokens <= 8
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens

    cut = client.chat.completions.create(
        model="x", messages=[{"role": "user", "content": "Write a long poem about the sea."}],
        max_tokens=5,
    )
    assert cut.choices[0].finish_reason == "length" and cut.usage.completion_tokens == 5


def test_streamed_chat_completion(client):
    stream = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Count from 1 to 5, digits separated by commas."}],
        max_tokens=20, temperature=0, stream=True, stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert len({c.id for c in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    pieces = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(pieces) >= 3 and "3" in "".join(pieces)
    finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finish == ["stop"]
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens >= len(pieces) - 1


class Capital(BaseModel):
    country: str
    capital: str
    population_millions: float


def test_json_schema_constrained_chat_completion(client):
    # The SDK's own structured-output helper: a strict JSON schema from the pydantic model.
    completion = client.chat.completions.parse(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Give the capital of Italy and its population."}],
        response_format=Capital, max_tokens=60, temperature=0,
    )
    answer = completion.choices[0].message.parsed
    assert isinstance(answer, Capital) and answer.capital.lower() == "rome"
    loose = client.chat.completions.create(
        model="x", messages=[{"role": "user", "content": "Describe a dog as JSON."}],
        response_format={"type": "json_object"}, max_tokens=60, temperature=0,
    )
    assert loose.choices[0].message.content.strip().startswith("{")


def test_chat_refusals_in_openai_shape(openai_server, client):
    with pytest.raises(openai.BadRequestError, match="tools"):
        client.chat.completions.create(
            model="x", messages=[{"role": "user", "content": "hi"}],
            tools=[{"type": "function", "function": {"name": "f", "parameters": {}}}],
        )
    with pytest.raises(openai.BadRequestError, match="messages"):
        client.chat.completions.create(model="x", messages=[])
    with pytest.raises(openai.AuthenticationError):
        sdk(openai_server, "voc_wrong").chat.completions.create(
            model="x", messages=[{"role": "user", "content": "hi"}]
        )
    with httpx.Client(base_url=openai_server.url) as http:
        response = http.post("/v1/chat/completions", content=b"{not json",
                             headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and set(response.json()["error"]) == {
        "message", "type", "param", "code"
    }


def test_models_list_in_both_shapes(openai_server, client):
    ids = {m.id: m for m in client.models.list()}
    assert {"base", "tiny.en", "qwen2.5-coder-1.5b-instruct", "all-MiniLM-L6-v2"} <= set(ids)
    assert "large-v3" not in ids  # known, not installed: OpenAI's list holds usable models only
    base = ids["base"]
    assert base.object == "model" and base.owned_by == "vocable" and base.created > 1_600_000_000
    assert client.models.retrieve("base").id == "base"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("large-v3")
    # The seed's shape, in the same answer.
    body = httpx.get(f"{openai_server.url}/v1/models").json()
    assert body["object"] == "list" and {m["id"] for m in body["models"]} >= {"large-v3", "base"}
