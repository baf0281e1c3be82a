"""Every ERC rule: a small design with real catalog parts that triggers it, and a close one that does not."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from components_db.schema import ElectricalType
from studio.erc.findings import Severity
from studio.erc.registry import RULES
from tests.fixtures.designs import COIL, COIL_NETS


@dataclass(frozen=True)
class Case:
    rule: str
    fires: bool
    parts: dict[str, str]
    nets: dict[str, list[str]]
    label: str = ""
    needs: tuple[str, ...] = field(default=())  # planned catalog parts the case waits for

    @property
    def id(self) -> str:
        return f"{self.rule}-{'fires' if self.fires else 'quiet'}{'-' + self.label if self.label else ''}"


ESP, UNO = "esp32-devkit-v1", "arduino-uno"
# an ESP32 blinking an LED through 220 ohm: the clean baseline most cases change one thing in
LED_OK = (
    {"U1": ESP, "R1": "resistor=220", "D1": "led-red"},
    {"LED": ["U1.GPIO2", "R1.1"], "N2": ["R1.2", "D1.A"], "GND": ["D1.K", "U1.GND"]},
)
# 9 V battery -> 7805 (with its capacitors) -> 5 V rail
SUPPLY_PARTS = {"B1": "battery-9v", "U9": "lm7805", "C8": "capacitor-ceramic", "C9": "capacitor-ceramic=330nF"}
SUPPLY_NETS = {
    "VBAT": ["B1.+", "U9.IN", "C9.1"],
    "5V": ["U9.OUT", "C8.1"],
    "GND": ["B1.-", "U9.GND", "C8.2", "C9.2"],
}


def supplied(parts: dict[str, str], nets: dict[str, list[str]]) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Add the battery + 7805 supply; nets named 5V or GND are merged with the supply's."""
    merged = {k: list(v) for k, v in SUPPLY_NETS.items()}
    for name, pins in nets.items():
        merged.setdefault(name, []).extend(pins)
    return {**SUPPLY_PARTS, **parts}, merged


def led(value: str, rail: str) -> tuple[dict[str, str], dict[str, list[str]]]:
    """An LED from a board rail through a resistor of ``value`` to ground."""
    return (
        {"U1": UNO, "R1": f"resistor={value}", "D1": "led-red"},
        {"RAIL": [f"U1.{rail}", "R1.1"], "N2": ["R1.2", "D1.A"], "GND": ["D1.K", "U1.GND"]},
    )


DHT = {"U1": ESP, "S1": "dht22", "R1": "resistor=10k"}
DHT_NETS = {"3V3": ["U1.3V3", "S1.VCC", "R1.1"], "DATA": ["U1.GPIO4", "S1.DATA", "R1.2"], "GND": ["U1.GND", "S1.GND"]}
BME = {"U1": ESP, "S1": "bme280"}
BME_NETS = {"3V3": ["U1.3V3", "S1.VIN"], "GND": ["U1.GND", "S1.GND"], "SDA": ["U1.GPIO21", "S1.SDA"]}
BME_NETS_OK = {**BME_NETS, "SCL": ["U1.GPIO22", "S1.SCL"]}
# COIL: a relay coil switched by an NPN from an Uno pin (tests.fixtures.designs); the diode case adds the flyback diode
# an Uno driving a DC motor through an L298N powered by a 9 V battery
HBRIDGE = {"U1": UNO, "M1": "l298n-module", "B1": "battery-9v", "MT": "dc-motor-6v"}
HBRIDGE_NETS = {
    "VS": ["B1.+", "M1.VS"],
    "GND": ["B1.-", "M1.GND", "U1.GND"],
    "IN1": ["U1.D7", "M1.IN1"],
    "IN2": ["U1.D8", "M1.IN2"],
    "MA": ["M1.OUT1", "MT.+"],
    "MB": ["M1.OUT2", "MT.-"],
}
TWO_GROUNDS = {"GND": ["U1.GND", "U2.GND"]}
BUTTON = {"U1": ESP, "SW1": "push-button"}
BUTTON_NETS = {"BTN": ["U1.GPIO4", "SW1.1"], "GND": ["SW1.2", "U1.GND"]}

