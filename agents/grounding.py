"""The identify stage held to what the request says (``studio.intent`` reads it without a model).

- Candidates: the parts the request names (by id, alias, name or a near-miss of a part number) come
  first, then the embedding hits of ``agents.identify.retrieve_candidates``; a named part is never
  left out because retrieval ranked it low.
- The grammar admits only those candidates, the parts a named family stands for ("an LED": any LED
  colour) and the supporting parts every design may add by its own judgement (resistors, capacitors,
  diodes, transistors, the level shifter, supplies and regulators: ``is_supporting``), so the answer can
  never name a display or a board nobody asked for or retrieved.
- Counts follow the request: a named part the answer leaves out is added, and a count the request
  states ("two LEDs", "x4", "four BME280") replaces the answer's; every change is a note in the report.
- A substitute the user gives for an out-of-knowledge name ("use r307 for AS608") turns the reading's
  unknown part into a named one (``with_substitutes``), for grounding and the intent check alike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from agents.identify import Candidate, Searcher, retrieve_candidates
from agents.parts_list import PartRequest, PartsList, role_of
from agents.pinouts import names_match
from agents.reference.designer import is_supporting
from components_db.schema import Part
from studio.intent import RequestReading
from studio.intent.reading import NamedPart

if TYPE_CHECKING:
    from components_db import KnowledgeBase

NAMED_SCORE = 1.0


class Substitute(BaseModel):
    """A knowledge-base part the user chose in place of a part the knowledge base lacks."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(min_length=1, max_length=64)  # the missing part as the request writes it
    part: str = Field(min_length=1, max_length=64)  # the knowledge-base id used instead


class SubstituteError(ValueError):
    """A substitute that cannot be used; the message says why in one line."""


def choose_substitutes(pairs: list[tuple[str, str]], kb: KnowledgeBase) -> list[Substitute]:
    """``(missing name, knowledge-base id)`` pairs as substitutes, each id checked against ``kb`` (the CLI's
    ``--substitute`` and the studio's substitute picker both come here)."""
    chosen = []
    for name, part in pairs:
        name, part = name.strip(), part.strip()
        if not name or not part:
            raise SubstituteError("a substitute needs the missing name and a knowledge-base id, e.g. AS608=r307")
        if kb.get(part) is None:
            near = ", ".join(h.part_id for h in kb.nearest(part, 3))
            raise SubstituteError(f"{part!r} is not a knowledge-base id (nearest: {near})")
        chosen.append(Substitute(name=name[:64], part=part))
    return chosen


def with_substitutes(reading: RequestReading, substitutes: list[Substitute], lookup: dict[str, Part]) -> RequestReading:
    """``reading`` with each substituted unknown part named as its substitute (a substitute for a name the
    request does not hold is named all the same: the user asked for it)."""
    if not substitutes:
        return reading
    named = list(reading.parts)
    for sub in substitutes:
        part = lookup[sub.part]
        if all(n.part != sub.part for n in named):
            named.append(NamedPart(text=sub.name, part=sub.part, category=part.category, family=[sub.part]))
    unknown = [u for u in reading.unknown if not any(names_match(u.name, s.name) for s in substitutes)]
    return reading.model_copy(update={"parts": named, "unknown": unknown})


def grounded_candidates(kb: Searcher, request: str, reading: RequestReading, top: int) -> list[Candidate]:
    """The named parts first, then retrieval's hits, without repeats; at least ``top`` of them when
    retrieval finds that many, and every named part however many there are."""
    named = [Candidate(part=n.part, score=NAMED_SCORE, matched=f"named: {n.text}") for n in reading.parts]
    found: dict[str, Candidate] = {}
    for candidate in [*named, *retrieve_candidates(kb, request, top=top)]:
        found.setdefault(candidate.part, candidate)
    return list(found.values())[: max(top, len(dict.fromkeys(c.part for c in named)))]


def allowed_parts(candidates: list[Candidate], reading: RequestReading, parts: list[Part]) -> list[Part]:
    """The parts the identify grammar admits: the candidates, the families of the named parts and the
    supporting parts (see the module docstring)."""
    wanted = {c.part for c in candidates} | {member for n in reading.parts for member in n.family}
    return [p for p in parts if p.id in wanted or is_supporting(p)]


def ground(
    answer: PartsList, reading: RequestReading, lookup: dict[str, Part], substitutes: list[Substitute] = ()
) -> tuple[PartsList, list[str]]:
    """``answer`` held to the request, and the notes saying what changed:

    - a named part the answer lacks takes the place of an unnamed part of the same kind (category and
      symbol: the LCD2004 written for a named SSD1306), or is added;
    - a count the request states replaces the answer's;
    - an "unknown" name the request does not contain is dropped (the model's, not the user's).

    Nothing else is touched: which other parts a design needs stays the model's call."""
    items = list(answer.parts)
    notes: list[str] = []
    wanted = [(n.part, n.family, n.quantity, n.counted, n.text) for n in reading.parts]
    named = {member for _, family, *_ in wanted for member in family}
    for part_id, family, quantity, counted, text in wanted:
        part = lookup.get(part_id)
        if part is None:
            continue
        present = [i for i, item in enumerate(items) if item.part in family]
        if not present:
            stand_in = next((i for i, item in enumerate(items) if _same_kind(lookup.get(item.part), part, named)), None)
            if stand_in is not None:
                before = items[stand_in]
                items[stand_in] = before.model_copy(update={"part": part_id, "value": None})
                notes.append(f"{part_id} in place of {before.part}: the request names {text}")
                present = [stand_in]
            else:
                # before the first part nobody named, so that a cut to the design's size never drops it
                at = next((i for i, item in enumerate(items) if item.part not in named), len(items))
                items.insert(at, PartRequest(part=part_id, quantity=quantity, role=role_of(part)))
                notes.append(f"added {part_id}{f' x{quantity}' if quantity > 1 else ''}: the request names {text}")
                continue
        if counted and len(present) == 1 and items[present[0]].quantity != quantity:
            at = present[0]
            notes.append(f"{items[at].part} x{quantity} (not x{items[at].quantity}): the request asks for {text}")
            items[at] = items[at].model_copy(update={"quantity": quantity})
    substituted = [s.name for s in substitutes]
    unknown = []
    for name in answer.unknown:
        if any(names_match(name, s) for s in substituted):
            continue
        if names_match(name, reading.request) or any(names_match(name, u.name) for u in reading.unknown):
            unknown.append(name)
        else:
            notes.append(f"left out the unknown part {name!r}: the request does not name it")
    return answer.model_copy(update={"parts": items, "unknown": unknown}), notes


def _same_kind(part: Part | None, named_part: Part, named: set[str]) -> bool:
    """An answer's part that a named part should replace: of the same category and symbol, not itself
    named, and not a supporting part (a resistor is never a stand-in for anything)."""
    return (
        part is not None
        and part.id not in named
        and not is_supporting(part)
        and part.category is named_part.category
        and part.symbol is named_part.symbol
    )
