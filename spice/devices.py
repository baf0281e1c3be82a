"""Cards for the textbook devices: passives, diodes and LEDs, transistors, switches, sources."""

from __future__ import annotations

import math

from components_db.schema import LED_SERIES_OHM, ElectricalType, Part, Pin, PinRole
from spice.builder import Builder
from spice.names import sanitise, spice_number
from studio.circuit.design import DesignPart
from studio.circuit.values import parse_value

THERMAL_VOLTAGE = 0.025865  # kT/q at ngspice's default 27 C
LED_EMISSION = 2.0  # typical ideality of a visible LED
MIN_OHM = 1e-3


def value_of(b: Builder, ref: str, part: Part, dp: DesignPart) -> float | None:
    """The design's value, else the part's default; a note (and None) when neither gives one."""
    text = dp.value or part.default_value
    if text is None:
        b.notes.append(f"{ref}: {part.id} has no value and no default; left out of the simulation")
        return None
    return parse_value(text)


def pin_with(part: Part, role: PinRole) -> Pin | None:
    pins = part.pins_with_role(role)
    return pins[0] if pins else None


def resistor(b: Builder, ref: str, part: Part, dp: DesignPart) -> None:
    ohms = value_of(b, ref, part, dp)
    if ohms is None:
        return
    a, c = b.node(ref, part.pins[0]), b.node(ref, part.pins[1])
    b.add(f"{b.element('R', ref)} {a} {c} {spice_number(max(ohms, MIN_OHM))}", dc=[(a, c)])
    b.two_terminal(ref, "resistor", ohms, a, c)


def capacitor(b: Builder, ref: str, part: Part, dp: DesignPart) -> None:
    farads = value_of(b, ref, part, dp)
    if farads is None:
        return
    a, c = b.node(ref, part.pins[0]), b.node(ref, part.pins[1])
    b.add(f"{b.element('C', ref)} {a} {c} {spice_number(farads)}")
    b.two_terminal(ref, "capacitor", farads, a, c)


def inductor(b: Builder, ref: str, part: Part, dp: DesignPart) -> None:
    henries = value_of(b, ref, part, dp)
    if henries is None:
        return
    a, c = b.node(ref, part.pins[0]), b.node(ref, part.pins[1])
    b.add(f"{b.element('L', ref)} {a} {c} {spice_number(henries)}", dc=[(a, c)])


def potentiometer(b: Builder, ref: str, part: Part, dp: DesignPart) -> None:
    """Two resistors split at the wiper (``params.wiper``, 0..1 from the first end)."""
    ohms = value_of(b, ref, part, dp)
    wiper = pin_with(part, PinRole.WIPER)
    ends = [p for p in part.pins if p is not wiper]
    if ohms is None or wiper is None or len(ends) < 2:
        return
    fraction = min(max(part.spice.params.get("wiper", 0.5), 0.0), 1.0) if part.spice else 0.5
    w, e1, e2 = b.node(ref, wiper), b.node(ref, ends[0]), b.node(ref, ends[1])
    upper, lower = max(ohms * fraction, MIN_OHM), max(ohms * (1 - fraction), MIN_OHM)
    b.add(f"{b.element('R', ref, 'a')} {e1} {w} {spice_number(upper)}", dc=[(e1, w)])
    b.add(f"{b.element('R', ref, 'b')} {w} {e2} {spice_number(lower)}", dc=[(w, e2)])
    b.two_terminal(ref, "resistor", upper, e1, w)
    b.two_terminal(ref, "resistor", lower, w, e2)


def diode(b: Builder, ref: str, part: Part, dp: DesignPart) -> None:
    anode, cathode = pin_with(part, PinRole.ANODE), pin_with(part, PinRole.CATHODE)
    if anode is None or cathode is None or part.spice is None:
        return
    p = part.spice.params
    fields = {"IS": p.get("is_a", 1e-14), "N": p.get("n", 1.0), "RS": p.get("rs_ohm", 0.0)}
    if "bv_v" in p:
        fields["BV"] = p["bv_v"]
    if "cjo_f" in p:
        fields["CJO"] = p["cjo_f"]
    model = _model(b, part, "D", fields)
    a, k = b.node(ref, anode), b.node(ref, cathode)
    b.add(f"{b.element('D', ref)} {a} {k} {model}", junctions=[(a, k)])


