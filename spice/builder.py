"""The netlist under construction: node names, cards, and what the simulator must measure.

Device emitters (``spice.devices``, ``spice.behavioural``) write through a ``Builder`` so that
every node and element name is sanitised and unique, every DC path is known (to find floating
nodes; a node reached only through junctions that may be off, such as a reverse-biased diode or
an off MOSFET, counts as floating) and every quantity the checks need (LED current, GPIO current,
regulator state, supply voltage at a part) is recorded as a probe next to the card that creates it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Literal

import networkx as nx
from pydantic import BaseModel, Field

from components_db.schema import ElectricalType, Part, Pin, PinRole
from spice.names import GROUND, NameRegistry, comment_text, spice_number
from studio.circuit.rails import NetKind
from studio.circuit.resolve import ResolvedDesign

FLOATING_OHM = 1e9  # ties a node without any DC path to ground, so the operating point exists
TIE_OHM = 1e-3  # joins pins a part connects internally (several GND pins on different nets)


class CurrentProbe(BaseModel):
    """A current read from a voltage source's branch; ``sign`` makes "delivered"/"forward" positive."""

    kind: Literal["led", "gpio", "supply"]
    ref: str
    label: str  # "D1" or "U1.GPIO2"
    source: str  # element name of the voltage source carrying the current
    sign: float
    max_ma: float | None = None


class RegulatorProbe(BaseModel):
    ref: str
    in_node: str
    out_node: str
    gnd_node: str
    adjust_node: str | None = None  # adjustable regulators regulate vout_v above this node
    vout_v: float
    dropout_v: float
    max_ma: float | None
    sense: str  # the 0 V source in series with the output


class SupplyProbe(BaseModel):
    """A power_in pin and the voltage range its part accepts there."""

    ref: str
    label: str
    node: str
    gnd_node: str
    min_v: float | None
    max_v: float | None
    regulator_input: bool = False  # under-voltage is reported as dropout instead


class TwoTerminal(BaseModel):
    """A resistor or capacitor as the topology detectors see it."""

    ref: str
    kind: Literal["resistor", "capacitor"]
    value: float
    nodes: tuple[str, str]


class Probes(BaseModel):
    currents: list[CurrentProbe] = Field(default_factory=list)
    regulators: list[RegulatorProbe] = Field(default_factory=list)
    supplies: list[SupplyProbe] = Field(default_factory=list)


