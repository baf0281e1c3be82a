"""Place a resolved design on the page: force-directed placement, overlap removal, then connections.

1. Every part gets its symbol and a *footprint*: the body plus everything drawn around it (its
   label, and at each connected pin the rail symbol or net label it may carry), with a margin.
2. networkx's seeded spring layout on the part graph (edges weighted by shared signal nets, weak
   edges for shared rails) gives the rough picture; overlapping footprints are then pushed apart.
3. Chip signal pins move to the side of the parts they connect to (separate again); then the other
   symbols are mirrored where that brings their pins nearer their peers' (footprints of mirrorable
   symbols are symmetric, so this needs no further separation).
4. Power and ground nets become rail symbols at each pin. A signal net of up to four pins becomes
   orthogonal wires (along a minimum spanning tree of its pins) when every wire finds a short route
   clear of part bodies, part labels and net labels, crossing at most one other wire; otherwise
   every pin of the net gets a net label.
Since labels live inside footprints and footprints never overlap, no label covers a part.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from components_db.schema import Part, Pin, SymbolKind
from studio.circuit.bound import BoundNet
from studio.circuit.rails import NetKind, NetRole
from studio.circuit.resolve import ResolvedDesign
from studio.erc.nodes import GPIO_TYPES
from studio.schematic.geometry import Box, Layout, NetLabel, PlacedPart, PlacedPin, Point, Side, Wire
from studio.schematic.symbols import PIN_PITCH, TEXT_HEIGHT, Symbol, shown_pins, symbol_for, text_width

FOOTPRINT_MARGIN = 10.0  # free space kept around every footprint
PAGE_MARGIN = 20.0
ATTACH_GAP = 8.0  # from a pin to its rail symbol / net label
WIRE_STUB = 10.0  # a wire leaves its pin straight out for this long before turning
MAX_WIRE_LENGTH = 340.0  # longer connections read better as a pair of net labels
WIRE_GAP = 6.0  # parallel wires closer than this would look joined
BEND_COST = 15.0
CROSSING_COST = 80.0
MAX_CROSSINGS = 1  # a wire crossing more than one other wire is replaced by labels
MAX_WIRED_PINS = 4  # nets with more pins are drawn as labels
SEPARATION_ROUNDS = 400
ASPECT = 1.6  # landscape page

DIRECTION: dict[Side, tuple[float, float]] = {"left": (-1, 0), "right": (1, 0), "top": (0, -1), "bottom": (0, 1)}
# how deep (along the pin direction) and how wide (across it) each rail glyph is before its text
GLYPH_DEPTH = {"label": 0.0, "power": 2.0, "ground": 10.0}
GLYPH_ACROSS = {"label": 0.0, "power": 16.0, "ground": 16.0}
TEXT_GAP = {"label": 0.0, "power": 3.0, "ground": 3.0}
GROUND_DROP = 6.0  # a ground symbol beside a pin: down this far from the wire to the first bar
LABEL_PAD = 8.0  # a net label's frame around its text


@dataclass(frozen=True)
class _Turn:
    """How the second pass turns a symbol: chip pins moved to a side, or the symbol mirrored."""

    sides: dict[str, Side] = field(default_factory=dict)
    mirror: bool = False


@dataclass
class _Item:
    """A part being placed: symbol origin (x, y) plus the footprint relative to that origin."""

    ref: str
    part: Part
    symbol: Symbol
    label: str
    attachments: dict[str, Box]  # pin name -> room of its rail symbol / net label, relative to origin
    label_box: Box  # relative to origin
    footprint: tuple[float, float, float, float] = (0, 0, 0, 0)
    x: float = 0.0
    y: float = 0.0
    pin_nets: dict[str, BoundNet] = field(default_factory=dict)

    def bounds(self) -> tuple[float, float, float, float]:
        x0, y0, x1, y1 = self.footprint
        return self.x + x0, self.y + y0, self.x + x1, self.y + y1

    def center(self) -> tuple[float, float]:
        return self.x + self.symbol.width / 2, self.y + self.symbol.height / 2

    def body(self) -> Box:
        return Box(x=self.x, y=self.y, width=self.symbol.width, height=self.symbol.height)


def layout_design(resolved: ResolvedDesign, seed: int = 0) -> Layout:
    """The placed schematic of the known parts of ``resolved``; the same seed gives the same layout."""
    roles = drawn_roles(resolved)
    items = _items(resolved, roles, {})
    if not items:
        return Layout(parts=[], wires=[], labels=[], width=2 * PAGE_MARGIN, height=2 * PAGE_MARGIN, seed=seed)
    _initial_positions(items, resolved, roles, seed)
    _separate(items)
    items = _rebuild(items, resolved, roles, _chip_sides(items, roles))
    _separate(items)
    items = _rebuild(items, resolved, roles, _mirrors(items, roles))
    _shift_to_page(items)
    wires, labels = _connections(items, resolved, roles)
    width = max(item.bounds()[2] for item in items) + PAGE_MARGIN
    height = max(item.bounds()[3] for item in items) + PAGE_MARGIN
    return Layout(
        parts=[_placed(item) for item in items], wires=wires, labels=labels, width=width, height=height, seed=seed
    )


# --- parts and footprints ------------------------------------------------------------------


def _items(resolved: ResolvedDesign, roles: dict[str, NetRole], turns: dict[str, _Turn]) -> list[_Item]:
    nets: dict[tuple[str, str], list[BoundNet]] = defaultdict(list)
    for net in resolved.nets:
        for bp in net.pins:
            nets[bp.ref, bp.pin.name].append(net)
    items = []
    for ref, part in resolved.parts.items():
        pin_nets = resolved.nets_of(ref)
        turn = turns.get(ref, _Turn())
        pins = shown_pins(part, set(pin_nets))
        symbol = symbol_for(part, pins, turn.sides, _rail_room(pins, pin_nets, roles))
        if turn.mirror:
            symbol = symbol.mirror()
        attachments = {}
        for pin in symbol.pins:
            anchor = Point(x=pin.x, y=pin.y)
            boxes = [
                attachment_box(*_attachment_kind(net, roles[net.name]), anchor, pin.side) for net in nets[ref, pin.name]
            ]
            if boxes:  # a pin wrongly on two nets keeps room for the larger label
                attachments[pin.name] = max(boxes, key=lambda b: b.width * b.height)
        label = _part_label(ref, part, resolved)
        item = _Item(ref, part, symbol, label, attachments, Box(x=0, y=0, width=0, height=0), pin_nets=pin_nets)
        _set_footprint(item)
        items.append(item)
    return items


def _rail_room(pins: list[Pin], pin_nets: dict[str, BoundNet], roles: dict[str, NetRole]) -> dict[str, float]:
    """Width of the rail or net text each pin carries, so a chip spaces its top and bottom pins apart."""
    return {
        pin.name: text_width(_attachment_kind(pin_nets[pin.name], roles[pin_nets[pin.name].name])[1])
        for pin in pins
        if pin.name in pin_nets
    }


def drawn_roles(resolved: ResolvedDesign) -> dict[str, NetRole]:
    """Net name -> how the drawing shows it: the design's roles (``ResolvedDesign.net_roles``), except that a
    "rail" only because a supply input sits on it, with no supply output and no voltage in its name but a
    driving pin (a sensor powered from a GPIO), is drawn as the signal net it is: a wire or its name, not a
    supply flag."""
    roles = dict(resolved.net_roles)  # a copy: the design's own roles are cached and shared
    for net in resolved.nets:
        role = roles[net.name]
        fed_by_a_pin = any(bp.pin.type in GPIO_TYPES for bp in net.pins)
        if role.is_power and role.source is None and role.voltage is None and fed_by_a_pin:
            roles[net.name] = NetRole(NetKind.SIGNAL, None, None)
    return roles


def _part_label(ref: str, part: Part, resolved: ResolvedDesign) -> str:
    value = resolved.design_part(ref).value or part.default_value
    return f"{ref} {value}" if value and part.category == "passive" else f"{ref} {part.id}"


def _attachment_kind(net: BoundNet, role: NetRole) -> tuple[str, str]:
    if role.kind is NetKind.GROUND:
        return "ground", "" if net.name.upper() == "GND" else net.name
    if role.kind is NetKind.POWER:
        return "power", rail_text(net.name, role.voltage)
    return "label", net.name


def rail_text(name: str, voltage: float | None) -> str:
    """'3V3' -> '+3V3', '5V' -> '+5V'; 'VIN_12V' stays; a rail named without a voltage gets it: 'VCC 5V'."""
    if re.fullmatch(r"\d+V\d*|\d+(?:\.\d+)?V", name):
        return f"+{name}"
    if voltage is None or any(ch.isdigit() for ch in name):
        return name
    return f"{name} {voltage:g}V"


def attachment_box(kind: str, text: str, anchor: Point, side: Side) -> Box:
    """Extent of a rail symbol or net label at a pin; it starts ATTACH_GAP away from the pin."""
    dx, dy = DIRECTION[side]
    if kind == "ground" and dx:  # beside a left/right pin the ground symbol still points down
        width = max(GLYPH_ACROSS["ground"], text_width(text))
        x = anchor.x + ATTACH_GAP if dx > 0 else anchor.x - ATTACH_GAP - width
        height = 1 + GROUND_DROP + GLYPH_DEPTH["ground"] + (TEXT_GAP["ground"] + TEXT_HEIGHT if text else 0.0)
        return Box(x=x, y=anchor.y - 1, width=width, height=height)
    if kind == "label":
        framed = text_width(text) + LABEL_PAD
        along_text, across_text = (framed, TEXT_HEIGHT) if dx else (TEXT_HEIGHT, framed)
    else:
        along_text = (text_width(text) if dx else TEXT_HEIGHT) if text else 0.0
        across_text = (TEXT_HEIGHT if dx else text_width(text)) if text else 0.0
    depth = GLYPH_DEPTH[kind] + (TEXT_GAP[kind] + along_text if text else 0.0)
    across = max(GLYPH_ACROSS[kind], across_text)
    start = ATTACH_GAP
    if dx:
        x = anchor.x + start if dx > 0 else anchor.x - start - depth
        return Box(x=x, y=anchor.y - across / 2, width=depth, height=across)
    y = anchor.y + start if dy > 0 else anchor.y - start - depth
    return Box(x=anchor.x - across / 2, y=y, width=across, height=depth)


def _set_footprint(item: _Item) -> None:
    """Body, attachments and the part label (placed above all of them), plus the margin."""
    boxes = [Box(x=0, y=0, width=item.symbol.width, height=item.symbol.height)]
    boxes += list(item.attachments.values())
    top = min(b.y for b in boxes)
    width = text_width(item.label)
    x = 0.0 if item.symbol.kind is SymbolKind.CHIP else (item.symbol.width - width) / 2
    item.label_box = Box(x=x, y=top - TEXT_HEIGHT - 2, width=width, height=TEXT_HEIGHT)
    boxes.append(item.label_box)
    m = FOOTPRINT_MARGIN / 2
    x0, x1 = min(b.x for b in boxes) - m, max(b.x + b.width for b in boxes) + m
    if item.symbol.kind is not SymbolKind.CHIP:  # symmetric, so mirroring the symbol later still fits
        x0, x1 = min(x0, item.symbol.width - x1), max(x1, item.symbol.width - x0)
    item.footprint = (x0, min(b.y for b in boxes) - m, x1, max(b.y + b.height for b in boxes) + m)


# --- placement ------------------------------------------------------------------------------


def _initial_positions(items: list[_Item], resolved: ResolvedDesign, roles: dict[str, NetRole], seed: int) -> None:
    graph = nx.Graph()
    graph.add_nodes_from(item.ref for item in items)
    for net in resolved.nets:
        refs = sorted({bp.ref for bp in net.pins})
        if len(refs) < 2:
            continue
        weight = (1.0 if roles[net.name].kind is NetKind.SIGNAL else 0.3 / len(refs)) / (len(refs) - 1)
        for a, b in itertools.combinations(refs, 2):
            previous = graph.get_edge_data(a, b, {"weight": 0.0})["weight"]
            graph.add_edge(a, b, weight=previous + weight)
    positions = nx.spring_layout(graph, seed=seed, weight="weight", iterations=200)
    scale = math.sqrt(sum(_area(item) for item in items)) * 0.5
    for item in items:
        px, py = positions[item.ref]
        _move_center(item, float(px) * scale * math.sqrt(ASPECT), float(py) * scale / math.sqrt(ASPECT))


def _area(item: _Item) -> float:
    x0, y0, x1, y1 = item.footprint
    return (x1 - x0) * (y1 - y0)


def _move_center(item: _Item, cx: float, cy: float) -> None:
    item.x = cx - item.symbol.width / 2
    item.y = cy - item.symbol.height / 2


def _separate(items: list[_Item]) -> None:
    """Push overlapping footprints apart along their smaller overlap, until none overlaps.

    Every round moves each part by the sum of its pushes (numpy over all pairs). This converges for
    any realistic design; should it not, the parts are packed into rows, which never overlap.
    """
    origin = np.array([[item.x, item.y] for item in items])
    footprint = np.array([item.footprint for item in items])
    index = np.arange(len(items))
    for _ in range(SEPARATION_ROUNDS):
        x0, y0 = origin[:, 0] + footprint[:, 0], origin[:, 1] + footprint[:, 1]
        x1, y1 = origin[:, 0] + footprint[:, 2], origin[:, 1] + footprint[:, 3]
        over_x = np.minimum(x1[:, None], x1[None, :]) - np.maximum(x0[:, None], x0[None, :])
        over_y = np.minimum(y1[:, None], y1[None, :]) - np.maximum(y0[:, None], y0[None, :])
        hit = (over_x > 0) & (over_y > 0) & (index[:, None] != index[None, :])
        if not hit.any():
            break
        sideways = over_x / ASPECT < over_y
        push_x = np.where(hit & sideways, _away(x0 + x1, index) * (over_x + 0.5) / 2, 0.0)
        push_y = np.where(hit & ~sideways, _away(y0 + y1, index) * (over_y + 0.5) / 2, 0.0)
        origin += np.stack([push_x.sum(axis=1), push_y.sum(axis=1)], axis=1)
    else:
        _pack_rows(items)
        return
    for item, (x, y) in zip(items, origin, strict=True):
        item.x, item.y = float(x), float(y)


def _away(centers: np.ndarray, index: np.ndarray) -> np.ndarray:
    """-1 where part i should move towards smaller coordinates than part j, else +1 (ties by index)."""
    before = (centers[:, None] < centers[None, :]) | (
        (centers[:, None] == centers[None, :]) & (index[:, None] < index[None, :])
    )
    return np.where(before, -1.0, 1.0)


def _pack_rows(items: list[_Item]) -> None:
    """Rows ordered by the force layout's y, parts within a row by its x."""
    order = sorted(items, key=lambda it: (it.center()[1], it.center()[0]))
    row_width = math.sqrt(sum(_area(item) for item in items) * ASPECT)
    cursor_x = cursor_y = row_height = 0.0
    for item in order:
        x0, y0, x1, y1 = item.footprint
        if cursor_x > 0 and cursor_x + (x1 - x0) > row_width:
            cursor_x, cursor_y, row_height = 0.0, cursor_y + row_height, 0.0
        item.x, item.y = cursor_x - x0, cursor_y - y0
        cursor_x += x1 - x0
        row_height = max(row_height, y1 - y0)


