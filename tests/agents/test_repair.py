"""Repair rounds (agents.repair and the pipeline's loop): what a round re-decodes, the grammar that keeps
the other nets, when a round is kept, and repair on a tiny full-prompt model end to end."""

from __future__ import annotations

import pytest

from agents.checks import check_design
from agents.constrained import constrained_generate
from agents.grammar import GrammarInputError, design_grammar
from agents.repair import SEPARATING, burden, needs_repair, repair_plan
from studio.circuit.design import Design
from studio.circuit.resolve import resolve
from studio.erc.registry import RULES
from studio.moe.profile import LayerSteering, StageSteering, SteeringProfile
from tests.fixtures.designs import make_design

PARTS = {"U1": "esp32-devkit-v1", "U2": "dht22", "R1": "resistor=10k"}


def checked(kb, nets: dict[str, list[str]]):
    design = make_design(PARTS, nets)
    return design, check_design(resolve(design, kb), run_spice=False)


def test_a_signal_on_a_rail_redoes_that_net_only_and_forbids_the_pair(kb):
    design, check = checked(
        kb,
        {
            "3V3": ["U1.3V3", "U2.VCC", "U2.DATA", "R1.1"],
            "GND": ["U1.GND", "U2.GND"],
            "PULL": ["R1.2", "U1.GPIO4"],
        },
    )
    assert needs_repair(check) and "signal-on-rail" in check.erc.rule_ids()
    plan = repair_plan(design, check)
    assert "3V3" in plan.redone and "GND" not in plan.redone
    assert '{"name":"GND","pins":["U1.GND","U2.GND"]}' in plan.kept
    assert ("U1.3V3", "U2.DATA") in plan.forbidden_pairs
    assert any("signal-on-rail" in line for line in plan.findings)


def test_an_unwired_required_pin_must_be_placed(kb):
    design, check = checked(kb, {"3V3": ["U1.3V3", "U2.VCC", "R1.1"], "GND": ["U1.GND", "U2.GND"]})
    plan = repair_plan(design, check)
    assert "U2.DATA" in plan.required_pins
    assert burden(check) >= 1


def test_a_right_design_needs_no_repair(kb):
    _, check = checked(
        kb,
        {
            "3V3": ["U1.3V3", "U2.VCC", "R1.1"],
            "GND": ["U1.GND", "U2.GND"],
            "DATA": ["U1.GPIO4", "U2.DATA", "R1.2"],
        },
    )
    assert check.erc.passed and not needs_repair(check) and burden(check) == 0


def test_every_separating_rule_is_an_erc_rule():
    assert set(RULES) >= SEPARATING


def test_the_grammar_keeps_written_nets_and_only_adds_after_them(catalog):
    parts = [("U1", catalog["esp32-devkit-v1"]), ("U2", catalog["dht22"])]
    kept = ('{"name":"GND","pins":["U1.GND","U2.GND"]}',)
    grammar = design_grammar(parts, parts_in_prompt=True, written_nets=kept, max_nets=4)
    assert grammar.prefix.endswith('"nets":[' + kept[0])
    assert 'start: ("," net){0,3} "]}"' in grammar.lark
    design = Design.from_json(grammar.prefix + ',{"name":"DATA","pins":["U1.GPIO4","U2.DATA"]}]}')
    assert [n.name for n in design.nets] == ["GND", "DATA"]
    assert 'start: "]}"' in design_grammar(parts, parts_in_prompt=True, written_nets=kept, max_nets=1).lark
    with pytest.raises(GrammarInputError, match="parts_in_prompt"):
        design_grammar(parts, written_nets=kept)


def test_repair_runs_under_its_own_section_or_synthesizes(tiny_engine):
    off = StageSteering(layers={0: LayerSteering(off=[1])})
    other = StageSteering(layers={1: LayerSteering(off=[2])})
    identity = tiny_engine.info.identity()
    assert SteeringProfile(model=identity, stages={"synthesize": off}).for_stage("repair") == off
    own = SteeringProfile(model=identity, stages={"synthesize": off, "repair": other})
    assert own.for_stage("repair") == other


def test_a_tiny_full_prompt_model_runs_the_pipeline_with_repair(pipeline):
    request = "ESP32 reads a DHT22 and switches a 12 V fan"
    report = pipeline.run(request).report
    assert report.status == "ok", report.error
    rounds = [s for s in report.stages if s.stage == "repair"]
    assert report.first_check is not None and burden(report.check) <= burden(report.first_check)
    if needs_repair(report.first_check):  # a random model's design: the loop tried, and says how it went
        assert rounds and rounds[0].generation is not None and rounds[0].routing is not None
        assert rounds[0].input["findings"] and rounds[0].messages[0].startswith("repair round 1: ")
    for record in rounds:
        if record.output["kept"]:
            assert record.output["findings_after"] < record.output["findings_before"]
    assert [r.output["round"] for r in rounds] == list(range(1, len(rounds) + 1))
    off = pipeline.run(request, repair_rounds=0).report
    assert not [s for s in off.stages if s.stage == "repair"] and off.check == off.first_check


def test_the_decoder_keeps_a_rounds_exclusions_and_places_its_required_pins(catalog, tiny_engine):
    parts = [("U1", catalog["esp32-devkit-v1"]), ("U2", catalog["dht22"])]
    kept = ('{"name":"GND","pins":["U1.GND","U2.GND"]}',)
    grammar = design_grammar(parts, parts_in_prompt=True, written_nets=kept, max_nets=4, max_pins_per_net=3)
    grammar = grammar.model_copy(
        update={"forbidden_pairs": (("U1.3V3", "U2.DATA"),), "required_pins": ("U2.DATA", "U2.VCC")}
    )
    for seed in range(3):
        prompt = tiny_engine.tokenizer(f"design {seed} " + grammar.prefix)["input_ids"]
        generated = constrained_generate(tiny_engine.model, tiny_engine.tokenizer, prompt, grammar, max_new_tokens=600)
        design = Design.from_json(grammar.prefix + generated.text)
        nets = {n.name: set(n.pins) for n in design.nets}
        assert nets["GND"] == {"U1.GND", "U2.GND"}  # the kept net stands as written
        wired = set().union(*nets.values())
        assert {"U2.DATA", "U2.VCC"} <= wired, generated.text
        assert not any({"U1.3V3", "U2.DATA"} <= pins for pins in nets.values()), generated.text
