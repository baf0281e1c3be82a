"""Supplies: shorts, supplies fighting, supply inputs nothing feeds, voltages out of range, decoupling."""

from __future__ import annotations

from collections.abc import Iterator

from components_db.schema import ElectricalType, Part
from studio.erc.findings import Violation
from studio.erc.nodes import (
    CAPACITORS,
    GPIO_TYPES,
    VOLT_TOLERANCE,
    ErcContext,
    Node,
    ground_pins,
    is_board,
    is_supply_pin,
    supply_pins,
)
from studio.erc.registry import violation


def check(ctx: ErcContext) -> Iterator[Violation]:
    for node in ctx.nodes:
        yield from _shorts(node)
        yield from _parallel_supplies(ctx, node)
        yield from _not_driven(ctx, node)
    for ref, part in ctx.parts():
        if ref in ctx.pins_of:
            yield from _open_supply(ctx, ref, part)
            yield from _out_of_range(ctx, ref, part)
            yield from _decoupling(ctx, ref, part)


def _shorts(node: Node) -> Iterator[Violation]:
    rails = node.rail_pins
    if node.is_ground and rails:
        grounds = [bp.label for bp in node.pins if bp.pin.type is not ElectricalType.PASSIVE and bp not in rails]
        yield violation(
            "short-power-ground",
            f"Net {node.name} connects the supply output {rails[0].label} ({rails[0].pin.voltage:g} V) to ground "
            f"({', '.join(grounds[:3])}): a short circuit.",
            f"Move {rails[0].label} to its own supply net; only ground pins belong on net {node.name}.",
            refs=[bp.ref for bp in rails] + [g.partition(".")[0] for g in grounds],
            pins=[bp.label for bp in rails] + grounds,
            net=node.name,
        )
    volts = sorted({bp.pin.voltage or 0.0 for bp in rails})
    if len(volts) > 1 and volts[-1] - volts[0] > VOLT_TOLERANCE:
        described = ", ".join(f"{bp.label} {bp.pin.voltage:g} V" for bp in rails)
        yield violation(
            "short-rail-rail",
            f"Net {node.name} ties supplies of different voltages together ({described}): a short between rails.",
            "Give each supply voltage its own net (for example 5V and 3V3) and power each part from the right one.",
            refs=[bp.ref for bp in rails],
            pins=[bp.label for bp in rails],
            net=node.name,
        )


def _parallel_supplies(ctx: ErcContext, node: Node) -> Iterator[Violation]:
    """Same-voltage supply outputs of several parts: a fight, unless all but one are not powered themselves."""
    rails = node.rail_pins
    refs = list(dict.fromkeys(bp.ref for bp in rails))
    if len(refs) < 2 or len({bp.pin.voltage for bp in rails}) > 1:
        return
    live = [ref for ref in refs if _powered(ctx, ref)]
    if len(live) == 1:
        for bp in rails:
            if bp.ref != live[0]:
                yield violation(
                    "backfed-supply",
                    f"{bp.label} is a supply output but is fed from {live[0]} on net {node.name}; this works while "
                    f"{bp.ref} has no other power (unplug its USB cable), else two supplies fight.",
                    f"Feed {bp.ref} through its supply input instead, or never power it from USB at the same time.",
                    refs=[bp.ref, live[0]],
                    pins=[bp.label],
                    net=node.name,
                )
        return
    yield violation(
        "supply-contention",
        f"Net {node.name} has several powered supplies driving it ({', '.join(bp.label for bp in rails)}); "
        "regulators in parallel fight and one may back-feed the other.",
        "Keep one supply on this net and power the other parts from it.",
        refs=refs,
        pins=[bp.label for bp in rails],
        net=node.name,
    )


def _powered(ctx: ErcContext, ref: str) -> bool:
    """A battery or bench supply (no supply input), or a regulator/board whose supply input is fed."""
    inputs = supply_pins(ctx.resolved.parts[ref])
    return not inputs or any((n := ctx.node(ref, p)) is not None and ctx.supplied(n) for p in inputs)


def _not_driven(ctx: ErcContext, node: Node) -> Iterator[Violation]:
    if node.is_ground or ctx.supplied(node) or node.of_type(GPIO_TYPES):
        return
    loads = [bp for bp in node.pins if is_supply_pin(bp.pin)]
    if loads:
        labels = [bp.label for bp in loads]
        yield violation(
            "power-not-driven",
            f"Supply pin(s) {', '.join(labels)} on net {node.name} get no power: no supply, regulator or battery "
            "output is connected to this net.",
            f"Connect a supply output of the right voltage (a board's 3V3/5V pin, a regulator OUT, a battery +) "
            f"to net {node.name}.",
            refs=[bp.ref for bp in loads],
            pins=labels,
            net=node.name,
        )


def _open_supply(ctx: ErcContext, ref: str, part: Part) -> Iterator[Violation]:
    if is_board(part):
        return  # boards are powered over USB when their supply pins are free
    for kind, pins in (("supply", supply_pins(part)), ("ground", ground_pins(part))):
        if pins and not any(ctx.wired(ref, p) for p in pins):
            names = "/".join(p.name for p in pins)
            yield violation(
                "supply-pin-unconnected",
                f"{ref} ({part.name}) is wired in but its {kind} pin {names} is not connected, so it cannot work.",
                f"Connect {ref}.{pins[0].name} to the {'supply rail' if kind == 'supply' else 'ground net'}.",
                refs=[ref],
                pins=[f"{ref}.{p.name}" for p in pins],
            )


def _out_of_range(ctx: ErcContext, ref: str, part: Part) -> Iterator[Violation]:
    for pin in supply_pins(part):
        node = ctx.node(ref, pin)
        volts = ctx.voltage(node) if node is not None and len(node.pins) > 1 else None
        if volts is None:
            continue
        if pin.min_v is not None or pin.max_v is not None:
            low, high = pin.min_v or 0.0, pin.max_v if pin.max_v is not None else float("inf")
        elif part.supply is not None:
            low, high = part.supply.min_v, part.supply.max_v
        else:
            continue
        if low - VOLT_TOLERANCE <= volts <= high + VOLT_TOLERANCE:
            continue
        hint = "is too low for it to work" if volts < low else "can damage it"
        yield violation(
            "supply-out-of-range",
            f"{ref}.{pin.name} gets {volts:g} V from net {node.name}, but {part.name} accepts {low:g}-{high:g} V "
            f"there: the voltage {hint}.",
            f"Power {ref}.{pin.name} from a {low:g}-{high:g} V rail (use a regulator or another supply pin).",
            refs=[ref],
            pins=[f"{ref}.{pin.name}"],
            net=node.name,
        )


def _decoupling(ctx: ErcContext, ref: str, part: Part) -> Iterator[Violation]:
    if not part.usage.decoupling_required:
        return
    power = [p for p in part.pins if is_supply_pin(p) or (p.type is ElectricalType.POWER_OUT and p.voltage)]
    nodes = [n for p in power if (n := ctx.node(ref, p)) is not None and len(n.pins) > 1]
    if not nodes:
        return
    for node in nodes:
        if any(other is not None and other.is_ground for _, other in ctx.two_terminals_on(node, CAPACITORS)):
            return
    yield violation(
        "missing-decoupling",
        f"{ref} ({part.name}) has no capacitor from its supply pins to ground; it can oscillate or reset on noise.",
        f"Add a 100 nF ceramic capacitor from {ref}'s supply pin(s) ({', '.join(n.name for n in nodes)}) to GND.",
        refs=[ref],
        pins=[f"{ref}.{p.name}" for p in power],
    )
