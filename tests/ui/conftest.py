"""A studio context on a tiny random MoE and the real knowledge base, for the UI's pure-Python parts
(sessions, runs, comparisons, downloads) without a browser."""

from __future__ import annotations

import pytest

from agents.orchestrator import Pipeline
from components_db import KnowledgeBase
from studio.moe.engine import MoEEngine
from tests.agents.conftest import TEST_SETTINGS, tiny_moe, train_stage_tokenizer
from ui.studio_context import StudioContext


@pytest.fixture(scope="session")
def ui_kb(built_home) -> KnowledgeBase:
    return KnowledgeBase.open(built_home)


@pytest.fixture(scope="session")
def ui_engine(ui_kb) -> MoEEngine:
    tokenizer = train_stage_tokenizer(ui_kb)
    engine = MoEEngine.from_model(tiny_moe(tokenizer), tokenizer, name="tiny-ui-moe")
    yield engine
    engine.close()


@pytest.fixture
def context(ui_kb, ui_engine, tmp_path) -> StudioContext:
    return StudioContext(kb=ui_kb, pipeline=Pipeline(ui_engine, ui_kb, TEST_SETTINGS), profiles_dir=tmp_path)
