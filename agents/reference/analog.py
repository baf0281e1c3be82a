"""Circuits without a program: a 555 astable, an op-amp as a non-inverting amplifier, a comparator
with a threshold pot, an LM317 set by two resistors, and LEDs or loads on a rail through a switch."""

from __future__ import annotations

from agents.reference.builder import Placed
from agents.reference.loads import (
    flyback,
    led_ohms,
    load_range,
    load_terminals,
    wire_low_side,
    wire_potentiometer,
    wire_resistive_sensor,
)
from agents.reference.power import GND, named
from agents.reference.wiring import PULLUP_OHMS, Wiring
from components_db.schema import Category, ElectricalType, Part, Pin, PinRole
from studio.erc.nodes import supply_pins

R = PinRole
T = ElectricalType
LM317_R1, LM317_R2 = 240.0, 750.0  # Vout = 1.25 V x (1 + R2 / R1) = 5.16 V


def is_timer(part: Part) -> bool:
    return bool(part.pins_with_role(R.DISCHARGE)) and bool(part.pins_with_role(R.THRESHOLD))


def is_amplifier(part: Part) -> bool:
    """An op-amp (push-pull analog output) or a comparator (open-collector output)."""
    return bool(part.pins_with_role(R.NONINVERTING_IN)) and bool(part.pins_with_role(R.INVERTING_IN))


def is_adjustable_regulator(part: Part) -> bool:
    return bool(part.pins_with_role(R.FEEDBACK))


def is_analog_mux(part: Part) -> bool:
    """An analog multiplexer (CD4051): switch terminals, one of them the common, picked by select inputs."""
    return part.category is Category.IC and len(_switch_terminals(part)) >= 5 and _mux_common(part) is not None


def wire_muxes(w: Wiring, muxes: list[Placed], signals: list[Placed]) -> list[Placed]:
    """Each mux on the MCU's rail with its common to an ADC pin, INH to GND, the select lines from GPIOs
    (shared by every mux); the pots and sensors go on its channels in order. Returns the signals left."""
    assert w.pins is not None
    signals = list(signals)
    selects: dict[str, str] = {}
    for mux in muxes:
        volts = w.power.supply(mux) or w.logic_v
        rail = w.b.net_of[mux.label(supply_pins(mux.part)[0])]
        for pin in sorted(mux.part.pins, key=lambda p: p.name):  # select A (the low bit) on the first GPIO
            if pin.type is T.INPUT and R.ENABLE in pin.roles:
                w.b.connect(GND, mux.label(pin))  # inhibit low: the selected channel is on
            elif pin.type is T.INPUT and R.DIGITAL_IN in pin.roles:
                if pin.name in selects:
                    w.b.connect(w.b.net_of[selects[pin.name]], mux.label(pin))
                else:
                    w.drive(R.GPIO, mux, pin, volts)
                    selects[pin.name] = mux.label(pin)
        common = _mux_common(mux.part)
        assert common is not None
        w.b.link(mux.label(common), w.pins.take(R.ADC, output=False), f"{mux.ref}_COM")
        for channel in _mux_channels(mux.part):
            if not signals:
                break
            item = signals.pop(0)
            if item.part.id == "potentiometer":
                wire_potentiometer(w, item, rail, mux.label(channel))
            else:
                wire_resistive_sensor(w, item, rail, mux.label(channel))
    return signals


def _switch_terminals(part: Part) -> list[Pin]:
    return [p for p in part.pins if p.type is T.PASSIVE and R.TERMINAL in p.roles]


def _mux_common(part: Part) -> Pin | None:
    return next((p for p in _switch_terminals(part) if "COM" in (p.name, *p.aliases)), None)


def _mux_channels(part: Part) -> list[Pin]:
    """CH0, CH1 ... CH7 in channel order."""
    common = _mux_common(part)
    channels = [p for p in _switch_terminals(part) if p is not common]
    return sorted(channels, key=lambda p: int("".join(c for c in p.name if c.isdigit()) or 0))


