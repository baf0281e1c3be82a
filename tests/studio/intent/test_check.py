"""Holding a design against what its request names: parts (present, substituted, missing), counts,
parts the knowledge base lacks, interfaces and numbers, and what joins the ERC from the simulation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agents.checks import check_design, simulated_led_overcurrent
from spice.results import Finding, SpiceReport
from studio.circuit.design import Design
from studio.circuit.resolve import resolve
from studio.erc import run_erc
from studio.intent import check_intent
from tests.fixtures.designs import make_design

EXAMPLES = Path(__file__).resolve().parents[3] / "studio" / "circuit" / "examples"


ESP_DHT11 = make_design(
    {"U1": "esp32-devkit-v1", "S1": "dht11", "R1": "resistor=10k"},
    {"3V3": ["U1.3V3", "S1.VCC", "R1.1"], "DATA": ["U1.GPIO4", "S1.DATA", "R1.2"], "GND": ["U1.GND", "S1.GND"]},
)
ESP_LEDS = make_design(
    {"U1": "esp32-devkit-v1", "R1": "resistor=220", "D1": "led-green", "R2": "resistor=220", "D2": "led-red"},
    {
        "L1": ["U1.GPIO2", "R1.1"],
        "A1": ["R1.2", "D1.A"],
        "L2": ["U1.GPIO4", "R2.1"],
        "A2": ["R2.2", "D2.A"],
        "GND": ["D1.K", "D2.K", "U1.GND"],
    },
)
ESP_BME = make_design(
    {"U1": "esp32-devkit-v1", "S1": "bme280"},
    {
        "3V3": ["U1.3V3", "S1.VIN"],
        "GND": ["U1.GND", "S1.GND"],
        "SDA": ["U1.GPIO21", "S1.SDA"],
        "SCL": ["U1.GPIO22", "S1.SCL"],
    },
)


def requirements(reader, kb, text: str, d: Design):
    report = check_intent(reader.read(text), resolve(d, kb))
    return report, {(r.kind, r.text): r.status for r in report.requirements}


def test_every_named_part_present_is_met(reader, kb):
    report, found = requirements(reader, kb, "an ESP32 reads a DHT11", ESP_DHT11)
    assert report.met and report.score == 1.0 and report.verdict == "met"
    assert set(found.values()) == {"met"}


def test_another_part_in_a_named_ones_place_is_a_substitution_said_in_words(reader, kb):
    report, found = requirements(reader, kb, "an ESP32 reads a DHT22", ESP_DHT11)
    assert found[("part", "DHT22")] == "substituted" and not report.met
    (sub,) = report.substitutions
    assert sub.used == "dht11" and sub.refs == ["S1"] and "sensor" in sub.why
    assert "dht11 (S1) in place of DHT22" in report.verdict


def test_a_named_part_nothing_stands_in_for_is_missing(reader, kb):
    report, found = requirements(reader, kb, "an ESP32 with a DHT11 and an HC-SR04", ESP_DHT11)
    assert found[("part", "HC-SR04")] == "missing" and report.score == pytest.approx(2 / 3, abs=1e-3)


def test_a_generic_name_is_met_by_any_of_its_family_and_counts_are_held(reader, kb):
    _, found = requirements(reader, kb, "two LEDs on an ESP32", ESP_LEDS)
    assert found[("part", "LEDs")] == "met" and found[("count", "2 x LEDs")] == "met"
    report, found = requirements(reader, kb, "three LEDs on an ESP32", ESP_LEDS)
    assert found[("count", "3 x LEDs")] == "not-met" and "2 in the design, 3 asked for" in report.verdict


def test_a_part_the_knowledge_base_lacks_is_never_silently_replaced(reader, kb):
    stepper = make_design(
        {"U1": "arduino-uno", "U2": "drv8825-module", "M1": "stepper-nema17"},
        {"STEP": ["U1.D3", "U2.STEP"], "DIR": ["U1.D4", "U2.DIR"], "GND": ["U1.GND", "U2.GND"]},
    )
    report, found = requirements(reader, kb, "Use a TB67S109 to drive a NEMA17 stepper from an Arduino Uno", stepper)
    assert found[("out-of-knowledge", "TB67S109")] == "out-of-knowledge" and not report.met
    assert [u.name for u in report.out_of_knowledge] == ["TB67S109"]
    assert "TB67S109 is not in the knowledge base" in report.verdict and "parts add" in report.verdict
    (sub,) = report.substitutions
    assert sub.used == "drv8825-module" and "drv8825-module (U2)" in report.verdict and "in its place" in report.verdict


def test_a_stand_in_for_an_unknown_part_is_named_even_when_its_nearest_parts_say_little(reader, kb):
    stepper = make_design(
        {"U1": "arduino-uno", "U2": "drv8825-module", "M1": "stepper-nema17", "P1": "dc-supply-12v"},
        {"STEP": ["U1.D3", "U2.STEP"], "GND": ["U1.GND", "U2.GND", "P1.-"], "12V": ["P1.+", "U2.VMOT"]},
    )
    report = check_intent(reader.read("a TB67S109 with an Arduino Uno and a NEMA17"), resolve(stepper, kb))
    (sub,) = report.substitutions
    assert sub.used == "drv8825-module" and sub.refs == ["U2"]  # not the supply, not the board


def test_interfaces_asked_for_must_be_wired(reader, kb):
    _, found = requirements(reader, kb, "ESP32 reads a BME280 over I2C", ESP_BME)
    assert found[("interface", "I2C")] == "met"
    _, found = requirements(reader, kb, "ESP32 reads a BME280 over SPI", ESP_BME)
    assert found[("interface", "SPI")] == "not-met"


def test_a_supply_voltage_is_held_against_the_rails_and_a_measuring_range_is_not(reader, kb):
    _, found = requirements(reader, kb, "ESP32 reads a BME280 on its 3.3 V rail", ESP_BME)
    assert found[("number", "3.3 V")] == "met"
    _, found = requirements(reader, kb, "ESP32 reads a BME280 from a 12 V supply", ESP_BME)
    assert found[("number", "12 V")] == "not-met"
    _, found = requirements(reader, kb, "ESP32 with a BME280 measures up to 25 V", ESP_BME)
    assert found[("number", "25 V")] == "unchecked"


def test_a_blink_rate_an_mcu_sets_in_software_is_unchecked(reader, kb):
    _, found = requirements(reader, kb, "blink two LEDs on an ESP32 at 2 Hz", ESP_LEDS)
    assert found[("number", "2 Hz")] == "unchecked"


def test_nothing_about_a_circuit_is_not_understood(reader, kb):
    report = check_intent(reader.read("make me a sandwich"), resolve(ESP_LEDS, kb))
    assert not report.understood and not report.met and report.verdict.startswith("not understood")


# -- with the simulation, in check_design ------------------------------------------------------------

BLINKER = Design.model_validate(json.loads((EXAMPLES / "ne555-blinker.json").read_text(encoding="utf-8")))


def test_a_simulated_frequency_far_from_the_request_is_a_major_erc_finding(reader, kb):
    check = check_design(
        resolve(BLINKER, kb), reading=reader.read("a 555 blinking an LED at about 1 Hz from a 9 V battery")
    )
    (found,) = [v for v in check.erc.violations if v.rule == "spice-off-target"]
    assert found.severity == "major" and not check.erc.passed and not check.right
    assert "1 Hz" in found.message and "Hz" in found.message.split("SPICE gives")[1] and "U1" in found.refs
    measured = check.intent.off_target[0].found
    close = check_design(
        resolve(BLINKER, kb), reading=reader.read(f"a 555 blinking an LED at {measured:.1f} Hz from a 9 V battery")
    )
    assert "spice-off-target" not in close.erc.rule_ids() and close.intent.met


def test_a_simulated_led_overcurrent_joins_the_erc_once(kb):
    led = make_design(
        {"U1": "arduino-uno", "R1": "resistor=47", "D1": "led-red"},
        {"RAIL": ["U1.5V", "R1.1"], "N2": ["R1.2", "D1.A"], "GND": ["D1.K", "U1.GND"]},
    )
    check = check_design(resolve(led, kb))
    assert "led-overcurrent" in check.erc.rule_ids() and "led-overcurrent-simulated" not in check.erc.rule_ids()
    # where the estimate from the netlist says nothing, the simulated current decides
    quiet = run_erc(resolve(ESP_LEDS, kb))
    spice = SpiceReport(
        ok=True,
        findings=[Finding(rule="led_overcurrent", severity="major", message="LED D1 carries 60 mA", refs=["D1"])],
    )
    (found,) = simulated_led_overcurrent(quiet, spice)
    assert found.rule == "led-overcurrent-simulated" and found.severity == "major" and found.refs == ["D1"]
    assert simulated_led_overcurrent(quiet, SpiceReport(ok=True)) == []