GPS = {"U1": ESP, "G1": "neo6m-gps"}
GPS_NETS = {
    "3V3": ["U1.3V3", "G1.VCC"],
    "GND": ["U1.GND", "G1.GND"],
    "FROM_GPS": ["G1.TX", "U1.GPIO16"],
    "TO_GPS": ["U1.GPIO17", "G1.RX"],
}
SONAR = {"U1": UNO, "S1": "hc-sr04"}
SONAR_NETS = {
    "5V": ["U1.5V", "S1.VCC"],
    "TRIG": ["U1.D9", "S1.TRIG"],
    "ECHO": ["U1.D10", "S1.ECHO"],
    "GND": ["U1.GND", "S1.GND"],
}
LCD = {"U1": UNO, "L1": "lcd1602-i2c"}
LCD_NETS = {
    "5V": ["U1.5V", "L1.VCC"],
    "SDA": ["U1.A4", "L1.SDA"],
    "SCL": ["U1.A5", "L1.SCL"],
    "GND": ["U1.GND", "L1.GND"],
}
OLED = {"U1": ESP, "D1": "oled-ssd1306-i2c"}
OLED_NETS = {
    "3V3": ["U1.3V3", "D1.VCC"],
    "SDA": ["U1.GPIO21", "D1.SDA"],
    "SCL": ["U1.GPIO22", "D1.SCL"],
    "GND": ["U1.GND", "D1.GND"],
}
# a 6 V motor switched by a TIP120 with its flyback diode, from a supply given by the case
MOTOR = {"U1": UNO, "M1": "dc-motor-6v", "Q1": "npn-tip120", "R1": "resistor=1k", "D1": "diode-1n4007"}


def motor_from(supply: str) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The motor's switch circuit powered from the part ``supply`` (its + and - pins)."""
    return {**MOTOR, "P1": supply}, {
        "VM": ["P1.+", "M1.+", "D1.K"],
        "SW": ["M1.-", "Q1.C", "D1.A"],
        "BASE": ["U1.D9", "R1.1"],
        "B": ["R1.2", "Q1.B"],
        "GND": ["P1.-", "Q1.E", "U1.GND"],
    }


