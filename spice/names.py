"""Safe SPICE identifiers and numbers.

Everything a design or a user-added part supplies (net names, refs, pin names, titles) is reduced
to ``[A-Za-z0-9_]`` before it reaches a netlist, so no text can start a new card, a ``.control``
block or a ``shell`` command. ngspice folds case, so uniqueness is checked case-insensitively.
"""

from __future__ import annotations

import math
import re

GROUND = "0"
_UNSAFE = re.compile(r"[^A-Za-z0-9_]+")
_SYMBOL_WORDS = {"+": "plus", "-": "minus", "~": "not"}


def sanitise(text: str, fallback: str = "x") -> str:
    """``'LED+A/1'`` -> ``'LED_A_1'``, ``'+'`` -> ``'plus'``; never empty, never over 40 characters."""
    cleaned = _UNSAFE.sub("_", text).strip("_")[:40]
    return cleaned or _SYMBOL_WORDS.get(text.strip(), fallback)


def comment_text(text: str) -> str:
    """A single line of plain words for a ``*`` comment or the title (no dots: nothing reads as a card)."""
    return re.sub(r"[^A-Za-z0-9 _,:()+\-]+", " ", text).strip()[:120]


def spice_number(value: float) -> str:
    """A plain exponent number ngspice reads the same way everywhere (``'M'`` would mean milli)."""
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {value}")
    return f"{value:.6g}"


class NameRegistry:
    """Hands out unique element names and node names for one netlist."""

    def __init__(self) -> None:
        self._taken: set[str] = {GROUND}

    def claim(self, wanted: str) -> str:
        """``wanted`` made safe, with ``_2``, ``_3``... appended until no other name folds to it."""
        base = sanitise(wanted)
        name, index = base, 1
        while name.lower() in self._taken:
            index += 1
            name = f"{base}_{index}"
        self._taken.add(name.lower())
        return name

    def element(self, letter: str, *parts: str) -> str:
        """An element name: the SPICE type letter, then the sanitised ref (and suffixes)."""
        return self.claim(letter + "_" + "_".join(sanitise(p) for p in parts))

    def node(self, *parts: str) -> str:
        """A node name; a leading ``n_`` keeps nets named ``0`` or ``1`` off the ground node."""
        return self.claim("n_" + "_".join(sanitise(p) for p in parts))
