"""Compile a resolved design and its layout into tscircuit Circuit JSON, and read one back.

Circuit JSON is a flat array of elements linked by string ids (``source_component_0``,
``source_port_3``): ``source_*`` elements say what the circuit is, ``schematic_*`` where it is
drawn. Units are base SI (ohm, F, H, Hz, V); schematic coordinates are the layout's units with y
flipped, because tscircuit's schematic y grows upwards and the layout's (SVG) y grows downwards.

What a Design holds but Circuit JSON has no field for travels in the nearest standard one, so
``design_from_circuit_json`` gets the design back: the knowledge-base part id in
``manufacturer_part_number``, the value as the design wrote it ("4k7") in ``display_value``, the
title in ``source_project_metadata.name``. Only bound parts and pins are compiled (unknown ones are
the ERC's findings; ``studio.exports.write_exports`` refuses such designs).

Checked against the npm package circuit-json's zod schemas by tests/js/validate.mjs.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import networkx as nx
from pydantic import BaseModel, ConfigDict, ValidationError

from components_db.schema import ElectricalType, Part, Pin, PinRole, SymbolKind
from studio.circuit.design import Design, DesignError, DesignPart
from studio.circuit.resolve import ResolvedDesign
from studio.circuit.values import is_valid_value, parse_value
from studio.schematic.geometry import Layout, NetLabel, PlacedPart, Point

Element = dict[str, Any]
SOFTWARE = "MoE Circuit Studio"

_FACING = {"left": "left", "right": "right", "top": "up", "bottom": "down"}
_TYPE_ATTRIBUTES: dict[ElectricalType, dict[str, bool]] = {
    ElectricalType.INPUT: {"is_input": True},
    ElectricalType.OUTPUT: {"is_output": True},
    ElectricalType.BIDIRECTIONAL: {"is_bidirectional": True},
    ElectricalType.TRI_STATE: {"is_output": True, "can_use_tri_state": True},
    ElectricalType.PASSIVE: {"is_passive": True},
    ElectricalType.OPEN_COLLECTOR: {"can_use_open_collector": True},
    ElectricalType.OPEN_EMITTER: {"can_use_open_emitter": True},
    ElectricalType.NO_CONNECT: {"do_not_connect": True},
}
_ROLE_ATTRIBUTES = {
    PinRole.GPIO: "is_gpio",
    PinRole.I2C_SDA: "supports_i2c_sda",
    PinRole.I2C_SCL: "supports_i2c_scl",
    PinRole.SPI_MOSI: "supports_spi_mosi",
    PinRole.SPI_MISO: "supports_spi_miso",
    PinRole.SPI_SCK: "supports_spi_sck",
    PinRole.SPI_CS: "supports_spi_cs",
    PinRole.UART_TX: "supports_uart_tx",
    PinRole.UART_RX: "supports_uart_rx",
}
_ROLE_HINTS = {PinRole.ANODE: ["anode", "pos"], PinRole.CATHODE: ["cathode", "neg"]}
# ftype -> the field carrying the design's value (Circuit JSON requires it for these ftypes)
_VALUE_FIELDS = {
    "simple_resistor": "resistance",
    "simple_capacitor": "capacitance",
    "simple_inductor": "inductance",
    "simple_potentiometer": "max_resistance",
    "simple_crystal": "frequency",
}


@dataclass
class _Ids:
    """Element ids by what they stand for, so schematic elements can point at source ones."""

    components: dict[str, str] = field(default_factory=dict)  # ref -> source_component_id
    ports: dict[tuple[str, str], str] = field(default_factory=dict)  # (ref, pin name) -> source_port_id
    nets: dict[str, str] = field(default_factory=dict)  # net name -> source_net_id
    traces: dict[tuple[str, str], str] = field(default_factory=dict)  # (net, source_port_id) -> source_trace_id
    schematic_ports: dict[tuple[float, float], list[tuple[str, str]]] = field(
        default_factory=lambda: defaultdict(list)
    )  # pin position -> [(schematic_port_id, source_port_id)]


def to_circuit_json(resolved: ResolvedDesign, layout: Layout) -> list[Element]:
    """The design as Circuit JSON: source elements for every bound part, pin and net, schematic ones from ``layout``."""
    ids = _Ids()
    elements = [_metadata(resolved.design.title), *_source_parts(resolved, ids), *_source_nets(resolved, ids)]
    placed = [p for p in layout.parts if p.ref in ids.components]
    elements += _schematic_components(resolved, placed, ids)
    elements += _schematic_ports(placed, ids)
    elements += _schematic_traces(layout, ids)
    elements += _schematic_net_labels(layout, ids)
    return elements


def _source_parts(resolved: ResolvedDesign, ids: _Ids) -> list[Element]:
    elements: list[Element] = []
    for dp in resolved.design.parts:
        part = resolved.parts.get(dp.ref)
        if part is None:
            continue
        component_id = ids.components[dp.ref] = f"source_component_{len(ids.components)}"
        elements.append(_source_component(component_id, dp, part))
        for pin in part.pins:
            port_id = ids.ports[dp.ref, pin.name] = f"source_port_{len(ids.ports)}"
            elements.append(_source_port(port_id, component_id, pin))
    return elements


def _source_nets(resolved: ResolvedDesign, ids: _Ids) -> list[Element]:
    """A source_net per net and a source_trace per pin on it (tscircuit's port-to-net connection)."""
    elements: list[Element] = []
    roles = resolved.net_roles
    trace_count = 0
    for net in resolved.nets:
        net_id = ids.nets[net.name] = f"source_net_{len(ids.nets)}"
        role = roles[net.name]
        elements.append(
            {
                "type": "source_net",
                "source_net_id": net_id,
                "name": net.name,
                "member_source_group_ids": [],
                "is_power": role.is_power,
                "is_ground": role.is_ground,
            }
        )
        for bp in net.pins:
            trace_id = f"source_trace_{trace_count}"
            trace_count += 1
            port_id = ids.ports[bp.ref, bp.pin.name]
            ids.traces.setdefault((net.name, port_id), trace_id)
            elements.append(
                {
                    "type": "source_trace",
                    "source_trace_id": trace_id,
                    "connected_source_port_ids": [port_id],
                    "connected_source_net_ids": [net_id],
                }
            )
    return elements


def _metadata(title: str | None) -> Element:
    element: Element = {"type": "source_project_metadata", "software_used_string": SOFTWARE}
    if title is not None:
        element["name"] = title
    return element


def _source_component(component_id: str, dp: DesignPart, part: Part) -> Element:
    typed = _typed_fields(dp, part)
    element: Element = {
        "type": "source_component",
        "source_component_id": component_id,
        "name": dp.ref,
        "ftype": part.ftype if typed is not None else "simple_chip",
        "manufacturer_part_number": part.id,
        **(typed or {}),
    }
    if dp.value is not None:
        element["display_value"] = dp.value
    return element


def _typed_fields(dp: DesignPart, part: Part) -> dict[str, Any] | None:
    """The ftype's own fields from datasheet facts; None when a field Circuit JSON requires is unknown.

    A part whose required facts are missing is written as a plain ``simple_chip`` rather than
    with an invented value.
    """
    ftype = part.ftype
    if ftype in _VALUE_FIELDS:
        number = _number(dp.value or part.default_value)
        if number is None and ftype == "simple_crystal":
            number = _spec_number(part, "frequency_hz")
        return {_VALUE_FIELDS[ftype]: number} if number is not None else None
    if ftype == "simple_led":
        color = part.specs.get("color")
        return {"color": str(color)} if color is not None else {}
    if ftype == "simple_transistor":
        kind = {SymbolKind.NPN: "npn", SymbolKind.PNP: "pnp"}.get(part.symbol)
        return {"transistor_type": kind} if kind else None
    if ftype == "simple_mosfet":
        channel = {SymbolKind.NMOS: "n", SymbolKind.PMOS: "p"}.get(part.symbol)
        # the knowledge base has no field for the mode: every MOSFET it holds is enhancement-mode
        return {"channel_type": channel, "mosfet_mode": "enhancement"} if channel else None
    if ftype == "simple_battery":
        capacity = _spec_number(part, "capacity_mah")
        return {"capacity": capacity} if capacity is not None else None
    if ftype == "simple_power_source":
        volts = [p.voltage for p in part.pins if p.type is ElectricalType.POWER_OUT and p.voltage]
        return {"voltage": max(volts)} if volts else None
    if ftype == "simple_fuse":
        amps, volts = _spec_number(part, "current_rating_a"), _spec_number(part, "voltage_rating_v")
        return None if amps is None or volts is None else {"current_rating_amps": amps, "voltage_rating_volts": volts}
    if ftype == "simple_pin_header":
        return {"pin_count": len(part.pins)}
    return {}


def _number(text: str | None) -> float | None:
    return parse_value(text) if text and is_valid_value(text) else None


def _spec_number(part: Part, key: str) -> float | None:
    value = part.specs.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _source_port(port_id: str, component_id: str, pin: Pin) -> Element:
    element: Element = {
        "type": "source_port",
        "source_port_id": port_id,
        "source_component_id": component_id,
        "name": pin.name,
        "port_hints": _port_hints(pin),
    }
    if pin.number.isdigit():
        element["pin_number"] = int(pin.number)
    element.update(_pin_attributes(pin))
    return element


def _port_hints(pin: Pin) -> list[str]:
    hints = [pin.name, *pin.aliases, *(h for role in pin.roles for h in _ROLE_HINTS.get(role, [])), pin.number]
    hints.append(f"pin{pin.number}")
    return list(dict.fromkeys(hints))


def _pin_attributes(pin: Pin) -> dict[str, Any]:
    attributes: dict[str, Any] = dict(_TYPE_ATTRIBUTES.get(pin.type, {}))
    ground = PinRole.GROUND in pin.roles
    if pin.type is ElectricalType.POWER_IN:
        attributes["requires_ground" if ground else "requires_power"] = True
    if pin.type is ElectricalType.POWER_OUT:
        attributes["provides_ground" if ground else "provides_power"] = True
        if not ground and pin.voltage is not None:
            attributes["provides_voltage"] = pin.voltage
    attributes.update({_ROLE_ATTRIBUTES[role]: True for role in pin.roles if role in _ROLE_ATTRIBUTES})
    return attributes


def _schematic_components(resolved: ResolvedDesign, placed: list[PlacedPart], ids: _Ids) -> list[Element]:
    elements: list[Element] = []
    for index, part in enumerate(placed):
        component: Element = {
            "type": "schematic_component",
            "schematic_component_id": f"schematic_component_{index}",
            "source_component_id": ids.components[part.ref],
            "center": _point(part.box.center),
            "size": {"width": part.box.width, "height": part.box.height},
        }
        if part.symbol is SymbolKind.CHIP:
            component["port_labels"] = {f"pin{p.number}": p.name for p in part.pins}
        value = resolved.design_part(part.ref).value
        if value is not None:
            component["symbol_display_value"] = value
        elements.append(component)
    return elements


def _schematic_ports(placed: list[PlacedPart], ids: _Ids) -> list[Element]:
    elements: list[Element] = []
    for index, part in enumerate(placed):
        for pin in part.pins:
            port_id = f"schematic_port_{len(elements)}"
            source_port_id = ids.ports[part.ref, pin.name]
            ids.schematic_ports[pin.position.x, pin.position.y].append((port_id, source_port_id))
            port: Element = {
                "type": "schematic_port",
                "schematic_port_id": port_id,
                "source_port_id": source_port_id,
                "schematic_component_id": f"schematic_component_{index}",
                "center": _point(pin.position),
                "facing_direction": _FACING[pin.side],
            }
            if pin.number.isdigit():
                port["pin_number"] = int(pin.number)
            elements.append(port)
    return elements


def _schematic_traces(layout: Layout, ids: _Ids) -> list[Element]:
    """One schematic_trace per layout wire, tied to the source_trace of a port it ends on."""
    elements: list[Element] = []
    for index, wire in enumerate(layout.wires):
        ends = [_port_on_net(ids, point, wire.net) for point in (wire.points[0], wire.points[-1])]
        linked = next((end for end in ends if end), None)
        trace_id = linked[1] if linked else _first_trace(ids, wire.net)
        edges: list[Element] = [{"from": _point(a), "to": _point(b)} for a, b in pairwise(wire.points)]
        if ends[0]:
            edges[0]["from_schematic_port_id"] = ends[0][0]
        if ends[1]:
            edges[-1]["to_schematic_port_id"] = ends[1][0]
        element: Element = {"type": "schematic_trace", "schematic_trace_id": f"schematic_trace_{index}"}
        if trace_id is not None:
            element["source_trace_id"] = trace_id
        elements.append({**element, "junctions": [], "edges": edges})
    return elements


def _schematic_net_labels(layout: Layout, ids: _Ids) -> list[Element]:
    return [
        {
            "type": "schematic_net_label",
            "schematic_net_label_id": f"schematic_net_label_{index}",
            "source_net_id": ids.nets[label.net],
            "center": _point(label.box.center),
            "anchor_position": _point(label.anchor),
            "anchor_side": _anchor_side(label),
            "text": label.text or label.net,  # rail symbols draw no text; the net keeps its name
        }
        for index, label in enumerate(layout.labels)
    ]


def _port_on_net(ids: _Ids, point: Point, net: str) -> tuple[str, str] | None:
    """(schematic_port_id, source_trace_id) of the port of ``net`` a wire ends on, if it ends on one."""
    for schematic_port_id, source_port_id in ids.schematic_ports.get((point.x, point.y), []):
        if (net, source_port_id) in ids.traces:
            return schematic_port_id, ids.traces[net, source_port_id]
    return None


def _first_trace(ids: _Ids, net: str) -> str | None:
    return next((trace for (name, _), trace in ids.traces.items() if name == net), None)


def _anchor_side(label: NetLabel) -> str:
    """The side of the label's box its anchor (the pin it names) lies on."""
    box, anchor = label.box, label.anchor
    gaps = {
        "left": anchor.x - box.x,
        "right": box.x + box.width - anchor.x,
        "top": anchor.y - box.y,
        "bottom": box.y + box.height - anchor.y,
    }
    return min(gaps, key=lambda side: gaps[side])


def _point(point: Point) -> dict[str, float]:
    return {"x": point.x, "y": -point.y + 0.0}  # + 0.0: no -0.0 in the JSON


# --- reading Circuit JSON back ---------------------------------------------------------------


class _Element(BaseModel):
    model_config = ConfigDict(extra="allow")


class _SourceComponent(_Element):
    source_component_id: str
    name: str
    manufacturer_part_number: str | None = None
    display_value: str | None = None


class _SourcePort(_Element):
    source_port_id: str
    source_component_id: str
    name: str


class _SourceNet(_Element):
    source_net_id: str
    name: str


class _SourceTrace(_Element):
    source_trace_id: str
    connected_source_port_ids: list[str]
    connected_source_net_ids: list[str]


class _Metadata(_Element):
    name: str | None = None


_READERS: dict[str, type[_Element]] = {
    "source_component": _SourceComponent,
    "source_port": _SourcePort,
    "source_net": _SourceNet,
    "source_trace": _SourceTrace,
    "source_project_metadata": _Metadata,
}


def design_from_circuit_json(elements: list[Element]) -> Design:
    """The Design a Circuit JSON array describes (schematic elements are ignored: layout is recomputed).

    Parts are named by knowledge-base id in ``manufacturer_part_number``. Nets are what the traces
    join: a ``source_net`` and the ports traced to it; ports traced to each other with no net form
    a net named ``N1``, ``N2``... Every problem becomes a ``DesignError``.
    """
    read = _read_elements(elements)
    components: list[_SourceComponent] = read["source_component"]
    missing = [c.name for c in components if not c.manufacturer_part_number]
    if missing:
        raise DesignError([f"{', '.join(missing)}: no knowledge-base part id in manufacturer_part_number"])
    refs = {c.source_component_id: c.name for c in components}
    ports: dict[str, str] = {}
    for port in read["source_port"]:
        if port.source_component_id not in refs:
            raise DesignError([f"source_port {port.source_port_id}: unknown source_component_id"])
        ports[port.source_port_id] = f"{refs[port.source_component_id]}.{port.name}"
    net_names = {n.source_net_id: n.name for n in read["source_net"]}

    joined = nx.Graph()  # nodes: port ids and net ids, in the order they first appear
    joined.add_nodes_from(net_names)
    pins_in_order: list[tuple[str, str]] = []  # (port id, the node it is traced to), one per trace end
    for trace in read["source_trace"]:
        ends = trace.connected_source_port_ids + trace.connected_source_net_ids
        unknown = [e for e in ends if e not in ports and e not in net_names]
        if unknown:
            raise DesignError([f"source_trace {trace.source_trace_id}: unknown id(s) {', '.join(unknown)}"])
        joined.add_nodes_from(ends)
        joined.add_edges_from(pairwise(ends))
        pins_in_order += [(port, ends[0]) for port in trace.connected_source_port_ids]
    order = {node: index for index, node in enumerate(joined)}
    net_of: dict[str, str] = {}
    unnamed = 0
    for group in sorted(nx.connected_components(joined), key=lambda g: min(order[n] for n in g)):
        named = sorted((n for n in group if n in net_names), key=order.__getitem__)
        if not named:
            unnamed += 1
        net_of.update(dict.fromkeys(group, net_names[named[0]] if named else f"N{unnamed}"))
    nets: dict[str, list[str]] = {}
    for port, node in pins_in_order:
        nets.setdefault(net_of[node], []).append(ports[port])
    metadata = read["source_project_metadata"]
    data = {
        "title": metadata[0].name if metadata else None,
        "parts": [{"ref": c.name, "part": c.manufacturer_part_number, "value": c.display_value} for c in components],
        "nets": [{"name": name, "pins": pins} for name, pins in nets.items()],
    }
    return Design.from_data(data)


def _read_elements(elements: list[Element]) -> dict[str, list[Any]]:
    if not isinstance(elements, list):
        raise DesignError(["Circuit JSON is an array of elements"])
    read: dict[str, list[Any]] = {kind: [] for kind in _READERS}
    problems: list[str] = []
    for index, element in enumerate(elements):
        kind = element.get("type") if isinstance(element, dict) else None
        if kind not in _READERS:
            continue
        try:
            read[kind].append(_READERS[kind].model_validate(element))
        except ValidationError as exc:
            problems += [f"element {index} ({kind}): {e['loc'][0]}: {e['msg']}" for e in exc.errors()]
    if problems:
        raise DesignError(problems)
    return read