def _chip_sides(items: list[_Item], roles: dict[str, NetRole]) -> dict[str, _Turn]:
    """Each chip signal pin goes to the side where, on average, the parts it connects to are."""
    centers = {item.ref: item.center() for item in items}
    turns: dict[str, _Turn] = {}
    for item in items:
        if item.symbol.kind is SymbolKind.CHIP:
            sides: dict[str, Side] = {}
            for pin_name, peers in _signal_peers(item, roles).items():
                peer_x = sum(centers[ref][0] for ref, _ in peers) / len(peers)
                sides[pin_name] = "left" if peer_x < centers[item.ref][0] else "right"
            turns[item.ref] = _Turn(sides=sides)
    return turns


def _rebuild(
    items: list[_Item], resolved: ResolvedDesign, roles: dict[str, NetRole], turns: dict[str, _Turn]
) -> list[_Item]:
    """The items again with their symbols turned; each part keeps its centre."""
    centers = {item.ref: item.center() for item in items}
    rebuilt = _items(resolved, roles, turns)
    for item in rebuilt:
        _move_center(item, *centers[item.ref])
    return rebuilt


def _signal_peers(item: _Item, roles: dict[str, NetRole]) -> dict[str, list[tuple[str, str]]]:
    """Pin name -> the (ref, pin)s it meets on a signal net, for the pins of ``item`` on one."""
    peers: dict[str, list[tuple[str, str]]] = {}
    for pin in item.symbol.pins:
        net = item.pin_nets.get(pin.name)
        if net is not None and roles[net.name].kind is NetKind.SIGNAL:
            found = [(bp.ref, bp.pin.name) for bp in net.pins if bp.ref != item.ref]
            if found:
                peers[pin.name] = found
    return peers


