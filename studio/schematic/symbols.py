"""Schematic symbols: the size of each SymbolKind, where its pins attach, and its SVG glyph.

Coordinates are local to the symbol's box (top-left at 0,0, y down) and include the pin stubs, so
every pin sits on the box boundary. Two-terminal parts face left to right (pin 1 or the anode /
positive side on the left); a symbol can be mirrored so a pin faces the part it connects to.
Parts whose pins do not fit their glyph (a 4-pin RGB LED marked ``led``) fall back to a chip box,
which is always correct. Text uses a monospace font, so its width is known without a renderer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from xml.sax.saxutils import escape, quoteattr

from components_db.schema import ElectricalType, Part, Pin, PinRole, SymbolKind
from studio.schematic.geometry import Side

FONT_SIZE = 12.0
CHAR_WIDTH = FONT_SIZE * 0.6  # monospace advance
TEXT_HEIGHT = 16.0
PIN_PITCH = 20.0
STUB = 15.0
BIG_CHIP_PINS = 16  # chips with more pins show only the pins the design uses

_TWO_TERMINAL_SIZE: dict[SymbolKind, tuple[float, float]] = {
    SymbolKind.RESISTOR: (60, 20),
    SymbolKind.CAPACITOR: (50, 24),
    SymbolKind.CAPACITOR_POLARIZED: (50, 24),
    SymbolKind.INDUCTOR: (60, 20),
    SymbolKind.DIODE: (60, 20),
    SymbolKind.ZENER: (60, 20),
    SymbolKind.LED: (60, 34),
    SymbolKind.BUTTON: (60, 30),
    SymbolKind.SWITCH: (60, 24),
    SymbolKind.BATTERY: (50, 30),
    SymbolKind.CRYSTAL: (60, 24),
    SymbolKind.FUSE: (60, 20),
    SymbolKind.BUZZER: (60, 34),
    SymbolKind.MOTOR: (60, 34),
}
_TRANSISTORS = {SymbolKind.NPN, SymbolKind.PNP, SymbolKind.NMOS, SymbolKind.PMOS}
_OPPOSITE: dict[Side, Side] = {"left": "right", "right": "left", "top": "top", "bottom": "bottom"}


@dataclass(frozen=True)
class SymbolPin:
    name: str
    number: str
    x: float
    y: float
    side: Side


@dataclass(frozen=True)
class Symbol:
    """A part's drawable shape: ``kind`` is what is drawn (``chip`` for the fallback box)."""

    kind: SymbolKind
    width: float
    height: float
    pins: tuple[SymbolPin, ...]
    mirrored: bool = False

    def pin(self, name: str) -> SymbolPin:
        return next(p for p in self.pins if p.name == name)

    def mirror(self) -> Symbol:
        """The same symbol flipped left-right (pins keep their names, left and right swap)."""
        pins = tuple(replace(p, x=self.width - p.x, side=_OPPOSITE[p.side]) for p in self.pins)
        return replace(self, pins=pins, mirrored=not self.mirrored)


def shown_pins(part: Part, connected: set[str]) -> list[Pin]:
    """All pins of a small part; only the used ones of a big chip (an MCU board's 30-70 headers)."""
    if len(part.pins) > BIG_CHIP_PINS and connected:
        return [p for p in part.pins if p.name in connected]
    return list(part.pins)


def symbol_for(
    part: Part, pins: list[Pin], prefer: Mapping[str, Side] | None = None, room: Mapping[str, float] | None = None
) -> Symbol:
    """The symbol of ``part`` showing ``pins``; ``prefer`` moves a chip's signal pins to a side, ``room``
    widens the gap between a chip's top or bottom pins for the text drawn at them (rail names)."""
    kind = part.symbol
    if kind in _TWO_TERMINAL_SIZE and len(pins) == 2:
        return _two_terminal(kind, pins)
    if kind is SymbolKind.POTENTIOMETER and len(pins) == 3 and _wiper(pins) is not None:
        return _potentiometer(pins)
    if kind in _TRANSISTORS and len(pins) == 3:
        slots = _transistor_slots(kind, pins)
        if slots is not None:
            return _transistor(kind, slots)
    return _chip(pins, prefer or {}, room or {})


