"""The plan's net lines: which synthesis follows, and where a design departs from them (agents.plan_nets)."""

from __future__ import annotations

import pytest

from agents.grammar import design_grammar
from agents.plan_nets import departures, followed, plan_lines, read_plan_nets
from components_db.schema import Part
from studio.circuit.design import Design

PARTS = {"U1": "esp32-devkit-v1", "U2": "dht22", "R1": "resistor", "BT1": "dc-supply-12v"}
PLAN = """Rails: GND common; 3V3 from U1.3V3.
R1 (resistor 10k): pull-up on U2.DATA.
Nets:
GND: U1.GND U2.GND BT1.-
3V3: U1.3V3 U2.VCC R1.1
DATA: U2.OUT U1.GPIO4 R1.2
"""


@pytest.fixture(scope="module")
def bill(catalog) -> dict[str, Part]:
    return {ref: catalog[part_id] for ref, part_id in PARTS.items()}


def _read(plan: str, bill: dict[str, Part]):
    grammar = design_grammar(list(bill.items()), max_nets=8, parts_in_prompt=True)
    return read_plan_nets(plan, bill, grammar), grammar


def test_only_the_lines_after_the_nets_heading_are_net_lines() -> None:
    assert [name for name, _ in plan_lines(PLAN)] == ["GND", "3V3", "DATA"]
    assert plan_lines("Rails: GND common.\nR1: pull-up") == []


def test_valid_lines_are_followed_with_aliases_read_as_pin_names(bill) -> None:
    nets, grammar = _read(PLAN, bill)
    assert [n.problem for n in nets] == [None, None, None]
    assert nets[2].pins == ("U2.DATA", "U1.GPIO4", "R1.2")  # the plan wrote the DHT22's OUT alias
    written = followed(nets, grammar.max_nets)
    assert written[0] == '{"name":"GND","pins":["U1.GND","U2.GND","BT1.-"]}'
    # the followed lines are what the grammar keeps: a design built on them parses
    kept = design_grammar(list(bill.items()), max_nets=8, parts_in_prompt=True, written_nets=written)
    design = Design.from_json(kept.prefix + "]}")
    assert [n.name for n in design.nets] == ["GND", "3V3", "DATA"]


@pytest.mark.parametrize(
    ("line", "dropped"),
    [
        ("X: U1.GPIO4 R1.1 U9.1", "U9.1 is not a pin of a part on the bill"),
        ("X: U1.GPIO4 R1.1 U2.SPEED", "U2.SPEED is not a pin of a part on the bill"),
        ("X: U1.GPIO4 R1.1 U1.GND", "U1.GND is already in an earlier net"),
        ("X: U1.GPIO4 R1.1 BT1.+", "BT1.+ may not share a net with U1.GPIO4, R1.1"),  # a signal pin on 12 V
        ("X: U1.GPIO4 R1.1 U1.GPIO18", "U1.GPIO18 may not share a net with U1.GPIO4, R1.1"),  # two drivers
    ],
)
def test_a_word_that_cannot_be_in_the_net_is_left_out_and_the_rest_followed(bill, line, dropped) -> None:
    nets, grammar = _read("Nets:\nGND: U1.GND U2.GND\n" + line, bill)
    assert nets[1].problem is None
    assert nets[1].pins == ("U1.GPIO4", "R1.1")
    assert nets[1].dropped == (dropped,)
    assert len(followed(nets, grammar.max_nets)) == 2


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("X: U1.GPIO5 U9.1", "it joins fewer than two valid pins (U9.1 is not a pin of a part on the bill)"),
        ("X: U1.GPIO5", "it joins fewer than two valid pins"),
        ("GND: U1.GPIO5 R1.1", "the name GND is used by an earlier net"),
        ("A_NAME_FAR_TOO_LONG_FOR_A_NET: U1.GPIO5 R1.1", "is not one a design may use"),
    ],
)
def test_a_line_that_cannot_be_a_net_is_not_followed_and_says_why(bill, line, problem) -> None:
    nets, grammar = _read("Nets:\nGND: U1.GND U2.GND\n" + line, bill)
    assert nets[0].problem is None
    assert problem in (nets[1].problem or "")
    assert len(followed(nets, grammar.max_nets)) == 1


def test_departures_name_each_planned_net_the_design_does_not_hold_and_why(bill) -> None:
    nets, _ = _read(PLAN.replace("BT1.-", "BT1.- U9.2") + "BAD: U1.GPIO5 U9.1\n", bill)
    design = Design.model_validate(
        {
            "parts": [{"ref": ref, "part": part.id} for ref, part in bill.items()],
            "nets": [
                {"name": "GND", "pins": ["U1.GND", "U2.GND", "BT1.-"]},  # as planned
                {"name": "VDD", "pins": ["U1.3V3", "U2.VCC", "R1.1"]},  # as planned, under another name
                {"name": "DATA", "pins": ["U2.DATA", "U1.GPIO16", "R1.2"]},  # rewired
            ],
        }
    )
    lines = departures(nets, design, rewired={"DATA"})
    assert lines == [
        "plan net GND: followed without U9.2 is not a pin of a part on the bill",
        "plan net DATA (U2.DATA U1.GPIO4 R1.2): rewired by a repair round (its findings are in the repair stage)",
        "plan net BAD (U1.GPIO5): not followed: it joins fewer than two valid pins (U9.1 is not a pin of a part "
        "on the bill)",
    ]
    assert departures(nets, design, rewired=set())[1].endswith("written otherwise")
