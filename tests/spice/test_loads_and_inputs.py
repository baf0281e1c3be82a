"""Two-terminal loads, GPIOs that read inputs, and solutions that cannot be physical."""

from __future__ import annotations

import pytest

from spice import simulate as simulate_module
from spice.netlist import SpiceNetlist, build_netlist
from spice.simulate import simulate
from studio.circuit.examples import example_names, load_example
from studio.circuit.resolve import ResolvedDesign, resolve

SUPPLY_12V_OHM = 0.1  # dc-supply-12v r_internal_ohm


def _low_side_switch(build, load: str | None = None) -> ResolvedDesign:
    """ESP32 3V3 on an IRLZ44N gate through 220 ohm; ``load`` (+/-) from 12 V to the drain, 1N4007 across it."""
    return build(
        [
            ("U1", "esp32-devkit-v1", None),
            ("PS1", "dc-supply-12v", None),
            ("Q1", "nmos-irlz44n", None),
            ("R1", "resistor", "220"),
            ("D1", "diode-1n4007", None),
            *([("M1", load, None)] if load else []),
        ],
        {
            "12V": ["PS1.+", "D1.K", *(["M1.+"] if load else [])],
            "3V3": ["U1.3V3", "R1.1"],
            "GATE": ["R1.2", "Q1.G"],
            "LOW": ["D1.A", "Q1.D", *(["M1.-"] if load else [])],
            "GND": ["PS1.-", "U1.GND", "Q1.S"],
        },
    )


@pytest.mark.parametrize(("part_id", "ohms"), [("fan-12v", 80.0), ("solenoid-12v", 20.0)])
def test_switched_load_draws_its_current_and_the_flyback_diode_stays_off(build, part_id, ohms):
    report = simulate(_low_side_switch(build, part_id))
    assert report.ok, report.error
    op = report.operating_point
    expected_ma = 12.0 / (ohms + SUPPLY_12V_OHM) * 1000  # the MOSFET is fully on: drain within millivolts of 0
    assert op.supply_currents_ma["PS1.+"] == pytest.approx(expected_ma, rel=0.01)
    assert op.node_voltages["LOW"] < 0.05
    assert op.node_voltages["LOW"] < op.node_voltages["12V"]  # D1 reverse biased
    assert not report.findings


def test_load_without_coil_resistance_is_rated_voltage_over_current(build):
    resolved = build(
        [("PS1", "usb-power-5v", None), ("BZ1", "buzzer-active", None)],
        {"5V": ["PS1.+", "BZ1.+"], "GND": ["PS1.-", "BZ1.-"]},
    )
    netlist = build_netlist(resolved)
    assert any(card.startswith("R_BZ1_load ") and card.endswith(" 166.667") for card in netlist.cards)
    assert simulate(resolved).operating_point.supply_currents_ma["PS1.+"] == pytest.approx(30, rel=0.01)


def test_bare_relay_coil_is_its_resistance_and_its_contacts_stay_open(build):
    resolved = build(
        [("PS1", "usb-power-5v", None), ("K1", "relay-5v", None), ("R1", "resistor", "1k")],
        {"5V": ["PS1.+", "K1.COIL1", "K1.COM"], "NO_SIDE": ["K1.NO", "R1.1"], "GND": ["PS1.-", "K1.COIL2", "R1.2"]},
    )
    report = simulate(resolved)
    assert report.ok, report.error
    assert report.operating_point.supply_currents_ma["PS1.+"] == pytest.approx(5.0 / (70 + 0.2) * 1000, rel=0.01)
    assert report.operating_point.node_voltages["NO_SIDE"] == pytest.approx(0.0, abs=1e-6)
    assert any(a.startswith("Relay contacts open: K1 COM/NO") for a in report.assumptions)