CASES = [
    # structure
    Case("unknown-part", True, {"U1": "esp32-devkit-v2"}, {}),
    Case("unknown-part", False, *LED_OK),
    Case("unknown-pin", True, LED_OK[0], {**LED_OK[1], "LED": ["U1.GPIO99", "R1.1"]}),
    Case("unknown-pin", False, *LED_OK),
    Case("duplicate-connection", True, BME, {**BME_NETS_OK, "SDA": ["U1.GPIO21", "U1.SDA", "S1.SDA"]}, "alias"),
    Case("duplicate-connection", False, BME, BME_NETS_OK),
    Case("pin-on-two-nets", True, LED_OK[0], {**LED_OK[1], "GND2": ["U1.GND", "D1.K"], "GND": ["U1.GND"]}),
    Case("pin-on-two-nets", False, *LED_OK),
    Case("unconnected-part", True, {**LED_OK[0], "R9": "resistor"}, LED_OK[1]),
    Case("unconnected-part", False, *LED_OK),
    Case("unconnected-part", True, {**LED_OK[0], "R9": "resistor"}, {**LED_OK[1], "X": ["R9.1"]}, "one-pin-net"),
    Case("required-pin-unconnected", True, SONAR, {k: v for k, v in SONAR_NETS.items() if k != "ECHO"}, "echo"),
    Case("required-pin-unconnected", True, LCD, {k: v for k, v in LCD_NETS.items() if k != "SDA"}, "display-bus"),
    Case("required-pin-unconnected", False, SONAR, SONAR_NETS),
    Case("required-pin-unconnected", False, LCD, LCD_NETS),
    Case("single-pin-net", True, SONAR, {**SONAR_NETS, "SPARE": ["U1.D7"]}),
    Case("single-pin-net", False, SONAR, SONAR_NETS),
    Case("unconnected-input", True, GPS, {k: v for k, v in GPS_NETS.items() if k != "TO_GPS"}, "gps-rx"),
    Case("unconnected-input", False, GPS, GPS_NETS),
    # pin-conflict matrix and drive rules
    Case("output-conflict", True, HBRIDGE, {**HBRIDGE_NETS, "MA": ["M1.OUT1", "M1.OUT2", "MT.+"], "MB": ["MT.-"]}),
    Case("output-conflict", False, HBRIDGE, HBRIDGE_NETS),
    Case("output-on-rail", True, HBRIDGE, {**HBRIDGE_NETS, "MB": ["MT.-"], "GND": [*HBRIDGE_NETS["GND"], "M1.OUT2"]}),
    Case("output-on-rail", False, HBRIDGE, HBRIDGE_NETS),
    Case("pin-conflict-warning", False, HBRIDGE, HBRIDGE_NETS),
    Case("signal-on-rail", True, {"U1": ESP, "R1": "resistor"}, {"3V3": ["U1.3V3", "U1.GPIO4", "R1.1"]}),
    Case("signal-on-rail", True, *LED_OK[:1], {**LED_OK[1], "GND": ["D1.K", "U1.GND", "U1.GPIO5"]}, "ground"),
    Case("signal-on-rail", False, DHT, DHT_NETS),
    Case(
        "signal-on-rail",
        True,
        LCD,
        {"5V": ["U1.5V", "L1.VCC"], "GND": ["U1.GND", "L1.GND", "L1.SDA", "L1.SCL"]},
        "lcd-bus",
    ),
    Case(
        "signal-on-rail",
        True,
        SONAR,
        {"5V": ["U1.5V", "S1.VCC", "S1.TRIG"], "ECHO": ["U1.D10", "S1.ECHO"], "GND": ["U1.GND", "S1.GND"]},
        "input",
    ),
    Case("signal-on-rail", False, LCD, LCD_NETS, "lcd"),
    Case(
        "signal-on-rail",
        False,
        {"U1": ESP, "S1": "vl53l0x"},
        {
            "3V3": ["U1.3V3", "S1.VIN", "S1.XSHUT"],
            "SDA": ["U1.GPIO21", "S1.SDA"],
            "SCL": ["U1.GPIO22", "S1.SCL"],
            "GND": ["U1.GND", "S1.GND"],
        },
        "enable-tied-high",
    ),
    Case(
        "signal-on-rail",
        False,
        {"U1": "arduino-uno", "D1": "a4988-module"},
        {
            "STEP": ["U1.D3", "D1.STEP"],
            "5V": ["U1.5V", "D1.VDD", "D1.SLEEP", "D1.RESET"],
            "GND": ["U1.GND", "D1.GND", "D1.DIR"],
        },
        "direction-strapped",
    ),
    Case("gpio-short", True, LED_OK[0], {**LED_OK[1], "LED": ["U1.GPIO2", "U1.GPIO4", "R1.1"]}),
    Case("gpio-short", False, *LED_OK),
    Case("no-connect-wired", True, DHT, {**DHT_NETS, "GND": ["U1.GND", "S1.GND", "S1.NC"]}),
    Case("no-connect-wired", False, DHT, DHT_NETS),
    Case(
        "input-not-driven",
        True,
        *supplied(
            {"K1": "relay-module-1ch", "S1": "bme280"},
            {"5V": ["K1.VCC", "S1.VIN"], "GND": ["K1.GND", "S1.GND"], "X": ["K1.IN", "S1.SCL"]},
        ),
    ),
    Case(
        "input-not-driven",
        False,
        *supplied(
            {"K1": "relay-module-1ch", "U1": UNO},
            {"5V": ["K1.VCC"], "GND": ["K1.GND", "U1.GND"], "X": ["K1.IN", "U1.D7"]},
        ),
    ),
    # supplies
    Case("short-power-ground", True, {"B1": "battery-9v", "R1": "resistor"}, {"N": ["B1.+", "B1.-", "R1.1"]}),
    Case("short-power-ground", True, LED_OK[0], {**LED_OK[1], "GND": ["D1.K", "U1.GND", "U1.3V3"]}, "board"),
    Case("short-power-ground", False, *LED_OK),
    Case("short-rail-rail", True, {"U1": UNO, "R1": "resistor"}, {"VCC": ["U1.5V", "U1.3V3", "R1.1"]}),
    Case("short-rail-rail", True, *supplied({"U1": ESP}, {"5V": ["U1.3V3"]}), "regulator-into-3v3"),
    Case("short-rail-rail", False, *supplied({"U1": ESP}, {"5V": ["U1.VIN"], "GND": ["U1.GND"]})),
    Case("supply-contention", True, *supplied({"U1": UNO}, {"VBAT": ["U1.VIN"], "5V": ["U1.5V"], "GND": ["U1.GND"]})),
    Case("supply-contention", False, *supplied({"U1": UNO}, {"5V": ["U1.5V"], "GND": ["U1.GND"]})),
    Case("backfed-supply", True, *supplied({"U1": UNO}, {"5V": ["U1.5V"], "GND": ["U1.GND"]})),
    Case("backfed-supply", False, *supplied({"U1": UNO}, {"VBAT": ["U1.VIN"], "GND": ["U1.GND"]})),
    Case(
        "power-not-driven",
        True,
        {"U1": ESP, "K1": "relay-module-1ch"},
        {"VIN": ["U1.VIN", "K1.VCC"], "GND": ["U1.GND", "K1.GND"], "IN": ["U1.GPIO26", "K1.IN"]},
    ),
    Case(
        "power-not-driven",
        False,
        *supplied(
            {"U1": ESP, "K1": "relay-module-1ch"},
            {"5V": ["U1.VIN", "K1.VCC"], "GND": ["U1.GND", "K1.GND"], "IN": ["U1.GPIO26", "K1.IN"]},
        ),
    ),
    Case("supply-pin-unconnected", True, DHT, {k: [p for p in v if p != "S1.VCC"] for k, v in DHT_NETS.items()}),
    Case("supply-pin-unconnected", False, DHT, DHT_NETS),
    Case(
        "supply-out-of-range",
        True,
        {"U1": ESP, "K1": "relay-module-1ch"},
        {"3V3": ["U1.3V3", "K1.VCC"], "GND": ["U1.GND", "K1.GND"], "IN": ["U1.GPIO26", "K1.IN"]},
    ),
    Case("supply-out-of-range", True, *supplied({"U1": UNO}, {"5V": ["U1.VIN"], "GND": ["U1.GND"]}), "uno-vin-5v"),
    Case(
        "supply-out-of-range",
        False,
        {"U1": UNO, "K1": "relay-module-1ch"},
        {"5V": ["U1.5V", "K1.VCC"], "GND": ["U1.GND", "K1.GND"], "IN": ["U1.D7", "K1.IN"]},
    ),
    Case(
        "missing-decoupling",
        True,
        {"B1": "battery-9v", "U9": "lm7805", "U1": UNO},
        {"VBAT": ["B1.+", "U9.IN"], "5V": ["U9.OUT", "U1.5V"], "GND": ["B1.-", "U9.GND", "U1.GND"]},
    ),
    Case("missing-decoupling", False, *supplied({"U1": UNO}, {"5V": ["U1.5V"], "GND": ["U1.GND"]})),
    # LEDs
    Case("led-no-resistor", True, {"U1": ESP, "D1": "led-red"}, {"A": ["U1.GPIO2", "D1.A"], "GND": ["D1.K", "U1.GND"]}),
    Case(
        "led-no-resistor",
        True,
        {"U1": UNO, "D1": "led-red", "SW1": "push-button"},
        {"5V": ["U1.5V", "SW1.1"], "A": ["SW1.2", "D1.A"], "GND": ["D1.K", "U1.GND"]},
        "through-switch",
    ),
    Case(
        "led-no-resistor",
        True,
        {"U1": UNO, "D1": "led-red", "R1": "resistor=10k"},
        {"5V": ["U1.5V", "D1.A", "R1.1"], "K": ["D1.K", "U1.D7"], "GND": ["R1.2", "U1.GND"]},
        "sinking-gpio",
    ),
    Case("led-no-resistor", False, *LED_OK),
    Case(
        "led-no-resistor",
        False,
        {"U1": UNO, "D1": "led-red", "R1": "resistor=330"},
        {"5V": ["U1.5V", "D1.A"], "K": ["D1.K", "R1.1"], "SINK": ["R1.2", "U1.D7"], "GND": ["U1.GND"]},
        "low-side-r",
    ),
    Case("led-resistor-no-value", True, *led("0", "3V3"), "zero-ohm"),
    Case(
        "led-resistor-no-value",
        True,
        {**LED_OK[0], "R1": "resistor"},
        LED_OK[1],
        "no-value",
    ),
    Case("led-resistor-no-value", False, *LED_OK),
    Case("led-resistor-low", True, *led("47", "3V3")),
    Case("led-resistor-low", False, *led("220", "3V3")),
    Case("led-overcurrent", True, *led("47", "5V")),
    Case("led-overcurrent", False, *led("100", "5V")),
    # logic levels
    Case("logic-level-overvoltage", True, {"U1": UNO, "U2": ESP}, {"S": ["U1.D2", "U2.GPIO4"], **TWO_GROUNDS}),
    Case(
        "logic-level-overvoltage",
        True,
        {"U1": UNO, "U2": ESP, "S1": "dht22", "R1": "resistor=10k"},
        {
            "5V": ["U1.5V", "S1.VCC", "R1.1"],
            "DATA": ["U2.GPIO4", "S1.DATA", "R1.2"],
            "GND": ["U1.GND", "U2.GND", "S1.GND"],
        },
        "pullup-to-5v",
    ),
    Case("logic-level-overvoltage", False, DHT, DHT_NETS),
    Case(
        "logic-level-low",
        True,
        *supplied(
            {"U1": ESP, "K1": "relay-module-1ch"},
            {"5V": ["U1.VIN", "K1.VCC"], "GND": ["U1.GND", "K1.GND"], "IN": ["U1.GPIO26", "K1.IN"]},
        ),
    ),
    Case(
        "logic-level-low",
        False,
        {"U1": UNO, "K1": "relay-module-1ch"},
        {"5V": ["U1.5V", "K1.VCC"], "GND": ["U1.GND", "K1.GND"], "IN": ["U1.D7", "K1.IN"]},
    ),
    # loads
    Case("inductive-no-flyback", True, COIL, COIL_NETS),
    Case(
        "inductive-no-flyback",
        False,
        {**COIL, "D1": "diode-1n4007"},
        {**COIL_NETS, "5V": ["U1.5V", "K1.COIL1", "D1.K"], "SW": ["K1.COIL2", "Q1.C", "D1.A"]},
    ),
    Case(
        "inductive-no-flyback",
        False,
        {"U1": UNO, "K1": "relay-module-1ch"},
        {"5V": ["U1.5V", "K1.VCC"], "GND": ["U1.GND", "K1.GND"], "IN": ["U1.D7", "K1.IN"]},
        "module",
    ),
    Case("load-voltage-out-of-range", True, *motor_from("dc-supply-12v"), "6v-motor-on-12v"),
    Case(
        "load-voltage-out-of-range",
        True,
        {**motor_from("usb-power-5v")[0], "M1": "fan-12v"},
        motor_from("usb-power-5v")[1],
        "12v-fan-on-5v",
    ),
    Case("load-voltage-out-of-range", False, *motor_from("battery-pack-4xaa")),
    Case("load-voltage-out-of-range", False, HBRIDGE, HBRIDGE_NETS, "9v-through-the-bridge-drop"),
    Case(
        "gpio-overcurrent",
        True,
        {"U1": UNO, "K1": "relay-5v", "D1": "diode-1n4007"},
        {"COIL": ["U1.D7", "K1.COIL1", "D1.K"], "GND": ["K1.COIL2", "D1.A", "U1.GND"]},
    ),
    Case(
        "gpio-overcurrent",
        True,
        {"U1": ESP, "M1": "dc-motor-6v"},
        {"M": ["U1.GPIO4", "M1.+"], "GND": ["M1.-", "U1.GND"]},
        "motor",
    ),
    Case(
        "gpio-overcurrent",
        False,
        {"U1": ESP, "S1": "dht22", "R1": "resistor=10k"},
        {"PWR": ["U1.GPIO27", "S1.VCC", "R1.1"], "DATA": ["U1.GPIO4", "S1.DATA", "R1.2"], "GND": ["U1.GND", "S1.GND"]},
        "sensor-from-gpio",
    ),
    # buses and pull-ups
    Case("protocol-mismatch", True, BME, {**BME_NETS, "SDA": ["U1.GPIO21", "S1.SCL"], "SCL": ["U1.GPIO22", "S1.SDA"]}),
    Case("protocol-mismatch", True, {"U1": ESP, "U2": UNO}, {"TX": ["U1.GPIO17", "U2.D1"], **TWO_GROUNDS}, "tx-to-tx"),
    Case("protocol-mismatch", False, BME, BME_NETS_OK),
    Case(
        "protocol-mismatch",
        True,
        LCD,
        {"5V": ["U1.5V", "L1.VCC"], "SDA": ["U1.A4", "L1.SDA", "L1.SCL"], "GND": ["U1.GND", "L1.GND"]},
        "same-part",
    ),
    Case("bus-pin-unsupported", True, OLED, {**OLED_NETS, "SCL": ["U1.GPIO36", "D1.SCL"]}, "input-only-pin"),
    Case("bus-pin-unsupported", True, LCD, {**LCD_NETS, "SDA": ["U1.D4", "L1.SDA"]}, "uno-i2c-off-a4"),
    Case("bus-pin-unsupported", False, OLED, {**OLED_NETS, "SDA": ["U1.GPIO32", "D1.SDA"]}, "esp32-matrix"),
    Case("bus-pin-unsupported", False, LCD, LCD_NETS, "uno-a4-a5"),
    Case("uart-tx-no-rx", True, {"U1": ESP, "U2": UNO}, {"TX": ["U1.GPIO1", "U2.D2"], **TWO_GROUNDS}),
    Case("uart-tx-no-rx", False, {"U1": ESP, "U2": UNO}, {"TX": ["U1.GPIO17", "U2.D0"], **TWO_GROUNDS}),
    Case("uart-tx-no-rx", False, {"U1": ESP, "K1": "relay-module-1ch"}, {"IN": ["U1.GPIO17", "K1.IN"]}, "gpio-use"),
    Case("i2c-no-pullups", True, {"U1": ESP, "U2": UNO}, {"SDA": ["U1.GPIO21", "U2.A4"], **TWO_GROUNDS}),
    Case(
        "i2c-no-pullups",
        False,
        {"U1": ESP, "U2": UNO, "R1": "resistor=4k7"},
        {"SDA": ["U1.GPIO21", "U2.A4", "R1.2"], "3V3": ["U1.3V3", "R1.1"], **TWO_GROUNDS},
    ),
    Case("i2c-no-pullups", False, BME, BME_NETS_OK, "module-pullups"),
    Case(
        "redundant-pullups",
        True,
        {**BME, "R1": "resistor=4k7"},
        {**BME_NETS_OK, "3V3": ["U1.3V3", "S1.VIN", "R1.1"], "SDA": ["U1.GPIO21", "S1.SDA", "R1.2"]},
    ),
    Case("redundant-pullups", False, BME, BME_NETS_OK),
    Case(
        "pullup-missing",
        True,
        {"U1": ESP, "S1": "dht22"},
        {"3V3": ["U1.3V3", "S1.VCC"], "DATA": ["U1.GPIO4", "S1.DATA"], "GND": ["U1.GND", "S1.GND"]},
    ),
    Case("pullup-missing", False, DHT, DHT_NETS),
    # switches
    Case("floating-switch-input", True, BUTTON, BUTTON_NETS),
    Case(
        "floating-switch-input",
        False,
        {**BUTTON, "R1": "resistor=10k"},
        {**BUTTON_NETS, "BTN": ["U1.GPIO4", "SW1.1", "R1.1"], "3V3": ["U1.3V3", "R1.2"]},
    ),
    Case(
        "floating-switch-input",
        False,
        {**BUTTON, "R1": "resistor=10k"},
        {"BTN": ["U1.GPIO4", "SW1.1", "R1.1"], "3V3": ["U1.3V3", "SW1.2"], "GND": ["R1.2", "U1.GND"]},
        "pull-down",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule(case: Case, check, catalog) -> None:
    missing = [part for part in case.needs if part not in catalog]
    if missing:
        pytest.skip(f"the catalog has no {', '.join(missing)} yet")
    report = check(case.parts, case.nets)
    fired = [v for v in report.violations if v.rule == case.rule]
    assert bool(fired) is case.fires, [f"{v.rule}: {v.message}" for v in report.violations]
    for v in fired:
        assert v.severity is RULES[case.rule].severity
        assert v.message and v.fix and (v.refs or v.pins)


def test_pin_conflict_warning_for_a_tri_state_pin_against_an_output(check, catalog) -> None:
    """KiCad's matrix warns on output against tri-state: wire any catalog tri-state pin to an L298N output."""
    tri_state = [(p.id, pin.name) for p in catalog.values() for pin in p.pins if pin.type is ElectricalType.TRI_STATE]
    if not tri_state:
        pytest.skip("the catalog has no part with a tri-state pin yet")
    part_id, pin = tri_state[0]
    report = check({"U2": part_id, **HBRIDGE}, {**HBRIDGE_NETS, "MA": ["M1.OUT1", "MT.+", f"U2.{pin}"]})
    (found,) = [v for v in report.violations if v.rule == "pin-conflict-warning"]
    assert found.severity is Severity.WARNING and f"U2.{pin}" in found.pins and "M1.OUT1" in found.pins


# findings agents.checks adds from the simulation and the request; tests/studio/intent/test_check.py has their cases
CHECK_RULES = {"led-overcurrent-simulated", "spice-off-target"}


def test_every_rule_has_a_firing_and_a_quiet_case() -> None:
    firing = {c.rule for c in CASES if c.fires} | {"pin-conflict-warning"} | CHECK_RULES  # fired elsewhere
    quiet = {c.rule for c in CASES if not c.fires} | CHECK_RULES
    assert set(RULES) - firing == set(), "rules without a test that triggers them"
    assert set(RULES) - quiet == set(), "rules without a test where they stay quiet"


def test_a_uart_output_that_reaches_no_other_part_is_said_so(check) -> None:
    report = check({"U1": ESP, "U2": UNO}, {"TX": ["U1.GPIO1", "U1.GPIO3"], **TWO_GROUNDS})  # its own RX only
    (found,) = [v for v in report.violations if v.rule == "uart-tx-no-rx"]
    assert "U1.GPIO1 reaches no other part" in found.message and "to ," not in found.message
