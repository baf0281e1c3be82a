"""A request reader over the real knowledge base (its search suggests the nearest parts)."""

from __future__ import annotations

import pytest

from components_db import KnowledgeBase
from studio.intent import RequestReader


@pytest.fixture(scope="session")
def reader(built_home) -> RequestReader:
    return RequestReader(KnowledgeBase.open(built_home))