def _mirrors(items: list[_Item], roles: dict[str, NetRole]) -> dict[str, _Turn]:
    """Greedy, twice over: each symbol takes the facing whose pin stubs end nearest their peers'.
    Distances are capped at a wire's reach: a far peer gets a net label whichever way a part faces."""
    by_ref = {item.ref: item for item in items}
    facing = {item.ref: item.symbol for item in items}
    flippable = [item for item in items if item.symbol.kind is not SymbolKind.CHIP]

    def stub_end(ref: str, pin_name: str) -> tuple[float, float]:
        item, pin = by_ref[ref], facing[ref].pin(pin_name)
        dx, dy = DIRECTION[pin.side]
        return item.x + pin.x + dx * WIRE_STUB, item.y + pin.y + dy * WIRE_STUB

    def cost(item: _Item) -> float:
        total = 0.0
        for pin_name, peers in _signal_peers(item, roles).items():
            x, y = stub_end(item.ref, pin_name)
            for ref, peer_pin in peers:
                px, py = stub_end(ref, peer_pin)
                total += min(abs(x - px) + abs(y - py), MAX_WIRE_LENGTH)
        return total

    for _ in range(2):
        for item in flippable:
            straight = cost(item)
            facing[item.ref] = facing[item.ref].mirror()
            if cost(item) >= straight:
                facing[item.ref] = facing[item.ref].mirror()
    turns = {item.ref: _Turn(mirror=facing[item.ref].mirrored) for item in flippable}
    return turns | {
        item.ref: _Turn(sides={p.name: p.side for p in item.symbol.pins}) for item in items if item.ref not in turns
    }


