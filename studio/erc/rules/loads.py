"""Loads: coils and motors need a flyback diode or a driver, run on a rail within their rated voltage,
and a GPIO cannot power a heavy load."""

from __future__ import annotations

from collections.abc import Iterator

from components_db.schema import Category, ElectricalType, Part, Pin, PinRole
from studio.erc.findings import Violation
from studio.erc.nodes import (
    DIODES,
    GPIO_TYPES,
    VOLT_TOLERANCE,
    ErcContext,
    Node,
    is_ground_pin,
    is_two_terminal,
)
from studio.erc.registry import violation

LOAD_ROLES = frozenset({PinRole.COIL, PinRole.LOAD})
# a motor's or coil's rated voltage is nominal: hobby loads run within 20 % of it (a 6 V motor on 7.2 V)
LOAD_VOLT_MARGIN = 0.2


def check(ctx: ErcContext) -> Iterator[Violation]:
    for ref, part in ctx.parts():
        if part.usage.inductive and not part.usage.flyback_included:
            yield from _flyback(ctx, ref, part)
        yield from _rated_voltage(ctx, ref, part)
    for node in ctx.nodes:
        yield from _gpio_current(ctx, node)


def load_pins(part: Part) -> list[Pin]:
    """The terminals current flows through: coil/load pins, both pins of a two-pin actuator, else power pins."""
    marked = [p for p in part.pins if LOAD_ROLES.intersection(p.roles)]
    if marked:
        return marked
    if part.is_two_terminal and part.category is Category.ACTUATOR:
        return list(part.pins)
    return [p for p in part.pins if p.type is ElectricalType.POWER_IN]


def flyback_protected(ctx: ErcContext, ref: str, part: Part) -> bool | None:
    """A diode across the coil's two nodes, or a driver module on one of them; None: not in a circuit yet."""
    nodes = list(dict.fromkeys(n for p in load_pins(part) if (n := ctx.node(ref, p)) is not None))
    if len(nodes) < 2:
        return None
    for node in nodes:
        if any(other in nodes and other is not node for _, other in ctx.two_terminals_on(node, DIODES)):
            return True
        if any(bp.part.category is Category.DRIVER or PinRole.MOTOR_OUT in bp.pin.roles for bp in node.pins):
            return True
    return False


def _flyback(ctx: ErcContext, ref: str, part: Part) -> Iterator[Violation]:
    if flyback_protected(ctx, ref, part) is not False:
        return
    nodes = list(dict.fromkeys(n for p in load_pins(part) if (n := ctx.node(ref, p)) is not None))
    yield violation(
        "inductive-no-flyback",
        f"{ref} ({part.name}) is a coil or motor with no flyback diode across it: when it switches off, its "
        "voltage spike can destroy the transistor or pin that drives it.",
        f"Put a diode (1N4007 / 1N4148) across {ref}, cathode to the positive side, or drive it with a driver "
        "module (relay module, L298N, ULN2003) that has one.",
        refs=[ref],
        pins=[f"{ref}.{p.name}" for p in load_pins(part)],
        net=nodes[0].name,
    )


def _rated_voltage(ctx: ErcContext, ref: str, part: Part) -> Iterator[Violation]:
    """A bare load (motor, pump, fan, solenoid, relay coil: terminals marked LOAD or COIL) whose rail is
    outside its rated range (with ``LOAD_VOLT_MARGIN``). A terminal on a driver's motor output runs at the
    driver's motor supply less its bridge drop (the KB's ``bridge_drop_v`` spec)."""
    terminals = [p for p in part.pins if LOAD_ROLES.intersection(p.roles)]
    if not terminals or part.supply is None:
        return
    volts = [v for p in terminals if (node := ctx.node(ref, p)) is not None and (v := _load_volts(ctx, node))]
    if not volts:
        return
    rail, low, high = max(volts), part.supply.min_v, part.supply.max_v
    if low * (1 - LOAD_VOLT_MARGIN) - VOLT_TOLERANCE <= rail <= high * (1 + LOAD_VOLT_MARGIN) + VOLT_TOLERANCE:
        return
    hint = "too little for it to run" if rail < low else "more than it is made for: it overheats or burns out"
    yield violation(
        "load-voltage-out-of-range",
        f"{ref} ({part.name}) is rated {low:g}-{high:g} V but runs from {rail:g} V here: {hint}.",
        f"Power {ref} from a {low:g}-{high:g} V supply (or a regulator or converter to that voltage), or use a "
        f"{rail:g} V version of it.",
        refs=[ref],
        pins=[f"{ref}.{p.name}" for p in terminals],
    )


def _load_volts(ctx: ErcContext, node: Node) -> float | None:
    drivers = {bp.ref: bp.part for bp in node.pins if PinRole.MOTOR_OUT in bp.pin.roles}
    volts = [v - _bridge_drop(part) for ref, part in drivers.items() if (v := ctx.part_supply_voltage(ref)) is not None]
    own = ctx.voltage(node)
    if own is not None and not node.is_ground:
        volts.append(own)
    return max(volts, default=None)


def _bridge_drop(driver: Part) -> float:
    drop = driver.specs.get("bridge_drop_v", 0.0)
    return float(drop) if isinstance(drop, int | float) else 0.0


def _gpio_current(ctx: ErcContext, node: Node) -> Iterator[Violation]:
    gpios = [bp for bp in node.of_type(GPIO_TYPES) if bp.pin.max_current_ma is not None]
    if not gpios or node.is_ground or node.rail_pins:
        return
    loads = [
        bp
        for bp in node.pins
        if bp.ref not in {g.ref for g in gpios}
        and not is_ground_pin(bp.pin)
        and bp.pin in load_pins(bp.part)
        and (bp.part.current_draw_ma is not None or bp.part.usage.inductive)
        and not is_two_terminal(bp.part, DIODES)
    ]
    if not loads:
        return
    draw = sum(bp.part.current_draw_ma or 0.0 for bp in loads)
    limit = min(bp.pin.max_current_ma or 0.0 for bp in gpios)
    unknown = any(bp.part.current_draw_ma is None for bp in loads)
    if draw <= limit and not unknown:
        return
    needed = f"about {draw:g} mA" if not unknown else "more current than a pin can give"
    yield violation(
        "gpio-overcurrent",
        f"{gpios[0].label} powers {', '.join(bp.label for bp in loads)} directly; that load needs {needed}, "
        f"but the pin gives at most {limit:g} mA.",
        f"Switch the load with a transistor or MOSFET (GPIO to the base/gate through 1k) or use a driver module; "
        f"power it from the supply rail, not from {gpios[0].label}.",
        refs=[gpios[0].ref, *(bp.ref for bp in loads)],
        pins=[gpios[0].label, *(bp.label for bp in loads)],
        net=node.name,
    )
