"""Driver modules and the loads they drive: H-bridges take a DC motor per channel (or a stepper on
both), step/dir drivers and the ULN2003 take a stepper, a MOSFET module switches one load, the
PCA9685 gives servos their PWM. The motor supply pin (the driver's highest-voltage input) gets a rail
every load on it accepts; the logic supply pins get the MCU's rail."""

from __future__ import annotations

from agents.reference.builder import Placed, ReferenceDesignError
from agents.reference.devices import is_i2c, wire_module
from agents.reference.loads import flyback, load_terminals
from agents.reference.power import named, supply_range
from agents.reference.wiring import Wiring
from components_db.schema import ElectricalType, Part, PinRole
from studio.erc.nodes import supply_pins

R = PinRole
T = ElectricalType


def drives(driver: Part, load: Part) -> bool:
    """Whether the driver can take this load: servos on a PWM driver, coils and motors on the rest."""
    if driver.pins_with_role(R.MOTOR_OUT) or driver.pins_with_role(R.LOAD):
        return not supply_pins(load)
    return bool(driver.pins_with_role(R.PWM)) and any(R.PWM in p.roles and p.type is T.INPUT for p in load.pins)


def capacity(driver: Part) -> int:
    """How many loads one driver takes: a motor per output pair, one load per MOSFET, a servo per PWM pin."""
    outs = driver.pins_with_role(R.MOTOR_OUT)
    if driver.pins_with_role(R.STEP):
        return 1
    if outs and all(p.type is T.OPEN_COLLECTOR for p in outs):
        return 1  # ULN2003: a stepper on all four
    if outs:
        return len(outs) // 2
    if driver.pins_with_role(R.LOAD):
        return 1
    return len([p for p in driver.pins_with_role(R.PWM) if p.type is T.OUTPUT])


def slots(driver: Part, load: Part) -> int:
    """How much of the driver's capacity a load takes: a stepper's four coil wires take every bridge of an
    H-bridge, anything else one channel."""
    outs = driver.pins_with_role(R.MOTOR_OUT)
    h_bridge = outs and not driver.pins_with_role(R.STEP) and not all(p.type is T.OPEN_COLLECTOR for p in outs)
    coils = [p for p in load.pins if R.COIL in p.roles]
    return capacity(driver) if h_bridge and len(coils) >= 4 else 1


def wire_driver(w: Wiring, driver: Placed, loads: list[Placed]) -> None:
    motor_pin = max(supply_pins(driver.part), key=lambda p: (supply_range(driver.part, p) or (0.0, 0.0))[1])
    own = supply_range(driver.part, motor_pin) or (0.0, 60.0)
    spans = [(load, (load.part.supply.min_v, load.part.supply.max_v)) for load in loads if load.part.supply]
    low, high = max([own[0], *(span[0] for _, span in spans)]), min([own[1], *(span[1] for _, span in spans)])
    who = f"{named(driver)} {motor_pin.name} ({own[0]:g}-{own[1]:g} V)" + (
        f" and {_listed(loads, spans)}" if loads else ""
    )
    if low > high:
        raise ReferenceDesignError(f"no one supply can feed {who}: their voltage ranges do not overlap")
    draw = sum(load.part.current_draw_ma or 0.0 for load in loads)
    rail = w.power.rail_for(low, high, load_ma=draw, prefer_logic=False, who=who)
    rail.load_ma += draw
    w.b.connect(rail.net, driver.label(motor_pin))
    outs = driver.part.pins_with_role(R.MOTOR_OUT)
    if driver.part.pins_with_role(R.STEP):
        _windings(w, driver, loads[0], outs)
    elif outs and all(p.type is T.OPEN_COLLECTOR for p in outs):
        _unipolar(w, driver, loads[0], outs, rail.net)
    elif outs:
        _h_bridge(w, driver, loads, outs, rail.net)
    elif driver.part.pins_with_role(R.LOAD):
        _mosfet_module(w, driver, loads[0], rail.net)
    else:
        _servos(w, driver, loads, rail.net)
    if not is_i2c(driver.part):  # a PCA9685's logic side is wired with the I2C bus
        wire_module(w, driver)  # logic supply and control inputs (IN, STEP/DIR, enables)


