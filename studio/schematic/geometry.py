"""The placed schematic: what layout produces and what the SVG renderer and the Circuit JSON compiler read.

Coordinates are schematic units (Circuit JSON reads them as mm); y grows downwards, as in SVG.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from components_db.schema import SymbolKind

Side = Literal["left", "right", "top", "bottom"]


class Point(BaseModel):
    x: float
    y: float


class Box(BaseModel):
    """Axis-aligned rectangle by its top-left corner."""

    x: float
    y: float
    width: float = Field(ge=0)
    height: float = Field(ge=0)

    def overlaps(self, other: Box, margin: float = 0.0) -> bool:
        return not (
            self.x + self.width + margin <= other.x
            or other.x + other.width + margin <= self.x
            or self.y + self.height + margin <= other.y
            or other.y + other.height + margin <= self.y
        )

    @property
    def center(self) -> Point:
        return Point(x=self.x + self.width / 2, y=self.y + self.height / 2)


class PlacedPin(BaseModel):
    name: str  # the KB pin name
    number: str
    position: Point  # where a wire attaches, absolute
    side: Side  # the side of the symbol it leaves from (Circuit JSON facing_direction)


class PlacedPart(BaseModel):
    ref: str
    part_id: str
    symbol: SymbolKind
    box: Box  # the symbol body including its pin stubs
    pins: list[PlacedPin]
    label: str  # "R1 220" shown beside the symbol
    label_box: Box


class Wire(BaseModel):
    """A drawn connection: polyline segments of one net."""

    net: str
    points: list[Point] = Field(min_length=2)


class NetLabel(BaseModel):
    """A net name, or a power/ground rail symbol, attached at a pin instead of a long wire."""

    net: str
    text: str
    kind: Literal["label", "power", "ground"]
    anchor: Point  # the pin position it attaches to
    box: Box  # the text/symbol's extent


class Layout(BaseModel):
    parts: list[PlacedPart]
    wires: list[Wire]
    labels: list[NetLabel]
    width: float
    height: float
    seed: int

    def part(self, ref: str) -> PlacedPart:
        for placed in self.parts:
            if placed.ref == ref:
                return placed
        raise KeyError(ref)
