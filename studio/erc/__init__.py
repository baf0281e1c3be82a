"""Electrical rule check: ``run_erc(resolved)`` applies every rule group and scores the design.

The rules come from KiCad's pin-conflict matrix and drive rules and from CircuitLM's embedded-design
checks; ``studio.erc.registry.RULES`` lists each with its severity and description. Two rules need
more than the netlist and are added by ``agents.checks``: a simulated LED current above its maximum,
and a simulated value more than 20 % from what the request states.
"""

from __future__ import annotations

from studio.circuit.resolve import ResolvedDesign
from studio.erc.findings import ErcReport, Severity, Violation
from studio.erc.nodes import ErcContext
from studio.erc.registry import RULES, RuleGroup
from studio.erc.rules import GROUPS
from studio.erc.scoring import passed, score

__all__ = ["RULES", "ErcReport", "Severity", "Violation", "run_erc", "with_findings"]


def run_erc(resolved: ResolvedDesign) -> ErcReport:
    ctx = ErcContext(resolved)
    return _report([v for group in GROUPS for v in group(ctx)])


def with_findings(report: ErcReport, found: list[Violation]) -> ErcReport:
    """``report`` with findings made outside the rule groups (from a simulation, against a request)."""
    return _report([*report.violations, *found]) if found else report


def _report(violations: list[Violation]) -> ErcReport:
    violations = sorted(violations, key=lambda v: (v.severity.rank, v.rule, v.refs, v.pins))
    return ErcReport(
        violations=violations,
        structural_score=score(violations, RuleGroup.STRUCTURAL),
        electrical_score=score(violations, RuleGroup.ELECTRICAL),
        passed=passed(violations),
    )
