"""The design as a bipartite graph: part nodes and net nodes, an edge where a part has pins on a net.

Connectivity questions (what is on this net, which nets does this part touch, which parts form
islands of their own) are graph questions; networkx answers them so no module walks nets by hand.
Nodes are tuples, ``("part", "R1")`` and ``("net", "GND")``, so a ref and a net of the same name
never collide. An edge carries ``pins``: the part's pin names on that net, in design order.
"""

from __future__ import annotations

import networkx as nx

from studio.rails import classify_nets
from studio.resolve import ResolvedDesign

PART, NET = "part", "net"
Node = tuple[str, str]


def part_node(ref: str) -> Node:
    return (PART, ref)


def net_node(name: str) -> Node:
    return (NET, name)


def build_graph(resolved: ResolvedDesign) -> nx.Graph:
    """Every design part (known or not, connected or not) and every net, joined by their bound pins.

    Part nodes carry ``part_id``, ``value`` and ``known``; net nodes carry ``kind`` (ground, power,
    signal) and ``voltage`` from ``studio.rails``. Pins the knowledge base does not know add no edge.
    """
    graph = nx.Graph()
    for dp in resolved.design.parts:
        graph.add_node(part_node(dp.ref), bipartite=0, part_id=dp.part, value=dp.value, known=dp.ref in resolved.parts)
    roles = classify_nets(resolved)
    for net in resolved.nets:
        role = roles[net.name]
        graph.add_node(net_node(net.name), bipartite=1, kind=role.kind.value, voltage=role.voltage)
        for bp in net.pins:
            edge = (part_node(bp.ref), net_node(net.name))
            if graph.has_edge(*edge):
                graph.edges[edge]["pins"].append(bp.pin.name)
            else:
                graph.add_edge(*edge, pins=[bp.pin.name])
    return graph


def parts_on_net(graph: nx.Graph, net: str) -> list[str]:
    """Refs of the parts with a pin on ``net``, sorted."""
    return sorted(ref for _, ref in graph.neighbors(net_node(net)))


def nets_of_part(graph: nx.Graph, ref: str) -> dict[str, list[str]]:
    """Net name -> the part's pin names on it, for one part (empty for an unconnected part)."""
    node = part_node(ref)
    return {name: list(graph.edges[node, (NET, name)]["pins"]) for _, name in sorted(graph.neighbors(node))}


def connected_groups(graph: nx.Graph) -> list[list[str]]:
    """Refs of the parts that are wired together, one sorted list per island, largest island first.

    A design that should be one circuit but gives two groups has a part (or a subcircuit) that no
    net reaches; an unconnected part is a group of its own.
    """
    groups = [sorted(ref for kind, ref in component if kind == PART) for component in nx.connected_components(graph)]
    return sorted((g for g in groups if g), key=lambda g: (-len(g), g))
