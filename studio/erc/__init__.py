"""Electrical rule check: ``run_erc(resolved)`` applies every rule group and scores the design.

The rules come from KiCad's pin-conflict matrix and drive rules and from CircuitLM's embedded-design
checks (see /work/shared/notes/circuits.md); ``studio.erc.registry.RULES`` lists each with its
severity and description.
"""

from __future__ import annotations

from studio.erc.context import ErcContext
from studio.erc.registry import RULES, RuleGroup
from studio.erc.report import ErcReport, Severity, Violation
from studio.erc.rules import GROUPS
from studio.erc.scoring import passed, score
from studio.resolve import ResolvedDesign

__all__ = ["RULES", "ErcReport", "Severity", "Violation", "run_erc"]


def run_erc(resolved: ResolvedDesign) -> ErcReport:
    ctx = ErcContext(resolved)
    violations = [v for group in GROUPS for v in group(ctx)]
    violations.sort(key=lambda v: (v.severity.rank, v.rule, v.refs, v.pins))
    return ErcReport(
        violations=violations,
        structural_score=score(violations, RuleGroup.STRUCTURAL),
        electrical_score=score(violations, RuleGroup.ELECTRICAL),
        passed=passed(violations),
    )
