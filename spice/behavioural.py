"""Behavioural models: boards, modules, regulators, op-amps and the 555.

Each is the smallest model that gives the right DC operating point (and, for the 555 and op-amps,
the right textbook dynamics) from the datasheet numbers in the part's ``SpiceSpec``. Expressions
use ngspice B-sources; every node in them comes from the ``Builder``, so none is user text.
"""

from __future__ import annotations

import math

from components_db.schema import ElectricalType, Part, Pin, PinRole
from spice.builder import Builder, RegulatorProbe
from spice.devices import pin_with
from spice.names import GROUND, spice_number
from studio.circuit.design import DesignPart

SUPPLY_PIN_OHM = 0.05  # output resistance of a board's regulated 3V3 / 5V pin
REGULATOR_OUT_OHM = 0.01
DEFAULT_GPIO_OHM = 25.0
OPAMP_OUT_OHM = 10.0
TIMER_HIGH_DROP_V = 1.7  # NE555 output high is about VCC - 1.7 V
TIMER_DISCHARGE_OHM = 10.0
_DRIVE_TYPES = (ElectricalType.BIDIRECTIONAL, ElectricalType.OUTPUT, ElectricalType.TRI_STATE)
_NEGATIVE_SUPPLY_NAMES = {"V-", "VEE", "VSS", "-VS"}
_LOAD_ROLES = {PinRole.LOAD, PinRole.COIL}
_DRIVEN_ROLES = {PinRole.ANODE, PinRole.BASE, PinRole.GATE, *_LOAD_ROLES}
_SUPPLY_ROLES = {PinRole.POWER_IN, PinRole.GROUND}
_CONTACT_ROLES = {PinRole.CONTACT_COM, PinRole.CONTACT_NO, PinRole.CONTACT_NC}


def board(b: Builder, ref: str, part: Part, dp: DesignPart) -> None:
    """Power_out pins are sources at their voltage.

    A GPIO is simulated driven high when another part loads its net and nothing else sets the net's
    level (an LED and resistor to ground, a transistor base); a GPIO on a net a rail already sets
    through a resistor (a divider tap, a pulled-up button) or that reads a button or a pull-down
    is taken as an input and left open.
    """
    gnd = b.ground(ref, part)
    for pin in part.pins:
        if pin.type is ElectricalType.POWER_OUT and pin.voltage and b.is_connected(ref, pin):
            name = b.source(ref, pin.name, b.node(ref, pin), gnd, pin.voltage, SUPPLY_PIN_OHM)
            b.measure_current("supply", ref, f"{ref}.{pin.name}", name, sign=-1.0, max_ma=pin.max_current_ma)
    _supply_load(b, ref, part, gnd)
    level = part.logic_level_v or (part.supply.nominal_v if part.supply and part.supply.nominal_v else 3.3)
    r_out = part.spice.params.get("r_out_ohm", DEFAULT_GPIO_OHM) if part.spice else DEFAULT_GPIO_OHM
    gpios = [p for p in part.pins if p.type in _DRIVE_TYPES and b.is_connected(ref, p)]

    def drive_loaded_gpios() -> None:
        b.owner = ref
        for pin in gpios:
            node = b.node(ref, pin)
            if not b.loaded_by_others(node, ref) or b.set_elsewhere(node) or _reads_input(b, ref, node):
                continue
            volts = pin.logic_level_v or level
            name = b.source(ref, pin.name, node, gnd, volts, r_out)
            b.measure_current("gpio", ref, f"{ref}.{pin.name}", name, sign=-1.0, max_ma=pin.max_current_ma)
            b.assumptions.append(f"GPIO driven high: {ref}.{pin.name} at {volts:g} V through {r_out:g} ohm")

    b.defer(drive_loaded_gpios)


def _reads_input(b: Builder, ref: str, node: str) -> bool:
    """Whether ``ref``'s GPIO on ``node`` reads it: a switch or a pull resistor to a rail or ground is
    there, and no load that needs driving (an LED, a base or gate, a coil) is, directly or through
    one resistor (an LED or base resistor)."""
    read = False
    for other, pin in b.pins_on(node):
        part = b.resolved.parts.get(other)
        if other == ref or part is None:
            continue
        if _DRIVEN_ROLES & set(pin.roles):
            return False
        kind = part.spice.kind if part.spice else None
        far = [p for p in part.pins if p is not pin and b.is_connected(other, p)]
        if kind == "resistor" and far:
            far_node = b.node(other, far[0])
            if b.is_rail(far_node):
                read = True
            elif any(_DRIVEN_ROLES & set(p.roles) for r, p in b.pins_on(far_node) if r != other):
                return False
        read = read or kind == "switch"
    return read


