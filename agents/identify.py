"""Stage 1, identify: the request plus parts retrieved from the knowledge base -> the part list.

The language model answers with the part list JSON of ``agents.parts_list`` under a grammar that
admits only knowledge-base ids (so no part is invented), quantities 1..16, a short role, a value
only for parts that take one (in that part's unit), and a list of parts the request names that the
knowledge base lacks. Retrieval puts the likely ids in front of the model: words it never saw in
training still reach a part.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from agents.grammar import lark_string, unit_name, value_rule, value_unit
from agents.parts_list import MAX_QUANTITY, PartRequest, PartsList
from agents.prompting import render
from components_db.retrieval import SearchHit
from components_db.schema import Part

MAX_CANDIDATES = 10
MAX_ITEMS = 16  # distinct part lines in one answer
MAX_UNKNOWN = 4
ROLE_CHARS = "a-z0-9 ,.()+-"
MAX_ROLE = 32
UNKNOWN_CHARS = "A-Za-z0-9 ._+-"
MAX_UNKNOWN_NAME = 32
# where ``clauses`` cuts a request: for retrieval, at punctuation and the words that join requirements
_CLAUSE = re.compile(r",|;|\band\b|\bwith\b|\bplus\b|\bthat\b|\bwhich\b|\bthen\b|\+", re.IGNORECASE)
# for the reference baseline, also at colons and brackets and the prepositions that join parts ("a DHT22 on an ESP32")
_FINE_CLAUSE = re.compile(
    r"[,;:+()]|\b(?:and|with|plus|then|that|which|while|to|from|on|for|through|via|into|over|in|by)\b", re.IGNORECASE
)


class Candidate(BaseModel):
    model_config = ConfigDict(frozen=True)

    part: str  # knowledge-base id
    score: float
    matched: str  # why retrieval found it (shown to people, not to the model)


class IdentifyInput(BaseModel):
    model_config = ConfigDict(frozen=True)

    request: str
    candidates: list[Candidate] = Field(default_factory=list)


class Searcher(Protocol):
    """What retrieval needs of the knowledge base."""

    def search(self, query: str, top: int = 5) -> list[SearchHit]: ...


def retrieve_candidates(kb: Searcher, request: str, top: int = MAX_CANDIDATES) -> list[Candidate]:
    """The best parts for the whole request, then the best for each of its clauses, without repeats."""
    return candidates_from((hit for query, n in retrieval_queries(request) for hit in kb.search(query, top=n)), top)


def retrieval_queries(request: str) -> list[tuple[str, int]]:
    """What retrieval searches for ``request``, with how many hits each: the whole request, then its clauses."""
    return [(request, 6)] + [(c, 2) for c in clauses(request)]


def candidates_from(hits: Iterable[SearchHit], top: int = MAX_CANDIDATES) -> list[Candidate]:
    """The first ``top`` distinct parts among ``hits``, in order (an id's first hit gives its score)."""
    found: dict[str, Candidate] = {}
    for hit in hits:
        if hit.part_id not in found:
            found[hit.part_id] = Candidate(part=hit.part_id, score=round(hit.score, 3), matched=hit.matched)
    return list(found.values())[:top]


def clauses(request: str, *, fine: bool = False) -> list[str]:
    """The request's clauses (stripped of end punctuation, at least 3 characters long).

    Two cuts, each the one its caller was measured with: by default (retrieval, and the bundled model's
    corpus) at punctuation and joining words, at most 6 clauses and none when the request is one clause
    (retrieval searches the whole request anyway); with ``fine`` (the reference baseline,
    ``agents.reference.baseline``) also at colons, brackets and prepositions, every clause, and a
    one-clause request as its own clause.
    """
    if fine:
        pieces = (c.strip(" .!?") for c in _FINE_CLAUSE.split(request))
        return [c for c in pieces if len(c) >= 3]
    found = [c.strip(" .!?") for c in _CLAUSE.split(request)]
    return [c for c in found if len(c) >= 3][:6] if len(found) > 1 else []


def identify_prompt(given: IdentifyInput) -> str:
    candidates = ", ".join(c.part for c in given.candidates) or "none"
    return render("identify", request=given.request, candidates=candidates)


def answer_text(parts: PartsList) -> str:
    """A part list written exactly as the grammar admits it (keys in order, no spaces)."""
    items = []
    for request in parts.parts:
        item = {"part": request.part, "quantity": request.quantity, "role": request.role}
        if request.value is not None:
            item["value"] = request.value
        items.append(item)
    return json.dumps({"parts": items, "unknown": list(parts.unknown)}, separators=(",", ":"), ensure_ascii=True)


def parse_answer(text: str) -> PartsList:
    """The part list in a (grammar-complete) answer; repeated ids are merged, quantities capped. A line
    written again word for word (same part, value and role) is a repetition, not a request for more: it
    keeps the larger quantity; the same part in another role adds its quantity."""
    data = json.loads(text)
    merged: dict[tuple[str, str | None], PartRequest] = {}
    roles: dict[tuple[str, str | None], set[str]] = {}
    for item in data.get("parts", []):
        request = PartRequest.model_validate(item)
        key = (request.part, request.value)
        if key in merged:
            before = merged[key]
            if request.role in roles[key]:
                quantity = max(before.quantity, request.quantity)
            else:
                quantity = min(MAX_QUANTITY, before.quantity + request.quantity)
            merged[key] = before.model_copy(update={"quantity": quantity})
        else:
            merged[key] = request
        roles.setdefault(key, set()).add(request.role)
    unknown = list(dict.fromkeys(u.strip() for u in data.get("unknown", []) if u.strip()))
    return PartsList(parts=list(merged.values()), unknown=unknown)


class PartsGrammar(BaseModel):
    """The identify answer's grammar over one knowledge base's ids."""

    model_config = ConfigDict(frozen=True)

    lark: str
    max_bytes: int


def parts_grammar(parts: list[Part]) -> PartsGrammar:
    """The grammar admitting ``parts`` (a request's candidates, ``agents.grounding.allowed_parts``), cached
    by the ids and value units it depends on."""
    return _parts_grammar(tuple(sorted((p.id, value_unit(p)) for p in parts)))


@lru_cache(maxsize=64)  # one per request now: the grammar admits that request's candidates
def _parts_grammar(ids: tuple[tuple[str, str | None], ...]) -> PartsGrammar:
    if not ids:
        raise ValueError("the knowledge base has no parts to identify")
    by_unit: dict[str | None, list[str]] = {}
    for part_id, unit in ids:
        by_unit.setdefault(unit, []).append(part_id)
    alternatives, rules = [], []
    head = '"{\\"part\\":" '
    tail = ' ",\\"quantity\\":" QUANTITY ",\\"role\\":" ROLE'
    for unit, members in sorted(by_unit.items(), key=lambda item: (item[0] is not None, item[0] or "")):
        name = "PLAIN" if unit is None else unit_name(unit)
        rules.append(f"ID_{name}: " + " | ".join(lark_string(json.dumps(m)) for m in members))
        value = "" if unit is None else f' ("," VALUE_{name})?'
        rules.append(f'item_{name.lower()}: {head}ID_{name}{tail}{value} "}}"')
        alternatives.append(f"item_{name.lower()}")
        if unit is not None:
            rules.append(value_rule(unit))
    lark = "\n".join(
        [
            'start: "{\\"parts\\":[" items? "],\\"unknown\\":[" unknowns? "]}"',
            f'items: item ("," item){{0,{MAX_ITEMS - 1}}}',
            "item: " + " | ".join(alternatives),
            "QUANTITY: /[1-9]|1[0-6]/",
            f'ROLE: /"[{ROLE_CHARS}]{{0,{MAX_ROLE}}}"/',
            f'unknowns: UNKNOWN ("," UNKNOWN){{0,{MAX_UNKNOWN - 1}}}',
            f'UNKNOWN: /"[{UNKNOWN_CHARS}]{{1,{MAX_UNKNOWN_NAME}}}"/',
            *rules,
        ]
    )
    longest_id = max(len(i) for i, _ in ids)
    item = len('{"part":"","quantity":16,"role":"","value":"9999.999kHz"},') + longest_id + MAX_ROLE
    unknown = MAX_UNKNOWN * (MAX_UNKNOWN_NAME + 3)
    return PartsGrammar(lark=lark, max_bytes=len('{"parts":[],"unknown":[]}') + MAX_ITEMS * item + unknown)


def role_text(text: str) -> str:
    """A role as the grammar admits it: lowercase, allowed characters, at most ``MAX_ROLE`` long."""
    cleaned = re.sub(f"[^{ROLE_CHARS}]", " ", text.lower())
    return " ".join(cleaned.split())[:MAX_ROLE].strip()