def text_width(text: str) -> float:
    return len(text) * CHAR_WIDTH


# --- geometry --------------------------------------------------------------------------------


def _polarity(pin: Pin) -> int:
    """Which end goes left: positive / anode first, negative / cathode / ground last."""
    roles = set(pin.roles)
    if roles & {PinRole.ANODE, PinRole.POWER_OUT, PinRole.POWER_IN} or pin.name in {"+", "POS", "VCC"}:
        return 0
    if roles & {PinRole.CATHODE, PinRole.GROUND} or pin.name in {"-", "NEG", "GND"}:
        return 2
    return 1


def _two_terminal(kind: SymbolKind, pins: list[Pin]) -> Symbol:
    width, height = _TWO_TERMINAL_SIZE[kind]
    first, second = sorted(pins, key=_polarity)  # stable: pin order breaks ties
    y = height - 10 if kind in {SymbolKind.LED, SymbolKind.BUTTON} else height / 2
    return Symbol(
        kind,
        width,
        height,
        (SymbolPin(first.name, first.number, 0, y, "left"), SymbolPin(second.name, second.number, width, y, "right")),
    )


def _wiper(pins: list[Pin]) -> Pin | None:
    return next((p for p in pins if PinRole.WIPER in p.roles), None)


def _potentiometer(pins: list[Pin]) -> Symbol:
    wiper = _wiper(pins)
    assert wiper is not None
    ends = [p for p in pins if p is not wiper]
    return Symbol(
        SymbolKind.POTENTIOMETER,
        60,
        36,
        (
            SymbolPin(ends[0].name, ends[0].number, 0, 26, "left"),
            SymbolPin(wiper.name, wiper.number, 30, 0, "top"),
            SymbolPin(ends[1].name, ends[1].number, 60, 26, "right"),
        ),
    )


_TRANSISTOR_ROLES = {
    SymbolKind.NPN: (PinRole.BASE, PinRole.COLLECTOR, PinRole.EMITTER),
    SymbolKind.PNP: (PinRole.BASE, PinRole.EMITTER, PinRole.COLLECTOR),
    SymbolKind.NMOS: (PinRole.GATE, PinRole.DRAIN, PinRole.SOURCE),
    SymbolKind.PMOS: (PinRole.GATE, PinRole.SOURCE, PinRole.DRAIN),
}


def _transistor_slots(kind: SymbolKind, pins: list[Pin]) -> tuple[Pin, Pin, Pin] | None:
    """(control, top, bottom) pins by role: B/C/E for NPN (E on top for PNP), G/D/S for MOSFETs."""
    found = []
    for role in _TRANSISTOR_ROLES[kind]:
        pin = next((p for p in pins if role in p.roles), None)
        if pin is None:
            return None
        found.append(pin)
    return found[0], found[1], found[2]


def _transistor(kind: SymbolKind, slots: tuple[Pin, Pin, Pin]) -> Symbol:
    control, top, bottom = slots
    return Symbol(
        kind,
        44,
        56,
        (
            SymbolPin(control.name, control.number, 0, 28, "left"),
            SymbolPin(top.name, top.number, 32, 0, "top"),
            SymbolPin(bottom.name, bottom.number, 32, 56, "bottom"),
        ),
    )


def _default_side(pin: Pin) -> Side | None:
    """Power on top, ground at the bottom, inputs left, outputs right; None: either side."""
    if PinRole.GROUND in pin.roles:
        return "bottom"
    if pin.type in (ElectricalType.POWER_IN, ElectricalType.POWER_OUT):
        return "top"
    if pin.type is ElectricalType.INPUT:
        return "left"
    if pin.type in (ElectricalType.OUTPUT, ElectricalType.TRI_STATE, ElectricalType.OPEN_COLLECTOR):
        return "right"
    return None