def _listed(loads: list[Placed], spans: list[tuple[Placed, tuple[float, float]]]) -> str:
    """The loads with their supply ranges, for a message: 'M1 (6V DC motor, 3-6 V) and M2 (...)'."""
    ranges = {id(load): f", {low:g}-{high:g} V" for load, (low, high) in spans}
    return " and ".join(f"{load.ref} ({load.part.name}{ranges.get(id(load), '')})" for load in loads)


def _windings(w: Wiring, driver: Placed, stepper: Placed, outs: list) -> None:
    coils = [p for p in stepper.part.pins if R.COIL in p.roles]
    for out, coil in zip(outs, coils, strict=False):
        w.b.link(driver.label(out), stepper.label(coil))


def _unipolar(w: Wiring, driver: Placed, load: Placed, outs: list, rail_net: str) -> None:
    coils = [p for p in load.part.pins if R.COIL in p.roles]
    if len(coils) > len(outs):  # 28BYJ-48: four coil ends and the common (red) wire to the supply
        w.b.connect(rail_net, load.label(coils[-1]))
        for out, coil in zip(outs, coils, strict=False):
            w.b.link(driver.label(out), load.label(coil))
        return
    plus, minus = load_terminals(load.part)
    w.b.connect(rail_net, load.pin(plus))
    w.b.link(driver.label(outs[0]), load.pin(minus))
    _drop_unused_inputs(w, driver, keep=1)


def _h_bridge(w: Wiring, driver: Placed, loads: list[Placed], outs: list, rail_net: str) -> None:
    pairs = [outs[i : i + 2] for i in range(0, len(outs) - 1, 2)]
    used = 0
    for load in loads:
        coils = [p for p in load.part.pins if R.COIL in p.roles]
        if len(coils) > 4:  # unipolar stepper (28BYJ-48): the common to the motor supply, a coil end per output
            w.b.connect(rail_net, load.label(coils[-1]))
            coils = coils[:-1]
        if len(coils) == 4:  # bipolar stepper: one winding per bridge
            for out, coil in zip(outs, coils, strict=False):
                w.b.link(driver.label(out), load.label(coil))
            used = len(pairs)
            continue
        plus, minus = load_terminals(load.part)
        a, b = pairs[used]
        w.b.link(driver.label(a), load.pin(plus))
        w.b.link(driver.label(b), load.pin(minus))
        used += 1
    _drop_unused_inputs(w, driver, keep=used)


def _drop_unused_inputs(w: Wiring, driver: Placed, keep: int) -> None:
    """Mark the inputs of unused channels as handled (left open: the module's spare channel)."""
    inputs = [p for p in driver.part.pins if p.type is T.INPUT and R.DIGITAL_IN in p.roles]
    enables = [p for p in driver.part.pins if p.type is T.INPUT and R.ENABLE in p.roles and R.PWM in p.roles]
    per_channel = max(1, len(inputs) // max(1, capacity(driver.part)))
    spare = inputs[keep * per_channel :] + enables[keep:]
    w.b.spare.update(driver.label(p) for p in spare)


def _mosfet_module(w: Wiring, driver: Placed, load: Placed, rail_net: str) -> None:
    plus, minus = load_terminals(load.part)
    high = next(p for p in driver.part.pins if R.LOAD in p.roles and p.type is T.PASSIVE)
    low = next(p for p in driver.part.pins if R.LOAD in p.roles and p.type is T.OPEN_COLLECTOR)
    w.b.connect(rail_net, driver.label(high), load.pin(plus))
    w.b.link(load.pin(minus), driver.label(low), f"{load.ref}_LOW")
    flyback(w, load, load.pin(plus), load.pin(minus))


def _servos(w: Wiring, driver: Placed, servos: list[Placed], rail_net: str) -> None:
    channels = [p for p in driver.part.pins_with_role(R.PWM) if p.type is T.OUTPUT]
    for servo, channel in zip(servos, channels, strict=False):
        w.power.ground(servo)
        for pin in supply_pins(servo.part):
            w.b.connect(rail_net, servo.label(pin))
        signal = next(p for p in servo.part.pins if R.PWM in p.roles)
        w.b.link(driver.label(channel), servo.label(signal))
