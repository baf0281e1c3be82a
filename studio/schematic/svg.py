"""Draw a placed design as a standalone SVG schematic.

Each part is a ``<g class="part" id="part-REF" data-ref="REF">`` the UI can highlight; wires and
net labels carry their net name in ``data-net`` and a ``<title>`` shown on hover, and each pin's dot
carries ``data-pin="REF.PIN"`` and the ``data-net`` it is on (none when unconnected), so the page can
light up a whole net from any of its pins and point an ERC finding at its pins. Every piece of
text that comes from a design, a part or a caller is made drawable (control characters, which XML 1.0
cannot hold even escaped, are dropped: ``components_db.text.drawable``) and escaped, so a hostile name
stays text and the file stays valid XML.
"""

from __future__ import annotations

from xml.sax import saxutils

from components_db.schema import Part, SymbolKind
from components_db.text import drawable
from studio.circuit.resolve import ResolvedDesign
from studio.schematic.geometry import Layout, NetLabel, PlacedPart, PlacedPin, Side
from studio.schematic.placement import (
    ATTACH_GAP,
    DIRECTION,
    GLYPH_ACROSS,
    GLYPH_DEPTH,
    GROUND_DROP,
    TEXT_GAP,
    layout_design,
)
from studio.schematic.symbols import FONT_SIZE, Symbol, SymbolPin, draw_symbol, symbol_for

TITLE_BAND = 30.0

STYLE = f"""
.background {{ fill: #ffffff; }}
text {{ font-family: 'DejaVu Sans Mono', Menlo, Consolas, monospace; font-size: {FONT_SIZE:g}px; fill: #1f2937; }}
.title {{ font-size: 16px; font-weight: bold; }}
.part line, .part path, .part circle, .part rect {{ stroke: #1f2937; stroke-width: 1.6; fill: none; }}
.part .fill {{ fill: #1f2937; }}
.part circle.pin {{ stroke: none; fill: transparent; }}
.part rect.chip {{ fill: #fff8e1; stroke: #8d6e00; }}
.part .glyph {{ font-weight: bold; }}
.part-label {{ font-weight: bold; fill: #0b3d91; }}
.part.highlight rect.chip, .part.highlight circle {{ stroke: #d32f2f; }}
.part.highlight line, .part.highlight path {{ stroke: #d32f2f; }}
.wire polyline {{ stroke: #00796b; stroke-width: 1.8; fill: none; stroke-linejoin: round; }}
.wire polyline.hit {{ stroke: transparent; stroke-width: 9; }}
.junction {{ fill: #00796b; }}
.net-label rect {{ fill: #e3f2fd; stroke: #1565c0; }}
.net-label line {{ stroke: #1565c0; stroke-width: 1.6; }}
.power line {{ stroke: #c62828; stroke-width: 2; }}
.power text {{ fill: #c62828; font-weight: bold; }}
.ground line {{ stroke: #37474f; stroke-width: 2; }}
""".strip()


def draw_schematic(resolved: ResolvedDesign, *, seed: int = 0, title: str | None = None) -> str:
    """The design placed (seeded, so the same design always looks the same) and drawn as SVG."""
    return render_svg(resolved, layout_design(resolved, seed=seed), title=title)


def render_svg(resolved: ResolvedDesign, layout: Layout, title: str | None = None) -> str:
    top = TITLE_BAND if title else 0.0
    width, height = layout.width, layout.height + top
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.1f} {height:.1f}" '
        f'width="{width:.0f}" height="{height:.0f}" class="schematic">',
        f"<style>{STYLE}</style>",
        f'<rect class="background" x="0" y="0" width="{width:.1f}" height="{height:.1f}"/>',
    ]
    if title:
        out.append(f'<text class="title" x="20" y="21">{_escape(title)}</text>')
    out.append(f'<g transform="translate(0,{top:g})">')
    out += [_wire(wire.net, [(p.x, p.y) for p in wire.points]) for wire in layout.wires]
    out += [_junction(x, y) for x, y in _junctions(layout)]
    out += [_net_label(label) for label in layout.labels]
    out += [
        _part(placed, resolved.parts[placed.ref], {pin: net.name for pin, net in resolved.nets_of(placed.ref).items()})
        for placed in layout.parts
        if placed.ref in resolved.parts
    ]
    out.append("</g></svg>")
    return "\n".join(out)


def _wire(net: str, points: list[tuple[float, float]]) -> str:
    coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    return (
        f'<g class="wire" data-net={_quoteattr(net)}><title>{_escape(net)}</title><polyline points="{coords}"/>'
        f'<polyline class="hit" points="{coords}"/></g>'
    )


def _junctions(layout: Layout) -> list[tuple[float, float]]:
    """Pins where two or more wires of a net meet get a dot."""
    count: dict[tuple[float, float], int] = {}
    for wire in layout.wires:
        for p in (wire.points[0], wire.points[-1]):
            key = (round(p.x, 1), round(p.y, 1))
            count[key] = count.get(key, 0) + 1
    return sorted(point for point, n in count.items() if n >= 2)


def _junction(x: float, y: float) -> str:
    return f'<circle class="junction" cx="{x:.1f}" cy="{y:.1f}" r="3"/>'


def _side_of(label: NetLabel) -> Side:
    """Which way the label leaves its pin, read from where its box lies."""
    box, anchor = label.box, label.anchor
    if box.x >= anchor.x:
        return "right"
    if box.x + box.width <= anchor.x:
        return "left"
    return "bottom" if box.y >= anchor.y else "top"


