"""Moved to tests/fixtures/catalog.py (``CatalogLookup``); kept for tests/agents/bundled_model/conftest.py."""

from tests.fixtures.catalog import CatalogLookup as Catalog

__all__ = ["Catalog"]
