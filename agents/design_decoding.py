"""What a design's grammar cannot say, kept by the decoder token by token.

A context-free grammar admits the design JSON's shape and its real pins, but not three facts about
the whole text (``agents.grammar``):

- net names are unique (``Design`` refuses a repeated one);
- a pin is in one net only (a pin is one point: the ERC's ``pin-on-two-nets``);
- the nets array closes only once every part has a pin in some net (``unconnected-part``).

``DesignRules.restrict`` clears, in a grammar's mask of allowed tokens, every token that would break
one of them or lead into a dead end (an open pin reference whose every completion is used, a used
name at full length). A small byte scanner follows the compact JSON the grammar admits (no spaces,
no escapes), so each candidate token costs a few microseconds. Only the rules bend, never the
grammar: when the budget the grammar allows (nets, pins per net) leaves no token that keeps every
rule, the step keeps the grammar's mask without the pin and wiring rules, and the ERC reports what
was left; and once the token budget is nearly spent (``CLOSING_RESERVE``) the nets may close with parts
unwired, so a model that will not wire them still finishes its design.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field, replace

import torch

from agents.grammar import DesignGrammar

_KEYS_WITH_ARRAYS = (b"parts", b"nets", b"pins")
CLOSING_RESERVE = 64  # tokens: enough to finish a net name and a pin reference, then close ("]}]}")
STRUCTURAL_BYTES = b'"[],'  # outside a string only these change what the rules see; a string closes at '"'


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

    @property
    def in_pins(self) -> bool:
        """Inside a net's pins array."""
        return bool(self.arrays) and self.arrays[-1] == b"pins"

    def feed(self, data: bytes) -> _Scan:
        """The scan after ``data`` (a new object; ``self`` is left as it was)."""
        scan = replace(self)
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
                self.nets, self.net_pins = self.nets + 1, 0
        elif char == b"]":
            closed = self.arrays[-1] if self.arrays else b""
            self.arrays = self.arrays[:-1]
            self.nets_closed = self.nets_closed or closed == b"nets"
            self.awaiting_pin = False
        elif char == b",":
            self.awaiting_pin = self.in_pins
        self.after_colon = char == b":"

    def _close_string(self) -> None:
        text = self.string or b""
        if self.string_kind == "pin":
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
    _unused: list[bytes] = field(default_factory=list)  # sorted pin references not used yet

    def __post_init__(self) -> None:
        self._pins = sorted(p.encode() for p in self.grammar.pin_refs)
        self._refs = frozenset(ref.encode() for ref in self.grammar.refs)
        self._scan = _Scan().feed(self.grammar.prefix.encode())
        self._refresh()

    def consume(self, data: bytes) -> None:
        self._scan = self._scan.feed(data)
        self._refresh()

    def _refresh(self) -> None:
        used = set(self._scan.pins)
        self._unused = [p for p in self._pins if p not in used]

    def restrict(self, allowed: torch.Tensor, *, require_wiring: bool = True) -> None:
        """Clear in ``allowed`` (a bool mask over token ids) each token that breaks a rule. Without
        ``require_wiring`` (the token budget is nearly spent) the nets may close with parts unwired."""
        scan = self._scan
        if scan.nets_closed:
            return
        full_names = any(len(n) == self.grammar.max_net_name for n in scan.names)
        every_token = (scan.string is not None and scan.string_kind == "pin") or (
            scan.string_kind == "name" and full_names
        )
        candidates = allowed.nonzero().flatten() if every_token else self._structural(allowed)
        broken = [
            token
            for token in candidates.tolist()
            if self._breaks(scan.feed(self.pieces[token]), strict=True, wiring=require_wiring)
        ]
        if not broken:
            return
        before = allowed.clone()
        allowed[broken] = False
        if not allowed.any():  # the grammar's budget leaves no way to keep every rule: keep names unique
            allowed.copy_(before)
            lenient = [t for t in broken if self._breaks(scan.feed(self.pieces[t]), strict=False, wiring=False)]
            allowed[lenient] = False

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
        pins = after.pins[len(before.pins) :]
        if _repeats(before.pins, pins):
            return True
        unused = [p for p in self._unused if p not in pins] if pins else self._unused
        unwired = self._unwired(after)
        needed, capacity = len(unwired), self._capacity(after)
        if after.string is not None and after.string_kind == "pin":
            if not _has_prefix(unused, after.string):
                return True  # every pin this reference can still become is used
            capacity -= 1  # the open reference takes a slot, and wires a new part if it can still be one
            needed -= any(p.startswith(after.string) and p.split(b".", 1)[0] in unwired for p in unused)
        elif after.awaiting_pin and not unused:
            return True
        return wiring and needed > capacity  # the unwired parts would no longer fit in the nets allowed

    def _unwired(self, scan: _Scan) -> set[bytes]:
        return self._refs - {p.split(b".", 1)[0] for p in scan.pins}

    def _capacity(self, scan: _Scan) -> int:
        """How many more pins the design can still take: the open net's free slots, then new nets."""
        if scan.nets_closed:
            return 0
        per_net = self.grammar.max_pins_per_net
        here = per_net - scan.net_pins if scan.in_pins else 0
        return here + (self.grammar.max_nets - scan.nets) * per_net


def _repeats(earlier: tuple[bytes, ...], new: tuple[bytes, ...]) -> bool:
    return any(item in earlier or item in new[:i] for i, item in enumerate(new))


def _has_prefix(sorted_items: list[bytes], prefix: bytes) -> bool:
    i = bisect.bisect_left(sorted_items, prefix)
    return i < len(sorted_items) and sorted_items[i].startswith(prefix)