def _shift_to_page(items: list[_Item]) -> None:
    min_x = min(item.bounds()[0] for item in items)
    min_y = min(item.bounds()[1] for item in items)
    for item in items:
        item.x += PAGE_MARGIN - min_x
        item.y += PAGE_MARGIN - min_y


# --- connections ----------------------------------------------------------------------------


def _connections(
    items: list[_Item], resolved: ResolvedDesign, roles: dict[str, NetRole]
) -> tuple[list[Wire], list[NetLabel]]:
    """Rails and crowded nets get labels first; the other signal nets are routed around the bodies,
    the part labels and the labels placed so far, else labelled too."""
    by_ref = {item.ref: item for item in items}
    labels: list[NetLabel] = []
    to_route: list[tuple[BoundNet, list[tuple[_Item, str, Point]]]] = []
    for net in resolved.nets:
        pins = _net_pins(net, by_ref)
        if roles[net.name].kind is NetKind.SIGNAL and 2 <= len(pins) <= MAX_WIRED_PINS:
            to_route.append((net, pins))
        else:
            labels += _labels(net, roles[net.name], pins)
    obstacles = [item.body() for item in items] + [_shift(item.label_box, item) for item in items]
    obstacles += [label.box for label in labels]
    wires: list[Wire] = []
    for net, pins in to_route:
        routed = _route_net(net.name, pins, _obstacle_array(obstacles), wires)
        if routed is None:
            new_labels = _labels(net, roles[net.name], pins)
            labels += new_labels
            obstacles += [label.box for label in new_labels]
        else:
            wires += routed
    return wires, labels


