"""Logic levels: what drives each signal (a GPIO, a rail, a pull-up or a switch to a rail) against
what each input on it accepts. Too high is major (5 V into a 3.3 V-only pin), too low is minor
(3.3 V into a 5 V input: below the part's ``vih_min_v`` spec, else the 0.7 x VCC of a CMOS input).

On a bus the pins do not all push: I2C pins only pull low (the pull-ups set the high level) and a
UART RX pin listens to the TX on its line, so neither counts as driving its logic level there.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from components_db.schema import PinRole
from studio.circuit.bound import BoundPin
from studio.erc.findings import Violation
from studio.erc.nodes import GPIO_TYPES, RECEIVER_TYPES, RESISTORS, SWITCHES, VOLT_TOLERANCE, ErcContext, Node
from studio.erc.registry import violation

CMOS_HIGH_FRACTION = 0.7
I2C = frozenset({PinRole.I2C_SDA, PinRole.I2C_SCL})


@dataclass(frozen=True)
class Drive:
    volts: float
    label: str  # the pin, or the pull-up resistor / switch that sets the level
    ref: str
    push_pull: bool  # a GPIO output (its level counts against an input's threshold too)


def check(ctx: ErcContext) -> Iterator[Violation]:
    for node in ctx.nodes:
        if node.is_ground:
            continue
        drives = _drives(ctx, node)
        if not drives:
            continue
        high: list[tuple[Drive, str, float]] = []
        low: list[tuple[Drive, str, float]] = []
        for bp in node.of_type(RECEIVER_TYPES):
            limit, threshold = ctx.input_limit(bp), _high_threshold(ctx, bp)
            for drive in drives:
                if drive.ref == bp.ref:
                    continue
                if limit is not None and drive.volts > limit + VOLT_TOLERANCE:
                    high.append((drive, bp.label, limit))
                elif drive.push_pull and threshold and drive.volts < threshold - VOLT_TOLERANCE:
                    low.append((drive, bp.label, threshold))
        if high:
            yield _overvoltage(node, high)
        if low:
            yield _too_low(node, low)


def _drives(ctx: ErcContext, node: Node) -> list[Drive]:
    drives = [Drive(bp.pin.voltage or 0.0, bp.label, bp.ref, False) for bp in node.rail_pins]
    for bp in _pushing(node):
        level = ctx.logic_level(bp)
        if level is not None:
            drives.append(Drive(level, bp.label, bp.ref, True))
    for bp, rail in ctx.pull_ups(node, RESISTORS | SWITCHES):
        volts = ctx.voltage(rail)
        if volts:
            drives.append(Drive(volts, f"{bp.ref} to {rail.name}", bp.ref, False))
    return drives


def _pushing(node: Node) -> list[BoundPin]:
    """GPIO-type pins that drive both levels here (not I2C lines of a bus, not a UART RX fed by a TX)."""
    i2c_parts = {bp.ref for bp in node.pins if I2C.intersection(bp.pin.roles)}
    tx_parts = {bp.ref for bp in node.pins if PinRole.UART_TX in bp.pin.roles}
    pushing = []
    for bp in node.of_type(GPIO_TYPES):
        if len(i2c_parts) > 1 and I2C.intersection(bp.pin.roles):
            continue
        if PinRole.UART_RX in bp.pin.roles and tx_parts - {bp.ref}:
            continue
        pushing.append(bp)
    return pushing


def _high_threshold(ctx: ErcContext, bp: BoundPin) -> float | None:
    """The lowest voltage the input reads as high: the part's vih_min_v, else 0.7 x its logic level."""
    vih = bp.part.specs.get("vih_min_v")
    if isinstance(vih, int | float):
        return float(vih)
    level = ctx.logic_level(bp)
    return CMOS_HIGH_FRACTION * level if level else None


def _overvoltage(node: Node, found: list[tuple[Drive, str, float]]) -> Violation:
    drive, pin, limit = found[0]
    return violation(
        "logic-level-overvoltage",
        f"On net {node.name}, {drive.label} puts {drive.volts:g} V on {pin}, which accepts at most {limit:g} V; "
        "the input can be damaged.",
        f"Add a level shifter (or a voltage divider, e.g. 1k/2k) between {drive.label} and {pin}, or power the "
        "driving side from the lower voltage.",
        refs=[drive.ref, *(p.partition(".")[0] for _, p, _ in found)],
        pins=[p for _, p, _ in found],
        net=node.name,
    )


def _too_low(node: Node, found: list[tuple[Drive, str, float]]) -> Violation:
    drive, pin, threshold = found[0]
    return violation(
        "logic-level-low",
        f"On net {node.name}, {drive.label} drives only {drive.volts:g} V into {pin}, which wants about "
        f"{threshold:.1f} V for a reliable high.",
        f"Use a level shifter between {drive.label} and {pin}, or check the datasheet that {pin} accepts "
        f"{drive.volts:g} V as high.",
        refs=[drive.ref, *(p.partition(".")[0] for _, p, _ in found)],
        pins=[drive.label, *(p for _, p, _ in found)],
        net=node.name,
    )
