"""Is the design what the request asked for? Each thing the request names (``RequestReading``) becomes
a requirement the design meets or not:

- a named part: present (a part of its family is in the design), **substituted** (absent, but a part of
  the same category that the request did not name stands where it would be: said, never silent), or
  missing; with a count, exactly that many (two LEDs asked for are not four);
- a part number the knowledge base lacks: out of knowledge, always unmet, with the nearest known parts
  and any part that took its place;
- an interface ("over SPI"): a connection of that bus between two parts;
- a number: a supply voltage against the design's rails, a 555's frequency and an RC filter's cutoff
  against what SPICE measured (within ``TOLERANCE``), an LED current against the simulated currents.
  A number nothing in the design can be held against is "unchecked" (a sensor's measuring range, a
  blink rate an MCU sets in software).

The score is the share of the checked requirements met; the verdict is met only when all of them are.
A request with nothing about a circuit in it is "not understood".
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, Field

from components_db.schema import SUPPORT_SYMBOLS, Category, ElectricalType, PinRole, SymbolKind
from studio.circuit.measured import Measured
from studio.circuit.resolve import ResolvedDesign
from studio.circuit.values import format_value
from studio.intent.reading import Interface, NamedPart, Quantity, RequestReading, UnknownPart

TOLERANCE = 0.2  # a stated number is met within 20 %
Status = Literal["met", "substituted", "missing", "not-met", "out-of-knowledge", "unchecked"]
Kind = Literal["part", "count", "out-of-knowledge", "interface", "number"]
BUS_ROLES: dict[Interface, frozenset[PinRole]] = {
    "I2C": frozenset({PinRole.I2C_SDA, PinRole.I2C_SCL}),
    "SPI": frozenset({PinRole.SPI_MOSI, PinRole.SPI_MISO, PinRole.SPI_SCK}),
    "UART": frozenset({PinRole.UART_TX, PinRole.UART_RX}),
    "1-Wire": frozenset({PinRole.ONEWIRE}),
}
SUPPORTING = SUPPORT_SYMBOLS | {SymbolKind.FUSE}  # never stand in for a part the request names
UNIT = {"voltage": "V", "frequency": "Hz", "cutoff": "Hz", "current": "A"}


class Requirement(BaseModel):
    kind: Kind
    text: str  # what the request says: "two LEDs", "over SPI", "about 1 Hz", "TMC2209"
    status: Status
    detail: str  # in words, e.g. "D1, D2 are LEDs" or "drv8825 (U2) in place of TMC2209"
    refs: list[str] = Field(default_factory=list)
    stated: float | None = None  # numbers: what was asked, in base units
    found: float | None = None  # and what the design gives (simulated when ``simulated``)
    unit: str = ""  # of both
    net: str | None = None  # the rail a voltage was found on
    simulated: bool = False

    @property
    def counts(self) -> bool:
        return self.status != "unchecked"


class Substitution(BaseModel):
    named: str  # as the request names it
    used: str  # the design's part id
    refs: list[str]
    why: str


class IntentReport(BaseModel):
    understood: bool
    requirements: list[Requirement] = Field(default_factory=list)
    out_of_knowledge: list[UnknownPart] = Field(default_factory=list)
    substitutions: list[Substitution] = Field(default_factory=list)
    score: float = Field(ge=0.0, le=1.0)  # share of the checked requirements met
    met: bool
    verdict: str

    @property
    def off_target(self) -> list[Requirement]:
        """Numbers SPICE measured more than ``TOLERANCE`` away from what the request states."""
        return [r for r in self.requirements if r.kind == "number" and r.status == "not-met" and r.simulated]


NOT_UNDERSTOOD = (
    "the request does not describe a circuit: name the parts (an ESP32, a DHT22) or say what it should do "
    "(measure the temperature, switch a 12 V fan)"
)


def check_intent(reading: RequestReading, resolved: ResolvedDesign, measured: Measured | None = None) -> IntentReport:
    if not reading.understood:
        return IntentReport(understood=False, score=0.0, met=False, verdict=f"not understood: {NOT_UNDERSTOOD}")
    measured = measured or static_rails(resolved)
    design = _DesignParts(resolved, reading.parts)
    requirements: list[Requirement] = []
    substitutions: list[Substitution] = []
    for named in reading.parts:
        requirement, substitution = design.named(named)
        requirements.append(requirement)
        substitutions += [substitution] if substitution else []
        if named.counted and named.quantity > 1 and requirement.status == "met":
            requirements.append(design.count(named))
    for unknown in reading.unknown:
        requirement, substitution = design.unknown(unknown)
        requirements.append(requirement)
        substitutions += [substitution] if substitution else []
    requirements += [_interface(resolved, name) for name in reading.interfaces]
    requirements += [_number(q, measured, resolved) for q in reading.quantities]
    checked = [r for r in requirements if r.counts]
    met = [r for r in checked if r.status == "met"]
    score = len(met) / len(checked) if checked else 1.0
    unmet = [r for r in checked if r.status != "met"]
    verdict = "met" if not unmet else "not met: " + "; ".join(r.detail for r in unmet[:4])
    return IntentReport(
        understood=True,
        requirements=requirements,
        out_of_knowledge=list(reading.unknown),
        substitutions=substitutions,
        score=round(score, 4),
        met=not unmet,
        verdict=verdict,
    )


def static_rails(resolved: ResolvedDesign) -> Measured:
    """The voltages the design's supply outputs state, for a check without SPICE."""
    rails = {
        net.name: bp.pin.voltage
        for net in resolved.nets
        for bp in net.pins
        if bp.pin.type is ElectricalType.POWER_OUT and bp.pin.voltage and PinRole.GROUND not in bp.pin.roles
    }
    return Measured(rails_v=rails)


