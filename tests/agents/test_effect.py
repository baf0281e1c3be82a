"""The steering-effect harness: matched random controls, Wilson intervals, the verdict, and a whole run
on a tiny random model."""

from __future__ import annotations

import pytest

from agents.batch import BatchRequest
from agents.effect import Condition, EffectReport, _verdict, markdown, matched_controls, plot, rate, run_effect
from studio.moe.profile import LayerSteering, ModelIdentity, StageSteering, SteeringProfile

MODEL = ModelIdentity(name="m", moe_layers=[0, 1, 2], experts_per_layer=8, top_k=2)
PROFILE = SteeringProfile(
    name="p",
    behaviour="led-resistor",
    model=MODEL,
    stages={
        "identify": StageSteering(layers={0: LayerSteering(off=[1, 2, 3]), 2: LayerSteering(off=[5], force=[6])}),
        "synthesize": StageSteering(layers={1: LayerSteering(off=[0])}),
    },
)


def test_controls_match_the_profile_per_stage_and_layer_and_avoid_its_experts():
    controls = matched_controls(PROFILE, 5, seed=7)
    assert len(controls) == 5
    draws = set()
    for control in controls:
        assert set(control.stages) == set(PROFILE.stages)
        for stage, section in PROFILE.stages.items():
            mine = control.stages[stage].layers
            assert set(mine) == set(section.layers)
            for layer, steer in section.layers.items():
                assert len(mine[layer].off) == len(steer.off) and len(mine[layer].force) == len(steer.force)
                touched = {
                    e
                    for s in PROFILE.stages.values()
                    for e in [*s.layers.get(layer, LayerSteering()).off, *s.layers.get(layer, LayerSteering()).force]
                }
                assert not touched & {*mine[layer].off, *mine[layer].force}
        draws.add(control.model_dump_json(include={"stages"}))
    assert len(draws) == 5  # each control its own draw
    assert matched_controls(PROFILE, 5, seed=7) == controls  # seeded
    assert matched_controls(PROFILE, 5, seed=8) != controls


def test_a_profile_too_large_for_matched_controls_is_refused():
    greedy = PROFILE.model_copy(update={"stages": {"*": StageSteering(layers={0: LayerSteering(off=list(range(5)))})}})
    with pytest.raises(ValueError, match="too few experts"):
        matched_controls(greedy, 1, seed=0)


def test_wilson_intervals():
    r = rate(3, 30)
    assert (
        r.value == pytest.approx(0.1)
        and r.low == pytest.approx(0.0346, abs=1e-3)
        and r.high == pytest.approx(0.2562, abs=1e-3)
    )
    assert rate(0, 0).low is None and rate(0, 0).text() == "- (0)"
    assert rate(30, 30).high == pytest.approx(1.0)


def condition(label: str, k: int, n: int = 30) -> Condition:
    r = rate(k, n)
    return Condition(label=label, steering=[], behaviour=r, designs=r, erc_pass=r, intent_score=1.0, changed=r)


@pytest.mark.parametrize(
    ("controls", "holds"),
    [
        ((29, 28, 30, 27, 29), True),  # the profile's 5/30 is clear of every control
        ((29, 28, 9, 27, 29), False),  # one control does nearly as much: the experts are not shown to be specific
    ],
)
def test_the_effect_holds_only_beyond_every_control(controls, holds):
    conditions = [condition("unsteered", 29), condition("profile", 5)]
    conditions += [condition(f"control {i}", k) for i, k in enumerate(controls, start=1)]
    p, verdict = _verdict(conditions)
    assert verdict is holds and p is not None and (p < 0.05 or not holds)


def test_no_change_does_not_hold():
    conditions = [
        condition("unsteered", 29),
        condition("profile", 28),
        *(condition(f"control {i}", 29) for i in range(5)),
    ]
    assert _verdict(conditions)[1] is False


def test_a_whole_run_on_a_tiny_model(pipeline, tmp_path):
    requests = [
        BatchRequest(id="a", prompt="Blink a red LED from an Arduino Uno."),
        BatchRequest(id="b", prompt="uno + green led"),
    ]
    profile = PROFILE.model_copy(
        update={
            "model": pipeline.engine.info.identity(),
            "stages": {"synthesize": StageSteering(layers={0: LayerSteering(off=[0, 1])})},
        }
    )
    lines = []
    report = run_effect(
        pipeline, profile, requests, "led-resistor", utility=requests[:1], controls=2, seed=1, on_progress=lines.append
    )
    assert [c.label for c in report.conditions] == ["unsteered", "profile", "control 1", "control 2"]
    assert report.condition("unsteered").changed.k == 0
    assert all(c.designs.n == 2 and c.utility_right is not None and c.utility_right.n == 1 for c in report.conditions)
    assert len(lines) == 4 * 3 and lines[0].startswith("[unsteered, led-resistor 1/2] a")
    table = markdown(report)
    assert "| profile |" in table and "Fisher's exact test" in table
    plot(report, tmp_path / "effect.png")
    assert (tmp_path / "effect.png").read_bytes().startswith(b"\x89PNG")
    assert EffectReport.model_validate_json(report.model_dump_json()) == report