def _chip(pins: list[Pin], prefer: Mapping[str, Side], room: Mapping[str, float]) -> Symbol:
    sides: dict[Side, list[Pin]] = {"left": [], "right": [], "top": [], "bottom": []}
    flexible: list[Pin] = []
    for pin in pins:
        side = _default_side(pin)
        if side in ("top", "bottom"):
            sides[side].append(pin)
        elif pin.name in prefer and prefer[pin.name] in ("left", "right"):
            sides[prefer[pin.name]].append(pin)
        elif side is None:
            flexible.append(pin)
        else:
            sides[side].append(pin)
    for pin in flexible:
        sides["left" if len(sides["left"]) <= len(sides["right"]) else "right"].append(pin)
    order = {pin.name: i for i, pin in enumerate(pins)}
    for row in sides.values():
        row.sort(key=lambda p: order[p.name])

    def names_width(side: Side) -> float:
        return max((text_width(p.name) for p in sides[side]), default=0.0)

    widths = [max(text_width(p.name), room.get(p.name, 0.0)) + 10 for p in sides["top"] + sides["bottom"]]
    slot = max([PIN_PITCH, *widths])
    top_band = TEXT_HEIGHT if sides["top"] else 0.0
    bottom_band = TEXT_HEIGHT if sides["bottom"] else 0.0
    rows = max(len(sides["left"]), len(sides["right"]), 1)
    body_w = max(
        names_width("left") + names_width("right") + 24,
        slot * max(len(sides["top"]), len(sides["bottom"])) + PIN_PITCH / 2,
        60.0,
    )
    body_h = top_band + bottom_band + (rows + 1) * PIN_PITCH
    width, height = body_w + 2 * STUB, body_h + 2 * STUB
    placed: list[SymbolPin] = []
    for side, x in (("left", 0.0), ("right", width)):
        for i, pin in enumerate(sides[side]):
            placed.append(SymbolPin(pin.name, pin.number, x, STUB + top_band + PIN_PITCH * (i + 1), side))
    for side, y in (("top", 0.0), ("bottom", height)):
        row = sides[side]
        start = STUB + (body_w - slot * len(row)) / 2
        for i, pin in enumerate(row):
            placed.append(SymbolPin(pin.name, pin.number, start + slot * (i + 0.5), y, side))
    return Symbol(SymbolKind.CHIP, width, height, tuple(placed))


# --- drawing ---------------------------------------------------------------------------------


def draw_symbol(symbol: Symbol) -> str:
    """The glyph in local coordinates (stubs, body, a chip's pin names), as SVG markup."""
    if symbol.kind is SymbolKind.CHIP:
        return _draw_chip(symbol)
    if symbol.kind in _TRANSISTORS:
        glyph = _draw_transistor(symbol.kind)
    elif symbol.kind is SymbolKind.POTENTIOMETER:
        glyph = _draw_potentiometer()
    else:
        glyph = _draw_two_terminal(symbol)
    if symbol.mirrored:
        return f'<g transform="translate({symbol.width:g},0) scale(-1,1)">{glyph}</g>'
    return glyph


def _line(x1: float, y1: float, x2: float, y2: float) -> str:
    return f'<line x1="{x1:g}" y1="{y1:g}" x2="{x2:g}" y2="{y2:g}"/>'


def _path(d: str, css: str = "") -> str:
    cls = f' class="{css}"' if css else ""
    return f'<path{cls} d="{d}"/>'


def _leads(w: float, y: float, body_from: float, body_to: float) -> str:
    return _line(0, y, body_from, y) + _line(body_to, y, w, y)


