"""/v1/embed: all-MiniLM-L6-v2 from the bundled package, over real HTTP."""

from __future__ import annotations

import numpy as np


def test_embeddings_are_unit_vectors_and_paraphrases_score_higher(ai_server, account):
    texts = [
        "The meeting has been moved to Friday afternoon.",
        "We rescheduled the meeting for Friday after lunch.",
        "The recipe needs two cups of flour and one egg.",
        "Penguins live mostly in the Southern Hemisphere.",
    ]
    with ai_server.client(account[1]) as client:
        response = client.post("/v1/embed", json={"texts": texts})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["dimensions"] == 384 and body["model"] == "all-MiniLM-L6-v2"
    vectors = np.array(body["embeddings"])
    assert vectors.shape == (4, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    sims = vectors @ vectors.T
    assert sims[0, 1] > 0.6
    assert sims[0, 1] > max(sims[0, 2], sims[0, 3]) + 0.4
    assert sims[1, 0] > max(sims[1, 2], sims[1, 3]) + 0.4


def test_batches_equal_singles_and_limits_are_clear(ai_server, account):
    settings = ai_server.services.settings
    with ai_server.client(account[1]) as client:
        batch = client.post("/v1/embed", json={"texts": ["Hello world", "How are you"]}).json()
        single = client.post("/v1/embed", json={"texts": ["How are you"]}).json()
        assert np.allclose(batch["embeddings"][1], single["embeddings"][0], atol=1e-5)

        too_many = client.post("/v1/embed", json={"texts": ["x"] * (settings.embed_max_batch + 1)})
        assert too_many.status_code == 400
        assert str(settings.embed_max_batch) in too_many.json()["error"]
        too_long = client.post("/v1/embed", json={"texts": ["a" * (settings.embed_max_chars + 1)]})
        assert too_long.status_code == 400 and "characters" in too_long.json()["error"]
        for bad in ({"texts": []}, {"texts": "hello"}, {}, {"texts": [1, 2]}):
            response = client.post("/v1/embed", json=bad)
            assert response.status_code == 400 and set(response.json()) == {"error"}, bad
    with ai_server.client() as anonymous:  # no key needed, rate limited per IP
        assert anonymous.post("/v1/embed", json={"texts": ["hi"]}).status_code == 200
