"""Fixtures shared by every test package: a temporary studio home for the whole session, the real
embedding model, loaded once per test session, and the real knowledge base compiled once into a
temporary studio home."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from components_db.embeddings import encode
from components_db.home import HOME_ENV
from components_db.kb import KnowledgeBase

# fixtures every package may use (tests/fixtures/): the catalog and knowledge base (catalog, catalog_parts,
# kb, home, counting) and tiny MoE models (arch, tiny_model, stage_tokenizer, tiny_engine)
pytest_plugins = ["tests.fixtures.catalog", "tests.fixtures.tiny_models"]


@pytest.fixture(scope="session", autouse=True)
def session_home(tmp_path_factory) -> Path:
    """``$CIRCUIT_STUDIO_HOME`` for the session, so nothing is written to the user's real home.

    Its ``models/`` (the ONNX export of the embedding model, ~2-10 s to make) is shared by the
    xdist workers of one run: the first exports it under its file lock, the others wait and load it."""
    base = tmp_path_factory.getbasetemp()
    shared = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "onnx-models"
    shared.mkdir(exist_ok=True)
    home = tmp_path_factory.mktemp("studio-home")
    (home / "models").symlink_to(shared, target_is_directory=True)
    patch = pytest.MonkeyPatch()
    patch.setenv(HOME_ENV, str(home))
    yield home
    patch.undo()


@pytest.fixture(scope="session")
def embedder(session_home):
    encode(["warm up"])  # loads (exporting on the first run) the model once for the whole session
    return encode


@pytest.fixture(scope="session")
def built_home(tmp_path_factory, embedder) -> Path:
    home = tmp_path_factory.mktemp("kb-home")
    KnowledgeBase.open(home)
    return home
