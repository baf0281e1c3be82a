"""KiCad's pin-conflict matrix and drive rules, over the electrical types of the pins on each node.

Pairs with a supply output are left to rules/power.py (two supplies) and to the rail rules here (a
driving pin on a rail), because there the voltages decide between a short and a harmless tie.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import combinations_with_replacement

from components_db.schema import ElectricalType, PinRole
from studio.erc.findings import Violation
from studio.erc.nodes import GPIO_TYPES, SIGNAL_TYPES, ErcContext, Node
from studio.erc.registry import violation

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
# signal pins a design ties to a rail on purpose: enables, resets, boot and address or mode straps, a
# direction strap (a stepper driver turning one way, a bus transceiver passing one way), an external
# reference, a regulator's adjust pin, an op-amp or comparator input held at ground, a 555's threshold
# (bistable), and a MOSFET gate (a P-MOSFET's gate to ground is the textbook reverse-polarity guard)
TIED_ON_PURPOSE = frozenset(
    {
        PinRole.ENABLE,
        PinRole.OUTPUT_ENABLE,
        PinRole.DIRECTION,
        PinRole.RESET,
        PinRole.BOOT,
        PinRole.ADDRESS,
        PinRole.MODE,
        PinRole.VREF,
        PinRole.FEEDBACK,
        PinRole.NONINVERTING_IN,
        PinRole.INVERTING_IN,
        PinRole.THRESHOLD,
        PinRole.GATE,
    }
)


def check(ctx: ErcContext) -> Iterator[Violation]:
    for node in ctx.nodes:
        yield from _no_connects(node)
        yield from _on_rail(node)
        yield from _shorted_gpios(node)
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
    """A signal pin straight on ground or a supply: an output shorts it (fatal); any other signal pin
    (a GPIO, an input, an open-drain bus line) can no longer do its job (an LCD's SDA on GND)."""
    if node.is_ground:
        what = "ground"
    elif node.rail_pins:
        what = f"the {node.rail_voltage:g} V supply ({node.rail_pins[0].label})"
    else:
        return
    for bp in node.of_type(SIGNAL_TYPES):
        if TIED_ON_PURPOSE.intersection(bp.pin.roles):
            continue
        if bp.pin.type is T.OUTPUT:
            yield violation(
                "output-on-rail",
                f"{bp.label} is an output wired straight to {what}: when it drives the other level it shorts the "
                "supply and can destroy the pin.",
                f"Take {bp.label} off net {node.name}; connect it to the input it should drive.",
                refs=[bp.ref],
                pins=[bp.label],
                net=node.name,
            )
            continue
        harm = " and shorts the supply when it drives the other level" if bp.pin.type in GPIO_TYPES else ""
        yield violation(
            "signal-on-rail",
            f"{bp.label} is a signal pin ({bp.pin.type.value}) wired straight to {what}: it is stuck at that "
            f"level, so it cannot carry its signal{harm}.",
            f"Take {bp.label} off net {node.name}; connect it to the pin it talks to (through a resistor if it "
            "needs a pull-up or pull-down).",
            refs=[bp.ref],
            pins=[bp.label],
            net=node.name,
        )


def _shorted_gpios(node: Node) -> Iterator[Violation]:
    """Two push-pull pins of one part on one node: when one drives high and the other low they short."""
    by_part: dict[str, list[str]] = {}
    for bp in node.of_type(GPIO_TYPES):
        by_part.setdefault(bp.ref, []).append(bp.label)
    for ref, labels in by_part.items():
        if len(labels) > 1:
            yield violation(
                "gpio-short",
                f"{' and '.join(labels)} are joined on net {node.name}: two pins of {ref} that each drive the line "
                "short each other whenever they disagree.",
                f"Give each of {', '.join(labels)} its own net; keep the one that drives this connection.",
                refs=[ref],
                pins=labels,
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