class _DesignParts:
    """The design's parts by ref, and which of them the request's names account for."""

    def __init__(self, resolved: ResolvedDesign, named: list[NamedPart]) -> None:
        self.resolved = resolved
        self.refs_of: dict[str, list[str]] = {}
        for ref, part in resolved.parts.items():
            self.refs_of.setdefault(part.id, []).append(ref)
        self.accounted = {ref for n in named for pid in n.family for ref in self.refs_of.get(pid, [])}

    def present(self, family: Iterable[str]) -> list[str]:
        return [ref for pid in family for ref in self.refs_of.get(pid, [])]

    def named(self, named: NamedPart) -> tuple[Requirement, Substitution | None]:
        refs = self.present(named.family)
        if refs:
            ids = sorted({self.resolved.parts[r].id for r in refs})
            return Requirement(
                kind="part", text=named.text, status="met", detail=f"{', '.join(refs)}: {', '.join(ids)}", refs=refs
            ), None
        stand_in = self._stand_in({named.category})
        if stand_in is None:
            return Requirement(
                kind="part", text=named.text, status="missing", detail=f"{named.text} ({named.part}) is missing"
            ), None
        used, refs = stand_in
        why = f"same category ({named.category.value}), not named in the request"
        detail = f"{used} ({', '.join(refs)}) in place of {named.text} ({named.part})"
        substitution = Substitution(named=named.text, used=used, refs=refs, why=why)
        return Requirement(kind="part", text=named.text, status="substituted", detail=detail, refs=refs), substitution

    def count(self, named: NamedPart) -> Requirement:
        refs = self.present(named.family)
        status: Status = "met" if len(refs) == named.quantity else "not-met"
        detail = f"{len(refs)} in the design, {named.quantity} asked for ({named.text})"
        return Requirement(
            kind="count", text=f"{named.quantity} x {named.text}", status=status, detail=detail, refs=refs
        )

    def unknown(self, unknown: UnknownPart) -> tuple[Requirement, Substitution | None]:
        """Out of knowledge, with whatever stands in its place: a part of its nearest parts' kind, else any
        part the request does not name (a search on a bare part number knows little of its kind)."""
        stand_in = self._stand_in(set(unknown.categories)) if unknown.categories else None
        why_kind = "among its nearest known parts"
        if stand_in is None:
            stand_in = self._stand_in(set(Category) - {Category.MCU_BOARD, Category.POWER})
            why_kind = "a part the request does not name"
        substitution = None
        detail = unknown.message
        refs: list[str] = []
        if stand_in is not None:
            used, refs = stand_in
            detail += f"; the design uses {used} ({', '.join(refs)}), {why_kind}, in its place"
            why = f"{unknown.name} is not in the knowledge base; {used} is {why_kind}"
            substitution = Substitution(named=unknown.name, used=used, refs=refs, why=why)
        requirement = Requirement(kind="out-of-knowledge", text=unknown.name, status="out-of-knowledge", detail=detail)
        return requirement.model_copy(update={"refs": refs}), substitution

    def _stand_in(self, categories: set[Category]) -> tuple[str, list[str]] | None:
        """A design part of one of ``categories`` that no name of the request accounts for."""
        for ref, part in self.resolved.parts.items():
            if ref in self.accounted or part.symbol in SUPPORTING or part.category not in categories:
                continue
            self.accounted.add(ref)
            return part.id, [ref]
        return None


