"""Bind a Design to the knowledge base: every ref to its Part, every ``REF.PIN`` to its Pin.

Unknown parts and pins are not exceptions here: they are findings (the ERC reports them as fatal
violations, with the nearest known names), so one bad reference never hides the rest of a design.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol, runtime_checkable

from components_db.schema import Part
from studio.circuit.bound import BoundNet, BoundPin
from studio.circuit.design import Design, DesignPart, PinRef
from studio.circuit.rails import NetRole, classify_net


class PartLookup(Protocol):
    """Anything that finds a part by id: the KnowledgeBase, or a plain dict in a unit test."""

    def get(self, part_id: str, /) -> Part | None: ...


class _Hit(Protocol):
    part_id: str


@runtime_checkable
class SuggestingLookup(Protocol):
    """A lookup that can also name the known parts nearest to an unknown one (the KnowledgeBase)."""

    def get(self, part_id: str, /) -> Part | None: ...

    def nearest(self, text: str, n: int = 3) -> list[_Hit]: ...


@dataclass(frozen=True)
class Unresolved:
    """A reference the knowledge base does not know; ``kind`` is ``part`` or ``pin``."""

    kind: str
    ref: str
    text: str
    message: str
    suggestions: tuple[str, ...] = ()  # nearest known part ids, when the lookup can tell


@dataclass
class ResolvedDesign:
    design: Design
    parts: dict[str, Part] = field(default_factory=dict)  # ref -> Part (known parts only)
    nets: list[BoundNet] = field(default_factory=list)
    unresolved: list[Unresolved] = field(default_factory=list)

    def design_part(self, ref: str) -> DesignPart:
        return self.design.part(ref)

    @cached_property
    def net_roles(self) -> dict[str, NetRole]:
        """Net name -> ground, rail or signal (``studio.circuit.rails``), worked out once per design."""
        return {net.name: classify_net(net) for net in self.nets}

    def nets_of(self, ref: str) -> dict[str, BoundNet]:
        """Pin name -> the net it is on, for one part."""
        return {bp.pin.name: net for net in self.nets for bp in net.pins if bp.ref == ref}


def resolve(design: Design, lookup: PartLookup) -> ResolvedDesign:
    resolved = ResolvedDesign(design=design)
    for dp in design.parts:
        part = lookup.get(dp.part)
        if part is None:
            near = tuple(h.part_id for h in lookup.nearest(dp.part)) if isinstance(lookup, SuggestingLookup) else ()
            resolved.unresolved.append(
                Unresolved("part", dp.ref, dp.part, f"{dp.ref}: part {dp.part!r} is not in the knowledge base", near)
            )
        else:
            resolved.parts[dp.ref] = part
    for net in design.nets:
        bound: list[BoundPin] = []
        for ref in net.pin_refs:
            pin = _bind(ref, resolved, design)
            if pin is not None:
                bound.append(pin)
        resolved.nets.append(BoundNet(net=net, pins=bound))
    return resolved


def _bind(ref: PinRef, resolved: ResolvedDesign, design: Design) -> BoundPin | None:
    part = resolved.parts.get(ref.ref)
    if part is None:
        return None  # the unknown part is already reported once
    pin = part.find_pin(ref.pin)
    if pin is None:
        names = ", ".join(p.name for p in part.pins[:40])
        resolved.unresolved.append(
            Unresolved("pin", ref.ref, str(ref), f"{ref}: {part.id} has no pin {ref.pin!r} (its pins: {names})")
        )
        return None
    return BoundPin(ref=ref.ref, pin=pin, part=part, design_part=design.part(ref.ref))