def _net_label(label: NetLabel) -> str:
    side = _side_of(label)
    if label.kind == "ground" and side in ("left", "right"):
        body = _side_ground(label)
    elif label.kind == "label":
        body = _flag(label, side)
    else:
        body = _rail(label, side)
    tooltip = f"<title>{_escape(label.net)}</title>"
    return f'<g class="{_css_kind(label)}" data-net={_quoteattr(label.net)}>{tooltip}{"".join(body)}</g>'


def _stub(label: NetLabel, side: Side) -> tuple[str, float, float]:
    """The short line from the pin to where the label starts, and that point."""
    dx, dy = DIRECTION[side]
    ax, ay = label.anchor.x, label.anchor.y
    ex, ey = ax + dx * ATTACH_GAP, ay + dy * ATTACH_GAP
    return _line(ax, ay, ex, ey), ex, ey


def _flag(label: NetLabel, side: Side) -> list[str]:
    stub, _, _ = _stub(label, side)
    box = label.box
    frame = f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.width:.1f}" height="{box.height:.1f}" rx="3"/>'
    return [stub, frame, _text(box.x + box.width / 2, box.y + box.height / 2 + 4, "middle", label.text)]


def _rail(label: NetLabel, side: Side) -> list[str]:
    """A bar across the pin's direction (power), or three shrinking bars (ground under a pin)."""
    dx, dy = DIRECTION[side]
    stub, ex, ey = _stub(label, side)
    body = [stub]
    half = GLYPH_ACROSS[label.kind] / 2
    steps = (0.0, 5.0, 10.0) if label.kind == "ground" else (0.0,)
    for i, step in enumerate(steps):
        sx, sy, reach = ex + dx * step, ey + dy * step, half * (1 - 0.35 * i)
        body.append(_line(sx - dy * reach, sy - dx * reach, sx + dy * reach, sy + dx * reach))
    if label.text:
        body.append(_rail_text(label, side, ex, ey))
    return body


def _side_ground(label: NetLabel) -> list[str]:
    """Wire out to the symbol's column, down, then the three bars (and a name other than GND below)."""
    ax, ay = label.anchor.x, label.anchor.y
    column = label.box.x + label.box.width / 2
    top = ay + GROUND_DROP
    body = [_line(ax, ay, column, ay), _line(column, ay, column, top)]
    half = GLYPH_ACROSS["ground"] / 2
    for i in range(3):
        reach, y = half * (1 - 0.35 * i), top + 5 * i
        body.append(_line(column - reach, y, column + reach, y))
    if label.text:
        body.append(_text(column, top + GLYPH_DEPTH["ground"] + TEXT_GAP["ground"] + 12, "middle", label.text))
    return body


def _css_kind(label: NetLabel) -> str:
    return {"label": "net-label", "power": "power", "ground": "ground"}[label.kind]


def _rail_text(label: NetLabel, side: Side, ex: float, ey: float) -> str:
    reach = GLYPH_DEPTH[label.kind] + TEXT_GAP[label.kind]
    if side == "right":
        return _text(ex + reach, ey + 4, "start", label.text)
    if side == "left":
        return _text(ex - reach, ey + 4, "end", label.text)
    if side == "top":
        return _text(ex, ey - reach - 4, "middle", label.text)
    return _text(ex, ey + reach + 12, "middle", label.text)


def _part(placed: PlacedPart, part: Part, nets: dict[str, str]) -> str:
    """The symbol, its label and a dot per pin; ``nets`` maps a pin name to the net it is on."""
    symbol = _symbol_of(placed, part)
    box, lb = placed.box, placed.label_box
    tooltip = _escape(f"{placed.ref}: {part.name} ({part.id})")
    pin_titles = "".join(_pin_dot(placed.ref, p, box.x, box.y, nets.get(p.name)) for p in placed.pins)
    return (
        f'<g class="part" id={_quoteattr("part-" + placed.ref)} data-ref={_quoteattr(placed.ref)} '
        f"data-part={_quoteattr(part.id)}><title>{tooltip}</title>"
        f'<g transform="translate({box.x:.1f},{box.y:.1f})">{draw_symbol(symbol)}{pin_titles}</g>'
        f'<text class="part-label" x="{lb.x:.1f}" y="{lb.y + lb.height - 4:.1f}">{_escape(placed.label)}</text></g>'
    )


def _pin_dot(ref: str, pin: PlacedPin, x0: float, y0: float, net: str | None) -> str:
    label = f"{ref}.{pin.name}"
    on = f" data-net={_quoteattr(net)}" if net else ""
    title = f"{label} (pin {pin.number})" + (f" on {net}" if net else ", not connected")
    return (
        f'<circle class="pin" cx="{pin.position.x - x0:.1f}" cy="{pin.position.y - y0:.1f}" r="2" '
        f"data-pin={_quoteattr(label)}{on}><title>{_escape(title)}</title></circle>"
    )


def _symbol_of(placed: PlacedPart, part: Part) -> Symbol:
    """The symbol as layout placed it: a chip from its placed pins, a glyph facing the placed way."""
    box = placed.box
    if placed.symbol is SymbolKind.CHIP:
        pins = tuple(
            SymbolPin(p.name, p.number, p.position.x - box.x, p.position.y - box.y, p.side) for p in placed.pins
        )
        return Symbol(SymbolKind.CHIP, box.width, box.height, pins)
    sides = {p.name: p.side for p in placed.pins}
    symbol = symbol_for(part, [p for p in part.pins if p.name in sides])
    return symbol.mirror() if any(sides[p.name] != p.side for p in symbol.pins) else symbol


def _line(x1: float, y1: float, x2: float, y2: float) -> str:
    return f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}"/>'


def _text(x: float, y: float, anchor: str, text: str) -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}">{_escape(text)}</text>'


def _escape(text: str) -> str:
    return saxutils.escape(drawable(text))


def _quoteattr(text: str) -> str:
    return saxutils.quoteattr(drawable(text))
