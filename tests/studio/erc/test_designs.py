"""The hand-made designs in tests/data/designs get the verdicts expected.yaml gives them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from studio.circuit.design import Design
from studio.circuit.resolve import resolve
from studio.erc import run_erc
from studio.erc.registry import RULES

DESIGNS = Path(__file__).parents[2] / "data" / "designs"
EXPECTED: dict[str, dict] = yaml.safe_load((DESIGNS / "expected.yaml").read_text(encoding="utf-8"))


def test_every_design_has_a_verdict() -> None:
    assert sorted(p.stem for p in DESIGNS.glob("*.json")) == sorted(EXPECTED)
    assert len(EXPECTED) >= 15
    assert {rule for e in EXPECTED.values() for rule in e["fires"]} <= set(RULES)


@pytest.mark.parametrize("stem", sorted(EXPECTED))
def test_design_verdict(stem: str, catalog) -> None:
    design = Design.from_json((DESIGNS / f"{stem}.json").read_bytes())
    report = run_erc(resolve(design, catalog))
    expected = EXPECTED[stem]
    summary = [f"{v.severity}: {v.rule}: {v.message}" for v in report.violations]
    assert report.passed is expected["passed"], summary
    assert set(expected["fires"]) <= report.rule_ids(), summary