class Builder:
    def __init__(self, resolved: ResolvedDesign) -> None:
        self.resolved = resolved
        self.names = NameRegistry()
        self.cards: list[str] = []
        self.models: dict[str, str] = {}
        self.probes = Probes()
        self.drivers: dict[str, str] = {}  # node -> independent voltage source behind it (AC / DC sweeps)
        self.source_volts: dict[str, float] = {}  # independent voltage source -> its DC value
        self.driven_nodes: set[str] = set()  # nodes a source or an output stage sets
        self.highest_v = 0.0  # the largest |voltage| a source or a converter sets (a plausibility bound)
        self.two_terminals: list[TwoTerminal] = []
        self.notes: list[str] = []
        self.assumptions: list[str] = []
        self._graph = nx.Graph()  # DC paths between nodes, junctions included
        self._graph.add_node(GROUND)
        self._resistive = nx.Graph()  # the DC paths that conduct at any bias (no junctions)
        self._resistive.add_node(GROUND)
        self._deferred: list[Callable[[], None]] = []
        self.owner = ""  # the ref whose cards are being written
        self._owners: dict[str, set[str]] = {}  # node -> refs with an element on it
        self._owners_before_deferred: dict[str, set[str]] = {}
        self.node_of_net: dict[str, str] = {}
        self._pin_node: dict[tuple[str, str], str] = {}
        self._connected: set[tuple[str, str]] = {(bp.ref, bp.pin.number) for net in resolved.nets for bp in net.pins}
        roles = resolved.net_roles
        for net in resolved.nets:
            node = GROUND if roles[net.name].kind is NetKind.GROUND else self.names.node(net.name)
            self.node_of_net[net.name] = node
            for bp in net.pins:
                self._pin_node.setdefault((bp.ref, bp.pin.number), node)
        self.power_nets = {name for name, role in roles.items() if role.kind is NetKind.POWER}

    # ---- nodes ---------------------------------------------------------------------------------

    def node(self, ref: str, pin: Pin) -> str:
        """The node of the net a pin is on; an unconnected pin gets a node of its own."""
        key = (ref, pin.number)
        if key not in self._pin_node:
            self._pin_node[key] = self.names.node(ref, pin.name)
        return self._pin_node[key]

    def pins_on(self, node: str) -> list[tuple[str, Pin]]:
        """The (ref, pin) of every connected pin on ``node``."""
        return [(bp.ref, bp.pin) for net in self.resolved.nets for bp in net.pins if self.node(bp.ref, bp.pin) == node]

    def is_rail(self, node: str) -> bool:
        """Ground or a power net."""
        return node == GROUND or any(self.node_of_net[net] == node for net in self.power_nets)

    def is_connected(self, ref: str, pin: Pin) -> bool:
        return (ref, pin.number) in self._connected

    def internal(self, ref: str, what: str) -> str:
        return self.names.node(ref, what)

    def ground(self, ref: str, part: Part) -> str:
        """The part's ground node; GND pins on different nets are tied, as inside the part."""
        pins = part.pins_with_role(PinRole.GROUND)
        connected = [p for p in pins if self.is_connected(ref, p)]
        if not connected:
            return self.internal(ref, "gnd") if pins else GROUND
        reference = self.node(ref, connected[0])
        for pin in connected[1:]:
            other = self.node(ref, pin)
            if other != reference:
                self.add(
                    f"{self.element('R', ref, 'tie', pin.name)} {reference} {other} {TIE_OHM}", dc=[(reference, other)]
                )
        return reference

    # ---- cards ---------------------------------------------------------------------------------

    def element(self, letter: str, ref: str, *suffix: str) -> str:
        return self.names.element(letter, ref, *suffix)

    def add(
        self,
        card: str,
        dc: Iterable[tuple[str, str]] = (),
        reads: Iterable[str] = (),
        junctions: Iterable[tuple[str, str]] = (),
    ) -> None:
        """One element card; ``dc`` are the node pairs it conducts between, ``reads`` nodes it only senses,
        ``junctions`` the pairs it joins through a pn junction or a channel, which may be off."""
        self.cards.append(card)
        _, *rest = card.split()
        dc, junctions = list(dc), list(junctions)
        touched = set(rest[:2]) | {n for pair in [*dc, *junctions] for n in pair} | set(reads)
        for node in touched:
            self._owners.setdefault(node, set()).add(self.owner)
        self._graph.add_nodes_from(touched)
        self._graph.add_edges_from([*dc, *junctions])
        self._resistive.add_nodes_from(touched)
        self._resistive.add_edges_from(dc)

    def comment(self, text: str, number: float | None = None) -> None:
        suffix = f" {spice_number(number)}" if number is not None else ""
        self.cards.append(f"* {comment_text(text)}{suffix}")

    def model(self, name: str, card: str) -> None:
        self.models.setdefault(name, card)

    def source(self, ref: str, label: str, plus: str, minus: str, volts: float, r_ohm: float) -> str:
        """A voltage source with series resistance driving ``plus``; returns the source's name."""
        name = self.element("V", ref, label)
        inner = self.internal(ref, f"{label}_src")
        self.add(f"{name} {inner} {minus} DC {spice_number(volts)}", dc=[(inner, minus)])
        self.add(
            f"{self.element('R', ref, label)} {inner} {plus} {spice_number(max(r_ohm, TIE_OHM))}", dc=[(inner, plus)]
        )
        self.drive(plus, name, volts)
        self.highest_v = max(self.highest_v, abs(volts))
        return name

    def drive(self, node: str, source: str | None = None, volts: float = 0.0) -> None:
        """Marks ``node`` as set by an output; ``source`` is the independent source in its path."""
        self.driven_nodes.add(node)
        if source is not None:
            self.drivers.setdefault(node, source)
            self.source_volts[source] = volts

    def load(self, ref: str, label: str, plus: str, minus: str, current_ma: float) -> None:
        """A supply current that fades out below a few hundred mV, so an unpowered load draws nothing."""
        amps = spice_number(current_ma / 1000)
        self.add(f"{self.element('B', ref, label)} {plus} {minus} I = {amps} * tanh(V({plus},{minus}) / 0.2)")

    def measure_current(
        self,
        kind: Literal["led", "gpio", "supply"],
        ref: str,
        label: str,
        source: str,
        *,
        sign: float,
        max_ma: float | None,
    ) -> None:
        self.probes.currents.append(
            CurrentProbe(kind=kind, ref=ref, label=label, source=source, sign=sign, max_ma=max_ma)
        )

    def two_terminal(self, ref: str, kind: Literal["resistor", "capacitor"], value: float, a: str, b: str) -> None:
        self.two_terminals.append(TwoTerminal(ref=ref, kind=kind, value=value, nodes=(a, b)))

    def supply_pins(self, ref: str, part: Part, gnd: str, *, regulator_input: bool = False) -> list[str]:
        """Records the range check of each connected power_in pin; returns their nodes."""
        nodes = []
        for pin in part.pins_with_role(PinRole.POWER_IN):
            if pin.type is not ElectricalType.POWER_IN or not self.is_connected(ref, pin):
                continue
            node = self.node(ref, pin)
            low = pin.min_v if pin.min_v is not None else (part.supply.min_v if part.supply else None)
            high = pin.max_v if pin.max_v is not None else (part.supply.max_v if part.supply else None)
            self.probes.supplies.append(
                SupplyProbe(
                    ref=ref,
                    label=f"{ref}.{pin.name}",
                    node=node,
                    gnd_node=gnd,
                    min_v=low,
                    max_v=high,
                    regulator_input=regulator_input,
                )
            )
            nodes.append(node)
        return nodes

    def defer(self, emit: Callable[[], None]) -> None:
        """Run after every part is placed (a GPIO drives only a node something else is on)."""
        self._deferred.append(emit)

    def loaded_by_others(self, node: str, owner: str) -> bool:
        """Whether a part other than ``owner`` has an element on ``node`` (deferred cards not counted)."""
        return bool(self._owners_before_deferred.get(node, set()) - {owner})

    def set_elsewhere(self, node: str) -> bool:
        """Whether a DC path that avoids ground joins ``node`` to a driven node (a rail, an output)."""
        if node == GROUND:
            return True
        above_ground = self._graph.subgraph(n for n in self._graph if n != GROUND)
        reachable = nx.node_connected_component(above_ground, node) if node in above_ground else {node}
        return bool(reachable & self.driven_nodes)

    def node_owners(self) -> dict[str, list[str]]:
        return {node: sorted(refs - {""}) for node, refs in self._owners.items()}

    def pin_nodes(self) -> dict[str, str]:
        """``"U1.THR"`` -> node, for every pin given a node."""
        names = {(ref, pin.number): pin.name for ref, part in self.resolved.parts.items() for pin in part.pins}
        return {f"{ref}.{names[(ref, number)]}": node for (ref, number), node in self._pin_node.items()}

    def finish(self) -> None:
        self._owners_before_deferred = {node: set(refs) for node, refs in self._owners.items()}
        for emit in self._deferred:
            emit()
        self._deferred.clear()
        # A node held only by junctions has no conductance when they are off, and ngspice's Newton
        # iteration can then settle on a non-physical point (a 12 V rail at 717 V behind an
        # off 1N4007 whose anode only an IRLZ44N drain reaches); 1 GOhm to ground gives it one.
        for component in list(nx.connected_components(self._resistive)):
            if GROUND in component:
                continue
            for node in sorted(component):
                self.add(f"{self.element('R', 'float', node)} {node} {GROUND} {spice_number(FLOATING_OHM)}")
