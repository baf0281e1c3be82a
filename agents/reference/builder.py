"""The design under construction: placed parts with refs, nets by name, and what was added and why."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from components_db.schema import Part, Pin, SymbolKind
from studio.circuit.design import Design, DesignPart, Net
from studio.circuit.resolve import PartLookup

PREFIXES = {
    SymbolKind.RESISTOR: "R",
    SymbolKind.CAPACITOR: "C",
    SymbolKind.CAPACITOR_POLARIZED: "C",
    SymbolKind.INDUCTOR: "L",
    SymbolKind.POTENTIOMETER: "RV",
    SymbolKind.DIODE: "D",
    SymbolKind.ZENER: "D",
    SymbolKind.LED: "LED",
    SymbolKind.NPN: "Q",
    SymbolKind.PNP: "Q",
    SymbolKind.NMOS: "Q",
    SymbolKind.PMOS: "Q",
    SymbolKind.BUTTON: "SW",
    SymbolKind.SWITCH: "SW",
    SymbolKind.BATTERY: "BT",
    SymbolKind.CRYSTAL: "Y",
    SymbolKind.FUSE: "F",
    SymbolKind.BUZZER: "BZ",
    SymbolKind.MOTOR: "M",
    SymbolKind.CHIP: "U",
}


class ReferenceDesignError(ValueError):
    """The part list cannot be wired (nothing known in it, or a supporting part missing from the KB)."""


@dataclass(frozen=True)
class Placed:
    ref: str
    part: Part

    def pin(self, name: str) -> str:
        """``REF.PIN`` for a pin the part really has (a wrong name is a bug in a rule, not user input)."""
        pin = self.part.find_pin(name)
        if pin is None:
            raise KeyError(f"{self.part.id} has no pin {name!r}")
        return f"{self.ref}.{pin.name}"

    def label(self, pin: Pin) -> str:
        return f"{self.ref}.{pin.name}"


@dataclass
class DesignBuilder:
    lookup: PartLookup
    parts: list[DesignPart] = field(default_factory=list)
    nets: dict[str, list[str]] = field(default_factory=dict)
    net_of: dict[str, str] = field(default_factory=dict)  # "U1.GPIO4" -> net name
    added: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    spare: set[str] = field(default_factory=set)  # pins deliberately left open (a driver's unused channel)
    stock: list[Part] = field(default_factory=list)  # listed supporting parts, placed when a rule uses them
    _counts: dict[str, int] = field(default_factory=dict)

    def place(self, part: Part, value: str | None = None) -> Placed:
        prefix = PREFIXES[part.symbol]
        self._counts[prefix] = self._counts.get(prefix, 0) + 1
        ref = f"{prefix}{self._counts[prefix]}"
        self.parts.append(DesignPart(ref=ref, part=part.id, value=value))
        return Placed(ref, part)

    def add(self, part_id: str, why: str, value: str | None = None) -> Placed:
        """Place a supporting part the request did not list, and record why."""
        part = self.lookup.get(part_id)
        if part is None:
            raise ReferenceDesignError(f"supporting part {part_id!r} is not in the knowledge base")
        placed = self.place(part, value)
        shown = f"{part_id} {value}" if value else part_id
        self.added.append(f"{placed.ref} ({shown}): {why}")
        return placed

    def supporting(
        self, default_id: str, why: str, value: str | None = None, accept: Callable[[Part], bool] | None = None
    ) -> Placed:
        """A supporting part: one the request listed when ``accept`` takes it, else the default, added."""
        for index, part in enumerate(self.stock):
            if (accept or (lambda p: p.id == default_id))(part):
                del self.stock[index]
                return self.place(part, value)
        return self.add(default_id, why, value)

    def connect(self, net: str, *pins: str) -> str:
        """Put pins on a net; a pin already on another net joins that net into this one."""
        members = self.nets.setdefault(net, [])
        for pin in pins:
            current = self.net_of.get(pin)
            if current == net:
                continue
            if current is not None:
                self._merge(current, into=net)
                continue
            members.append(pin)
            self.net_of[pin] = net
        return net

    def link(self, a: str, b: str, name: str | None = None) -> str:
        """Join two pins on a signal net (the net either is already on, else a new one named after ``a``)."""
        net = self.net_of.get(a) or self.net_of.get(b) or self.fresh(name or a.replace(".", "_"))
        return self.connect(net, a, b)

    def net_for(self, pin: str) -> str:
        """The net a pin is on, or a new one named after it."""
        return self.net_of.get(pin) or self.connect(self.fresh(pin.replace(".", "_")), pin)

    def fresh(self, base: str) -> str:
        name, n = base, 1
        while name in self.nets:
            n += 1
            name = f"{base}_{n}"
        return name

    def wired(self, pin: str) -> bool:
        return pin in self.net_of

    def design(self, title: str | None) -> Design:
        if not self.parts:
            raise ReferenceDesignError("the part list holds nothing the textbook wiring can place")
        nets = [Net(name=name, pins=pins) for name, pins in self.nets.items() if len(pins) > 1]  # unused rails drop
        return Design(title=title, parts=self.parts, nets=nets)

    def _merge(self, old: str, into: str) -> None:
        for pin in self.nets.pop(old):
            self.nets[into].append(pin)
            self.net_of[pin] = into