def _arrow(x1: float, y1: float, x2: float, y2: float) -> str:
    """A short arrow (LED light, potentiometer wiper) with a filled head at (x2, y2)."""
    dx, dy = x2 - x1, y2 - y1
    length = (dx * dx + dy * dy) ** 0.5
    ux, uy = dx / length, dy / length
    bx, by = x2 - 5 * ux, y2 - 5 * uy
    head = f"M{x2:g},{y2:g} L{bx - 2.5 * uy:.2f},{by + 2.5 * ux:.2f} L{bx + 2.5 * uy:.2f},{by - 2.5 * ux:.2f} Z"
    return _line(x1, y1, bx, by) + _path(head, "fill")


def _draw_two_terminal(symbol: Symbol) -> str:
    kind, w = symbol.kind, symbol.width
    y = symbol.pins[0].y
    cx = w / 2
    if kind is SymbolKind.RESISTOR:
        zig = " ".join(f"L{15 + 2.5 * i:g},{y + (0 if i in (0, 12) else (-5 if i % 2 else 5)):g}" for i in range(13))
        return _leads(w, y, 15, 45) + _path(f"M15,{y:g} {zig}")
    if kind in (SymbolKind.CAPACITOR, SymbolKind.CAPACITOR_POLARIZED):
        left = _line(cx - 3, y - 9, cx - 3, y + 9)
        if kind is SymbolKind.CAPACITOR:
            right = _line(cx + 3, y - 9, cx + 3, y + 9)
        else:
            right = (
                _path(f"M{cx + 6:g},{y - 9:g} Q{cx + 2:g},{y:g} {cx + 6:g},{y + 9:g}")
                + _line(cx - 12, y - 8, cx - 8, y - 8)
                + _line(cx - 10, y - 10, cx - 10, y - 6)
            )
        return _leads(w, y, cx - 3, cx + (3 if kind is SymbolKind.CAPACITOR else 4)) + left + right
    if kind is SymbolKind.INDUCTOR:
        arcs = " ".join(f"A3.75,3.75 0 0 1 {15 + 7.5 * (i + 1):g},{y:g}" for i in range(4))
        return _leads(w, y, 15, 45) + _path(f"M15,{y:g} {arcs}")
    if kind in (SymbolKind.DIODE, SymbolKind.ZENER, SymbolKind.LED):
        tri = _path(f"M22,{y - 8:g} L38,{y:g} L22,{y + 8:g} Z")
        if kind is SymbolKind.ZENER:
            bar = _path(f"M34,{y + 10:g} L38,{y + 8:g} L38,{y - 8:g} L42,{y - 10:g}")
        else:
            bar = _line(38, y - 8, 38, y + 8)
        extra = _arrow(30, y - 12, 38, y - 20) + _arrow(36, y - 10, 44, y - 18) if kind is SymbolKind.LED else ""
        return _leads(w, y, 22, 38) + tri + bar + extra
    if kind is SymbolKind.BUTTON:
        return (
            _leads(w, y, 18, 42)
            + f'<circle cx="20" cy="{y:g}" r="2"/><circle cx="40" cy="{y:g}" r="2"/>'
            + _line(16, y - 8, 44, y - 8)
            + _line(30, y - 8, 30, y - 16)
        )
    if kind is SymbolKind.SWITCH:
        return (
            _leads(w, y, 18, 42)
            + f'<circle cx="20" cy="{y:g}" r="2"/><circle cx="40" cy="{y:g}" r="2"/>'
            + _line(21.5, y - 1.5, 40, y - 10)
        )
    if kind is SymbolKind.BATTERY:
        return (
            _leads(w, y, cx - 8, cx + 8)
            + _line(cx - 8, y - 12, cx - 8, y + 12)
            + _line(cx - 2, y - 6, cx - 2, y + 6)
            + _line(cx + 2, y - 12, cx + 2, y + 12)
            + _line(cx + 8, y - 6, cx + 8, y + 6)
            + _line(cx - 16, y - 10, cx - 12, y - 10)
            + _line(cx - 14, y - 12, cx - 14, y - 8)
        )
    if kind is SymbolKind.CRYSTAL:
        return (
            _leads(w, y, 22, 38)
            + _line(22, y - 8, 22, y + 8)
            + _line(38, y - 8, 38, y + 8)
            + f'<rect x="25" y="{y - 10:g}" width="10" height="20"/>'
        )
    if kind is SymbolKind.FUSE:
        return _leads(w, y, 15, 45) + f'<rect x="15" y="{y - 5:g}" width="30" height="10"/>' + _line(15, y, 45, y)
    if kind is SymbolKind.BUZZER:
        return (
            _leads(w, y, 18, 42)
            + _line(18, y, 18, y - 6)
            + _line(42, y, 42, y - 6)
            + _path(f"M14,{y - 6:g} L46,{y - 6:g} A16,14 0 0 0 14,{y - 6:g} Z")
        )
    # motor
    return (
        _leads(w, y, cx - 13, cx + 13)
        + f'<circle cx="{cx:g}" cy="{y:g}" r="13"/>'
        + f'<text class="glyph" x="{cx:g}" y="{y + 4.5:g}" text-anchor="middle">M</text>'
    )


