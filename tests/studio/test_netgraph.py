from functools import cache

import networkx as nx

from components_db.catalog import load_catalog
from components_db.schema import Part
from studio.design import Design
from studio.netgraph import build_graph, connected_groups, net_node, nets_of_part, part_node, parts_on_net
from studio.resolve import resolve

DESIGN = {
    "parts": [
        {"ref": "U1", "part": "esp32-devkit-v1"},
        {"ref": "R1", "part": "resistor", "value": "220"},
        {"ref": "D1", "part": "led-red"},
        {"ref": "B1", "part": "battery-9v"},
        {"ref": "R2", "part": "resistor"},
        {"ref": "X1", "part": "flux-capacitor"},
        {"ref": "SW1", "part": "push-button"},
    ],
    "nets": [
        {"name": "LED_A", "pins": ["U1.GPIO2", "R1.1"]},
        {"name": "N2", "pins": ["R1.2", "D1.A"]},
        {"name": "GND", "pins": ["D1.K", "U1.GND", "U1.GND2", "X1.1"]},
        {"name": "VBAT", "pins": ["B1.+", "R2.1"]},
        {"name": "SW1", "pins": ["SW1.1", "U1.NOPE"]},
    ],
}


@cache
def graph() -> nx.Graph:
    lookup: dict[str, Part] = {p.id: p for p in load_catalog()}
    return build_graph(resolve(Design.model_validate(DESIGN), lookup))


def test_graph_is_bipartite_with_part_and_net_nodes():
    g = graph()
    assert nx.is_bipartite(g)
    parts = {n for n, side in g.nodes(data="bipartite") if side == 0}
    assert parts == {part_node(p["ref"]) for p in DESIGN["parts"]}
    # a net and a part may share a name without sharing a node
    assert part_node("SW1") in g and net_node("SW1") in g
    assert dict(g.nodes[part_node("R1")]) == {"bipartite": 0, "part_id": "resistor", "value": "220", "known": True}
    assert g.nodes[part_node("X1")]["known"] is False
    assert g.nodes[net_node("GND")]["kind"] == "ground"
    assert (g.nodes[net_node("VBAT")]["kind"], g.nodes[net_node("VBAT")]["voltage"]) == ("power", 9.0)


def test_edges_carry_every_pin_of_a_part_on_a_net():
    g = graph()
    assert g.edges[part_node("U1"), net_node("GND")]["pins"] == ["GND", "GND2"]
    assert g.edges[part_node("D1"), net_node("N2")]["pins"] == ["A"]
    # unknown parts and pins add no edge
    assert not g.has_edge(part_node("X1"), net_node("GND"))
    assert parts_on_net(g, "SW1") == ["SW1"]


def test_connectivity_helpers():
    g = graph()
    assert parts_on_net(g, "GND") == ["D1", "U1"]
    assert nets_of_part(g, "U1") == {"GND": ["GND", "GND2"], "LED_A": ["GPIO2"]}
    assert nets_of_part(g, "X1") == {}
    assert connected_groups(g) == [["D1", "R1", "U1"], ["B1", "R2"], ["SW1"], ["X1"]]
