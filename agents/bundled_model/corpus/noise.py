"""Noise on a written request: units written several ways, misspellings and typos, part numbers without
hyphens, casing; and the unknown names found back in the noisy text. ``render_units`` writes the
``{v:12}`` / ``{a:500}`` / ``{r:10000}`` / ``{t:30}`` placeholders of ``phrasings.UNIT_DETAILS``."""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Sequence

from agents.bundled_model.corpus.phrasings import MISSPELLINGS, NUMBER_WORDS

_VOLTS = re.compile(r"\b(\d+(?:\.\d+)?)\s?(?:V|v|volts?|-volt)\b")
_KOHMS = re.compile(r"\b(\d+)k(?=\s(?:pot|NTC|ohm))")
_PLACEHOLDER = re.compile(r"\{([vart]):(\d+(?:\.\d+)?)\}")
_WORD = re.compile(r"(?<![\w-])[A-Za-z]+(?![\w-])")
_KEYS = "qwertyuiopasdfghjklzxcvbnm"
MISSPELL_REQUESTS = 0.22  # the share of requests that get misspellings of MISSPELLINGS words
MISSPELL_WORDS = 0.45  # the share of those words misspelled in such a request


def _n(x: float) -> str:
    return f"{x:g}"


def volts_text(v: float, r: random.Random) -> str:
    """``v`` volts as people write it: 12V, 12 volts, twelve volt, 3v3, 5V0, 3,3 V."""
    n = _n(v)
    forms = [f"{n}V", f"{n} V", f"{n}v", f"{n} volts", f"{n} volt", f"{n}-volt", f"{n}V", f"{n} V"]
    if v in (3.3, 5.0, 1.8):
        whole, frac = f"{v:.1f}".split(".")
        forms += [f"{whole}V{frac}", f"{whole}v{frac}"]
    if "." in n:
        forms += [f"{n.replace('.', ',')} V", f"{n.replace('.', ',')}V"]
    if v == int(v) and int(v) in NUMBER_WORDS:
        forms += [f"{NUMBER_WORDS[int(v)]} volt", f"{NUMBER_WORDS[int(v)]} volts"]
    return r.choice(forms)


def amps_text(ma: float, r: random.Random) -> str:
    """``ma`` milliamps: 500mA, 500 mA, 0.5 A, half an amp, 2A, two amps."""
    a = _n(ma / 1000)
    forms = [f"{_n(ma)}mA", f"{_n(ma)} mA"] + ([f"{a} A", f"{a}A", f"{a} amps"] if ma >= 100 else [])
    forms += {500: ["half an amp"], 1000: ["one amp", "1 amp"], 2000: ["two amps", "2 amps"]}.get(int(ma), [])
    return r.choice(forms)


def ohms_text(ohm: float, r: random.Random) -> str:
    """``ohm`` ohms: 1k, 1 kΩ, 1000 ohm, 10K, 10 kohm, 220R."""
    if ohm < 1000:
        n = _n(ohm)
        return r.choice([n, f"{n} Ω", f"{n}R", f"{n} ohm", f"{n}ohm", f"{n} ohms"])
    k = _n(ohm / 1000)
    forms = [f"{k}k", f"{k}K", f"{k} k", f"{k} kΩ", f"{k}kΩ", f"{k} kohm", f"{k}k ohm", f"{_n(ohm)} ohm"]
    return r.choice([*forms, f"{ohm:,.0f} ohms"])


def temp_text(c: float, r: random.Random) -> str:
    """``c`` degrees Celsius: 30C, 30 °C, 30 degrees, thirty degrees."""
    n = _n(c)
    forms = [f"{n}C", f"{n} C", f"{n} °C", f"{n}°C", f"{n} degrees", f"{n} deg C", f"{n}°", f"{n} degrees C"]
    if c == int(c) and int(c) in NUMBER_WORDS:
        forms.append(f"{NUMBER_WORDS[int(c)]} degrees")
    return r.choice(forms)


_UNIT_FORMS = {"v": volts_text, "a": amps_text, "r": ohms_text, "t": temp_text}


def render_units(text: str, r: random.Random) -> str:
    """The ``{v:12}`` (volts), ``{a:500}`` (mA), ``{r:10000}`` (ohms), ``{t:30}`` (deg C) placeholders written out."""
    return _PLACEHOLDER.sub(lambda m: _UNIT_FORMS[m[1]](float(m[2]), r), text)


def _units(text: str, r: random.Random) -> str:
    text = _VOLTS.sub(lambda m: volts_text(float(m[1]), r), text)
    return _KOHMS.sub(lambda m: ohms_text(float(m[1]) * 1000, r), text)


def _misspell(text: str, r: random.Random, guarded: set[str]) -> str:
    """Phonetic and keyboard misspellings of whole common words (``MISSPELLINGS``), casing kept."""

    def swap(m: re.Match) -> str:
        word = m[0]
        options = MISSPELLINGS.get(word.lower())
        if not options or word.lower() in guarded or r.random() >= MISSPELL_WORDS:
            return word
        new = r.choice(options)
        if word.isupper() and len(word) > 1:
            return new.upper()
        return new[:1].upper() + new[1:] if word[:1].isupper() else new

    return _WORD.sub(swap, text)


def _outside(text: str, protect: Sequence[str], edit) -> str:
    """``edit`` applied to the text outside the ``protect`` names (which stay as written)."""
    names = [n for n in protect if n]
    if not names:
        return edit(text)
    pieces = re.split("(" + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)) + ")", text)
    return "".join(p if i % 2 else edit(p) for i, p in enumerate(pieces))


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
    text = _outside(text, protect, lambda t: _units(t, r)) if r.random() < 0.6 else text
    guarded = {w.lower() for name in protect for w in name.split()}
    if r.random() < MISSPELL_REQUESTS:
        text = _misspell(text, r, guarded)
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
    return "\n".join(" ".join(line.split()) for line in text.split("\n") if line.strip())


def surface_unknown(request: str, names: Iterable[str]) -> list[str] | None:
    """The unknown names as the request writes them (its casing); None if one is missing."""
    found = []
    for name in names:
        i = request.lower().find(name.lower())
        if i < 0:
            return None
        found.append(request[i : i + len(name)])
    return found