def test_current_sense_terminals_are_not_a_load(build):
    # INA219's VIN+/VIN- carry LOAD roles but are a 0.1 ohm shunt, not a load: never rated V / supply current.
    netlist = build_netlist(
        build(
            [("PS1", "usb-power-5v", None), ("U1", "ina219", None)],
            {"5V": ["PS1.+", "U1.VCC", "U1.VIN+"], "LOAD": ["U1.VIN-"], "GND": ["PS1.-", "U1.GND"]},
        )
    )
    assert not any(card.startswith("R_U1_load") for card in netlist.cards)


def test_node_reached_only_through_junctions_gets_a_dc_path(build):
    # Without the fan the drain node is held only by an off 1N4007 and the IRLZ44N channel; ngspice
    # once settled there on the 12 V rail at 717 V. The node now gets 1 GOhm to ground and solves.
    resolved = _low_side_switch(build)
    netlist = build_netlist(resolved)
    low = netlist.node_of_net["LOW"]
    assert any(card.startswith("R_float") and f" {low} 0 " in card for card in netlist.cards)
    report = simulate(resolved)
    assert report.ok, report.error
    assert report.operating_point.node_voltages["12V"] == pytest.approx(12.0, abs=1e-3)
    assert report.operating_point.node_voltages["LOW"] == pytest.approx(0.0, abs=1e-3)


def test_non_physical_operating_point_is_a_readable_failure(build, monkeypatch):
    # The same circuit without its 1 GOhm path: real ngspice returns the 717 V point; it must not become findings.
    def without_float(resolved) -> SpiceNetlist:
        netlist = build_netlist(resolved)
        return netlist.model_copy(update={"cards": [c for c in netlist.cards if not c.startswith("R_float")]})

    monkeypatch.setattr(simulate_module, "build_netlist", without_float)
    report = simulate(_low_side_switch(build))
    assert not report.ok
    assert report.error.startswith("the operating point did not converge to a physical solution")
    assert "12V at 717" in report.error and "no source sets more than 12 V" in report.error
    assert report.operating_point is None and not report.findings


def test_gpio_reading_a_button_with_a_pull_down_is_not_driven(build):
    resolved = build(
        [("U1", "arduino-uno", None), ("SW1", "push-button", None), ("R1", "resistor", "10k")],
        {"5V": ["U1.5V", "SW1.1"], "BUTTON": ["U1.D2", "SW1.2", "R1.1"], "GND": ["U1.GND", "R1.2"]},
    )
    report = simulate(resolved)
    assert report.ok, report.error
    assert report.operating_point.node_voltages["BUTTON"] == pytest.approx(0.0, abs=1e-6)
    assert not report.operating_point.gpio_currents_ma and not report.assumptions


@pytest.mark.parametrize(
    ("drive_net", "extra"),
    [
        (["U1.D9", "R1.1", "R2.1"], {"BASE": ["R1.2", "Q1.B"]}),  # pull-down beside a base resistor
        (["U1.D9", "R2.1", "Q1.B"], {}),  # base straight on the pin, pull-down beside it
    ],
)
def test_gpio_feeding_a_base_is_driven_despite_a_pull_down(build, drive_net, extra):
    resolved = build(
        [
            ("U1", "arduino-uno", None),
            ("Q1", "npn-2n2222", None),
            ("R1", "resistor", "1k"),
            ("R2", "resistor", "100k"),
        ],
        {"DRIVE": drive_net, **extra, "GND": ["U1.GND", "R2.2", "Q1.E"]},
    )
    report = simulate(resolved)
    assert report.ok, report.error
    assert report.operating_point.gpio_currents_ma["U1.D9"] > 0.04  # at least the 100k pull-down's 50 uA
    assert report.assumptions == ["GPIO driven high: U1.D9 at 5 V through 25 ohm"]


@pytest.mark.parametrize("name", example_names())
def test_every_example_simulates_to_a_physical_point(catalog, name):
    report = simulate(resolve(load_example(name), catalog))
    assert report.ok, report.error
    op = report.operating_point
    assert all(0 <= v <= 12.01 for v in op.node_voltages.values())
    assert all(0 <= i < 1000 for i in op.supply_currents_ma.values())
    assert not report.findings
