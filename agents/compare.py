"""Baseline against steered: what changed between two run reports of the same request.

    comparison = compare_runs(baseline.report, steered.report)
    comparison.first_changed_stage, comparison.reasoning, comparison.erc.fixed, comparison.routing

The studio's Experts view shows this beside the two schematics; it is plain data, so a command-line
report or a benchmark can use it too. Text diffs are word-level; ERC findings are matched by rule and
place (pins, refs, net), not by message wording; routing is compared per stage, layer and expert as the
share of the stage's generated tokens that picked the expert.
"""

from __future__ import annotations

import difflib
import re
from typing import Literal

from pydantic import BaseModel, Field

from agents.run_report import STAGE_ORDER, RunReport, StageName
from studio.erc.findings import Violation

DiffOp = Literal["equal", "insert", "delete"]
LLM_STAGES: tuple[StageName, ...] = ("identify", "reason", "synthesize")
_WORDS = re.compile(r"\s+|[^\s]+")


class TextPiece(BaseModel):
    op: DiffOp
    text: str


class ErcDiff(BaseModel):
    fixed: list[Violation] = Field(default_factory=list)  # in the baseline only
    new: list[Violation] = Field(default_factory=list)  # in the steered run only
    kept: list[Violation] = Field(default_factory=list)  # in both (the steered run's wording)

    @property
    def changed(self) -> bool:
        return bool(self.fixed or self.new)


class ExpertShift(BaseModel):
    stage: StageName
    layer: int
    expert: int
    baseline: float  # share of the stage's generated tokens that selected the expert (0..1)
    steered: float
    targeted: bool = False  # the steered run's profile acts on this expert in this stage

    @property
    def delta(self) -> float:
        return self.steered - self.baseline


class RunComparison(BaseModel):
    first_changed_stage: StageName | None  # the first stage whose output differs; None: identical runs
    changed_stages: list[StageName]
    reasoning: list[TextPiece]
    reasoning_changed: bool
    parts_added: list[str]  # part ids in the steered design only
    parts_removed: list[str]
    erc: ErcDiff
    verdicts: tuple[bool | None, bool | None]  # (baseline passed, steered passed); None: no design
    routing: list[ExpertShift]  # every (stage, layer, expert) whose share moved, largest move first


def text_diff(before: str, after: str) -> list[TextPiece]:
    """Word-level diff (whitespace kept), adjacent pieces of the same kind merged."""
    a, b = _WORDS.findall(before), _WORDS.findall(after)
    pieces: list[TextPiece] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag in ("equal", "delete", "replace"):
            _append(pieces, "equal" if tag == "equal" else "delete", "".join(a[i1:i2]))
        if tag in ("insert", "replace"):
            _append(pieces, "insert", "".join(b[j1:j2]))
    return pieces


def erc_diff(before: list[Violation], after: list[Violation]) -> ErcDiff:
    remaining = list(before)
    diff = ErcDiff()
    for violation in after:
        match = next((v for v in remaining if _place(v) == _place(violation)), None)
        if match is None:
            diff.new.append(violation)
        else:
            remaining.remove(match)
            diff.kept.append(violation)
    diff.fixed = remaining
    return diff


def routing_shifts(baseline: RunReport, steered: RunReport, min_delta: float = 1e-9) -> list[ExpertShift]:
    """Experts whose share moved, the ones the steered run's profile acts on first (what the user
    toggled), then by the size of the move."""
    shifts: list[ExpertShift] = []
    for stage in LLM_STAGES:
        old, new = _shares(baseline, stage), _shares(steered, stage)
        if old is None or new is None:
            continue
        targeted = _targeted(steered, stage)
        for layer, (row_old, row_new) in enumerate(zip(old, new, strict=False)):
            for expert, (a, b) in enumerate(zip(row_old, row_new, strict=False)):
                if abs(b - a) > min_delta:
                    shifts.append(
                        ExpertShift(
                            stage=stage,
                            layer=layer,
                            expert=expert,
                            baseline=a,
                            steered=b,
                            targeted=(layer, expert) in targeted,
                        )
                    )
    shifts.sort(key=lambda s: (not s.targeted, -abs(s.delta), STAGE_ORDER.index(s.stage), s.layer, s.expert))
    return shifts


def _targeted(report: RunReport, stage: StageName) -> set[tuple[int, int]]:
    """(MoE layer, expert) pairs the report's profile turns off, forces, biases or scales in ``stage``."""
    if report.profile is None:
        return set()
    return {
        (layer, expert)
        for layer, steer in report.profile.for_stage(stage).layers.items()
        for expert in (*steer.off, *steer.force, *steer.bias, *steer.scale)
    }


def compare_runs(baseline: RunReport, steered: RunReport) -> RunComparison:
    changed = [s for s in STAGE_ORDER if _output(baseline, s) != _output(steered, s)]
    old_parts = {p.part for p in baseline.design.parts} if baseline.design else set()
    new_parts = {p.part for p in steered.design.parts} if steered.design else set()
    old_erc = baseline.check.erc.violations if baseline.check else []
    new_erc = steered.check.erc.violations if steered.check else []
    return RunComparison(
        first_changed_stage=changed[0] if changed else None,
        changed_stages=changed,
        reasoning=text_diff(baseline.plan or "", steered.plan or ""),
        reasoning_changed=(baseline.plan or "") != (steered.plan or ""),
        parts_added=sorted(new_parts - old_parts),
        parts_removed=sorted(old_parts - new_parts),
        erc=erc_diff(old_erc, new_erc),
        verdicts=(
            baseline.check.passed if baseline.check else None,
            steered.check.passed if steered.check else None,
        ),
        routing=routing_shifts(baseline, steered),
    )


def _append(pieces: list[TextPiece], op: DiffOp, text: str) -> None:
    if not text:
        return
    if pieces and pieces[-1].op == op:
        pieces[-1] = TextPiece(op=op, text=pieces[-1].text + text)
    else:
        pieces.append(TextPiece(op=op, text=text))


def _place(v: Violation) -> tuple:
    return v.rule, tuple(sorted(v.pins)), tuple(sorted(v.refs)), v.net


def _shares(report: RunReport, stage: StageName) -> list[list[float]] | None:
    record = report.stage(stage)
    if record is None or record.routing is None:
        return None
    tokens = max(record.routing.tokens, 1)
    return [[count / tokens for count in layer] for layer in record.routing.usage]


def _output(report: RunReport, stage: StageName) -> object:
    record = report.stage(stage)
    if record is None:
        return None
    if record.generation is not None:
        return record.generation.text
    return record.output
