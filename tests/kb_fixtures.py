"""Knowledge-base fixtures (kb, home, counting) built on tests/conftest.py's session-wide compiled studio home."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from components_db.embeddings import encode
from components_db.kb import BUILTIN_FILE, KnowledgeBase


class CountingEncoder:
    """The real encoder, counting how many texts it was asked to embed."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        self.texts.extend(texts)
        return encode(texts)


@pytest.fixture(scope="session")
def kb(built_home) -> KnowledgeBase:
    """A read-only knowledge base of the real catalog; tests that write use ``home`` instead."""
    return KnowledgeBase.open(built_home)


@pytest.fixture
def home(tmp_path, built_home) -> Path:
    """A fresh studio home holding an already compiled kb.sqlite and no user parts."""
    target = tmp_path / "home"
    target.mkdir()
    shutil.copy(built_home / BUILTIN_FILE, target / BUILTIN_FILE)
    return target


@pytest.fixture
def counting(embedder) -> CountingEncoder:
    return CountingEncoder()
