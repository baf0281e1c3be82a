"""Simulations against hand calculations, with the real ngspice shared library."""

from __future__ import annotations

import math
import time

import pytest

from spice import engine
from spice.simulate import simulate

LED_VF, LED_IF = 2.0, 0.020  # led-red catalog entry
BATTERY_V, BATTERY_R = 9.0, 1.5  # battery-9v catalog entry


def test_divider_ratio_matches_hand_calculation(build):
    resolved = build(
        [("BT1", "battery-9v", None), ("R1", "resistor", "10k"), ("R2", "resistor", "4k7")],
        {"VBAT": ["BT1.+", "R1.1"], "TAP": ["R1.2", "R2.1"], "GND": ["R2.2", "BT1.-"]},
    )
    report = simulate(resolved)
    assert report.ok, report.error
    (divider,) = [a for a in report.analyses if a.kind == "divider"]
    assert divider.values["ratio"] == pytest.approx(4.7 / 14.7, rel=0.02)
    current = BATTERY_V / (BATTERY_R + 14_700)
    assert report.operating_point.node_voltages["TAP"] == pytest.approx(current * 4_700, rel=0.02)
    assert divider.plot is not None and divider.plot.series[0].y[-1] == pytest.approx(divider.values["v_out"], rel=0.02)


def test_led_current_matches_hand_calculation(build):
    resolved = build(
        [("BT1", "battery-9v", None), ("R1", "resistor", "330"), ("D1", "led-red", None)],
        {"VBAT": ["BT1.+", "R1.1"], "A": ["R1.2", "D1.A"], "GND": ["D1.K", "BT1.-"]},
    )
    report = simulate(resolved)
    assert report.ok, report.error
    expected_ma = (BATTERY_V - LED_VF) / (330 + BATTERY_R) * 1000
    assert report.operating_point.led_currents_ma["D1"] == pytest.approx(expected_ma, rel=0.02)
    assert not report.findings  # 21 mA is under the LED's 30 mA maximum


def test_led_model_is_fitted_to_the_rated_point(build):
    # Near its rated 20 mA the LED must sit at vf_v, moving by n*Vt*ln(I/If) + (I - If)*Rs (n=2, Rs=1).
    resolved = build(
        [("U1", "esp32-devkit-v1", None), ("R1", "resistor", "65"), ("D1", "led-red", None)],
        {"V33": ["U1.3V3", "R1.1"], "A": ["R1.2", "D1.A"], "GND": ["D1.K", "U1.GND"]},
    )
    report = simulate(resolved)
    current = report.operating_point.led_currents_ma["D1"] / 1000
    anode = report.operating_point.node_voltages["A"]
    assert 0.015 < current < 0.025
    assert anode == pytest.approx(LED_VF + 2 * 0.025865 * math.log(current / LED_IF) + (current - LED_IF), abs=0.002)


@pytest.mark.parametrize(("series", "shunt"), [("resistor", "capacitor-ceramic"), ("capacitor-ceramic", "resistor")])
def test_rc_cutoff_matches_hand_calculation(build, series, shunt):
    values = {"resistor": "1k", "capacitor-ceramic": "100nF"}
    resolved = build(
        [("BT1", "battery-9v", None), ("P1", series, values[series]), ("P2", shunt, values[shunt])],
        {"VBAT": ["BT1.+", "P1.1"], "OUT": ["P1.2", "P2.1"], "GND": ["P2.2", "BT1.-"]},
    )
    report = simulate(resolved)
    assert report.ok, report.error
    (rc,) = [a for a in report.analyses if a.kind == "rc_filter"]
    assert rc.values["cutoff_hz"] == pytest.approx(1 / (2 * math.pi * 1e3 * 100e-9), rel=0.02)
    assert ("low" in rc.title) == (shunt == "capacitor-ceramic")
    assert rc.plot is not None and rc.plot.x_log and len(rc.plot.series[0].x) > 100


