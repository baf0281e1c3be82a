"""The grammar the synthesis stage decodes under: the design JSON of DESIGN.md, restricted to the
identified parts.

The grammar (Lark syntax, as llguidance reads it) admits compact JSON only, of this exact shape::

    {"parts":[{"ref":"U1","part":"esp32-devkit-v1"},{"ref":"R1","part":"resistor","value":"220"}],
     "nets":[{"name":"LED_A","pins":["U1.GPIO2","R1.1"]}]}

- the parts array lists every given ref exactly once, in the given order, with its KB part id, so it
  is forced text; only a part that takes a value (it has a ``default_value`` in the KB) may add one,
  and only in engineering notation with that part's unit;
- a pin reference is one of the given refs followed by one of that part's real pin names;
- net names use a safe charset and a bounded length; nets and pins per net are bounded, so every
  admitted text is finite (``max_bytes``) and generation always terminates.

What a context-free grammar cannot say is left to the decoder (``agents.design_decoding``): unique net
names, each pin in one net, every part wired, and no net joining two pins no design joins (a supply
output on ground, crossed bus lines: ``agents.pin_conflicts``), for which the grammar carries each pin
reference's ``PinFacts``.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache

from pydantic import BaseModel, ConfigDict

from agents.pin_conflicts import PinFacts, pin_facts
from components_db.schema import PIN_NAME_PATTERN, Part
from studio.circuit.design import REF_PATTERN
from studio.circuit.values import UNITS, parse_value

NET_NAME_CHARS = "A-Za-z0-9_+.-"
MAX_NET_NAME_LENGTH = 24
# plain "220", "4.7k", "100nF", "16MHz" or infix "4k7": the ASCII subset of studio.circuit.values' notation
_PLAIN_NUMBER = r"(0|[1-9][0-9]{0,3})(\.[0-9]{1,3})?[pnumkMG]?"
_INFIX_NUMBER = r"[1-9][0-9]{0,2}[pnumkMG][0-9]{1,2}"
_INFIX_UNITS = ("F", "H")  # the units studio.circuit.values accepts after an infix number
_MAX_VALUE_LENGTH = 8 + 2  # "9999.999G" minus one + the longest unit we admit ("Hz")


class DesignGrammar(BaseModel):
    """A compiled-once description of what the synthesis stage may write for one set of parts."""

    model_config = ConfigDict(frozen=True)

    lark: str  # the grammar, in llguidance's Lark syntax
    refs: tuple[str, ...]
    pin_refs: tuple[str, ...]  # every admitted "REF.PIN"
    max_nets: int
    max_pins_per_net: int
    max_net_name: int
    max_bytes: int  # the longest admitted text: a token budget that always suffices
    prefix: str = ""  # with ``parts_in_prompt``: the forced parts list, which the prompt ends with
    pin_facts: tuple[PinFacts, ...] = ()  # per pin reference (as ``pin_refs``): what the connection rules ask
    # a repair round's exclusions, kept by the decoder (agents.design_decoding): pin pairs that may not
    # share a net, and pins that must end up in one
    forbidden_pairs: tuple[tuple[str, str], ...] = ()
    required_pins: tuple[str, ...] = ()
    # pin groups of which one pin must end up in a net: each part's supply, ground and required pins
    # (``studio.erc.nodes.working_groups``), so no part is left wired but unable to work
    required_groups: tuple[tuple[str, ...], ...] = ()


def net_text(name: str, pins: list[str] | tuple[str, ...]) -> str:
    """A net as the design grammar writes it (compact JSON): a ``written_nets`` entry."""
    return json.dumps({"name": name, "pins": list(pins)}, separators=(",", ":"), ensure_ascii=True)


class GrammarInputError(ValueError):
    """Parts the grammar cannot be built from (no parts, a duplicate or unsafe ref, an unsafe pin name)."""


def design_grammar(
    parts: list[tuple[str, Part]],
    *,
    values: dict[str, str] | None = None,
    max_nets: int = 16,
    max_pins_per_net: int = 8,
    max_net_name: int = 16,
    parts_in_prompt: bool = False,
    written_nets: tuple[str, ...] = (),
) -> DesignGrammar:
    """The grammar of designs over ``parts`` (a list of (ref, Part)); cached by what it depends on.

    ``values`` fixes the value of some refs (what the identify stage chose): their entries become
    forced text; a valued part without one may write any value in its unit. With ``parts_in_prompt``
    the parts list (then all forced: parts without a fixed value get none) is ``prefix``, for the prompt
    to end with, and the grammar starts at the first net: forced text costs one decode step per token,
    a prompt costs one batched forward. ``written_nets`` (compact JSON net objects, with ``parts_in_prompt``)
    are nets kept from an earlier answer: they join the prefix, and the answer may only add nets after
    them, up to ``max_nets`` in all (a repair round re-decodes the rest)."""
    if written_nets and not parts_in_prompt:
        raise GrammarInputError("written nets are kept in the prompt: they need parts_in_prompt")
    if len(written_nets) > max_nets:
        raise GrammarInputError(f"{len(written_nets)} written nets are more than max_nets ({max_nets})")
    if not 1 <= max_nets <= 64:
        raise GrammarInputError(f"max_nets must be 1..64, not {max_nets}")  # 64: unique names never run out
    if not 1 <= max_pins_per_net <= 200:
        raise GrammarInputError(f"max_pins_per_net must be 1..200, not {max_pins_per_net}")
    if not 2 <= max_net_name <= MAX_NET_NAME_LENGTH:
        raise GrammarInputError(f"max_net_name must be 2..{MAX_NET_NAME_LENGTH}, not {max_net_name}")
    fixed = values or {}
    for ref, value in fixed.items():
        try:
            parse_value(value)
        except ValueError as exc:
            raise GrammarInputError(f"{ref}: value {value!r} is not a component value ({exc})") from None
    key = tuple(
        (
            ref,
            part.id,
            tuple(p.name for p in part.pins),
            None if ref in fixed or parts_in_prompt else value_unit(part),
            fixed.get(ref),
        )
        for ref, part in parts
    )
    facts = tuple(pin_facts(part, pin) for _, part in parts for pin in part.pins)
    return _build(key, facts, max_nets, max_pins_per_net, max_net_name, parts_in_prompt, written_nets)


# ref, part id, pin names, value unit (None: no free value), fixed value (None: none fixed)
PartKey = tuple[str, str, tuple[str, ...], str | None, str | None]


@lru_cache(maxsize=256)
def _build(
    parts: tuple[PartKey, ...],
    facts: tuple[PinFacts, ...],
    max_nets: int,
    max_pins_per_net: int,
    max_net_name: int,
    parts_in_prompt: bool,
    written_nets: tuple[str, ...] = (),
) -> DesignGrammar:
    _check(parts)
    entries = [_part_entry(ref, part_id, unit, fixed) for ref, part_id, _, unit, fixed in parts]
    pin_refs = tuple(f"{ref}.{name}" for ref, _, names, *_ in parts for name in names)
    prefix = ""
    start = 'start: "{\\"parts\\":[" ' + ' "," '.join(entries) + ' "],\\"nets\\":[" nets? "]}"'
    if parts_in_prompt:
        written = [_entry_text(ref, part_id, fixed) for ref, part_id, *_, fixed in parts]
        prefix = '{"parts":[' + ",".join(written) + '],"nets":[' + ",".join(written_nets)
        start = 'start: nets? "]}"'
        if written_nets:
            more = max_nets - len(written_nets)
            start = f'start: ("," net){{0,{more}}} "]}}"' if more else 'start: "]}"'
    lark = "\n".join(
        [
            start,
            f'nets: net ("," net){{0,{max_nets - 1}}}',
            f'net: "{{\\"name\\":" NET_NAME ",\\"pins\\":[" PIN_REF ("," PIN_REF){{0,{max_pins_per_net - 1}}} "]}}"',
            f'NET_NAME: /"[{NET_NAME_CHARS}]{{1,{max_net_name}}}"/',
            "PIN_REF: " + " | ".join(lark_string(json.dumps(p)) for p in pin_refs),
            *(value_rule(unit) for unit in sorted({u for *_, u, _ in parts if u is not None})),
        ]
    )
    return DesignGrammar(
        lark=lark,
        refs=tuple(ref for ref, *_ in parts),
        pin_refs=pin_refs,
        max_nets=max_nets,
        max_pins_per_net=max_pins_per_net,
        max_net_name=max_net_name,
        max_bytes=_max_bytes(parts, pin_refs, max_nets, max_pins_per_net, max_net_name) - len(prefix),
        prefix=prefix,
        pin_facts=facts,
    )


def _check(parts: tuple[PartKey, ...]) -> None:
    if not parts:
        raise GrammarInputError("synthesis needs at least one identified part; the part list is empty")
    refs = [ref for ref, *_ in parts]
    duplicates = sorted({r for r in refs if refs.count(r) > 1})
    if duplicates:
        raise GrammarInputError(f"duplicate ref(s) {', '.join(duplicates)}: every part needs its own ref")
    for ref, part_id, names, *_ in parts:
        if not re.fullmatch(REF_PATTERN, ref):
            raise GrammarInputError(f"ref {ref!r} is not a valid design ref (e.g. U1, R2)")
        unsafe = [n for n in names if not re.fullmatch(PIN_NAME_PATTERN, n)]
        if unsafe:
            raise GrammarInputError(f"{ref} ({part_id}): pin name(s) {unsafe!r} are not safe pin names")


def value_unit(part: Part) -> str | None:
    """The unit a part's value carries ("" for none), or None when the part takes no value."""
    if part.default_value is None:
        return None
    ascii_units = sorted((u for u in UNITS if u.isascii()), key=len, reverse=True)
    return next((u for u in ascii_units if part.default_value.endswith(u)), "")


