"""Fixtures for pipeline tests: a fresh pipeline on the shared tiny engine (tests/fixtures/tiny_models.py).

A random model writes nonsense, which is the point: whatever it writes, the pipeline must finish with
a parseable design over real pins, or a clear reason why not."""

from __future__ import annotations

import pytest

from agents.orchestrator import Pipeline
from components_db.kb import KnowledgeBase

# kept for importers of the old names (tests/ui/cli/test_design.py); new tests import tests.fixtures.tiny_models
from tests.fixtures.tiny_models import TEST_SETTINGS, train_stage_tokenizer
from tests.fixtures.tiny_models import pipeline_moe as tiny_moe

__all__ = ["TEST_SETTINGS", "tiny_moe", "train_stage_tokenizer"]


@pytest.fixture(scope="session")
def pipeline_kb(kb) -> KnowledgeBase:
    """The old name of ``kb``, kept for tests/agents/test_evaluation.py."""
    return kb


@pytest.fixture
def pipeline(tiny_engine, kb) -> Pipeline:
    """A fresh pipeline (own cache) on the shared tiny engine."""
    return Pipeline(tiny_engine, kb, TEST_SETTINGS)