def test_555_astable_frequency_within_five_percent(build):
    resolved = build(
        [
            ("BT1", "battery-9v", None),
            ("U1", "ne555", None),
            ("R1", "resistor", "1k"),
            ("R2", "resistor", "10k"),
            ("C1", "capacitor-ceramic", "100nF"),
            ("C2", "capacitor-ceramic", "10nF"),
        ],
        {
            "VCC": ["BT1.+", "U1.VCC", "U1.RESET", "R1.1"],
            "DIS": ["R1.2", "U1.DISCH", "R2.1"],
            "THR": ["R2.2", "U1.THR", "U1.TRIG", "C1.1"],
            "CTRL": ["U1.CTRL", "C2.1"],
            "GND": ["BT1.-", "U1.GND", "C1.2", "C2.2"],
        },
    )
    report = simulate(resolved)
    assert report.ok, report.error
    (timer,) = [a for a in report.analyses if a.kind == "timer555"]
    textbook = 1.44 / ((1e3 + 2 * 10e3) * 100e-9)
    assert timer.values["frequency_hz"] == pytest.approx(textbook, rel=0.05)
    assert timer.values["duty"] == pytest.approx(11 / 21, abs=0.03)
    output = timer.plot.series[0].y
    assert max(output) > 6.5 and min(output) < 0.5  # swings from about VCC - 1.7 V to ground


def test_gpio_driving_led_through_47_ohm_is_flagged(build):
    resolved = build(
        [("U1", "arduino-uno", None), ("R1", "resistor", "47"), ("D1", "led-red", None)],
        {"LED": ["U1.D13", "R1.1"], "A": ["R1.2", "D1.A"], "GND": ["D1.K", "U1.GND"]},
    )
    report = simulate(resolved)
    assert report.ok, report.error
    rules = {f.rule: f for f in report.findings}
    assert rules["gpio_overcurrent"].refs == ["U1"] and "U1.D13" in rules["gpio_overcurrent"].message
    assert rules["led_overcurrent"].severity == "major"
    assert report.operating_point.gpio_currents_ma["U1.D13"] > 20
    assert any(a.startswith("GPIO driven high: U1.D13") for a in report.assumptions)


def test_gpio_reading_a_divider_is_not_driven(build):
    resolved = build(
        [("U1", "arduino-uno", None), ("R1", "resistor", "10k"), ("R2", "resistor", "10k")],
        {"5V": ["U1.5V", "R1.1"], "SENSE": ["R1.2", "R2.1", "U1.A0"], "GND": ["R2.2", "U1.GND"]},
    )
    report = simulate(resolved)
    assert report.operating_point.node_voltages["SENSE"] == pytest.approx(2.5, rel=0.01)
    assert not report.operating_point.gpio_currents_ma and not report.assumptions


def test_regulator_in_dropout_is_flagged(build):
    resolved = build(
        [("U1", "arduino-uno", None), ("U2", "lm7805", None), ("R1", "resistor", "1k")],
        {"5V": ["U1.5V", "U2.IN"], "OUT": ["U2.OUT", "R1.1"], "GND": ["R1.2", "U1.GND", "U2.GND"]},
    )
    report = simulate(resolved)
    assert report.ok, report.error
    (finding,) = [f for f in report.findings if f.rule == "regulator_dropout"]
    assert finding.refs == ["U2"]
    assert report.operating_point.node_voltages["OUT"] == pytest.approx(3.0, abs=0.05)


def test_regulator_with_headroom_regulates_and_draws_load_from_input(build):
    resolved = build(
        [("BT1", "battery-9v", None), ("U2", "lm7805", None), ("R1", "resistor", "100")],
        {"VBAT": ["BT1.+", "U2.IN"], "5V": ["U2.OUT", "R1.1"], "GND": ["R1.2", "BT1.-", "U2.GND"]},
    )
    report = simulate(resolved)
    assert not [f for f in report.findings if f.rule == "regulator_dropout"]
    assert report.operating_point.rail_voltages["5V"] == pytest.approx(5.0, rel=0.01)
    assert report.operating_point.supply_currents_ma["BT1.+"] == pytest.approx(50 + 5, rel=0.02)  # load + iq


