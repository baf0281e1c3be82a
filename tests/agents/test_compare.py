"""Baseline against steered: word diffs, ERC findings matched by place, routing shares per expert."""

from __future__ import annotations

from agents.checks import CheckReport
from agents.compare import compare_runs, erc_diff, text_diff
from agents.llm import Generated
from agents.run_report import RoutingSummary, RunReport, StageRecord
from studio.circuit.design import Design
from studio.erc.findings import ErcReport, Severity, Violation
from studio.moe.profile import LayerSteering, ModelIdentity, StageSteering, SteeringProfile
from studio.moe.specs import MoEInfo

INFO = MoEInfo(
    name="tiny",
    architecture="qwen3_moe",
    num_layers=2,
    moe_layers=[0, 1],
    num_experts=3,
    top_k=1,
    shared_experts=0,
    fixed_top_k=False,
)


def violation(rule: str, pins: list[str], message: str = "m", severity: Severity = Severity.MAJOR) -> Violation:
    return Violation(rule=rule, severity=severity, message=message, fix="f", pins=pins)


def record(stage: str, text: str, usage: list[list[int]]) -> StageRecord:
    generated = Generated(text=text, prompt_tokens=3, token_ids=[1] * 4, finish_reason="complete", seconds=0.1)
    return StageRecord(
        stage=stage,
        seconds=0.1,
        generation=generated,
        routing=RoutingSummary(tokens=4, usage=usage, entropy=[0.0] * len(usage)),
    )


def report(plan: str, reason_usage: list[list[int]], parts: list[str], violations: list[Violation]) -> RunReport:
    design = Design.model_validate({"parts": [{"ref": f"U{i}", "part": p} for i, p in enumerate(parts, 1)], "nets": []})
    check = CheckReport(
        design=design,
        erc=ErcReport(violations=violations, structural_score=1.0, electrical_score=1.0, passed=not violations),
        spice=None,
    )
    stages = [record("identify", "same", [[4, 0, 0], [0, 4, 0]]), record("reason", plan, reason_usage)]
    return RunReport(request="r", model=INFO, stages=stages, plan=plan, design=design, check=check)


def test_a_word_diff_rebuilds_both_texts():
    before, after = "wire the LED to GPIO2 now", "wire the red LED to GPIO4 now"
    pieces = text_diff(before, after)
    assert "".join(p.text for p in pieces if p.op != "insert") == before
    assert "".join(p.text for p in pieces if p.op != "delete") == after
    assert [p.op for p in pieces].count("equal") >= 2
    assert text_diff("same", "same") == [type(pieces[0])(op="equal", text="same")]


def test_erc_findings_are_matched_by_rule_and_place_not_wording():
    kept_before = violation("gpio-overcurrent", ["U1.GPIO2"], "old wording")
    kept_after = violation("gpio-overcurrent", ["U1.GPIO2"], "new wording")
    fixed = violation("missing-ground", ["U2.GND"])
    new = violation("unconnected-part", [], severity=Severity.WARNING)
    diff = erc_diff([kept_before, fixed], [kept_after, new])
    assert diff.kept == [kept_after] and diff.fixed == [fixed] and diff.new == [new]
    assert diff.changed and not erc_diff([fixed], [fixed]).changed


def test_compare_runs_finds_the_first_changed_stage_and_the_moved_experts():
    base = report("plan A", [[4, 0, 0], [2, 2, 0]], ["esp32-devkit-v1", "led-red"], [violation("r", ["U1.X"])])
    steered = report("plan B", [[0, 4, 0], [2, 2, 0]], ["esp32-devkit-v1", "buzzer-active"], [])
    comparison = compare_runs(base, steered)
    assert comparison.first_changed_stage == "reason"
    assert comparison.reasoning_changed and comparison.parts_added == ["buzzer-active"]
    assert comparison.parts_removed == ["led-red"]
    assert len(comparison.erc.fixed) == 1 and comparison.verdicts == (False, True)
    moved = [(s.stage, s.layer, s.expert, s.baseline, s.steered) for s in comparison.routing]
    assert moved == [("reason", 0, 0, 1.0, 0.0), ("reason", 0, 1, 0.0, 1.0)]


def test_identical_runs_compare_as_unchanged():
    base = report("plan", [[4, 0, 0], [0, 0, 4]], ["led-red"], [])
    comparison = compare_runs(base, base)
    assert comparison.first_changed_stage is None and comparison.changed_stages == []
    assert comparison.routing == [] and not comparison.erc.changed and not comparison.reasoning_changed


def test_the_experts_the_profile_steers_come_first_in_the_routing_shifts():
    base = report("plan A", [[3, 1, 0], [1, 1, 2]], ["led-red"], [])
    steered = report("plan B", [[0, 1, 3], [1, 0, 3]], ["led-red"], [])  # L0 e0 -75%, L1 e1 -25%
    identity = ModelIdentity(name="tiny", moe_layers=[0, 1], experts_per_layer=3, top_k=1)
    profile = SteeringProfile(model=identity, stages={"reason": StageSteering(layers={1: LayerSteering(off=[1])})})
    steered = steered.model_copy(update={"profile": profile})
    shifts = compare_runs(base, steered).routing
    assert [(s.layer, s.expert, s.targeted) for s in shifts][:2] == [(1, 1, True), (0, 0, False)]
    assert sum(s.targeted for s in shifts) == 1  # the identify stage is not steered: nothing marked there