def _interface(resolved: ResolvedDesign, name: Interface) -> Requirement:
    roles = BUS_ROLES[name]
    for net in resolved.nets:
        on_bus = {bp.ref for bp in net.pins if roles.intersection(bp.pin.roles)}
        if len(on_bus) >= 2:
            refs = sorted(on_bus)
            return Requirement(
                kind="interface", text=name, status="met", detail=f"{name} between {', '.join(refs)}", refs=refs
            )
    return Requirement(
        kind="interface", text=name, status="not-met", detail=f"no {name} connection between two parts in the design"
    )


def _number(q: Quantity, measured: Measured, resolved: ResolvedDesign) -> Requirement:
    asked = format_value(q.value, UNIT[q.kind])
    if q.kind == "voltage":
        if q.context != "supply":
            return _unchecked(q, f"{asked} ({q.context}): not a supply voltage the design can be held to")
        values, what = measured.rails_v, "rail"
    elif q.kind == "cutoff":
        values, what = measured.cutoffs_hz, "RC filter cutoff"
    elif q.kind == "frequency":
        if q.context != "oscillator" and not measured.frequencies_hz:
            return _unchecked(q, f"{asked}: a rate, not an oscillator the design holds")
        if not measured.frequencies_hz and _has_board(resolved):
            return _unchecked(q, f"{asked}: the microcontroller sets this rate in software")
        values, what = measured.frequencies_hz, "555 frequency"
    else:
        if q.context != "led":
            return _unchecked(q, f"{asked}: a current the check does not measure")
        values, what = measured.led_currents_a, "LED current"
    if not values:
        if not measured.simulated and q.kind != "voltage":
            return _unchecked(q, f"{asked}: not simulated")
        return Requirement(
            kind="number",
            text=q.text,
            status="not-met",
            detail=f"{asked} asked, but the design has no {what}",
            stated=q.value,
            unit=UNIT[q.kind],
        )
    where, found = min(values.items(), key=lambda item: abs(item[1] - q.value))
    close = abs(found - q.value) <= TOLERANCE * q.value
    how = "simulated" if measured.simulated else "stated by its parts"
    return Requirement(
        kind="number",
        text=q.text,
        status="met" if close else "not-met",
        detail=f"{asked} asked, {format_value(found, UNIT[q.kind])} {what} {where} ({how})",
        refs=[] if q.kind == "voltage" else where.split("+"),
        net=where if q.kind == "voltage" else None,
        stated=q.value,
        found=found,
        unit=UNIT[q.kind],
        simulated=measured.simulated,
    )


def _unchecked(q: Quantity, detail: str) -> Requirement:
    return Requirement(kind="number", text=q.text, status="unchecked", detail=detail, stated=q.value, unit=UNIT[q.kind])


def _has_board(resolved: ResolvedDesign) -> bool:
    return any(p.category is Category.MCU_BOARD for p in resolved.parts.values())