def wire_timer(w: Wiring, timer: Placed, *, fast: bool = False, rate: Placed | None = None) -> tuple[str, float]:
    """NE555 astable; returns its output pin and level. Slow (1k, 10k, 10 uF: about 0.7 Hz) to blink or
    beep, ``fast`` (1k, 6.8k, 100 nF: about 1 kHz) for PWM or a test tone. A ``rate`` pot is a rheostat in
    series with RB (wiper tied to its far end), a knob that slows the astable down to half its speed."""
    volts = w.power.supply(timer, logic=False) or 0.0
    vcc = w.b.net_of[timer.label(supply_pins(timer.part)[0])]
    w.b.connect(vcc, timer.pin("RESET"))
    ra = w.b.supporting("resistor", f"RA of the {timer.ref} astable", "1k", _is_resistor)
    rb = w.b.supporting("resistor", f"RB of the {timer.ref} astable", "6.8k" if fast else "10k", _is_resistor)
    if fast:
        ct = w.b.supporting(
            "capacitor-ceramic", f"timing capacitor of {timer.ref}", "100nF", lambda p: p.id == "capacitor-ceramic"
        )
        plus, minus = ct.pin("1"), ct.pin("2")
    else:
        ct = w.b.supporting(
            "capacitor-electrolytic",
            f"timing capacitor of {timer.ref}",
            "10uF",
            lambda p: p.id == "capacitor-electrolytic",
        )
        plus, minus = ct.pin("+"), ct.pin("-")
    cc = w.b.supporting(
        "capacitor-ceramic", f"stabilises {timer.ref} CONT", "10nF", lambda p: p.id == "capacitor-ceramic"
    )
    w.b.connect(vcc, ra.pin("1"))
    w.b.connect(f"{timer.ref}_DISCH", ra.pin("2"), timer.pin("DISCH"), rb.pin("1"))
    into_timing = [rb.pin("2")]
    if rate is not None:
        w.b.connect(f"{timer.ref}_RATE", rb.pin("2"), rate.pin("1"))
        into_timing = [rate.pin("W"), rate.pin("3")]
    w.b.connect(f"{timer.ref}_TIMING", *into_timing, timer.pin("THRES"), timer.pin("TRIG"), plus)
    w.b.connect(GND, minus, cc.pin("2"))
    w.b.connect(f"{timer.ref}_CONT", timer.pin("CONT"), cc.pin("1"))
    return timer.pin("OUT"), volts


def drive_from(w: Wiring, load: Placed, out: str, volts: float) -> None:
    """A load switched by a circuit's output (a 555's OUT): straight from the output when the load runs at
    its level and within its current and is no coil; else through a low-side MOSFET from the load's rail."""
    plus, minus = load_terminals(load.part)
    low, high = load_range(load.part)
    draw = load.part.current_draw_ma or 0.0
    limit = next((p.max_current_ma for p in _owner_pins(w, out) if p.max_current_ma), None)
    fits = low - 0.05 <= volts <= high + 0.05 and (limit is None or draw <= limit)
    if fits and not load.part.usage.inductive:
        w.b.link(out, load.pin(plus), f"{load.ref}_DRIVE")
        w.b.connect(GND, load.pin(minus))
        return
    wire_low_side(w, load, control=out)


def signal_output(w: Wiring, timer: Placed, out: str, volts: float) -> None:
    """A test signal with nothing in the design to take it: 10k over 1k divides the square wave to line
    level (about 0.8 V from 9 V) at a two-pin point, {ref}_SIGNAL and GND, for the cable to the input."""
    why = f"{{}} of the divider bringing {out} ({volts:g} V) down to line level ({volts / 11:.2g} V)"
    top = w.b.supporting("resistor", why.format("top"), "10k", _is_resistor)
    bottom = w.b.supporting("resistor", why.format("bottom"), "1k", _is_resistor)
    w.b.link(out, top.pin("1"))
    w.b.connect(f"{timer.ref}_SIGNAL", top.pin("2"), bottom.pin("1"))
    w.b.connect(GND, bottom.pin("2"))


def _owner_pins(w: Wiring, label: str) -> list[Pin]:
    ref, _, name = label.partition(".")
    kind = next(p.part for p in w.b.parts if p.ref == ref)
    part = w.b.lookup.get(kind)
    pin = part.find_pin(name) if part else None
    return [pin] if pin is not None else []


def is_comparator(part: Part) -> bool:
    """An amplifier whose output only sinks (open collector): LM393."""
    return is_amplifier(part) and any(p.type is T.OPEN_COLLECTOR for p in part.pins)


