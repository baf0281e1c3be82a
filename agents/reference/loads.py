"""Outputs and inputs the MCU handles with discrete parts: LEDs with series resistors, buttons with
pull-ups, pots and light/temperature-dependent resistors as dividers to an ADC, and loads (motors,
fans, solenoids, coils, buzzers) through a driver module, relay contacts or a MOSFET with a flyback diode."""

from __future__ import annotations

import math

from agents.reference.builder import Placed
from agents.reference.power import GND, named
from agents.reference.wiring import PULLUP_OHMS, Wiring
from components_db.schema import Category, ElectricalType, Part, Pin, PinRole, SymbolKind
from studio.erc.nodes import supply_pins

R = PinRole
T = ElectricalType
E12 = (1.0, 1.2, 1.5, 1.8, 2.2, 2.7, 3.3, 3.9, 4.7, 5.6, 6.8, 8.2)
LED_TARGET_MA = 10.0
MIN_LED_OHMS = 100.0
DEFAULT_VF = 2.0
TRANSISTORS = frozenset({SymbolKind.NMOS, SymbolKind.NPN})
DIODES = frozenset({SymbolKind.DIODE})
SEGMENTS = ("A", "B", "C", "D", "E", "F", "G", "DP")


def is_led(part: Part) -> bool:
    return part.usage.series_resistor_required or part.symbol is SymbolKind.LED


def is_switch(part: Part) -> bool:
    return part.symbol in (SymbolKind.BUTTON, SymbolKind.SWITCH)


def is_resistive_sensor(part: Part) -> bool:
    """An LDR or thermistor: a two-terminal resistor whose value is what is measured."""
    return part.symbol is SymbolKind.RESISTOR and part.id != "resistor"


def is_load(part: Part) -> bool:
    """A bare load: two-terminal actuator, a relay or stepper coil (no supply pins of its own logic)."""
    if part.category is not Category.ACTUATOR or supply_pins(part):
        return False
    return any(R.COIL in p.roles or R.LOAD in p.roles for p in part.pins)


def led_ohms(volts: float, part: Part, pin_max_ma: float | None) -> float:
    """(V - Vf) / I for about 10 mA (less when the pin or the LED allows less), rounded up to E12, >= 100 ohm."""
    caps = [LED_TARGET_MA]
    if pin_max_ma:
        caps.append(0.8 * pin_max_ma)
    if (led_max := _led_max_ma(part)) is not None:
        caps.append(0.5 * led_max)
    return max(MIN_LED_OHMS, e12_at_least((volts - _vf(part)) / (min(caps) / 1000.0)))


def e12_at_least(ohms: float) -> float:
    decade = 10 ** math.floor(math.log10(max(ohms, 1.0)))
    for step in (*E12, 10.0):
        if step * decade >= ohms * 0.999:
            return round(step * decade, 6)
    return 10 * decade


def wire_led(w: Wiring, led: Placed, sources: list[tuple[str, float, float | None]]) -> None:
    """Each anode from a source (pin label, volts, pin current limit) through its resistor; cathodes to GND."""
    for pin in led.part.pins:
        if R.CATHODE in pin.roles:
            w.b.connect(GND, led.label(pin))
    for pin in _in_segment_order(led.part.pins_with_role(R.ANODE)):
        label, volts, max_ma = sources.pop(0)
        ohms = led_ohms(volts, led.part, max_ma)
        w.series_resistor(
            label,
            led.label(pin),
            ohms,
            f"limits {led.label(pin)} to about {(volts - _vf(led.part)) / ohms * 1000:.0f} mA from {volts:g} V",
        )


def _in_segment_order(pins: list[Pin]) -> list[Pin]:
    """A digit's segments a, b ... g, dp (so a shift register's QA drives a), other anodes as listed."""
    if all(p.name in SEGMENTS for p in pins):
        return sorted(pins, key=lambda p: SEGMENTS.index(p.name))
    return pins


def anodes(part: Part) -> int:
    return len(part.pins_with_role(R.ANODE))


def wire_button(w: Wiring, switch: Placed) -> None:
    """GPIO with a 10k pull-up to the logic rail; the switch pulls it to GND when pressed."""
    assert w.pins is not None
    gpio = w.pins.take(R.GPIO)
    terminals = [p for p in switch.part.pins if R.CONTACT_COM not in p.roles]
    common = next((p for p in switch.part.pins if R.CONTACT_COM in p.roles), terminals[0])
    w.b.link(gpio, switch.label(common))
    w.b.connect(GND, switch.label(next(p for p in terminals if p is not common)))
    w.pull_up(gpio, w.mcu_rail(), PULLUP_OHMS, f"pull-up holding {gpio} high while {switch.ref} is open")


def wire_potentiometer(w: Wiring, pot: Placed, rail_net: str, wiper_to: str) -> None:
    w.b.connect(rail_net, pot.pin("1"))
    w.b.connect(GND, pot.pin("3"))
    w.b.link(pot.pin("W"), wiper_to)