def module(b: Builder, ref: str, part: Part, dp: DesignPart) -> None:
    """A supply load of ``current_draw_ma`` on its power_in pins; a bare load is a resistor.

    A part without supply pins whose terminals are two passive LOAD or COIL pins (a motor, fan,
    pump, solenoid, buzzer, bare relay coil) is the load itself: ``r_coil_ohm`` between them, else
    its rated voltage over ``current_draw_ma``. Relay contacts (COM/NO/NC) are left open, so what
    they switch is simulated off whether or not the coil is energised.
    """
    gnd = b.ground(ref, part)
    terminals = [pin for pin in part.pins if pin.type is ElectricalType.PASSIVE and _LOAD_ROLES & set(pin.roles)]
    if terminals and not _SUPPLY_ROLES & {role for pin in part.pins for role in pin.roles}:
        _bare_load(b, ref, part, terminals)
    contacts = [pin.name for pin in part.pins if _CONTACT_ROLES & set(pin.roles) and b.is_connected(ref, pin)]
    if contacts:
        b.assumptions.append(f"Relay contacts open: {ref} {'/'.join(contacts)} switch nothing in the simulation")
    _supply_load(b, ref, part, gnd)


def _bare_load(b: Builder, ref: str, part: Part, terminals: list[Pin]) -> None:
    r_coil = part.spice.params.get("r_coil_ohm") if part.spice else None
    rated_v = part.supply.nominal_v if part.supply else None
    if not r_coil and rated_v and part.current_draw_ma:
        r_coil = rated_v / (part.current_draw_ma / 1000)
    if len(terminals) != 2 or not r_coil:
        b.notes.append(f"{ref}: {part.id} has no two-terminal load resistance; its windings are left open")
        return
    a, c = b.node(ref, terminals[0]), b.node(ref, terminals[1])
    b.add(f"{b.element('R', ref, 'load')} {a} {c} {spice_number(r_coil)}", dc=[(a, c)])


def regulator(b: Builder, ref: str, part: Part, dp: DesignPart) -> None:
    """Linear regulator: out = min(vout, vin - dropout); the load current and iq come from the input.

    An adjustable one (a FEEDBACK pin, LM317 ADJ) holds ``vout_v`` above its ADJ pin instead of ground.
    """
    vin_pin, out_pin = pin_with(part, PinRole.POWER_IN), _output(part)
    if vin_pin is None or out_pin is None or part.spice is None:
        return
    p = part.spice.params
    vout, dropout = p.get("vout_v", out_pin.voltage or 0.0), p.get("dropout_v", 2.0)
    gnd = b.ground(ref, part)
    vin, out = b.node(ref, vin_pin), b.node(ref, out_pin)
    adjust_pin = pin_with(part, PinRole.FEEDBACK)
    adjust = b.node(ref, adjust_pin) if adjust_pin else None
    b.supply_pins(ref, part, gnd, regulator_input=True)
    target = f"V({adjust},{gnd}) + {spice_number(vout)}" if adjust else spice_number(vout)
    headroom = f"max(V({vin},{gnd}) - {spice_number(dropout)}, 0)"
    sense = _regulated_output(b, ref, out, gnd, f"min({target}, {headroom})", reads=[adjust] if adjust else [])
    b.add(f"{b.element('F', ref, 'in')} {vin} {gnd} {sense} 1", reads=[vin, gnd])
    b.load(ref, "iq", vin, adjust or gnd, p.get("iq_ma", part.current_draw_ma or 0.0))
    b.probes.regulators.append(
        RegulatorProbe(
            ref=ref,
            in_node=vin,
            out_node=out,
            gnd_node=gnd,
            adjust_node=adjust,
            vout_v=vout,
            dropout_v=dropout,
            max_ma=p.get("max_ma", out_pin.max_current_ma),
            sense=sense,
        )
    )


def switching_regulator(b: Builder, ref: str, part: Part, dp: DesignPart) -> None:
    """Ideal converter: out = vout once the input is up; input power = output power / efficiency."""
    vin_pin, out_pin = pin_with(part, PinRole.POWER_IN), _output(part)
    if vin_pin is None or out_pin is None or part.spice is None:
        return
    p = part.spice.params
    vout, efficiency = p.get("vout_v", out_pin.voltage or 5.0), p.get("efficiency", 0.9)
    v_min = part.supply.min_v if part.supply and part.supply.min_v > 0 else 1.0
    gnd = b.ground(ref, part)
    vin, out = b.node(ref, vin_pin), b.node(ref, out_pin)
    b.supply_pins(ref, part, gnd)
    inner = f"{spice_number(vout)} * min(1, max(V({vin},{gnd}), 0) / {spice_number(v_min)})"
    sense = _regulated_output(b, ref, out, gnd, inner)
    b.highest_v = max(b.highest_v, abs(vout))  # a boost converter sets more than its input
    power = f"V({out},{gnd}) * I({sense}) / {spice_number(efficiency)}"
    b.add(f"{b.element('B', ref, 'in')} {vin} {gnd} I = {power} / max(V({vin},{gnd}), {spice_number(v_min / 2)})")


