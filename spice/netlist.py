"""A resolved design as an ngspice netlist (dot cards only, never a ``.control`` block).

Node names come from net names, element names from refs, all reduced to ``[A-Za-z0-9_]`` and
made unique; ground nets are node 0; values are written as plain exponent numbers. Parts the
knowledge base does not know, or that have no SPICE model, are left out with a note. Every card
is checked against an allow-list before the text leaves this module.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from pydantic import BaseModel, Field

from components_db.schema import Part, SpiceKind
from spice import behavioural, devices
from spice.builder import Builder, Probes, TwoTerminal
from spice.names import comment_text
from studio.circuit.design import DesignPart
from studio.circuit.resolve import ResolvedDesign

Emitter = Callable[[Builder, str, Part, DesignPart], None]

EMITTERS: dict[SpiceKind, Emitter] = {
    "resistor": devices.resistor,
    "capacitor": devices.capacitor,
    "inductor": devices.inductor,
    "potentiometer": devices.potentiometer,
    "diode": devices.diode,
    "led": devices.led,
    "bjt": devices.bjt,
    "mosfet": devices.mosfet,
    "switch": devices.switch,
    "source": devices.source,
    "board": behavioural.board,
    "module": behavioural.module,
    "regulator": behavioural.regulator,
    "switching_regulator": behavioural.switching_regulator,
    "opamp": behavioural.opamp,
    "timer555": behavioural.timer555,
}

_SAFE_CARD = re.compile(
    r"\* [ -~]*"  # comment
    r"|[RCLDQMVBF]_\w+ [ -~]+"  # element
    r"|\.model \w+ \w+\([\w=.+\- ]*\)"  # device model
    r"|\.(?:op|end|ac dec \d+ [\w.+\-]+ [\w.+\-]+|tran(?: [\w.+\-]+){4} uic|dc \w+ [\w.+\-]+ [\w.+\-]+ [\w.+\-]+)"
)


class SpiceNetlist(BaseModel):
    title: str
    cards: list[str]  # models and elements, without analysis and .end
    node_of_net: dict[str, str]  # design net name -> SPICE node
    rails: list[str]  # power nets
    pin_nodes: dict[str, str]  # "U1.THR" -> SPICE node
    node_owners: dict[str, list[str]]  # SPICE node -> refs with an element on it
    drivers: dict[str, str]  # node -> independent voltage source in the path that sets it
    source_volts: dict[str, float]  # independent voltage source -> DC value
    highest_v: float  # the largest |voltage| a source or converter sets
    probes: Probes
    two_terminals: list[TwoTerminal]
    notes: list[str] = Field(default_factory=list)
    assumptions: list[str] = Field(default_factory=list)

    def render(self, analysis: str = ".op", *, ac_source: str | None = None) -> str:
        """The deck with one analysis card; ``ac_source`` gets an AC magnitude of 1 for a sweep."""
        cards = [f"{card} AC 1" if ac_source and card.split()[0] == ac_source else card for card in self.cards]
        lines = [*cards, analysis, ".end"]
        for line in lines:
            if not _SAFE_CARD.fullmatch(line):
                raise ValueError(f"refusing to emit an unexpected netlist card: {line[:60]!r}")
        return "\n".join([f"* {self.title}", *lines]) + "\n"

    @property
    def text(self) -> str:
        return self.render()


def build_netlist(resolved: ResolvedDesign) -> SpiceNetlist:
    b = Builder(resolved)
    for unresolved in resolved.unresolved:
        b.notes.append(f"{unresolved.message}: left out of the simulation")
    for dp in resolved.design.parts:
        part = resolved.parts.get(dp.ref)
        if part is None:
            continue
        if part.spice is None:
            b.notes.append(f"{dp.ref}: {part.id} has no SPICE model; left out of the simulation")
            continue
        b.owner = dp.ref
        b.comment(f"{dp.ref}: {part.id}", number=dp.numeric_value)
        EMITTERS[part.spice.kind](b, dp.ref, part, dp)
    b.owner = ""
    b.finish()
    title = comment_text(resolved.design.title or "") or "design"
    return SpiceNetlist(
        title=f"MoE Circuit Studio: {title}",
        cards=[*b.models.values(), *b.cards],
        node_of_net=b.node_of_net,
        rails=sorted(b.power_nets),
        pin_nodes=b.pin_nodes(),
        node_owners=b.node_owners(),
        drivers=b.drivers,
        source_volts=b.source_volts,
        highest_v=b.highest_v,
        probes=b.probes,
        two_terminals=b.two_terminals,
        notes=b.notes,
        assumptions=sorted(set(b.assumptions), key=b.assumptions.index),
    )


def netlist_text(resolved: ResolvedDesign) -> str:
    """The ``.cir`` export: the netlist with an operating-point analysis."""
    return build_netlist(resolved).render()
