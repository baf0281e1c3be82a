"""The plan and the wiring agree: the reason stage's net lines, held against what the design may say.

A plan ends with ``Nets:`` and one line per net (``NAME: REF.PIN REF.PIN ...``). Synthesis follows
the lines that are valid, by writing them before its answer (the grammar's ``written_nets``), so the
model adds only the nets the plan left out or got wrong; a line is valid when

- its name is one the design grammar admits and no earlier line took;
- it joins at least two valid pins (and no more than a net may hold). A pin is valid when it is a real
  pin of a part on the bill (a pin alias or number is read as the pin's name), in no earlier line, and
  one the decoder would let join the line's earlier pins (``agents.design_decoding.PinTable``: supply
  outputs of different voltages, a signal pin on a rail, crossed bus lines, ...); the other words of
  a line are left out of it, and the report says which and why.

What the plan says and the design does are compared once the design stands (``departures``): the
report names each planned net the design does not hold as written, and why (the line was not valid,
or the repair rounds rewired it, or the model wrote it otherwise).
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

from agents.design_decoding import PinTable
from agents.grammar import NET_NAME_CHARS, DesignGrammar, net_text
from components_db.schema import Part
from studio.circuit.design import Design

_LINE = re.compile(r"^\s*([^\s:]+):\s+(\S.*)$")
_NAME = re.compile(f"^[{NET_NAME_CHARS}]+$")
MAX_PLAN_NETS = 64


class PlanNet(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    pins: tuple[str, ...]  # the line's valid pins, as the design names them (``REF.PIN``, the KB's pin name)
    dropped: tuple[str, ...] = ()  # why each other word of the line is left out ("U9.1 is not a pin ...")
    problem: str | None = None  # why synthesis does not follow the line at all; None: it does


def plan_lines(plan: str) -> list[tuple[str, list[str]]]:
    """The (name, pin words) of each net line after the plan's last ``Nets:`` heading."""
    if "Nets:" not in plan:
        return []
    lines = []
    for line in plan.rsplit("Nets:", 1)[1].splitlines():
        match = _LINE.match(line)
        if match:
            lines.append((match.group(1), match.group(2).split()))
    return lines[:MAX_PLAN_NETS]


def read_plan_nets(plan: str, parts: dict[str, Part], grammar: DesignGrammar) -> list[PlanNet]:
    """Each net line of ``plan`` read against ``parts`` (ref -> part): its valid pins, the words left out
    and why, and why the line is not followed at all, if it is not."""
    admitted = set(grammar.pin_refs)
    table = PinTable(grammar.pin_refs, grammar.pin_facts) if len(grammar.pin_facts) == len(grammar.pin_refs) else None
    names: set[str] = set()
    used: set[str] = set()
    nets = []
    for name, words in plan_lines(plan):
        pins: list[str] = []
        dropped: list[str] = []
        grounded = table is not None and table.ground_named(name.encode())
        for word in words:
            pin = _pin_name(word, parts)
            if pin is None or pin not in admitted:
                dropped.append(f"{word} is not a pin of a part on the bill")
            elif pin in used or pin in pins:
                dropped.append(f"{pin} is already in an earlier net")
            elif table is not None and table.clashes(pin.encode(), [p.encode() for p in pins], grounded):
                dropped.append(f"{pin} may not share a net with {', '.join(pins) or name}")
            else:
                pins.append(pin)
        problem = None
        if not _NAME.match(name) or len(name) > grammar.max_net_name:
            problem = f"the net name {name!r} is not one a design may use"
        elif name in names:
            problem = f"the name {name} is used by an earlier net"
        elif len(pins) < 2:
            problem = "it joins fewer than two valid pins" + (f" ({'; '.join(dropped)})" if dropped else "")
        elif len(pins) > grammar.max_pins_per_net:
            problem = f"it joins more than {grammar.max_pins_per_net} pins"
        names.add(name)
        if problem is None:
            used.update(pins)
        nets.append(PlanNet(name=name, pins=tuple(pins), dropped=tuple(dropped), problem=problem))
    return nets


def followed(nets: list[PlanNet], max_nets: int) -> tuple[str, ...]:
    """The valid lines as compact JSON, for the grammar's ``written_nets`` (at most ``max_nets - 1``, so
    the model can still add a net)."""
    return tuple(net_text(net.name, net.pins) for net in nets if net.problem is None)[: max(0, max_nets - 1)]


def departures(nets: list[PlanNet], design: Design, rewired: set[str]) -> list[str]:
    """Where ``design`` departs from the plan, one line each: the planned nets it does not hold as
    written (same name and pins, or the same pins under another name) and why. ``rewired``: the names of
    the nets repair rounds re-decoded."""
    held = {net.name: frozenset(net.pins) for net in design.nets}
    pin_sets = set(held.values())
    lines = []
    for net in nets:
        if held.get(net.name) == frozenset(net.pins) or frozenset(net.pins) in pin_sets:
            if net.dropped:
                lines.append(f"plan net {net.name}: followed without {'; '.join(net.dropped)}")
            continue
        if net.problem is not None:
            why = f"not followed: {net.problem}"
        elif net.name in rewired:
            why = "rewired by a repair round (its findings are in the repair stage)"
        else:
            why = "written otherwise"
        lines.append(f"plan net {net.name} ({' '.join(net.pins) or 'no pins'}): {why}")
    return lines


def _pin_name(word: str, parts: dict[str, Part]) -> str | None:
    """``REF.PIN`` with the KB's pin name for a pin the plan names by name, number or alias."""
    ref, dot, token = word.strip(",;").partition(".")
    part = parts.get(ref)
    if not dot or part is None:
        return None
    pin = part.find_pin(token)
    return f"{ref}.{pin.name}" if pin is not None else None