def test_unknown_part_is_skipped_and_the_rest_simulates(build):
    resolved = build(
        [
            ("BT1", "battery-9v", None),
            ("R1", "resistor", "330"),
            ("D1", "led-red", None),
            ("X1", "flux-capacitor", None),
        ],
        {"VBAT": ["BT1.+", "R1.1", "X1.IN"], "A": ["R1.2", "D1.A"], "GND": ["D1.K", "BT1.-", "X1.GND"]},
    )
    report = simulate(resolved)
    assert report.ok, report.error
    assert report.operating_point.led_currents_ma["D1"] == pytest.approx(21.1, rel=0.02)
    assert any("X1" in note and "flux-capacitor" in note for note in report.notes)


def test_nothing_to_simulate_is_a_readable_failure(build):
    report = simulate(build([("X1", "flux-capacitor", None)], {}))
    assert not report.ok and "nothing to simulate" in report.error


def test_ngspice_errors_become_simulation_errors():
    with pytest.raises(engine.SimulationError, match="singular"):
        engine.run("* two sources fighting\nV1 a 0 DC 1\nV2 a 0 DC 2\n.op\n.end\n")
    assert engine.run(STILL_USABLE)["a"][0] == pytest.approx(1.0)


LONG_TRANSIENT = (
    "* an RC stepped for ten seconds at a nanosecond\nV1 a 0 DC 1\nR1 a b 1k\nC1 b 0 1u\n.tran 1n 10\n.end\n"
)
STILL_USABLE = "* still usable\nV1 a 0 DC 1\nR1 a 0 1k\n.op\n.end\n"


def test_a_run_past_its_time_limit_is_stopped_and_the_next_one_runs():
    start = time.monotonic()
    with pytest.raises(engine.SimulationError, match=r"did not finish within 0.5 s"):
        engine.run(LONG_TRANSIENT, time_limit_s=0.5)
    assert time.monotonic() - start < 2
    assert engine.run(STILL_USABLE)["a"][0] == pytest.approx(1.0)


def test_a_crashed_ngspice_is_an_error_and_the_next_run_gets_a_fresh_one():
    engine.run(STILL_USABLE)
    engine._worker._process.kill()  # as ngspice's abort() on an internal assertion ends its process
    with pytest.raises(engine.SimulationError, match="ngspice crashed on this circuit"):
        engine.run(STILL_USABLE)
    assert engine.run(STILL_USABLE)["a"][0] == pytest.approx(1.0)


def test_a_thirty_part_operating_point_finds_every_led_current(build):
    """The 30-part circuit benchmarks/toolkit.py times; here only the result is asserted."""
    parts = [("BT1", "battery-9v", None), ("U1", "lm7805", None)]
    nets: dict[str, list[str]] = {"VBAT": ["BT1.+", "U1.IN"], "5V": ["U1.OUT"], "GND": ["BT1.-", "U1.GND"]}
    for i in range(14):
        parts += [(f"R{i}", "resistor", "1k"), (f"D{i}", "led-red", None)]
        nets["5V"].append(f"R{i}.1")
        nets[f"A{i}"] = [f"R{i}.2", f"D{i}.A"]
        nets["GND"].append(f"D{i}.K")
    resolved = build(parts, nets)
    report = simulate(resolved, analyses=False)
    assert report.ok and len(report.operating_point.led_currents_ma) == 14


def test_a_simulation_leaves_the_language_models_thread_count_alone(build):
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        resolved = build(
            [("BT1", "battery-9v", None), ("R1", "resistor", "10k"), ("R2", "resistor", "10k")],
            {"VBAT": ["BT1.+", "R1.1"], "TAP": ["R1.2", "R2.1"], "GND": ["R2.2", "BT1.-"]},
        )
        assert simulate(resolved).ok
        assert torch.get_num_threads() == 1  # ngspice's OpenMP start-up would set it to the core count
    finally:
        torch.set_num_threads(before)