def _part_entry(ref: str, part_id: str, unit: str | None, fixed: str | None) -> str:
    if fixed is not None:
        return lark_string(_entry_text(ref, part_id, fixed))
    head = lark_string(json.dumps({"ref": ref, "part": part_id}, separators=(",", ":"))[:-1])
    value = f' ("," VALUE_{unit_name(unit)})?' if unit is not None else ""
    return f'{head}{value} "}}"'


def _entry_text(ref: str, part_id: str, fixed: str | None) -> str:
    entry = {"ref": ref, "part": part_id, **({"value": fixed} if fixed is not None else {})}
    return json.dumps(entry, separators=(",", ":"))


def value_rule(unit: str) -> str:
    suffix = f"({re.escape(unit)})?" if unit else ""
    infix = f"|{_INFIX_NUMBER}{suffix if unit in _INFIX_UNITS else ''}"
    return f'VALUE_{unit_name(unit)}: /"value":"({_PLAIN_NUMBER}{suffix}{infix})"/'


def unit_name(unit: str) -> str:
    """A Lark terminal name for a unit: "" -> BARE, "Hz" -> HZ, "%" -> PERCENT."""
    return {"": "BARE", "%": "PERCENT"}.get(unit, unit.upper())


def lark_string(text: str) -> str:
    """A Lark string literal for ``text`` (JSON string escaping is what llguidance's Lark reads)."""
    return json.dumps(text)


def _max_bytes(
    parts: tuple[PartKey, ...], pin_refs: tuple[str, ...], max_nets: int, max_pins: int, max_name: int
) -> int:
    value = len(',"value":""') + _MAX_VALUE_LENGTH
    part_list = sum(
        len(f'{{"ref":"{r}","part":"{p}"}},') + (value if u is not None or f is not None else 0)
        for r, p, _, u, f in parts
    )
    longest_pin = max(len(p) for p in pin_refs) + len('"",')
    net = len('{"name":"","pins":[]},') + max_name + max_pins * longest_pin
    return len('{"parts":[],"nets":[]}') + part_list + max_nets * net
