"""The shipped model: loads offline, fast, and designs a circuit end to end that passes the ERC."""

from __future__ import annotations

import pytest

from agents.model_opening import BUNDLED_DIR

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (BUNDLED_DIR / "config.json").is_file(), reason="the bundled weights are not in the tree"),
]


@pytest.fixture(scope="module")
def bundled():
    from agents.model_opening import open_engine

    engine, settings = open_engine(None)
    yield engine, settings
    engine.close()


def test_the_bundled_model_opens_offline_with_its_settings(bundled):
    """Its opening time is measured by benchmarks/decode.py (timed tests fail on a busy machine)."""
    engine, settings = bundled
    assert settings.prompt_style == "compact"
    assert engine.info.num_experts == 16 and len(engine.layers) >= 6
    assert sum(p.numel() for p in engine.model.parameters()) < 30_000_000


def test_the_bundled_model_designs_a_circuit_that_passes_the_erc(bundled, built_home):
    from agents.orchestrator import Pipeline
    from components_db.kb import KnowledgeBase

    engine, settings = bundled
    kb = KnowledgeBase.open(built_home)
    run = Pipeline(engine, kb, settings.model_copy(update={"run_spice": False})).run(
        "ESP32 reads a DHT22 and blinks a red LED"
    )
    report = run.report
    assert report.status == "ok", report.error
    ids = {p.part for p in report.parts.parts}
    assert {"esp32-devkit-v1", "dht22", "led-red"} <= ids
    assert report.check is not None and report.check.passed, report.check.erc.violations
