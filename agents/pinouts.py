"""Stage 2, pinouts: every identified part's canonical pinout from the knowledge base (no model).

The part list becomes a bill of parts with refs (``U1``, ``R1``, ``LED1``: the reference designer's
prefixes, counted in list order). A part the knowledge base does not know never gets pins: it is
reported as out of knowledge with the nearest known parts, and the design goes on without it; with no
known part left the pipeline stops with that reason.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from rapidfuzz import fuzz

from agents.parts_list import PartsList
from agents.reference.builder import PREFIXES
from components_db.retrieval import compact
from components_db.schema import ElectricalType, Part, Pin
from studio.circuit.resolve import PartLookup, SuggestingLookup

MAX_PARTS = 40  # parts in one design, quantities counted
PromptStyle = Literal["compact", "full"]


class BillLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    ref: str
    part: str  # knowledge-base id
    value: str | None = None
    role: str = ""


class OutOfKnowledge(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str  # as the request or the model named it
    nearest: list[str]  # known part ids closest to it
    message: str


OOK_NAME_RATIO = 80.0


def out_of_knowledge_message(missing: list[OutOfKnowledge]) -> str:
    """Why the run stopped and what the user can do: each part as written with the nearest known parts,
    how to add one, and how to re-run with a substitute."""
    listed = "; ".join(
        o.name + (f" (nearest in the knowledge base: {', '.join(o.nearest)})" if o.nearest else "") for o in missing
    )
    return (
        f"not in the knowledge base: {listed}. Add it with `circuit-studio parts add FILE.yaml` or draft it from a "
        "KiCad symbol with `circuit-studio parts import-kicad LIB.kicad_sym SYMBOL` (or under Parts in the studio), "
        "or re-run with a substitute you choose (`circuit-studio design --substitute NAME=ID`)"
    )


def names_match(missing: str, reported: str) -> bool:
    """Whether an out-of-knowledge entry names the missing part ("MH-Z19B" ~ "mh-z19b co2 sensor")."""
    a, b = compact(missing), compact(reported)
    if not a or not b:
        return False
    return (min(len(a), len(b)) >= 3 and (a in b or b in a)) or fuzz.ratio(a, b) >= OOK_NAME_RATIO


class PinoutsOutput(BaseModel):
    bill: list[BillLine]
    parts: dict[str, Part] = Field(default_factory=dict)  # id -> the knowledge base's entry
    out_of_knowledge: list[OutOfKnowledge] = Field(default_factory=list)
    notices: list[str] = Field(default_factory=list)

    def part_of(self, line: BillLine) -> Part:
        return self.parts[line.part]


def lookup_pinouts(parts: PartsList, kb: PartLookup, *, max_parts: int = MAX_PARTS) -> PinoutsOutput:
    out = PinoutsOutput(bill=[])
    counts: dict[str, int] = {}
    for name in parts.unknown:
        out.out_of_knowledge.append(_out_of_knowledge(name, kb))
    for request in parts.parts:
        part = kb.get(request.part)
        if part is None:
            out.out_of_knowledge.append(_out_of_knowledge(request.part, kb))
            continue
        out.parts[part.id] = part
        for _ in range(request.quantity):
            if len(out.bill) == max_parts:
                out.notices.append(f"only the first {max_parts} parts were kept; a design holds at most that many")
                return out
            prefix = PREFIXES[part.symbol]
            counts[prefix] = counts.get(prefix, 0) + 1
            value = request.value if part.default_value is not None else None
            out.bill.append(BillLine(ref=f"{prefix}{counts[prefix]}", part=part.id, value=value, role=request.role))
    return out


def _out_of_knowledge(name: str, kb: PartLookup) -> OutOfKnowledge:
    nearest = [h.part_id for h in kb.nearest(name)] if isinstance(kb, SuggestingLookup) else []
    hint = f"; nearest known parts: {', '.join(nearest)}" if nearest else ""
    return OutOfKnowledge(
        name=name,
        nearest=nearest,
        message=f"'{name}' is not in the knowledge base, so its pins are unknown and it was left out{hint}. "
        "Add it under Parts to use it.",
    )


def parts_block(pinouts: PinoutsOutput, style: PromptStyle) -> str:
    """The bill as the reason and synthesize prompts show it: one line per ref; ``full`` adds each
    part's name, levels and pins (for a model that has not learnt the knowledge base)."""
    lines = []
    for line in pinouts.bill:
        head = f"{line.ref} {line.part}" + (f" {line.value}" if line.value else "")
        if style == "compact":
            lines.append(head)
            continue
        part = pinouts.part_of(line)
        facts = [part.name]
        if part.logic_level_v is not None:
            facts.append(f"{part.logic_level_v:g} V logic")
        if part.supply is not None:
            facts.append(f"supply {part.supply.min_v:g}-{part.supply.max_v:g} V")
        pins = " ".join(_pin_text(p) for p in part.pins if p.type is not ElectricalType.NO_CONNECT)
        lines.append(f"{head} ({'; '.join(facts)}): {pins}")
    return "\n".join(lines)


def _pin_text(pin: Pin) -> str:
    roles = ",".join(r.value for r in pin.roles)
    return f"{pin.name}[{roles}]" if roles else pin.name
