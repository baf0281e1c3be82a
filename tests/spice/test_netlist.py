"""Netlist text: names, values, and that no user text can become a card."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from spice.netlist import build_netlist, netlist_text
from spice.simulate import simulate
from studio.circuit.design import Design

CONTROL_WORDS = (".control", ".endc", "shell")


def _cards(text: str) -> list[str]:
    return [line.strip().lower() for line in text.splitlines()]


def test_value_carrying_a_control_block_is_rejected_by_the_design():
    with pytest.raises(ValidationError):
        Design.model_validate(
            {"parts": [{"ref": "R1", "part": "resistor", "value": "1k\n.control\nshell touch /tmp/x"}], "nets": []}
        )


def test_hostile_title_and_names_neither_inject_a_card_nor_execute(build, tmp_path):
    target = tmp_path / "pwned"
    resolved = build(
        [("BT1", "battery-9v", None), ("R1", "resistor", "1k"), ("R_x_endc", "resistor", "1k")],
        {
            ".control": ["BT1.+", "R1.1"],
            "/tmp/shell~touch": ["R1.2", "R_x_endc.1"],
            "GND": ["R_x_endc.2", "BT1.-"],
        },
        title=f"demo\n.control\nshell touch {target}\n.endc\n.end",
    )
    text = netlist_text(resolved)
    for card in _cards(text):
        assert not card.startswith(CONTROL_WORDS), card
    assert sum(card == ".end" for card in _cards(text)) == 1
    assert text.splitlines()[0].startswith("* ")  # the title is a comment on one line
    report = simulate(resolved)
    assert report.ok, report.error
    assert not target.exists()
    assert report.operating_point.node_voltages["/tmp/shell~touch"] == pytest.approx(4.5, rel=0.01)


def test_render_refuses_a_card_outside_the_allow_list(build):
    netlist = build_netlist(build([("R1", "resistor", "1k")], {"A": ["R1.1"], "GND": ["R1.2"]}))
    netlist.cards.append(".control")
    with pytest.raises(ValueError, match="unexpected netlist card"):
        netlist.render()


def test_nodes_and_elements_are_sanitised_unique_and_ground_is_zero(build):
    resolved = build(
        [("BT1", "battery-9v", None), ("R1", "resistor", "4k7"), ("R2", "resistor", "2R2")],
        {"V+": ["BT1.+", "R1.1"], "V-": ["R1.2", "R2.1"], "GND": ["R2.2", "BT1.-"]},
    )
    netlist = build_netlist(resolved)
    assert netlist.node_of_net["GND"] == "0"
    assert netlist.node_of_net["V+"] != netlist.node_of_net["V-"]
    cards = netlist.render().splitlines()
    assert f"R_R1 {netlist.node_of_net['V+']} {netlist.node_of_net['V-']} 4700" in cards
    assert f"R_R2 {netlist.node_of_net['V-']} 0 2.2" in cards  # never "M" (milli in SPICE)


def test_floating_node_gets_a_resistor_to_ground(build):
    resolved = build(
        [("BT1", "battery-9v", None), ("C1", "capacitor-ceramic", "100nF"), ("C2", "capacitor-ceramic", "100nF")],
        {"VBAT": ["BT1.+", "C1.1"], "MID": ["C1.2", "C2.1"], "GND": ["C2.2", "BT1.-"]},
    )
    netlist = build_netlist(resolved)
    mid = netlist.node_of_net["MID"]
    assert any(card.startswith("R_float") and f" {mid} 0 " in card for card in netlist.cards)
    assert simulate(resolved).ok


def test_unknown_part_is_left_out_with_a_note(build):
    netlist = build_netlist(build([("R1", "resistor", "1k"), ("X1", "flux-capacitor", None)], {"A": ["R1.1", "X1.1"]}))
    assert not any("X1" in card for card in netlist.cards if not card.startswith("*"))
    assert any("X1" in note for note in netlist.notes)
