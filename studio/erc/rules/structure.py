"""References and wiring: unknown parts and pins, pins listed twice, nets of one pin, and parts, the
pins a part needs to work (its KB ``required_pins``) or other inputs left unwired."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from functools import cache

from rapidfuzz import process

from components_db.catalog import load_catalog
from components_db.schema import ElectricalType, Pin, PinRole
from studio.erc.findings import Violation
from studio.erc.nodes import ErcContext, is_board
from studio.erc.registry import violation

# inputs a module works without (reset, enable and reference pins usually have on-board defaults)
OPTIONAL_INPUT_ROLES = frozenset({PinRole.RESET, PinRole.ENABLE, PinRole.VREF, PinRole.BOOT})


def check(ctx: ErcContext) -> Iterator[Violation]:
    yield from _unresolved(ctx)
    yield from _duplicates(ctx)
    yield from _single_pin_nets(ctx)
    yield from _unconnected(ctx)


def _unresolved(ctx: ErcContext) -> Iterator[Violation]:
    for item in ctx.resolved.unresolved:
        if item.kind == "part":
            near = list(item.suggestions) or _nearest(item.text, _catalog_ids())
            yield violation(
                "unknown-part",
                f"{item.ref} uses part '{item.text}', which is not in the knowledge base, so it cannot be checked.",
                f"Use a known part id{_did_you_mean(near)}, or add the part to the knowledge base.",
                refs=[item.ref],
            )
        else:
            part = ctx.resolved.parts[item.ref]
            wanted = item.text.partition(".")[2]
            near = _nearest(wanted, [t for pin in part.pins for t in pin.tokens()])
            yield violation(
                "unknown-pin",
                f"{item.text}: {part.name} has no pin called '{wanted}'.",
                f"Use one of its pin names{_did_you_mean(near)}.",
                refs=[item.ref],
                pins=[item.text],
            )


def _duplicates(ctx: ErcContext) -> Iterator[Violation]:
    nets_of_pin: dict[str, list[str]] = {}
    for net in ctx.resolved.nets:
        counts = Counter(bp.label for bp in net.pins)
        for label, count in counts.items():
            nets_of_pin.setdefault(label, []).append(net.name)
            if count > 1:
                yield violation(
                    "duplicate-connection",
                    f"{label} is listed {count} times in net {net.name} (perhaps under another of its names).",
                    f"List {label} once in net {net.name}.",
                    refs=[label.partition(".")[0]],
                    pins=[label],
                    net=net.name,
                )
    for label, nets in nets_of_pin.items():
        if len(nets) > 1:
            joined = ", ".join(nets)
            yield violation(
                "pin-on-two-nets",
                f"{label} appears in nets {joined}: a pin is one point, so these nets are really one connection.",
                f"Keep {label} in the one net it belongs to, or merge nets {joined} if they are meant to be joined.",
                refs=[label.partition(".")[0]],
                pins=[label],
                net=nets[0],
            )


def _single_pin_nets(ctx: ErcContext) -> Iterator[Violation]:
    for node in ctx.nodes:
        if len(node.pins) == 1:
            (bp,) = node.pins
            yield violation(
                "single-pin-net",
                f"Net {node.name} holds only {bp.label}: a wire that goes nowhere.",
                f"Connect {bp.label} to the pin it belongs with, or delete net {node.name}.",
                refs=[bp.ref],
                pins=[bp.label],
                net=node.name,
            )


def _unconnected(ctx: ErcContext) -> Iterator[Violation]:
    for ref, part in ctx.parts():
        if not any(ctx.wired(ref, p) for p in part.pins):
            yield violation(
                "unconnected-part",
                f"{ref} ({part.name}) is not connected to anything.",
                f"Wire {ref} into the circuit or remove it.",
                refs=[ref],
            )
            continue
        required = part.required_groups()
        for group in required:
            if not any(ctx.wired(ref, p) for p in group):
                names = " or ".join(f"{ref}.{p.name}" for p in group)
                yield violation(
                    "required-pin-unconnected",
                    f"{names} of {part.name} is not connected, and {ref} needs it to do its job{_purpose(group[0])}.",
                    f"Connect {names} to the pin it works with (see {ref}'s pinout).",
                    refs=[ref],
                    pins=[f"{ref}.{p.name}" for p in group],
                )
        if is_board(part):
            continue  # a board's spare inputs are simply unused
        listed = {p.number for group in required for p in group}
        inputs = [p for p in part.pins if p.type is ElectricalType.INPUT and p.roles and p.number not in listed]
        # an input whose role another wired input already covers is a spare channel (IN3/IN4 of an H-bridge)
        in_use = {role for p in part.pins if p.type is ElectricalType.INPUT and ctx.wired(ref, p) for role in p.roles}
        for pin in inputs:
            needed = not OPTIONAL_INPUT_ROLES.intersection(pin.roles) and not in_use.intersection(pin.roles)
            if needed and not ctx.wired(ref, pin):
                yield violation(
                    "unconnected-input",
                    f"Input {ref}.{pin.name} of {part.name} is not connected; a floating input reads random values.",
                    f"Connect {ref}.{pin.name} to the pin that drives it (or tie it to GND or VCC if unused).",
                    refs=[ref],
                    pins=[f"{ref}.{pin.name}"],
                )


def _purpose(pin: Pin) -> str:
    """ " (ECHO: ...)" from the pin's description, when the knowledge base gives one."""
    return f" ({pin.description})" if pin.description else ""


@cache
def _catalog_ids() -> tuple[str, ...]:
    """Curated part ids: the names a suggestion for an unknown part is chosen from."""
    return tuple(p.id for p in load_catalog())


def _nearest(text: str, choices: list[str] | tuple[str, ...]) -> list[str]:
    matches = process.extract(text, list(dict.fromkeys(choices)), limit=3, score_cutoff=50)
    return [choice for choice, _, _ in matches]


def _did_you_mean(names: list[str]) -> str:
    return f" (did you mean {', '.join(names)}?)" if names else ""
