"""Every ERC rule in one table: its stable id, severity, score group and a one-line description.

Rule modules never choose a severity themselves: they name a rule id and ``violation`` takes the
severity from here, so this table is the whole policy (the UI lists it as is). Where the KiCad
pin-conflict matrix says ERR the rule is major, WAR is a warning; contention between two supplies
of different voltages is a fatal short. Choices beyond CircuitLM's list are marked "(ours)".
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from studio.erc.findings import Severity, Violation

FATAL, MAJOR, MINOR, WARNING = Severity.FATAL, Severity.MAJOR, Severity.MINOR, Severity.WARNING


class RuleGroup(StrEnum):
    """Which score a rule counts against: the design's references and wiring, or its electronics."""

    STRUCTURAL = "structural"
    ELECTRICAL = "electrical"


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    group: RuleGroup
    description: str


_S, _E = RuleGroup.STRUCTURAL, RuleGroup.ELECTRICAL

RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        # structure (rules/structure.py)
        Rule("unknown-part", FATAL, _S, "A part id that is not in the knowledge base."),
        Rule("unknown-pin", FATAL, _S, "A REF.PIN reference to a pin the part does not have."),
        Rule("duplicate-connection", MINOR, _S, "The same pin listed twice in one net."),
        Rule("pin-on-two-nets", MAJOR, _S, "One pin listed in two nets, which silently joins them into one."),
        Rule("unconnected-part", MAJOR, _S, "A part with no pin wired to another part: the design does not use it."),
        Rule(
            "required-pin-unconnected",
            MAJOR,
            _S,
            "A pin the part needs wired to work (HC-SR04 ECHO, a display's SDA) is left open; the KB lists them.",
        ),
        Rule("unconnected-input", WARNING, _S, "A module input (IN, SCL, TRIG...) left open, not a spare channel."),
        Rule("single-pin-net", WARNING, _S, "A net that holds one pin only: a wire to nowhere."),
        # pin-conflict matrix and drive rules (rules/conflicts.py)
        Rule("output-conflict", MAJOR, _E, "Two outputs drive one net (KiCad matrix ERR: output against output)."),
        Rule("output-on-rail", FATAL, _E, "A push-pull output wired straight to a supply rail or ground."),
        Rule(
            "signal-on-rail",
            MAJOR,
            _E,
            "A signal pin (input, GPIO, open-drain) wired straight to a supply or ground; enable, reset, "
            "address, mode and direction straps excepted.",
        ),
        Rule("gpio-short", MAJOR, _E, "Two driving pins (GPIOs, outputs) of one part joined on one net (ours)."),
        Rule("pin-conflict-warning", WARNING, _E, "Pin types the KiCad matrix warns about (tri-state, unspecified)."),
        Rule("no-connect-wired", WARNING, _E, "A 'no connect' pin wired to a net (KiCad ERR; ours: warning)."),
        Rule("input-not-driven", MAJOR, _E, "A net of inputs with nothing that drives it: the inputs float."),
        # supplies (rules/power.py)
        Rule("short-power-ground", FATAL, _E, "A supply output and ground on the same net: a short circuit."),
        Rule("short-rail-rail", FATAL, _E, "Two supply outputs of different voltages on the same net."),
        Rule("supply-contention", MAJOR, _E, "Two powered supply outputs of the same voltage fighting on one net."),
        Rule("backfed-supply", WARNING, _E, "A board's regulator output fed from outside (board has no other input)."),
        Rule("power-not-driven", MAJOR, _E, "A supply input on a net that no supply, regulator or battery feeds."),
        Rule("supply-pin-unconnected", MAJOR, _E, "A wired part whose supply or ground pin is left open (ours)."),
        Rule("supply-out-of-range", MAJOR, _E, "The rail voltage is outside the range the part's supply pin accepts."),
        Rule("missing-decoupling", WARNING, _E, "An IC that wants a capacitor from its supply pin to ground has none."),
        # LEDs (rules/leds.py)
        Rule("led-no-resistor", MAJOR, _E, "An LED driven from a pin or rail with no resistor in series."),
        Rule("led-resistor-no-value", MAJOR, _E, "An LED series resistor of 0 ohm or with no value in the design."),
        Rule("led-resistor-low", MINOR, _E, "An LED series resistor below 100 ohm."),
        Rule("led-overcurrent-simulated", MAJOR, _E, "SPICE puts more current through an LED than its maximum."),
        Rule("led-overcurrent", MAJOR, _E, "(V - Vf) / R puts more current through an LED than its maximum."),
        # logic levels (rules/logic.py)
        Rule("logic-level-overvoltage", MAJOR, _E, "A signal above what an input accepts (5 V into a 3.3 V-only pin)."),
        Rule("logic-level-low", MINOR, _E, "A high level below 70 % of the input's logic supply (3.3 V into 5 V)."),
        # loads (rules/loads.py)
        Rule("inductive-no-flyback", MAJOR, _E, "A relay coil, motor or solenoid with no flyback diode and no driver."),
        Rule(
            "load-voltage-out-of-range",
            MAJOR,
            _E,
            "A motor, pump, fan, solenoid or relay coil on a rail outside its rated voltage (a 6 V motor on 12 V).",
        ),
        Rule("gpio-overcurrent", MAJOR, _E, "A GPIO asked to power a load drawing more than the pin's current limit."),
        # buses and pull-ups (rules/buses.py)
        Rule("protocol-mismatch", MAJOR, _E, "Bus lines crossed: SDA to SCL, TX to TX, RX to RX, MOSI to MISO."),
        Rule(
            "bus-pin-unsupported",
            MAJOR,
            _E,
            "A module's I2C, SPI or UART line on a board pin without that function (Uno I2C: A4/A5 only; no "
            "input-only ESP32 pin for a line the board drives).",
        ),
        Rule("uart-tx-no-rx", WARNING, _E, "A UART TX pin whose net reaches no UART RX pin."),
        Rule("i2c-no-pullups", WARNING, _E, "An I2C line with no pull-up resistor and no module carrying pull-ups."),
        Rule("redundant-pullups", MINOR, _E, "More than one pull-up on a line (two resistors, or one and a module's)."),
        Rule("pullup-missing", MAJOR, _E, "A pin the datasheet says needs a pull-up (DHT22 DATA) has none."),
        # against the request (agents/checks.py, from studio.intent)
        Rule(
            "spice-off-target",
            MAJOR,
            _E,
            "A simulated frequency, cutoff, rail voltage or LED current more than 20 % from what the request states.",
        ),
        # switches (rules/inputs.py)
        Rule("floating-switch-input", MAJOR, _E, "A button or switch to a GPIO with no pull-up or pull-down resistor."),
    )
}


def violation(
    rule_id: str,
    message: str,
    fix: str,
    *,
    refs: list[str] | None = None,
    pins: list[str] | None = None,
    net: str | None = None,
) -> Violation:
    """A violation of a registered rule, with the rule's severity; refs sorted and unique."""
    rule = RULES[rule_id]
    return Violation(
        rule=rule.id,
        severity=rule.severity,
        message=message,
        fix=fix,
        refs=sorted(set(refs or [])),
        pins=list(dict.fromkeys(pins or [])),
        net=net,
    )
