"""Wokwi's diagram.json: the parts Wokwi can simulate, placed as in the layout, and their wires.

A part is exported only when the knowledge base names its Wokwi element (``Part.wokwi_type``);
the others are left out and listed by ``wokwi_omissions``, never mapped to a look-alike. Pin names
follow ``Part.wokwi_pins`` where Wokwi's differ from ours.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from studio.circuit.rails import NetKind
from studio.circuit.resolve import ResolvedDesign
from studio.circuit.values import parse_value
from studio.schematic.geometry import Layout

AUTHOR = "MoE Circuit Studio"
WIRE_COLORS = {NetKind.GROUND: "black", NetKind.POWER: "red", NetKind.SIGNAL: "green"}


def to_wokwi_diagram(resolved: ResolvedDesign, layout: Layout) -> dict[str, Any]:
    """The diagram.json document; each net becomes a chain of wires between the exported parts' pins."""
    parts = []
    for dp in resolved.design.parts:
        part = resolved.parts.get(dp.ref)
        if part is None or part.wokwi_type is None:
            continue
        box = layout.part(dp.ref).box
        parts.append(
            {"type": part.wokwi_type, "id": dp.ref, "top": box.y, "left": box.x, "attrs": _attrs(resolved, dp.ref)}
        )
    exported = {p["id"] for p in parts}
    roles = resolved.net_roles
    connections = []
    for net in resolved.nets:
        ends = [f"{bp.ref}:{bp.part.wokwi_pins.get(bp.pin.name, bp.pin.name)}" for bp in net.pins if bp.ref in exported]
        ends = list(dict.fromkeys(ends))
        color = WIRE_COLORS[roles[net.name].kind]
        connections += [[a, b, color, []] for a, b in pairwise(ends)]
    return {
        "version": 1,
        "author": AUTHOR,
        "editor": "wokwi",
        "parts": parts,
        "connections": connections,
        "dependencies": {},
    }


def wokwi_omissions(resolved: ResolvedDesign) -> list[str]:
    """One notice per part left out of diagram.json because Wokwi has no element for it."""
    return [
        f"{ref} ({part.id}): Wokwi has no {part.name}; left out of diagram.json with its wires"
        for ref, part in resolved.parts.items()
        if part.wokwi_type is None
    ]


def _attrs(resolved: ResolvedDesign, ref: str) -> dict[str, str]:
    """Wokwi attributes we know as facts: the part's fixed ones, an LED's colour, a resistor's value in ohms."""
    part, dp = resolved.parts[ref], resolved.design_part(ref)
    attrs: dict[str, str] = dict(part.wokwi_attrs)
    if part.ftype == "simple_led" and "color" in part.specs:
        attrs["color"] = str(part.specs["color"])
    value = dp.value or part.default_value
    if part.ftype == "simple_resistor" and value:
        attrs["value"] = f"{parse_value(value):.10g}"
    return attrs
