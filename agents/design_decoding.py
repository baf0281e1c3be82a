"""What a design's grammar cannot say, kept by the decoder token by token.

A context-free grammar admits the design JSON's shape and its real pins, but not these facts about
the whole text (``agents.grammar``):

- net names are unique (``Design`` refuses a repeated one);
- a pin is in one net only (a pin is one point: the ERC's ``pin-on-two-nets``);
- the nets array closes only once every part has a pin in some net (``unconnected-part``), and a new
  net opens only while some pin is left to place (else it could only repeat one);
- no net joins two pins no design ever joins (``agents.pin_conflicts``): supply outputs of different
  voltages, a supply output and ground, a signal pin and a rail (straps excepted), crossed or mixed bus
  lines, a module's bus line on a board pin that cannot carry it, two driving pins of one part; nor
  takes a signal pin into a net named as ground ("GND"), which the ERC reads as ground;
- every part's supply, ground and required pins (``DesignGrammar.required_groups``: one of each
  group) end up in a net, as every part does; in a repair round (``agents.repair``), the pin pairs its
  findings separate share no net, and the required pins it found unwired end up in one.

``DesignRules.restrict`` clears, in a grammar's mask of allowed tokens, every token that would break
one of them or lead into a dead end (an open pin reference whose every completion is used or may not
join the open net, a used name at full length). It only removes tokens: it never writes a part, a pin
or a net the model did not choose. A small byte scanner follows the compact JSON the grammar admits
(no spaces, no escapes), so each candidate token costs a few microseconds; what the connection rules
need per pin reference is a table built with the rules (``PinTable``), and the pins the open net may
still take are worked out once per pin written, not per token.

Only the rules bend, never the grammar. When the budget the grammar allows (nets, pins per net)
leaves no token that keeps every rule, the step first lets parts stay unwired, and if that is not
enough it falls back to the grammar's mask with net names kept unique only (no pin, wiring or
connection rule), and the ERC reports what was left. Once the token budget is nearly spent
(``CLOSING_RESERVE``) the nets may close with parts unwired, so a model that will not wire them still
finishes its design.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

import torch

from agents.grammar import DesignGrammar
from agents.pin_conflicts import PinFacts, clash
from studio.circuit.rails import is_ground_name

_KEYS_WITH_ARRAYS = (b"parts", b"nets", b"pins")
CLOSING_RESERVE = 64  # tokens: enough to finish a net name and a pin reference, then close ("]}]}")
STRUCTURAL_BYTES = b'"[],'  # outside a string only these change what the rules see; a string closes at '"'


class PinTable:
    """The connection rules over one grammar's pin references: each reference's facts as a small
    index (pins with the same facts share one) and, per index, the indices it may not share a net with
    (``agents.pin_conflicts.clash``), so a pin against a net costs a few set lookups. A net named as
    ground ("GND": ``studio.circuit.rails.is_ground_name``) is ground to the ERC unless a pin on it
    says otherwise, so no signal pin may join it either. Two driving pins (``PinFacts.drives``) of one
    part short each other (the ERC's ``gpio-short``), so a driving pin is also checked against the open
    net's pins of its own part."""

    def __init__(
        self, pin_refs: Sequence[str], facts: Sequence[PinFacts], pairs: Sequence[tuple[str, str]] = ()
    ) -> None:
        kinds: dict[PinFacts, int] = {}
        self.kind = {ref.encode(): kinds.setdefault(f, len(kinds)) for ref, f in zip(pin_refs, facts, strict=True)}
        distinct = list(kinds)
        self.clashing = [frozenset(j for j, g in enumerate(distinct) if clash(f, g)) for f in distinct]
        self.signals = frozenset(i for i, f in enumerate(distinct) if f.signal)
        # a driving pin's part ref: two drivers of one part may not share a net
        self.driver_of = {
            ref.encode(): ref.split(".", 1)[0].encode() for ref, f in zip(pin_refs, facts, strict=True) if f.drives
        }
        self._ground_names: dict[bytes, bool] = {}
        self.pairs: dict[bytes, set[bytes]] = {}  # a repair round's exclusions (``DesignGrammar.forbidden_pairs``)
        for a, b in pairs:
            self.pairs.setdefault(a.encode(), set()).add(b.encode())
            self.pairs.setdefault(b.encode(), set()).add(a.encode())

    @property
    def judges(self) -> bool:
        """Some pin of the grammar may not join some net."""
        return any(self.clashing) or bool(self.signals) or bool(self.pairs) or bool(self.driver_of)

    def ground_named(self, name: bytes) -> bool:
        named = self._ground_names.get(name)
        if named is None:
            named = self._ground_names[name] = is_ground_name(name.decode("utf-8", errors="replace"))
        return named

    def clashes(self, pin: bytes, net: Sequence[bytes], grounded: bool = False) -> bool:
        """``pin`` may not join a net holding ``net`` (``grounded``: named as ground)."""
        excluded = self.pairs.get(pin)
        if excluded and any(other in excluded for other in net):
            return True
        owner = self.driver_of.get(pin)
        if owner is not None and any(self.driver_of.get(other) == owner for other in net):
            return True
        kind = self.kind.get(pin)
        if kind is None:
            return False
        if grounded and kind in self.signals:
            return True
        against = self.clashing[kind]
        return bool(against) and any(self.kind.get(other) in against for other in net)


@dataclass
class _Scan:
    """Where the text is: open arrays (by their key), the open string, and what was closed so far."""

    arrays: tuple[bytes, ...] = ()
    last_string: bytes = b""  # the last closed string: a key when ':' follows
    after_colon: bool = False  # the previous byte was ':' (a string opened now is a value)
    string: bytes | None = None  # the open string's bytes so far
    string_kind: str = ""  # "pin", "name" or "" for an open string
    pending_key: bytes = b""  # the key whose value is coming (after ':')
    awaiting_pin: bool = False  # inside a pins array, after '[' or ',': a pin reference comes next
    pins: tuple[bytes, ...] = ()  # closed pin references, in order
    nets: int = 0  # pins arrays opened: the nets written or being written
    net_pins: int = 0  # pins closed in the open pins array
    names: tuple[bytes, ...] = ()  # closed net names, in order
    nets_closed: bool = False
    opening_net: bool = False  # after a ',' in the nets array, until the new net's pins array opens
    clash: bool = False  # the last ``feed`` closed a pin its net may not hold (``PinTable``)
    table: PinTable | None = field(default=None, compare=False, repr=False)

    @property
    def in_pins(self) -> bool:
        """Inside a net's pins array."""
        return bool(self.arrays) and self.arrays[-1] == b"pins"

    @property
    def open_net(self) -> tuple[bytes, ...]:
        """The pins closed so far in the open pins array (none outside one)."""
        return self.pins[len(self.pins) - self.net_pins :] if self.in_pins and self.net_pins else ()

    @property
    def grounded(self) -> bool:
        """Inside the pins array of a net named as ground (its name is the last one closed)."""
        return self.table is not None and self.in_pins and bool(self.names) and self.table.ground_named(self.names[-1])

    def feed(self, data: bytes) -> _Scan:
        """The scan after ``data`` (a new object; ``self`` is left as it was); ``clash`` tells of ``data``."""
        scan = replace(self, clash=False)
        for byte in data:
            scan._step(byte)
        return scan

    def _step(self, byte: int) -> None:
        char = bytes((byte,))
        if self.string is not None:
            if char == b'"':
                self._close_string()
            else:
                self.string += char
            return
        if char == b'"':
            if self.awaiting_pin and self.in_pins:
                self.string_kind = "pin"
            elif self.after_colon and self.pending_key == b"name":
                self.string_kind = "name"
            else:
                self.string_kind = ""
            self.string = b""
            self.awaiting_pin = False
        elif char == b":":
            self.pending_key = self.last_string
        elif char == b"[":
            self.arrays += (self.pending_key if self.pending_key in _KEYS_WITH_ARRAYS else b"",)
            self.awaiting_pin = self.in_pins
            if self.awaiting_pin:
                self.nets, self.net_pins, self.opening_net = self.nets + 1, 0, False
        elif char == b"]":
            closed = self.arrays[-1] if self.arrays else b""
            self.arrays = self.arrays[:-1]
            self.nets_closed = self.nets_closed or closed == b"nets"
            self.awaiting_pin = False
        elif char == b",":
            self.awaiting_pin = self.in_pins
            self.opening_net = bool(self.arrays) and self.arrays[-1] == b"nets"
        self.after_colon = char == b":"

    def _close_string(self) -> None:
        text = self.string or b""
        if self.string_kind == "pin":
            if self.table is not None and self.table.clashes(text, self.open_net, self.grounded):
                self.clash = True
            self.pins += (text,)
            self.net_pins += 1
        elif self.string_kind == "name":
            self.names += (text,)
        self.last_string, self.string, self.string_kind = text, None, ""


@dataclass
class DesignRules:
    """The decoder's rules for one design generation; ``consume`` the text as it grows."""

    grammar: DesignGrammar
    pieces: list[bytes]  # each token's bytes
    structural_tokens: torch.Tensor  # ids of tokens with a quote, bracket or comma (``STRUCTURAL_BYTES``)
    _scan: _Scan = field(default_factory=_Scan)
    _pins: list[bytes] = field(default_factory=list)  # every admitted pin reference, sorted
    _refs: frozenset[bytes] = frozenset()
    _table: PinTable | None = None  # None: no two of the grammar's pins clash (or it carries no facts)
    _required: frozenset[bytes] = frozenset()  # pins a repair round must place in some net
    _groups: list[frozenset[bytes]] = field(default_factory=list)  # one pin of each must be placed
    _group_keys: dict[bytes, list[bytes]] = field(default_factory=dict)  # pin -> the keys of its groups
    _unused: list[bytes] = field(default_factory=list)  # sorted pin references not used yet
    _admissible: list[bytes] = field(default_factory=list)  # sorted unused references the open net may take
    _state: tuple[int, int, bool] = (-1, -1, False)  # (pins, nets, in pins) the two lists were made for

    def __post_init__(self) -> None:
        self._pins = sorted(p.encode() for p in self.grammar.pin_refs)
        self._refs = frozenset(ref.encode() for ref in self.grammar.refs)
        self._required = frozenset(p.encode() for p in self.grammar.required_pins)
        self._groups = [frozenset(p.encode() for p in group) for group in self.grammar.required_groups]
        for i, group in enumerate(self._groups):
            for pin in group:
                self._group_keys.setdefault(pin, []).append(b"#%d" % i)
        if len(self.grammar.pin_facts) == len(self.grammar.pin_refs):
            table = PinTable(self.grammar.pin_refs, self.grammar.pin_facts, self.grammar.forbidden_pairs)
            self._table = table if table.judges else None
        self._scan = _Scan(table=self._table).feed(self.grammar.prefix.encode())
        self._refresh()

    def consume(self, data: bytes) -> None:
        self._scan = self._scan.feed(data)
        self._refresh()

    def _refresh(self) -> None:
        scan = self._scan
        state = (len(scan.pins), scan.nets, scan.in_pins)
        if state == self._state:
            return  # no pin written and no net opened: the lists still hold
        self._state = state
        used = set(scan.pins)
        self._unused = [p for p in self._pins if p not in used]
        net, grounded, table = scan.open_net, scan.grounded, self._table
        judged = table is not None and (net or grounded)
        self._admissible = [p for p in self._unused if not table.clashes(p, net, grounded)] if judged else self._unused

    def restrict(self, allowed: torch.Tensor, *, require_wiring: bool = True) -> None:
        """Clear in ``allowed`` (a bool mask over token ids) each token that breaks a rule. Without
        ``require_wiring`` (the token budget is nearly spent) the nets may close with parts unwired.

        When no token keeps every rule, the parts may stay unwired; if still none, the step falls back to
        the grammar's mask with only the net names kept unique (no pin, wiring or connection rule)."""
        scan = self._scan
        if scan.nets_closed:
            return
        full_names = any(len(n) == self.grammar.max_net_name for n in scan.names)
        every_token = (scan.string is not None and scan.string_kind == "pin") or (
            scan.string_kind == "name" and full_names
        )
        candidates = allowed.nonzero().flatten() if every_token else self._structural(allowed)
        afters = {token: scan.feed(self.pieces[token]) for token in candidates.tolist()}
        broken = [t for t, after in afters.items() if self._breaks(after, strict=True, wiring=require_wiring)]
        if not broken:
            return
        before = allowed.clone()
        allowed[broken] = False
        if allowed.any():
            return
        if require_wiring:  # the grammar's budget cannot wire every part: let some stay unwired
            allowed.copy_(before)
            allowed[[t for t in broken if self._breaks(afters[t], strict=True, wiring=False)]] = False
            if allowed.any():
                return
        allowed.copy_(before)  # no way to keep the pin rules either: the grammar's mask, names unique
        allowed[[t for t in broken if self._breaks(afters[t], strict=False, wiring=False)]] = False

    def _structural(self, allowed: torch.Tensor) -> torch.Tensor:
        return self.structural_tokens[allowed[self.structural_tokens]]

    def _breaks(self, after: _Scan, *, strict: bool, wiring: bool) -> bool:
        before = self._scan
        names = after.names[len(before.names) :]
        if _repeats(before.names, names):
            return True
        name = after.string if after.string_kind == "name" else None
        if name is not None and len(name) == self.grammar.max_net_name and (name in before.names or name in names):
            return True  # a used name at full length can only close into a repeat
        if not strict:
            return False
        if after.clash:
            return True  # a pin written into a net it may not join
        pins = after.pins[len(before.pins) :]
        if _repeats(before.pins, pins):
            return True
        if after.opening_net and not self._unused:
            return True  # a new net with every pin already placed could only repeat one
        unwired = self._unwired(after)
        needed, capacity = len(unwired), self._capacity(after)
        if after.string is not None and after.string_kind == "pin":
            fits = self._fits(after, pins, after.string)
            first = next(fits, None)
            if first is None:
                return True  # every pin this reference can still become is used or may not join the net
            capacity -= 1  # the open reference takes a slot, and wires a new part if it can still be one
            needed -= any(self._completes(p, unwired) for p in (first, *fits))
        elif after.awaiting_pin and next(self._fits(after, pins, b""), None) is None:
            return True  # no pin is left that the open net may take
        return wiring and needed > capacity  # the unwired parts would no longer fit in the nets allowed

    def _fits(self, after: _Scan, new_pins: tuple[bytes, ...], prefix: bytes) -> Iterator[bytes]:
        """The unused pin references starting with ``prefix`` that the open net of ``after`` may take,
        sorted. The common case (the token wrote no pin and opened no net) reads the list made when the
        last pin was written; otherwise the unused ones are filtered here."""
        before = self._scan
        if not new_pins and after.nets == before.nets and after.in_pins == before.in_pins:
            source, net, grounded = self._admissible, (), False
        else:
            source, net, grounded = self._unused, after.open_net, after.grounded
        table = self._table if net or grounded else None
        for i in range(bisect.bisect_left(source, prefix), len(source)):
            pin = source[i]
            if not pin.startswith(prefix):
                return
            if pin in new_pins or (table is not None and table.clashes(pin, net, grounded)):
                continue
            yield pin

    def _unwired(self, scan: _Scan) -> set[bytes]:
        """Parts (refs) with no pin in a net yet, required pins (a repair round's) not in one yet, and the
        keys of required groups with no pin in one yet."""
        placed = set(scan.pins)
        missing = (self._refs - {p.split(b".", 1)[0] for p in placed}) | (self._required - placed)
        return missing | {b"#%d" % i for i, group in enumerate(self._groups) if placed.isdisjoint(group)}

    def _completes(self, pin: bytes, unwired: set[bytes]) -> bool:
        """Placing ``pin`` wires something still ``unwired`` (its part, itself or one of its groups)."""
        return (
            pin.split(b".", 1)[0] in unwired
            or pin in unwired
            or any(k in unwired for k in self._group_keys.get(pin, ()))
        )

    def _capacity(self, scan: _Scan) -> int:
        """How many more pins the design can still take: the open net's free slots, then new nets."""
        if scan.nets_closed:
            return 0
        per_net = self.grammar.max_pins_per_net
        here = per_net - scan.net_pins if scan.in_pins else 0
        return here + (self.grammar.max_nets - scan.nets) * per_net


def _repeats(earlier: tuple[bytes, ...], new: tuple[bytes, ...]) -> bool:
    return any(item in earlier or item in new[:i] for i, item in enumerate(new))