def opamp(b: Builder, ref: str, part: Part, dp: DesignPart) -> None:
    """Per channel: gain stage, one pole at gbw/gain, then a smooth clamp to the rails minus ``rail_drop_v``."""
    if part.spice is None:
        return
    p = part.spice.params
    gain, gbw, vos, drop = p.get("gain", 1e5), p.get("gbw_hz", 1e6), p.get("vos_v", 0.0), p.get("rail_drop_v", 1.5)
    gnd = b.ground(ref, part)
    positive = [pin for pin in part.pins_with_role(PinRole.POWER_IN) if pin.name.upper() not in _NEGATIVE_SUPPLY_NAMES]
    negative = [pin for pin in part.pins_with_role(PinRole.POWER_IN) if pin.name.upper() in _NEGATIVE_SUPPLY_NAMES]
    if not positive:
        return
    vpos = b.node(ref, positive[0])
    vneg = b.node(ref, negative[0]) if negative else gnd
    b.supply_pins(ref, part, gnd)
    by_number = sorted(part.pins, key=lambda pin: _pin_order(pin.number))
    inverting = [pin for pin in by_number if PinRole.INVERTING_IN in pin.roles]
    non_inverting = [pin for pin in by_number if PinRole.NONINVERTING_IN in pin.roles]
    outputs = [pin for pin in by_number if pin.type in (ElectricalType.OUTPUT, ElectricalType.OPEN_COLLECTOR)]
    pole_f = 1 / (2 * math.pi * 1e3 * gbw / gain)
    mid = f"((V({vpos}) + V({vneg})) / 2)"
    half = f"max((V({vpos}) - V({vneg})) / 2 - {spice_number(drop)}, 0.01)"
    for channel, (minus, plus, out_pin) in enumerate(zip(inverting, non_inverting, outputs, strict=False), start=1):
        tag = f"ch{channel}"
        inn, inp, out = b.node(ref, minus), b.node(ref, plus), b.node(ref, out_pin)
        raw, slow, clamped = (b.internal(ref, f"{tag}_{stage}") for stage in ("raw", "pole", "out"))
        vd = f"(V({inp}) - V({inn}) + {spice_number(vos)})"
        b.add(
            f"{b.element('B', ref, tag, 'gain')} {raw} {GROUND} V = {spice_number(gain)} * {vd}",
            dc=[(raw, GROUND)],
            reads=[inp, inn],
        )
        b.add(f"{b.element('R', ref, tag, 'pole')} {raw} {slow} 1000", dc=[(raw, slow)])
        b.add(f"{b.element('C', ref, tag, 'pole')} {slow} {GROUND} {spice_number(pole_f)}")
        if out_pin.type is ElectricalType.OPEN_COLLECTOR:
            on = f"(0.5 - 0.5 * tanh((V({slow}) - {mid}) / 0.01))"
            b.add(
                f"{b.element('B', ref, tag, 'out')} {out} {vneg} I = {on} * V({out},{vneg}) / {OPAMP_OUT_OHM}",
                reads=[slow, vpos, vneg],
            )
            continue
        level = f"{mid} + {half} * tanh((V({slow}) - {mid}) / {half})"
        b.add(
            f"{b.element('B', ref, tag, 'out')} {clamped} {GROUND} V = {level}",
            dc=[(clamped, GROUND)],
            reads=[slow, vpos, vneg],
        )
        b.add(f"{b.element('R', ref, tag, 'out')} {clamped} {out} {OPAMP_OUT_OHM}", dc=[(clamped, out)])
        b.drive(out)
    _supply_load(b, ref, part, gnd, record=False)


