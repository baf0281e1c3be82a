"""Fixtures shared by every test package: the real embedding model, loaded once per test session, and
the real knowledge base compiled once into a temporary studio home."""

from __future__ import annotations

from pathlib import Path

import pytest

from components_db.embeddings import encode
from components_db.kb import KnowledgeBase


@pytest.fixture(scope="session")
def embedder():
    encode(["warm up"])  # loads the model once for the whole session
    return encode


@pytest.fixture(scope="session")
def built_home(tmp_path_factory, embedder) -> Path:
    home = tmp_path_factory.mktemp("kb-home")
    KnowledgeBase.open(home)
    return home