def wire_resistive_sensor(w: Wiring, sensor: Placed, rail_net: str, tap_to: str | None) -> str:
    """Sensor from the rail to a tap, a fixed resistor of its nominal value from the tap to GND."""
    fixed = w.b.supporting("resistor", f"lower leg of the divider with {sensor.ref}", "10k", _is_resistor)
    w.b.connect(rail_net, sensor.pin("1"))
    tap = w.b.link(sensor.pin("2"), fixed.pin("1"), f"{sensor.ref}_TAP")
    w.b.connect(GND, fixed.pin("2"))
    if tap_to is not None:
        w.b.connect(tap, tap_to)
    return tap


def load_terminals(part: Part) -> tuple[str, str]:
    """The + and - (or coil) pins of a bare load."""
    pins = [p for p in part.pins if R.COIL in p.roles or R.LOAD in p.roles]
    return pins[0].name, pins[1].name


def load_range(part: Part) -> tuple[float, float]:
    if part.supply is not None:
        return part.supply.min_v, part.supply.max_v
    return 3.0, 12.0


def flyback(w: Wiring, load: Placed, high: str, low: str) -> None:
    """A diode across an inductive load, cathode to the supply side."""
    if not load.part.usage.inductive or load.part.usage.flyback_included:
        return
    diode = w.b.supporting("diode-1n4007", f"flyback diode across {load.ref}", None, lambda p: p.symbol in DIODES)
    w.b.connect(w.b.net_of[high], diode.pin("K"))
    w.b.connect(w.b.net_of[low], diode.pin("A"))


def wire_low_side(w: Wiring, load: Placed, control: str | None = None) -> None:
    """Load from its rail to a MOSFET (or NPN) the MCU (or the ``control`` output) switches, with a flyback
    diode across it."""
    plus, minus = load_terminals(load.part)
    low, high = load_range(load.part)
    rail = w.power.rail_for(low, high, load_ma=load.part.current_draw_ma or 0.0, prefer_logic=False, who=named(load))
    rail.load_ma += load.part.current_draw_ma or 0.0
    w.b.connect(rail.net, load.pin(plus))
    switch = w.b.supporting(
        "nmos-irlz44n",
        f"low-side switch for {load.ref} (a GPIO cannot carry its current)"
        if control is None
        else f"low-side switch for {load.ref}, driven by {control}",
        None,
        lambda p: p.symbol in TRANSISTORS,
    )
    low_pin = switch.part.pins_with_role(R.DRAIN if switch.part.symbol is SymbolKind.NMOS else R.COLLECTOR)[0]
    ground = switch.part.pins_with_role(R.SOURCE if switch.part.symbol is SymbolKind.NMOS else R.EMITTER)[0]
    gate = switch.part.pins_with_role(R.GATE if switch.part.symbol is SymbolKind.NMOS else R.BASE)[0]
    w.b.link(load.pin(minus), switch.label(low_pin), f"{load.ref}_LOW")
    w.b.connect(GND, switch.label(ground))
    if control is None:
        assert w.pins is not None
        gpio = w.pins.take_first(R.PWM, R.GPIO)
    else:
        gpio = control
    if switch.part.symbol is SymbolKind.NMOS:
        w.series_resistor(gpio, switch.label(gate), 220, f"gate resistor of {switch.ref}")
        if control is None:  # a push-pull output that always drives (a 555's) needs no pull-down
            w.pull_down(switch.label(gate), "100k", f"holds {switch.ref} off while the MCU boots")
    else:
        w.series_resistor(gpio, switch.label(gate), 1000, f"base resistor of {switch.ref}")
    flyback(w, load, load.pin(plus), load.pin(minus))


def wire_through_contacts(w: Wiring, load: Placed, relay: Placed, channel: int) -> None:
    """Load powered through a relay's COM/NO contacts (the relay module's input is wired as a module)."""
    plus, minus = load_terminals(load.part)
    low, high = load_range(load.part)
    rail = w.power.rail_for(low, high, load_ma=load.part.current_draw_ma or 0.0, prefer_logic=False, who=named(load))
    rail.load_ma += load.part.current_draw_ma or 0.0
    com = relay.part.pins_with_role(R.CONTACT_COM)[channel]
    no = relay.part.pins_with_role(R.CONTACT_NO)[channel]
    w.b.connect(rail.net, relay.label(com))
    w.b.link(relay.label(no), load.pin(plus), f"{load.ref}_SWITCHED")
    w.b.connect(GND, load.pin(minus))
    flyback(w, load, load.pin(plus), load.pin(minus))


def _vf(part: Part) -> float:
    return min(
        (float(v) for k, v in part.specs.items() if k.startswith("vf") and isinstance(v, int | float)),
        default=DEFAULT_VF,
    )


def _led_max_ma(part: Part) -> float | None:
    value = part.specs.get("max_if_ma")
    return float(value) if isinstance(value, int | float) else None


def _is_resistor(part: Part) -> bool:
    return part.id == "resistor"
