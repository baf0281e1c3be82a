"""Noise on a written request: units written several ways, typos, part numbers without hyphens, casing;
and the unknown names found back in the noisy text."""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Sequence

_VOLTS = re.compile(r"\b(\d+(?:\.\d+)?)\s?(?:V|v|volts?|-volt)\b")
_KEYS = "qwertyuiopasdfghjklzxcvbnm"


def _volts(m: re.Match, r: random.Random) -> str:
    n = m[1]
    return r.choice([f"{n} V", f"{n}V", f"{n} volt", f"{n}-volt", f"{n}v", f"{n} V", f"{n}V"])


def _typo(word: str, r: random.Random) -> str:
    i = r.randrange(len(word) - 1)
    x = r.random()
    if x < 0.3:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if x < 0.55:
        return word[:i] + word[i + 1 :]
    if x < 0.75:
        return word[:i] + word[i] + word[i:]
    return word[:i] + r.choice(_KEYS) + word[i + 1 :]


def noisy(text: str, r: random.Random, protect: Sequence[str] = ()) -> str:
    """Units written several ways, typos, part numbers without hyphens, casing; ``protect`` words
    (the unknown names, which the answer copies) are left as written apart from casing."""
    text = _VOLTS.sub(lambda m: _volts(m, r), text) if r.random() < 0.6 else text
    guarded = {w.lower() for name in protect for w in name.split()}
    if r.random() < 0.3:
        rate = r.choice([0.04, 0.08, 0.12])
        words = text.split(" ")
        for i, w in enumerate(words):
            if w.lower().strip(".,?!") in guarded:
                continue
            if len(w) >= 4 and w.isalpha() and r.random() < rate:
                words[i] = _typo(w, r)
            elif "-" in w and any(c.isdigit() for c in w) and r.random() < 0.15:
                words[i] = w.replace("-", r.choice(["", " "]))
        text = " ".join(words)
    x = r.random()
    if x < 0.12:
        text = text.lower()
    elif x < 0.14:
        text = text.upper()
    elif x < 0.2:
        text = " ".join(w.capitalize() if r.random() < 0.3 else w for w in text.split(" "))
    if r.random() < 0.1:
        text = text.rstrip(".?!")
    return " ".join(text.split())


def surface_unknown(request: str, names: Iterable[str]) -> list[str] | None:
    """The unknown names as the request writes them (its casing); None if one is missing."""
    found = []
    for name in names:
        i = request.lower().find(name.lower())
        if i < 0:
            return None
        found.append(request[i : i + len(name)])
    return found
