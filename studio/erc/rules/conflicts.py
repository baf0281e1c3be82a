"""KiCad's pin-conflict matrix and drive rules, over the electrical types of the pins on each node.

Pairs with a supply output are left to rules/power.py (two supplies) and to the rail rules here (a
driving pin on a rail), because there the voltages decide between a short and a harmless tie.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import combinations_with_replacement

from components_db.schema import ElectricalType
from studio.erc.context import GPIO_TYPES, ErcContext, Node
from studio.erc.registry import violation
from studio.erc.report import Violation

T = ElectricalType
ORDER = [
    T.INPUT,
    T.OUTPUT,
    T.BIDIRECTIONAL,
    T.TRI_STATE,
    T.PASSIVE,
    T.FREE,
    T.UNSPECIFIED,
    T.POWER_IN,
    T.POWER_OUT,
    T.OPEN_COLLECTOR,
    T.OPEN_EMITTER,
    T.NO_CONNECT,
]
# KiCad eeschema erc_settings.cpp default matrix, rows and columns in ORDER (. OK, W warning, E error)
_MATRIX = """
. . . . . . W . . . . E
. E . W . . W . E E E E
. . . . . . W . W . W E
. W . . . . W W E W W E
. . . . . . W . . . . E
. . . . . . . . . . . E
W W W W W . W W W W W E
. . . W . . W . . . . E
. E W E . . W . E E E E
. E . W . . W . E . . E
. E W W . . W . E . . E
E E E E E E E E E E E E
"""
CONFLICT: dict[tuple[ElectricalType, ElectricalType], str] = {
    (row, col): cell
    for row, line in zip(ORDER, _MATRIX.split("\n")[1:-1], strict=True)
    for col, cell in zip(ORDER, line.split(), strict=True)
}
DRIVERS = frozenset(
    {T.OUTPUT, T.BIDIRECTIONAL, T.TRI_STATE, T.PASSIVE, T.UNSPECIFIED, T.POWER_OUT, T.OPEN_COLLECTOR, T.OPEN_EMITTER}
)
# a pin that can drive high shorts a ground; one that can pull low shorts a rail
DRIVES_HIGH = GPIO_TYPES | {T.OPEN_EMITTER}
PULLS_LOW = GPIO_TYPES | {T.OPEN_COLLECTOR}


def check(ctx: ErcContext) -> Iterator[Violation]:
    for node in ctx.nodes:
        yield from _no_connects(node)
        yield from _on_rail(node)
        yield from _matrix(node)
        yield from _not_driven(node)


def _no_connects(node: Node) -> Iterator[Violation]:
    if len(node.pins) < 2:
        return
    for bp in node.of_type({T.NO_CONNECT}):
        yield violation(
            "no-connect-wired",
            f"{bp.label} is marked 'not connected' in the datasheet but is wired to net {node.name}.",
            f"Remove {bp.label} from net {node.name}.",
            refs=[bp.ref],
            pins=[bp.label],
            net=node.name,
        )


def _on_rail(node: Node) -> Iterator[Violation]:
    if node.is_ground:
        what, victims = "ground", node.of_type(DRIVES_HIGH)
    elif node.rail_pins:
        what, victims = f"the {node.rail_voltage:g} V supply ({node.rail_pins[0].label})", node.of_type(PULLS_LOW)
    else:
        return
    for bp in victims:
        rule = "output-on-rail" if bp.pin.type is T.OUTPUT else "gpio-on-rail"
        yield violation(
            rule,
            f"{bp.label} is wired straight to {what}: when it drives the other level it shorts the supply "
            "and can destroy the pin.",
            f"Take {bp.label} off net {node.name}; connect it through a resistor or to the input it should drive.",
            refs=[bp.ref],
            pins=[bp.label],
            net=node.name,
        )


def _matrix(node: Node) -> Iterator[Violation]:
    """One finding per node and level, naming the conflicting pin pairs (supply outputs excluded)."""
    by_type: dict[ElectricalType, list[str]] = {}
    for bp in node.pins:
        if bp.pin.type not in (T.POWER_OUT, T.NO_CONNECT):
            by_type.setdefault(bp.pin.type, []).append(bp.label)
    errors: list[tuple[str, str]] = []
    warnings: list[tuple[str, str]] = []
    for a, b in combinations_with_replacement(sorted(by_type, key=ORDER.index), 2):
        if a == b and len(by_type[a]) < 2:
            continue
        cell = CONFLICT[a, b]
        if cell != ".":
            pair = (by_type[a][0], by_type[b][1] if a == b else by_type[b][0])
            (errors if cell == "E" else warnings).append(pair)
    refs = [bp.ref for bp in node.pins]
    if errors:
        described = "; ".join(f"{x} and {y}" for x, y in errors)
        yield violation(
            "output-conflict",
            f"On net {node.name} two outputs fight ({described}): when one drives high and the other low, "
            "current flows straight between them.",
            "Let only one output drive this net; make the other pin an input (or combine them with a gate).",
            refs=refs,
            pins=[p for pair in errors for p in pair],
            net=node.name,
        )
    if warnings:
        described = "; ".join(f"{x} and {y}" for x, y in warnings)
        yield violation(
            "pin-conflict-warning",
            f"On net {node.name} these pin types may conflict: {described} (tri-state or unspecified pins).",
            "Check in the datasheets that only one of these pins drives the net at a time.",
            refs=refs,
            pins=[p for pair in warnings for p in pair],
            net=node.name,
        )


def _not_driven(node: Node) -> Iterator[Violation]:
    inputs = node.of_type({T.INPUT})
    if node.is_ground or node.is_power or len(node.pins) < 2 or not inputs:
        return
    if any(bp.pin.type in DRIVERS for bp in node.pins):
        return
    labels = [bp.label for bp in inputs]
    yield violation(
        "input-not-driven",
        f"Net {node.name} joins inputs ({', '.join(labels)}) but nothing drives it, so they float.",
        f"Connect the output that should drive {', '.join(labels)} to net {node.name}.",
        refs=[bp.ref for bp in inputs],
        pins=labels,
        net=node.name,
    )
