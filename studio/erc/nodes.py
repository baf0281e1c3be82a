"""What every rule asks about a design, computed once: electrical nodes, rail voltages, neighbours.

A *node* is what the electrons see: one net, or several nets the design joins by listing the same
pin in each (the structure rules report that; every electrical rule then sees one node). Rules only
read this context, so a new rule never walks the nets again and a design is checked in linear time.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from components_db.schema import Category, ElectricalType, Part, Pin, PinRole, SymbolKind
from studio.circuit.bound import BoundNet, BoundPin
from studio.circuit.design import Net
from studio.circuit.rails import NetRole, classify_net
from studio.circuit.resolve import ResolvedDesign
from studio.circuit.values import parse_value

T = ElectricalType
GPIO_TYPES = frozenset({T.OUTPUT, T.BIDIRECTIONAL, T.TRI_STATE})  # pins that push a high and a low level
SIGNAL_TYPES = GPIO_TYPES | {T.INPUT, T.OPEN_COLLECTOR, T.OPEN_EMITTER}  # pins that carry a signal
RECEIVER_TYPES = frozenset({T.INPUT, T.BIDIRECTIONAL, T.TRI_STATE, T.OPEN_COLLECTOR, T.OPEN_EMITTER})
SINK_TYPES = GPIO_TYPES | {T.OPEN_COLLECTOR}  # pins that can pull a load to ground
RESISTORS = frozenset({SymbolKind.RESISTOR, SymbolKind.POTENTIOMETER})
SWITCHES = frozenset({SymbolKind.BUTTON, SymbolKind.SWITCH})
DIODES = frozenset({SymbolKind.DIODE, SymbolKind.ZENER})
CAPACITORS = frozenset({SymbolKind.CAPACITOR, SymbolKind.CAPACITOR_POLARIZED})
# two-terminal parts current flows through with (almost) no drop: they join nodes into one "region"
SERIES_CONDUCTORS = SWITCHES | DIODES | {SymbolKind.FUSE, SymbolKind.INDUCTOR}
SWITCHED_PATHS = ((PinRole.COLLECTOR, PinRole.EMITTER), (PinRole.DRAIN, PinRole.SOURCE))
VOLT_TOLERANCE = 0.05


@dataclass(eq=False)
class Node:
    """One electrical node; hashed by identity so rules can key dicts and sets by it."""

    name: str  # the first of its nets
    pins: list[BoundPin]
    role: NetRole

    @property
    def is_ground(self) -> bool:
        return self.role.is_ground

    @property
    def is_power(self) -> bool:
        return self.role.is_power

    @property
    def rail_pins(self) -> list[BoundPin]:
        """Supply outputs (regulator OUT, board 3V3, battery +) putting a positive voltage on this node."""
        return [bp for bp in self.pins if is_rail_pin(bp.pin)]

    @property
    def rail_voltage(self) -> float | None:
        return max((bp.pin.voltage or 0.0 for bp in self.rail_pins), default=None)

    def of_type(self, types: frozenset[ElectricalType] | set[ElectricalType]) -> list[BoundPin]:
        return [bp for bp in self.pins if bp.pin.type in types]


def is_rail_pin(pin: Pin) -> bool:
    """A supply output with a positive voltage (not a battery's minus terminal)."""
    return pin.type is T.POWER_OUT and (pin.voltage or 0.0) > 0 and not is_ground_pin(pin)


def is_ground_pin(pin: Pin) -> bool:
    return PinRole.GROUND in pin.roles


def is_supply_pin(pin: Pin) -> bool:
    """A non-ground power input (VCC, VIN, IN)."""
    return pin.type is T.POWER_IN and not is_ground_pin(pin)


def supply_pins(part: Part) -> list[Pin]:
    return [p for p in part.pins if is_supply_pin(p)]


def ground_pins(part: Part) -> list[Pin]:
    return [p for p in part.pins if is_ground_pin(p)]


def working_groups(part: Part) -> list[list[Pin]]:
    """The pin groups a part works only with one pin of each wired: its supply inputs and its grounds
    (not a board's, which USB powers) and its ``usage.required_pins`` (the ERC's
    ``supply-pin-unconnected`` and ``required-pin-unconnected``)."""
    supply = [] if is_board(part) else [g for g in (supply_pins(part), ground_pins(part)) if g]
    return supply + part.required_groups()


def is_led(part: Part) -> bool:
    return part.symbol is SymbolKind.LED or part.usage.series_resistor_required


def is_two_terminal(part: Part, kinds: frozenset[SymbolKind]) -> bool:
    return part.is_two_terminal and part.symbol in kinds


def is_board(part: Part) -> bool:
    return part.category is Category.MCU_BOARD


class ErcContext:
    """The resolved design seen as nodes, with the lookups the rules share."""

    def __init__(self, resolved: ResolvedDesign) -> None:
        self.resolved = resolved
        self.nodes = _merge_nets(resolved.nets)
        self.node_of: dict[str, Node] = {bp.label: node for node in self.nodes for bp in node.pins}
        self.pins_of: dict[str, list[BoundPin]] = {}
        for node in self.nodes:
            for bp in node.pins:
                self.pins_of.setdefault(bp.ref, []).append(bp)
        self._regions, self._supplied = self._conduction()

    # --- parts and pins -------------------------------------------------------------------
    def parts(self) -> list[tuple[str, Part]]:
        return list(self.resolved.parts.items())

    def node(self, ref: str, pin: Pin) -> Node | None:
        return self.node_of.get(f"{ref}.{pin.name}")

    def wired(self, ref: str, pin: Pin) -> bool:
        """The pin shares its node with at least one other pin."""
        node = self.node(ref, pin)
        return node is not None and len(node.pins) > 1

    def other_end(self, bp: BoundPin) -> Node | None:
        """For a two-terminal part, the node of the pin that is not ``bp``."""
        other = next(p for p in bp.part.pins if p.number != bp.pin.number)
        return self.node(bp.ref, other)

    def ohms(self, ref: str) -> float | None:
        """A resistor's value from the design, else the part's default value."""
        design_part = self.resolved.design_part(ref)
        if design_part.numeric_value is not None:
            return design_part.numeric_value
        default = self.resolved.parts[ref].default_value
        return parse_value(default) if default else None

    # --- what is attached to a node -------------------------------------------------------
    def two_terminals_on(self, node: Node, kinds: frozenset[SymbolKind]) -> list[tuple[BoundPin, Node | None]]:
        """Two-terminal parts of the given kinds with a pin on ``node``, with the node of their other pin."""
        return [(bp, self.other_end(bp)) for bp in node.pins if is_two_terminal(bp.part, kinds)]

    def pull_ups(self, node: Node, kinds: frozenset[SymbolKind] = RESISTORS) -> list[tuple[BoundPin, Node]]:
        """Resistors (or switches) from ``node`` to a supply rail."""
        ends = self.two_terminals_on(node, kinds)
        return [(bp, other) for bp, other in ends if other is not None and other.is_power]

    def pull_downs(self, node: Node, kinds: frozenset[SymbolKind] = RESISTORS) -> list[tuple[BoundPin, Node]]:
        ends = self.two_terminals_on(node, kinds)
        return [(bp, other) for bp, other in ends if other is not None and other.is_ground]

    def onboard_pullups(self, node: Node) -> list[BoundPin]:
        """Signal pins on the node belonging to a module that carries its own pull-up resistors."""
        power = (T.POWER_IN, T.POWER_OUT)
        return [bp for bp in node.pins if bp.part.usage.onboard_pullups and bp.pin.type not in power]

    # --- voltages ---------------------------------------------------------------------------
    def supplied(self, node: Node) -> bool:
        """A supply output reaches the node directly or through switches, fuses, diodes or contacts."""
        return node in self._supplied

    def voltage(self, node: Node) -> float | None:
        """The node's supply voltage: from a supply output reaching it, else from the net's name ("5V")."""
        if node.is_ground:
            return 0.0
        return self._supplied.get(node, node.role.voltage)

    def region(self, node: Node) -> int:
        """Nodes joined through series conductors (switches, diodes, fuses, transistors, contacts) share a region."""
        return self._regions[node]

    def part_supply_voltage(self, ref: str) -> float | None:
        part = self.resolved.parts[ref]
        volts = [v for p in supply_pins(part) if (n := self.node(ref, p)) and (v := self.voltage(n)) is not None]
        return max(volts, default=None)

    def logic_level(self, bp: BoundPin) -> float | None:
        """The high level a pin drives or expects: pin, then its power domain, then part, then its supply rail."""
        if bp.pin.logic_level_v is not None:
            return bp.pin.logic_level_v
        if bp.pin.domain is not None:
            domain_pin = bp.part.find_pin(bp.pin.domain)
            node = self.node(bp.ref, domain_pin) if domain_pin else None
            return self.voltage(node) if node else None
        if bp.part.logic_level_v is not None:
            return bp.part.logic_level_v
        return self.part_supply_voltage(bp.ref)

    def input_limit(self, bp: BoundPin) -> float | None:
        """The highest voltage a signal pin accepts: pin max_v, part io_max_v, else its logic level + 0.5 V."""
        if bp.pin.max_v is not None:
            return bp.pin.max_v
        if bp.part.io_max_v is not None:
            return bp.part.io_max_v
        level = self.logic_level(bp)
        return None if level is None else level + 0.5

    # --- build --------------------------------------------------------------------------------
    def _conduction(self) -> tuple[dict[Node, int], dict[Node, float]]:
        """Regions over series conductors, and the supply voltage reaching each node (not through ground)."""
        graph = nx.Graph()
        graph.add_nodes_from(self.nodes)
        for ref, part in self.parts():
            for a, b in _series_paths(part):
                node_a, node_b = self.node(ref, a), self.node(ref, b)
                if node_a is not None and node_b is not None and node_a is not node_b:
                    graph.add_edge(node_a, node_b)
        regions = {node: index for index, group in enumerate(nx.connected_components(graph)) for node in group}
        supplied: dict[Node, float] = {}
        above_ground = graph.subgraph(n for n in self.nodes if not n.is_ground)
        for group in nx.connected_components(above_ground):
            volts = [v for n in group if (v := n.rail_voltage) is not None]
            if volts:
                supplied.update(dict.fromkeys(group, max(volts)))
        return regions, supplied


def _series_paths(part: Part) -> list[tuple[Pin, Pin]]:
    """Pin pairs of a part that conduct when it is on: switch terminals, C-E, D-S, relay COM to NO/NC."""
    if part.is_two_terminal and part.symbol in SERIES_CONDUCTORS:
        return [(part.pins[0], part.pins[1])]
    paths = [(a, b) for ra, rb in SWITCHED_PATHS for a in part.pins_with_role(ra) for b in part.pins_with_role(rb)]
    paths += [
        (com, contact)
        for com in part.pins_with_role(PinRole.CONTACT_COM)
        for role in (PinRole.CONTACT_NO, PinRole.CONTACT_NC)
        for contact in part.pins_with_role(role)
    ]
    return paths


def _merge_nets(nets: list[BoundNet]) -> list[Node]:
    """Nets that share a pin are one node; each node keeps the first net's name and each pin once."""
    graph = nx.Graph()
    for index, net in enumerate(nets):
        graph.add_node(index)
        graph.add_edges_from((index, bp.label) for bp in net.pins)
    nodes: list[Node] = []
    for group in sorted(nx.connected_components(graph), key=lambda g: min(x for x in g if isinstance(x, int))):
        members = [nets[i] for i in sorted(x for x in group if isinstance(x, int))]
        pins = list({bp.label: bp for net in members for bp in net.pins}.values())
        bound = members[0] if len(members) == 1 else _joined(members, pins)
        nodes.append(Node(name=members[0].name, pins=pins, role=classify_net(bound)))
    return nodes


def _joined(members: list[BoundNet], pins: list[BoundPin]) -> BoundNet:
    net = Net.model_construct(name=members[0].name, pins=[p for m in members for p in m.net.pins])
    return BoundNet(net=net, pins=pins)