def timer555(b: Builder, ref: str, part: Part, dp: DesignPart) -> None:
    """NE555: 3 x 5k divider, SR latch (trigger < VCC/3 sets, threshold > 2 VCC/3 resets), output, discharge.

    The latch is a smooth comparator network settling through a 10 ns RC, so it needs no digital
    models; RESET counts only when wired (a floating reset would otherwise hold the timer off).
    """
    pins = {role: pin_with(part, role) for role in (PinRole.TRIGGER, PinRole.THRESHOLD, PinRole.DISCHARGE)}
    vcc_pin, out_pin = pin_with(part, PinRole.POWER_IN), _output(part, ElectricalType.OUTPUT)
    if vcc_pin is None or out_pin is None or None in pins.values():
        return
    gnd = b.ground(ref, part)
    vcc, out = b.node(ref, vcc_pin), b.node(ref, out_pin)
    trig, thr, dis = (b.node(ref, pin) for pin in pins.values() if pin is not None)
    control = pin_with(part, PinRole.CONTROL)
    ctrl = b.node(ref, control) if control else b.internal(ref, "ctrl")
    low, target, state, drive = (b.internal(ref, what) for what in ("low", "target", "state", "drive"))
    b.supply_pins(ref, part, gnd)
    for tag, a, c in (("div1", vcc, ctrl), ("div2", ctrl, low), ("div3", low, gnd)):
        b.add(f"{b.element('R', ref, tag)} {a} {c} 5000", dc=[(a, c)])
    set_ = _step(f"V({low},{gnd}) - V({trig},{gnd})", 0.001)
    clear = _step(f"V({thr},{gnd}) - V({ctrl},{gnd})", 0.001)
    is_set = _step(f"V({state}) - 0.5", 0.01)
    latch = f"{set_} + (1 - {set_}) * (1 - {clear}) * {is_set}"
    reset = pin_with(part, PinRole.RESET)
    if reset is not None and b.is_connected(ref, reset):
        latch = f"{_step(f'V({b.node(ref, reset)},{gnd}) - 0.7', 0.05)} * ({latch})"
    b.add(f"{b.element('B', ref, 'latch')} {target} {GROUND} V = {latch}", dc=[(target, GROUND)], reads=[trig, thr])
    b.add(f"{b.element('R', ref, 'latch')} {target} {state} 1000", dc=[(target, state)])
    b.add(f"{b.element('C', ref, 'latch')} {state} {GROUND} 1e-11")
    high = f"max(V({vcc},{gnd}) - {TIMER_HIGH_DROP_V}, 0)"
    b.add(f"{b.element('B', ref, 'out')} {drive} {gnd} V = {is_set} * {high}", dc=[(drive, gnd)])
    b.add(f"{b.element('R', ref, 'out')} {drive} {out} 10", dc=[(drive, out)])
    b.drive(out)
    b.add(f"{b.element('B', ref, 'dis')} {dis} {gnd} I = (1 - {is_set}) * V({dis},{gnd}) / {TIMER_DISCHARGE_OHM}")
    _supply_load(b, ref, part, gnd, record=False)


def _step(argument: str, width: float) -> str:
    """A smooth 0..1 step (a comparator); smooth so the operating point and timesteps converge."""
    return f"(0.5 + 0.5 * tanh(({argument}) / {spice_number(width)}))"


def _regulated_output(b: Builder, ref: str, out: str, gnd: str, expression: str, reads: list[str] | None = None) -> str:
    """B-source -> 0 V sense source -> small resistor -> out; returns the sense source's name."""
    inner, sensed = b.internal(ref, "reg"), b.internal(ref, "sense")
    sense = b.element("V", ref, "sense")
    b.add(f"{b.element('B', ref, 'reg')} {inner} {gnd} V = {expression}", dc=[(inner, gnd)], reads=reads or [])
    b.add(f"{sense} {inner} {sensed} DC 0", dc=[(inner, sensed)])
    b.add(f"{b.element('R', ref, 'out')} {sensed} {out} {REGULATOR_OUT_OHM}", dc=[(sensed, out)])
    b.drive(out, sense)
    return sense


def _supply_load(b: Builder, ref: str, part: Part, gnd: str, *, record: bool = True) -> None:
    """``current_draw_ma`` shared by the connected power_in pins (each also range-checked)."""
    nodes = (
        b.supply_pins(ref, part, gnd)
        if record
        else [b.node(ref, pin) for pin in part.pins_with_role(PinRole.POWER_IN) if b.is_connected(ref, pin)]
    )
    if nodes and part.current_draw_ma:
        for index, node in enumerate(nodes):
            b.load(ref, f"supply{index}", node, gnd, part.current_draw_ma / len(nodes))


def _output(part: Part, kind: ElectricalType = ElectricalType.POWER_OUT) -> Pin | None:
    return next((pin for pin in part.pins if pin.type is kind), None)


def _pin_order(number: str) -> tuple[int, str]:
    return (int(number), "") if number.isdigit() else (10**6, number)