def _labels(net: BoundNet, role: NetRole, pins: list[tuple[_Item, str, Point]]) -> list[NetLabel]:
    kind, text = _attachment_kind(net, role)
    return [
        NetLabel(
            net=net.name,
            text=text,
            kind=kind,
            anchor=anchor,
            box=attachment_box(kind, text, anchor, item.symbol.pin(pin_name).side),
        )
        for item, pin_name, anchor in pins
    ]


def _net_pins(net: BoundNet, by_ref: dict[str, _Item]) -> list[tuple[_Item, str, Point]]:
    """The drawn pins of a net (a pin on two nets, or twice on one, is drawn once per net)."""
    seen: set[tuple[str, str]] = set()
    found = []
    for bp in net.pins:
        item = by_ref.get(bp.ref)
        key = (bp.ref, bp.pin.name)
        if item is None or key in seen or bp.pin.name not in item.attachments:
            continue
        seen.add(key)
        pin = item.symbol.pin(bp.pin.name)
        found.append((item, bp.pin.name, Point(x=item.x + pin.x, y=item.y + pin.y)))
    return found


def _route_net(
    name: str, pins: list[tuple[_Item, str, Point]], obstacles: np.ndarray, wires: list[Wire]
) -> list[Wire] | None:
    """Wires along the minimum spanning tree of the pins, or None when one of them cannot be drawn well.
    Wires of one net may share a run (at a pin with two wires); wires of other nets may not."""
    graph = nx.Graph()
    for (i, (_, _, a)), (j, (_, _, b)) in itertools.combinations(enumerate(pins), 2):
        graph.add_edge(i, j, weight=abs(a.x - b.x) + abs(a.y - b.y))
    drawn = [seg for wire in wires for seg in itertools.pairwise((p.x, p.y) for p in wire.points)]
    routed = []
    for i, j in sorted(tuple(sorted(edge)) for edge in nx.minimum_spanning_edges(graph, data=False)):
        path = _best_route(pins[i], pins[j], obstacles, drawn)
        if path is None:
            return None
        routed.append(Wire(net=name, points=[Point(x=x, y=y) for x, y in path]))
    return routed


