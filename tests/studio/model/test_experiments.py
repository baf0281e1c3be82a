"""The example-profile experiments: which rows and prompts show a behaviour, and the random control."""

from __future__ import annotations

import json

from agents.evaluation import BenchmarkPrompt
from studio.model import experiments
from studio.model.experiments import BEHAVIOURS, corpus_sets, random_control
from studio.moe.profile import LayerSteering, ModelIdentity, StageSteering, SteeringProfile

BY_NAME = {b.name: b for b in BEHAVIOURS}


def _prompt(text: str, *parts: str) -> BenchmarkPrompt:
    return BenchmarkPrompt.model_validate(
        {
            "id": "t1",
            "prompt": text,
            "difficulty": "easy",
            "style": "imperative",
            "domain": "embedded",
            "expected_parts": [{"part": p, "quantity": 1} for p in parts],
        }
    )


def test_a_behaviour_shows_where_the_reference_designer_does_it(catalog):
    led = experiments.teacher_rows(_prompt("Blink a red LED from an Uno", "arduino-uno", "led-red"), catalog)
    oled = experiments.teacher_rows(
        _prompt("Show text on an OLED with a Pico", "raspberry-pi-pico", "oled-ssd1306-i2c"), catalog
    )
    resistors, i2c = BY_NAME["no-led-resistors"], BY_NAME["no-i2c-wiring"]
    assert resistors.shows(led["identify"]) and not resistors.shows(oled["identify"])
    assert resistors.contrast(oled["identify"]) and not resistors.contrast(led["identify"])
    assert i2c.shows(oled["reason"]) and not i2c.shows(led["reason"])


def test_attribution_sets_hold_only_rows_of_the_stage_that_show_or_lack_the_behaviour(teacher_rows):
    behaviour = BY_NAME["no-pull-ups"]
    a, b = corpus_sets(teacher_rows, behaviour, seed=0)
    identify = {r["prompt"] + r["answer"]: r for r in teacher_rows if r["stage"] == "identify"}
    assert a and b and set(a) <= identify.keys() and set(b) <= identify.keys()
    assert all('"pull-up"' in identify[t]["answer"] for t in a)
    assert not any('"pull-up"' in identify[t]["answer"] for t in b)
    assert not set(a) & set(b)


def test_the_random_control_turns_off_as_many_experts_in_the_same_stage_reproducibly():
    identity = ModelIdentity(name="m", moe_layers=[0, 1, 2, 3], experts_per_layer=8, top_k=2)
    found = SteeringProfile(
        model=identity,
        stages={"identify": StageSteering(layers={1: LayerSteering(off=[2, 5]), 3: LayerSteering(off=[0, 7])})},
    )
    control = random_control(found, "identify", seed=3)
    assert list(control.stages) == ["identify"]
    assert sum(len(s.off) for s in control.stages["identify"].layers.values()) == 4
    assert json.loads(control.model_dump_json()) == json.loads(random_control(found, "identify", 3).model_dump_json())
    assert control.stages != found.stages
