"""Fixtures for pipeline tests: a fresh pipeline on the shared tiny engine (tests/fixtures/tiny_models.py).

A random model writes nonsense, which is the point: whatever it writes, the pipeline must finish with
a parseable design over real pins, or a clear reason why not."""

from __future__ import annotations

import pytest

from agents.orchestrator import Pipeline
from tests.fixtures.tiny_models import TEST_SETTINGS


@pytest.fixture
def pipeline(tiny_engine, kb) -> Pipeline:
    """A fresh pipeline (own cache) on the shared tiny engine."""
    return Pipeline(tiny_engine, kb, TEST_SETTINGS)