def _draw_potentiometer() -> str:
    y = 26
    zig = " ".join(f"L{15 + 2.5 * i:g},{y + (0 if i in (0, 12) else (-5 if i % 2 else 5)):g}" for i in range(13))
    return _leads(60, y, 15, 45) + _path(f"M15,{y} {zig}") + _line(30, 0, 30, 8) + _arrow(30, 8, 30, y - 6)


def _draw_transistor(kind: SymbolKind) -> str:
    circle = '<circle cx="24" cy="28" r="17"/>'
    if kind in (SymbolKind.NPN, SymbolKind.PNP):
        base = _line(0, 28, 16, 28) + _line(16, 18, 16, 38)
        top = _line(16, 23, 32, 13) + _line(32, 13, 32, 0)
        bottom = _line(16, 33, 32, 43) + _line(32, 43, 32, 56)
        # the emitter arrow points out of the transistor for NPN, into it for PNP
        arrow = _arrow(16, 33, 30, 42) if kind is SymbolKind.NPN else _arrow(32, 13, 18, 22)
        return circle + base + top + bottom + arrow
    gate = _line(0, 28, 12, 28) + _line(12, 18, 12, 38)
    channel = _line(16, 16, 16, 22) + _line(16, 25, 16, 31) + _line(16, 34, 16, 40)
    top = _line(16, 19, 32, 19) + _line(32, 19, 32, 0)
    bottom = _line(16, 37, 32, 37) + _line(32, 37, 32, 56) + _line(16, 28, 32, 28) + _line(32, 28, 32, 37)
    arrow = _arrow(30, 28, 17, 28) if kind is SymbolKind.NMOS else _arrow(17, 28, 30, 28)
    return circle + gate + channel + top + bottom + arrow


def _draw_chip(symbol: Symbol) -> str:
    w, h = symbol.width, symbol.height
    parts = [f'<rect class="chip" x="{STUB:g}" y="{STUB:g}" width="{w - 2 * STUB:g}" height="{h - 2 * STUB:g}"/>']
    for pin in symbol.pins:
        name = escape(pin.name)
        if pin.side == "left":
            parts.append(_line(0, pin.y, STUB, pin.y))
            parts.append(_pin_text(STUB + 4, pin.y + 4, "start", name))
        elif pin.side == "right":
            parts.append(_line(w - STUB, pin.y, w, pin.y))
            parts.append(_pin_text(w - STUB - 4, pin.y + 4, "end", name))
        elif pin.side == "top":
            parts.append(_line(pin.x, 0, pin.x, STUB))
            parts.append(_pin_text(pin.x, STUB + 12, "middle", name))
        else:
            parts.append(_line(pin.x, h - STUB, pin.x, h))
            parts.append(_pin_text(pin.x, h - STUB - 4, "middle", name))
    return "".join(parts)


def _pin_text(x: float, y: float, anchor: str, escaped_name: str) -> str:
    return f'<text class="pin-name" x="{x:g}" y="{y:g}" text-anchor={quoteattr(anchor)}>{escaped_name}</text>'
