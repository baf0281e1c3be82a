"""A request reader over the real knowledge base (its search suggests the nearest parts)."""

from __future__ import annotations

import pytest

from studio.intent import RequestReader


@pytest.fixture(scope="session")
def reader(kb) -> RequestReader:
    return RequestReader(kb)