def led(b: Builder, ref: str, part: Part, dp: DesignPart) -> None:
    """A diode fitted to conduct ``if_ma`` at ``vf_v``, behind a 0 V source that measures its current."""
    anode, cathode = pin_with(part, PinRole.ANODE), pin_with(part, PinRole.CATHODE)
    if anode is None or cathode is None or part.spice is None:
        return
    p = part.spice.params
    vf, i_f = p.get("vf_v", 2.0), p.get("if_ma", 20.0) / 1000
    n, rs = p.get("n", LED_EMISSION), p.get("rs_ohm", LED_SERIES_OHM)
    saturation = i_f / math.expm1((vf - i_f * rs) / (n * THERMAL_VOLTAGE))
    model = _model(b, part, "D", {"IS": saturation, "N": n, "RS": rs, "BV": 5.0, "IBV": 1e-5})
    a, k, inner = b.node(ref, anode), b.node(ref, cathode), b.internal(ref, "led")
    sense = b.element("V", ref, "sense")
    b.add(f"{sense} {a} {inner} DC 0", dc=[(a, inner)])
    b.add(f"{b.element('D', ref)} {inner} {k} {model}", junctions=[(inner, k)])
    rated = part.specs.get("max_if_ma")
    max_ma = p.get("max_ma", float(rated) if isinstance(rated, int | float) else None)
    b.measure_current("led", ref, ref, sense, sign=1.0, max_ma=max_ma)


def bjt(b: Builder, ref: str, part: Part, dp: DesignPart) -> None:
    c, base, e = (pin_with(part, r) for r in (PinRole.COLLECTOR, PinRole.BASE, PinRole.EMITTER))
    if c is None or base is None or e is None or part.spice is None:
        return
    p = part.spice.params
    fields = {"BF": p.get("bf", 100.0), "IS": p.get("is_a", 1e-14)}
    if "vaf_v" in p:
        fields["VAF"] = p["vaf_v"]
    model = _model(b, part, "PNP" if p.get("polarity", 1) < 0 else "NPN", fields)
    nc, nb, ne = b.node(ref, c), b.node(ref, base), b.node(ref, e)
    b.add(f"{b.element('Q', ref)} {nc} {nb} {ne} {model}", junctions=[(nc, ne), (nb, ne)])


def mosfet(b: Builder, ref: str, part: Part, dp: DesignPart) -> None:
    """Level-1 MOSFET with the body tied to the source."""
    d, g, s = (pin_with(part, r) for r in (PinRole.DRAIN, PinRole.GATE, PinRole.SOURCE))
    if d is None or g is None or s is None or part.spice is None:
        return
    p = part.spice.params
    p_channel = p.get("polarity", 1) < 0
    vto = abs(p.get("vto_v", 2.0)) * (-1 if p_channel else 1)
    model = _model(b, part, "PMOS" if p_channel else "NMOS", {"LEVEL": 1, "VTO": vto, "KP": p.get("kp", 0.1)})
    nd, ng, ns = b.node(ref, d), b.node(ref, g), b.node(ref, s)
    b.add(f"{b.element('M', ref)} {nd} {ng} {ns} {ns} {model}", junctions=[(nd, ns)], reads=[ng])


def switch(b: Builder, ref: str, part: Part, dp: DesignPart) -> None:
    """Switches and buttons are simulated in their resting state: open."""
    b.comment(f"{ref} {part.id}: open (resting state)")


def source(b: Builder, ref: str, part: Part, dp: DesignPart) -> None:
    """Battery or supply: each positive terminal a source with the internal resistance."""
    if part.spice is None:
        return
    p = part.spice.params
    minus = b.ground(ref, part)
    outputs = [pin for pin in part.pins if pin.type is ElectricalType.POWER_OUT and PinRole.GROUND not in pin.roles]
    for index, pin in enumerate(outputs):
        volts = p.get("voltage_v", pin.voltage or 0.0) if index == 0 else (pin.voltage or 0.0)
        name = b.source(ref, pin.name, b.node(ref, pin), minus, volts, p.get("r_internal_ohm", 0.05))
        b.measure_current("supply", ref, f"{ref}.{pin.name}", name, sign=-1.0, max_ma=pin.max_current_ma)


def _model(b: Builder, part: Part, kind: str, fields: dict[str, float]) -> str:
    name = "m_" + sanitise(part.id)
    values = " ".join(f"{key}={spice_number(value)}" for key, value in fields.items())
    b.model(name, f".model {name} {kind}({values})")
    return name