def wire_amplifier(
    w: Wiring, amp: Placed, signal: str | None, threshold: Placed | None = None
) -> tuple[str, float, bool]:
    """Channel 1: IN+ from ``signal`` (else mid-rail), gain 2 for an op-amp, a threshold pot (``threshold``,
    else one added) for a comparator.

    Returns the output pin, the rail voltage and whether the output only sinks (open collector).
    """
    volts = w.power.supply(amp, logic=w.mcu is not None) or 0.0
    vcc = w.b.net_of[amp.label(supply_pins(amp.part)[0])]
    plus = amp.label(amp.part.pins_with_role(R.NONINVERTING_IN)[0])
    minus = amp.label(amp.part.pins_with_role(R.INVERTING_IN)[0])
    out_pin = next(p for p in amp.part.pins if p.type in (T.OUTPUT, T.OPEN_COLLECTOR))
    out = amp.label(out_pin)
    if signal is None:
        signal = _divider(w, vcc, f"{amp.ref}_REF", "sets the input of {ref} at mid-rail", amp.ref)
    w.b.link(signal, plus)
    if out_pin.type is T.OPEN_COLLECTOR:
        pot = threshold or w.b.supporting(
            "potentiometer", f"threshold of comparator {amp.ref}", "10k", lambda p: p.id == "potentiometer"
        )
        w.b.connect(vcc, pot.pin("1"))
        w.b.connect(GND, pot.pin("3"))
        w.b.link(pot.pin("W"), minus, f"{amp.ref}_THRESHOLD")
        w.pull_up(out, vcc, PULLUP_OHMS, f"pull-up on the open-collector output {out}")
        return out, volts, True
    rf = w.b.supporting("resistor", f"feedback resistor of {amp.ref} (gain 2)", "10k", _is_resistor)
    rg = w.b.supporting("resistor", f"gain resistor of {amp.ref} (gain 2)", "10k", _is_resistor)
    w.b.link(out, rf.pin("1"), f"{amp.ref}_OUT")
    w.b.connect(f"{amp.ref}_FB", rf.pin("2"), minus, rg.pin("1"))
    w.b.connect(GND, rg.pin("2"))
    return out, volts, False


def wire_adjustable(w: Wiring, reg: Placed) -> tuple[str, float]:
    """LM317: 240 ohm from OUT to ADJ and 750 ohm from ADJ to GND set about 5.2 V."""
    r1 = w.b.supporting("resistor", f"R1 of {reg.ref} (OUT to ADJ)", "240", _is_resistor)
    r2 = w.b.supporting("resistor", f"R2 of {reg.ref} (ADJ to GND)", "750", _is_resistor)
    out = reg.pin("OUT")
    w.b.link(out, r1.pin("1"), f"{reg.ref}_VOUT")
    w.b.connect(f"{reg.ref}_ADJ", r1.pin("2"), reg.pin("ADJ"), r2.pin("1"))
    w.b.connect(GND, r2.pin("2"))
    return out, 1.25 * (1 + LM317_R2 / LM317_R1)


def led_from(w: Wiring, led: Placed, source_net: str, volts: float, *, sinking: bool, rail_net: str) -> None:
    """An LED fed from a net (an output's or a rail's); an open-collector output sinks it from the rail instead."""
    for pin in led.part.pins_with_role(R.ANODE):
        ohms = led_ohms(volts, led.part, None)
        resistor = w.b.supporting("resistor", f"series resistor of {led.label(pin)}", f"{ohms:g}", _is_resistor)
        w.b.link(resistor.pin("2"), led.label(pin))
        w.b.connect(rail_net if sinking else source_net, resistor.pin("1"))
    for pin in led.part.pins_with_role(R.CATHODE):
        w.b.connect(source_net if sinking else GND, led.label(pin))


def load_on_rail(w: Wiring, load: Placed, feed_net: str) -> None:
    """A load from ``feed_net`` (a rail, or a switch after it) to GND, flyback diode across."""
    plus, minus = load_terminals(load.part)
    w.b.connect(feed_net, load.pin(plus))
    w.b.connect(GND, load.pin(minus))
    flyback(w, load, load.pin(plus), load.pin(minus))


def load_rail(w: Wiring, load: Placed) -> str:
    low, high = load_range(load.part)
    rail = w.power.rail_for(low, high, load_ma=load.part.current_draw_ma or 0.0, prefer_logic=False, who=named(load))
    rail.load_ma += load.part.current_draw_ma or 0.0
    return rail.net


def sensor_signal(w: Wiring, sensor: Placed, rail_net: str) -> str:
    return wire_resistive_sensor(w, sensor, rail_net, None)


def _divider(w: Wiring, top_net: str, name: str, why: str, ref: str) -> str:
    upper = w.b.supporting("resistor", why.format(ref=ref), "10k", _is_resistor)
    lower = w.b.supporting("resistor", why.format(ref=ref), "10k", _is_resistor)
    w.b.connect(top_net, upper.pin("1"))
    w.b.connect(name, upper.pin("2"), lower.pin("1"))
    w.b.connect(GND, lower.pin("2"))
    return upper.pin("2")


def _is_resistor(part: Part) -> bool:
    return part.id == "resistor"
