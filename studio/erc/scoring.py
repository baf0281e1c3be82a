"""The two ERC scores, each in 0..1.

score = product over the group's violations of (1 - weight[severity]), with weights fatal 1.0,
major 0.5, minor 0.2, warning 0.05: one fatal gives 0, each major halves what is left, each minor
takes 20 % and each warning 5 %. Independent of design size, so a bigger design is not excused its
mistakes; structural rules (references, wiring) feed one score and electrical rules the other.
"""

from __future__ import annotations

from studio.erc.findings import Severity, Violation
from studio.erc.registry import RULES, RuleGroup

WEIGHTS = {Severity.FATAL: 1.0, Severity.MAJOR: 0.5, Severity.MINOR: 0.2, Severity.WARNING: 0.05}


def score(violations: list[Violation], group: RuleGroup) -> float:
    result = 1.0
    for v in violations:
        if RULES[v.rule].group is group:
            result *= 1.0 - WEIGHTS[v.severity]
    return round(result, 4)


def passed(violations: list[Violation]) -> bool:
    """pass@1: no fatal and no major violation."""
    return not any(v.severity in (Severity.FATAL, Severity.MAJOR) for v in violations)
