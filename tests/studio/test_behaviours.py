"""Each design behaviour on hand-made designs: shown, not shown, and not applicable."""

from __future__ import annotations

import pytest

from studio.behaviours import BEHAVIOURS, measure
from studio.circuit.resolve import resolve
from studio.erc import run_erc
from tests.fixtures.catalog import shipped_catalog
from tests.fixtures.designs import COIL, COIL_NETS, make_design

CATALOG = shipped_catalog()
ESP, UNO = "esp32-devkit-v1", "arduino-uno"


def shown(name: str, parts: dict[str, str], nets: dict[str, list[str]]) -> bool | None:
    resolved = resolve(make_design(parts, nets), CATALOG)
    return measure(name, resolved, run_erc(resolved))


LED = {"U1": ESP, "R1": "resistor=220", "D1": "led-red"}
LED_NETS = {"LED": ["U1.GPIO2", "R1.1"], "A": ["R1.2", "D1.A"], "GND": ["D1.K", "U1.GND"]}
BARE_LED_NETS = {"A": ["U1.GPIO2", "D1.A"], "GND": ["D1.K", "U1.GND"]}
DIODE_NETS = {**COIL_NETS, "5V": ["U1.5V", "K1.COIL1", "D1.K"], "SW": ["K1.COIL2", "Q1.C", "D1.A"]}
I2C_BARE = {"U1": ESP, "X1": "mcp23017"}
I2C_NETS = {
    "3V3": ["U1.3V3", "X1.VDD"],
    "GND": ["U1.GND", "X1.VSS"],
    "SDA": ["U1.GPIO21", "X1.SDA"],
    "SCL": ["U1.GPIO22", "X1.SCL"],
}
PULLED = {**I2C_BARE, "R1": "resistor=4k7", "R2": "resistor=4k7"}
PULLED_NETS = {
    **I2C_NETS,
    "3V3": ["U1.3V3", "X1.VDD", "R1.1", "R2.1"],
    "SDA": ["U1.GPIO21", "X1.SDA", "R1.2"],
    "SCL": ["U1.GPIO22", "X1.SCL", "R2.2"],
}
SONAR = {"U1": ESP, "S1": "hc-sr04", "B1": "usb-power-5v"}
SONAR_NETS = {
    "5V": ["B1.+", "U1.VIN", "S1.VCC"],
    "GND": ["B1.-", "U1.GND", "S1.GND"],
    "TRIG": ["U1.GPIO5", "S1.TRIG"],
    "ECHO": ["U1.GPIO18", "S1.ECHO"],
}
DIVIDED = {**SONAR, "R1": "resistor=1k", "R2": "resistor=2k"}
DIVIDED_NETS = {
    **SONAR_NETS,
    "GND": ["B1.-", "U1.GND", "S1.GND", "R2.2"],
    "ECHO": ["S1.ECHO", "R1.1"],
    "ECHO_3V3": ["R1.2", "R2.1", "U1.GPIO18"],
}
HIGH_SUPPLY = {"P1": "dc-supply-12v", "U1": "raspberry-pi-pico"}


@pytest.mark.parametrize(
    ("name", "parts", "nets", "expected"),
    [
        ("led-resistor", LED, LED_NETS, True),
        ("led-resistor", LED, BARE_LED_NETS, False),
        ("led-resistor", {**LED, "R1": "resistor=0"}, LED_NETS, False),
        ("led-resistor", COIL, COIL_NETS, None),
        ("flyback-diode", {**COIL, "D1": "diode-1n4007"}, DIODE_NETS, True),
        ("flyback-diode", COIL, COIL_NETS, False),
        ("flyback-diode", LED, LED_NETS, None),
        ("i2c-pullups", PULLED, PULLED_NETS, True),
        ("i2c-pullups", I2C_BARE, I2C_NETS, False),
        ("i2c-pullups", LED, LED_NETS, None),
        ("i2c-wiring", I2C_BARE, I2C_NETS, True),
        ("i2c-wiring", I2C_BARE, {k: v for k, v in I2C_NETS.items() if k != "SCL"}, False),
        ("i2c-wiring", LED, LED_NETS, None),
        ("level-shifting", DIVIDED, DIVIDED_NETS, True),
        ("level-shifting", SONAR, SONAR_NETS, False),
        ("level-shifting", LED, LED_NETS, None),
        (
            "decoupling",
            {**I2C_BARE, "C1": "capacitor-ceramic"},
            {**I2C_NETS, "3V3": [*I2C_NETS["3V3"], "C1.1"], "GND": [*I2C_NETS["GND"], "C1.2"]},
            True,
        ),
        ("decoupling", I2C_BARE, I2C_NETS, False),
        ("decoupling", LED, LED_NETS, None),
        (
            "regulation",
            {**HIGH_SUPPLY, "U2": "lm7805", "C1": "capacitor-ceramic", "C2": "capacitor-ceramic=330nF"},
            {
                "12V": ["P1.+", "U2.IN", "C2.1"],
                "5V": ["U2.OUT", "U1.VSYS", "C1.1"],
                "GND": ["P1.-", "U2.GND", "U1.GND", "C1.2", "C2.2"],
            },
            True,
        ),
        ("regulation", HIGH_SUPPLY, {"12V": ["P1.+", "U1.VSYS"], "GND": ["P1.-", "U1.GND"]}, False),
        ("regulation", LED, LED_NETS, None),
    ],
)
def test_behaviour(name, parts, nets, expected):
    assert shown(name, parts, nets) is expected


def test_every_behaviour_has_a_shown_a_not_shown_and_a_not_applicable_case():
    cases = test_behaviour.pytestmark[0].args[1]
    for name in BEHAVIOURS:
        assert {c[3] for c in cases if c[0] == name} == {True, False, None}, name