def _best_route(
    a: tuple[_Item, str, Point],
    b: tuple[_Item, str, Point],
    obstacles: np.ndarray,
    drawn: list[tuple[tuple[float, float], tuple[float, float]]],
) -> list[tuple[float, float]] | None:
    """The cheapest orthogonal path (an L, or a Z / U whose middle run is at one of several offsets)
    that crosses no obstacle and is not too long; crossing another wire costs extra, running along
    one is refused."""
    (item_a, pin_a, pa), (item_b, pin_b, pb) = a, b
    qa = _stub_end(pa, item_a.symbol.pin(pin_a).side)
    qb = _stub_end(pb, item_b.symbol.pin(pin_b).side)
    candidates = [[(qb[0], qa[1])], [(qa[0], qb[1])]]
    candidates += [[(x, qa[1]), (x, qb[1])] for x in _channels(qa[0], qb[0])]
    candidates += [[(qa[0], y), (qb[0], y)] for y in _channels(qa[1], qb[1])]
    paths = []
    for bends in candidates:
        path = _simplify([(pa.x, pa.y), qa, *bends, qb, (pb.x, pb.y)])
        length = sum(abs(x1 - x2) + abs(y1 - y2) for (x1, y1), (x2, y2) in itertools.pairwise(path))
        if length <= MAX_WIRE_LENGTH:
            paths.append((length + BEND_COST * len(path), path))
    best: tuple[float, list[tuple[float, float]]] | None = None
    for base, path in sorted(paths):
        if best is not None and base >= best[0]:
            break
        segments = list(itertools.pairwise(path))
        if any(_blocked(seg, obstacles) for seg in segments):
            continue
        crossings = [_crossing(seg, other) for seg in segments for other in drawn]
        if "along" in crossings or crossings.count("cross") > MAX_CROSSINGS:
            continue
        cost = base + CROSSING_COST * crossings.count("cross")
        if best is None or cost < best[0]:
            best = (cost, path)
    return None if best is None else best[1]


