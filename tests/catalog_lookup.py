"""The curated parts as a lookup: the knowledge base without its embedding index, for tests that need
parts and pins but no search (the reference designer, the corpus, the experiments)."""

from __future__ import annotations

from components_db.catalog import load_catalog
from components_db.schema import Part


class Catalog:
    def __init__(self) -> None:
        self._parts = {p.id: p for p in load_catalog()}

    def get(self, part_id: str) -> Part | None:
        return self._parts.get(part_id)

    def parts(self) -> list[Part]:
        return list(self._parts.values())
