"""The catalog behind `vocable models list` and GET /v1/models: every family, speech first in the
SPEC's shape, installed and default from the registries, loaded from the pool."""

from __future__ import annotations

from tests.conftest import MODEL_DIR
from vocable.config import Settings
from vocable.registry.catalog import ModelCatalog
from vocable.registry.llm import BUNDLED_LLM
from vocable.registry.pool import ModelPool


def test_every_family_is_listed_speech_first():
    pool = ModelPool()
    catalog = ModelCatalog(Settings(model_dir=MODEL_DIR, default_model="base"), pool)
    entries = catalog.entries()
    families = list(dict.fromkeys(e.family for e in entries))
    assert families == [
        "speech", "llm", "embedding", "translation", "analysis", "diarization", "denoise", "tts",
    ]
    by_id = {(e.family, e.id): e for e in entries}
    base = by_id["speech", "base"].to_dict()
    assert {"id", "name", "languages", "speed"} <= set(base)
    assert base["installed"] and base["default"] and base["family"] == "speech"
    assert not base["loaded"]
    assert by_id["llm", BUNDLED_LLM].installed and by_id["llm", BUNDLED_LLM].default
    assert "languages" not in by_id["llm", BUNDLED_LLM].to_dict()
    assert not any(e.installed for e in entries if e.family == "translation")  # hub only, not pulled
    assert all(e.installed for e in entries
               if e.family in ("embedding", "analysis", "diarization", "denoise"))
    assert by_id["tts", "joe"].installed and by_id["tts", "joe"].default  # the bundled voice
    assert not by_id["tts", "f5-tts"].installed  # a cloning model is the operator's to pull
    pool.get("speech", "base", object)
    assert next(e for e in catalog.entries() if e.id == "base").loaded
