"""Text users wrote (part names, titles, requests), made safe to print on a terminal or draw in XML.

Part files, designs and requests come from users; an escape sequence in a part name must not
repaint the terminal, and a control character in a title must not make ``schematic.svg`` invalid
XML. Everything that prints or draws user text goes through one of these two functions.
"""

from __future__ import annotations

import re
import unicodedata

# C0/C1 controls and DEL, plus the bidirectional overrides that reorder what a reader sees
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """One terminal line: control characters shown as escapes (``\\x1b``), never interpreted."""
    return _UNSAFE.sub(lambda m: m[0].encode("unicode_escape").decode("ascii"), text)


def drawable(text: str) -> str:
    """Text valid inside XML 1.0 (SVG, KiCad's s-expressions are fine with it too): controls dropped,
    lone surrogates and non-characters removed. Markup escaping is still the writer's job."""
    cleaned = _UNSAFE.sub("", text)
    return "".join(c for c in cleaned if unicodedata.category(c) not in ("Cs", "Cn") or c.isprintable())
