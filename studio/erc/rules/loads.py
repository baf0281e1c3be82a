"""Loads: coils and motors need a flyback diode or a driver, and a GPIO cannot power a heavy load."""

from __future__ import annotations

from collections.abc import Iterator

from components_db.schema import Category, ElectricalType, Part, Pin, PinRole
from studio.erc.context import DIODES, GPIO_TYPES, ErcContext, Node, is_ground_pin, is_two_terminal
from studio.erc.registry import violation
from studio.erc.report import Violation

LOAD_ROLES = frozenset({PinRole.COIL, PinRole.LOAD})


def check(ctx: ErcContext) -> Iterator[Violation]:
    for ref, part in ctx.parts():
        if part.usage.inductive and not part.usage.flyback_included:
            yield from _flyback(ctx, ref, part)
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


def _flyback(ctx: ErcContext, ref: str, part: Part) -> Iterator[Violation]:
    nodes = list(dict.fromkeys(n for p in load_pins(part) if (n := ctx.node(ref, p)) is not None))
    if len(nodes) < 2:
        return  # the coil is not in a circuit yet
    for node in nodes:
        if any(other in nodes and other is not node for _, other in ctx.two_terminals_on(node, DIODES)):
            return
        if any(bp.part.category is Category.DRIVER or PinRole.MOTOR_OUT in bp.pin.roles for bp in node.pins):
            return
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
