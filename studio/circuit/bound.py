"""A design's references bound to the knowledge base: each ``REF.PIN`` with its Pin and Part, each net
with its bound pins (``studio.circuit.resolve`` makes them)."""

from __future__ import annotations

from dataclasses import dataclass

from components_db.schema import Part, Pin
from studio.circuit.design import DesignPart, Net


@dataclass(frozen=True)
class BoundPin:
    ref: str
    pin: Pin
    part: Part
    design_part: DesignPart

    @property
    def label(self) -> str:
        return f"{self.ref}.{self.pin.name}"


@dataclass(frozen=True)
class BoundNet:
    net: Net
    pins: list[BoundPin]

    @property
    def name(self) -> str:
        return self.net.name
