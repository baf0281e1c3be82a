"""Repair rounds: the checks' findings name nets; a round keeps every other net as the model wrote it and
re-decodes those, with the findings in the prompt and the offending choices excluded by the decoder.

- What a round re-decodes (``repair_plan``): the nets the ERC's fatal and major findings happen on or
  hold pins of, and the nets of the parts an unmet intent requirement names. A required pin left
  unwired is named by its finding, so the decoder must place it (``DesignGrammar.required_pins``); the
  pairs of pins a finding says must not share a net are excluded (``DesignGrammar.forbidden_pairs``).
- Whether a round is kept (``burden``): only when it leaves fewer findings (fatal and major ERC
  findings plus unmet intent requirements) than the design before it; otherwise the round is
  reported and the earlier design stands. Greedy decoding of the same input gives the same answer, so
  a round that does not help ends the repair.
"""

from __future__ import annotations

import itertools

from pydantic import BaseModel, ConfigDict

from agents.checks import CheckReport
from agents.grammar import net_text
from agents.prompting import render
from studio.circuit.design import Design
from studio.erc.findings import Violation

MAX_ROUNDS = 3
SERIOUS = ("fatal", "major")
MAX_FINDINGS = 8  # in one prompt: the worst first
# findings whose pins must leave the net they share (they conflict there); the rest ask for a wire
SEPARATING = frozenset(
    {
        "pin-on-two-nets",
        "output-conflict",
        "output-on-rail",
        "signal-on-rail",
        "gpio-short",
        "short-power-ground",
        "short-rail-rail",
        "supply-contention",
        "supply-out-of-range",
        "logic-level-overvoltage",
        "load-voltage-out-of-range",
        "protocol-mismatch",
        "bus-pin-unsupported",
    }
)  # studio.erc.registry ids; a test checks each one is a rule there


class RepairInput(BaseModel):
    """What a round's prompt says and depends on (its cache key)."""

    model_config = ConfigDict(frozen=True)

    request: str
    parts: str
    plan: str
    findings: str
    kept: tuple[str, ...]  # the nets written before the answer, as compact JSON
    forbidden_pairs: tuple[tuple[str, str], ...] = ()
    required_pins: tuple[str, ...] = ()
    round: int


class RepairPlan(BaseModel):
    model_config = ConfigDict(frozen=True)

    kept: tuple[str, ...]
    redone: tuple[str, ...]  # names of the nets re-decoded
    findings: tuple[str, ...]  # one line each, for the prompt and the report
    forbidden_pairs: tuple[tuple[str, str], ...]
    required_pins: tuple[str, ...]


def serious(check: CheckReport) -> list[Violation]:
    return [v for v in check.erc.violations if v.severity in SERIOUS]


def burden(check: CheckReport) -> int:
    """How much is wrong: fatal and major ERC findings plus unmet intent requirements."""
    unmet = [r for r in check.intent.requirements if r.status == "not-met"] if check.intent is not None else []
    return len(serious(check)) + len(unmet)


def needs_repair(check: CheckReport) -> bool:
    return not check.right


def repair_plan(design: Design, check: CheckReport) -> RepairPlan | None:
    """What a round re-decodes, or None when the findings name no net, pin or part (nothing to redo)."""
    findings = sorted(serious(check), key=lambda v: SERIOUS.index(v.severity))[:MAX_FINDINGS]
    unmet = [r for r in check.intent.requirements if r.status == "not-met"] if check.intent is not None else []
    pins = {p for v in findings for p in v.pins}
    nets = {v.net for v in findings if v.net}
    refs = {ref for r in unmet for ref in r.refs}
    redone = [
        n.name
        for n in design.nets
        if n.name in nets or pins.intersection(n.pins) or refs.intersection(p.split(".", 1)[0] for p in n.pins)
    ]
    wired = {p for n in design.nets for p in n.pins}
    required = tuple(
        sorted(p for v in findings if v.rule == "required-pin-unconnected" for p in v.pins if p not in wired)
    )
    if not redone and not required:
        return None
    by_name = {n.name: n for n in design.nets}
    forbidden: set[tuple[str, str]] = set()
    for v in findings:
        if v.rule in SEPARATING and v.net in by_name:
            others = by_name[v.net].pins
            forbidden |= {tuple(sorted((a, b))) for a in v.pins for b in others if a != b}
        if v.rule in SEPARATING and len(v.pins) > 1:
            forbidden |= {tuple(sorted(pair)) for pair in itertools.combinations(v.pins, 2)}
    lines = [f"[{v.severity}] {v.rule}: {v.message}" for v in findings]
    lines += [f"[intent] {r.kind} {r.text}: {r.detail}" for r in unmet]
    kept = tuple(net_text(n.name, n.pins) for n in design.nets if n.name not in redone)
    return RepairPlan(
        kept=kept,
        redone=tuple(redone),
        findings=tuple(lines),
        forbidden_pairs=tuple(sorted(forbidden)),
        required_pins=required,
    )


def repair_prompt(given: RepairInput, prefix: str) -> str:
    """The round's prompt, ending with the design's fixed parts and kept nets (``prefix``)."""
    findings = "\n".join(f"- {line}" for line in given.findings.splitlines())
    return render("repair", request=given.request, parts=given.parts, plan=given.plan, findings=findings) + prefix
