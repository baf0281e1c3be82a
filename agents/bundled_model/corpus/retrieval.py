"""Retrieval for many requests at once, as the pipeline's (``agents.identify.retrieve_candidates``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from agents.identify import MAX_CANDIDATES, Candidate, candidates_from, retrieval_queries
from components_db.retrieval import SearchIndex, retrieval_text


class BatchRetriever:
    """``agents.identify.retrieve_candidates`` for many requests at once: every query (the request and
    its clauses) is embedded once, in batches, then searched with its precomputed vector."""

    def __init__(self, kb, encoder=None) -> None:
        from components_db.embeddings import encode

        self.encode = encoder or encode
        parts = kb.parts()
        self.index = SearchIndex(parts, self.encode([retrieval_text(p) for p in parts]))
        self.vectors: dict[str, np.ndarray] = {}

    def _embed(self, queries: Iterable[str]) -> None:
        todo = sorted({q for q in queries if q not in self.vectors}, key=len)  # similar lengths share a batch
        for start in range(0, len(todo), 512):
            chunk = todo[start : start + 512]
            for q, v in zip(chunk, self.encode(chunk), strict=True):
                self.vectors[q] = v

    def candidates(self, requests: Sequence[str], top: int = MAX_CANDIDATES) -> list[list[Candidate]]:
        queries = [[(q, n) for q, n in retrieval_queries(request) if q.strip()] for request in requests]
        self._embed(q.strip() for each in queries for q, _ in each)
        return [
            candidates_from((hit for q, n in each for hit in self.index.search(q, self.vectors[q.strip()], top=n)), top)
            for each in queries
        ]
