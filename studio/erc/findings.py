"""What the electrical rule check returns: violations, two scores and the pass@1 verdict."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Severity(StrEnum):
    """CircuitLM's four levels; a design passes (pass@1) with no fatal and no major violation."""

    FATAL = "fatal"
    MAJOR = "major"
    MINOR = "minor"
    WARNING = "warning"

    @property
    def rank(self) -> int:
        """0 for fatal .. 3 for warning: the order violations are listed in."""
        return list(Severity).index(self)


class Violation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rule: str  # a stable kebab-case id from studio.erc.registry.RULES
    severity: Severity
    message: str  # what is wrong, in words a student understands
    fix: str  # one concrete change that removes the violation
    refs: list[str] = Field(default_factory=list)  # part refs involved ("U1", "R1")
    pins: list[str] = Field(default_factory=list)  # pin labels involved ("U1.GPIO2")
    net: str | None = None  # the net it happens on, when there is one


class ErcReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    violations: list[Violation]
    structural_score: float = Field(ge=0.0, le=1.0)
    electrical_score: float = Field(ge=0.0, le=1.0)
    passed: bool

    def rule_ids(self) -> set[str]:
        return {v.rule for v in self.violations}