def _channels(a: float, b: float) -> list[float]:
    """Where the middle run of a Z or U may go: between the ends, and stepping out beyond either."""
    lo, hi = min(a, b), max(a, b)
    steps = [PIN_PITCH * k for k in (1, 2, 3, 4)]
    return [(a + b) / 2, lo, hi, *(lo - d for d in steps), *(hi + d for d in steps)]


def _blocked(segment: tuple[tuple[float, float], tuple[float, float]], obstacles: np.ndarray) -> bool:
    """Does an axis-parallel segment pass through the inside of any obstacle (touching is fine)?"""
    (x1, y1), (x2, y2) = segment
    return bool(
        np.any(
            (max(x1, x2) > obstacles[:, 0])
            & (min(x1, x2) < obstacles[:, 2])
            & (max(y1, y2) > obstacles[:, 1])
            & (min(y1, y2) < obstacles[:, 3])
        )
    )


def _obstacle_array(boxes: list[Box]) -> np.ndarray:
    eps = 0.5
    return np.array([(b.x + eps, b.y + eps, b.x + b.width - eps, b.y + b.height - eps) for b in boxes])


def _crossing(
    s: tuple[tuple[float, float], tuple[float, float]], t: tuple[tuple[float, float], tuple[float, float]]
) -> str | None:
    """'cross' when two axis-parallel segments cross, 'along' when they run side by side closer than
    WIRE_GAP (they would read as one wire), else None."""
    (ax1, ay1), (ax2, ay2) = s
    (bx1, by1), (bx2, by2) = t
    s_flat, t_flat = math.isclose(ay1, ay2), math.isclose(by1, by2)
    if s_flat == t_flat:
        same_line = abs(ay1 - by1) < WIRE_GAP if s_flat else abs(ax1 - bx1) < WIRE_GAP
        lo, hi = (min(ax1, ax2), max(ax1, ax2)) if s_flat else (min(ay1, ay2), max(ay1, ay2))
        t_lo, t_hi = (min(bx1, bx2), max(bx1, bx2)) if s_flat else (min(by1, by2), max(by1, by2))
        return "along" if same_line and min(hi, t_hi) - max(lo, t_lo) > 0.5 else None
    (hx1, hx2, hy), (vx, vy1, vy2) = (
        ((ax1, ax2, ay1), (bx1, by1, by2)) if s_flat else ((bx1, bx2, by1), (ax1, ay1, ay2))
    )
    inside = min(hx1, hx2) < vx < max(hx1, hx2) and min(vy1, vy2) < hy < max(vy1, vy2)
    return "cross" if inside else None


def _stub_end(point: Point, side: Side) -> tuple[float, float]:
    dx, dy = DIRECTION[side]
    return point.x + dx * WIRE_STUB, point.y + dy * WIRE_STUB


def _simplify(path: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Drop repeated points and the middle of straight runs."""
    points: list[tuple[float, float]] = []
    for p in path:
        if points and math.isclose(points[-1][0], p[0]) and math.isclose(points[-1][1], p[1]):
            continue
        if len(points) >= 2 and _collinear(points[-2], points[-1], p):
            points[-1] = p
        else:
            points.append(p)
    return points


def _collinear(a: tuple[float, float], b: tuple[float, float], c: tuple[float, float]) -> bool:
    return (math.isclose(a[0], b[0]) and math.isclose(b[0], c[0])) or (
        math.isclose(a[1], b[1]) and math.isclose(b[1], c[1])
    )


# --- output ---------------------------------------------------------------------------------


def _shift(box: Box, item: _Item) -> Box:
    return Box(x=box.x + item.x, y=box.y + item.y, width=box.width, height=box.height)


def _placed(item: _Item) -> PlacedPart:
    pins = [
        PlacedPin(name=p.name, number=p.number, position=Point(x=item.x + p.x, y=item.y + p.y), side=p.side)
        for p in item.symbol.pins
    ]
    return PlacedPart(
        ref=item.ref,
        part_id=item.part.id,
        symbol=item.symbol.kind,
        box=item.body(),
        pins=pins,
        label=item.label,
        label_box=_shift(item.label_box, item),
    )
