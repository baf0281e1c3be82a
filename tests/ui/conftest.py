"""A studio context on a tiny random MoE and the real knowledge base, for the UI's pure-Python parts
(sessions, runs, comparisons, downloads) without a browser."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agents.orchestrator import Pipeline
from studio.moe.engine import MoEEngine
from tests.fixtures.tiny_models import TEST_SETTINGS, pipeline_moe
from ui.studio_context import StudioContext


@pytest.fixture(scope="session")
def ui_engine(stage_tokenizer) -> Iterator[MoEEngine]:
    """The UI's own engine on the pipeline's tiny model (UI tests name it in messages: tiny-ui-moe)."""
    engine = MoEEngine.from_model(pipeline_moe(stage_tokenizer), stage_tokenizer, name="tiny-ui-moe")
    yield engine
    engine.close()


@pytest.fixture
def context(kb, ui_engine, tmp_path) -> StudioContext:
    return StudioContext(kb=kb, pipeline=Pipeline(ui_engine, kb, TEST_SETTINGS), profiles_dir=tmp_path)
