"""Component values in engineering notation ("220", "4k7", "10 kΩ", "100nF", "4.7uF", "1M"): the grammar.

It lives in the knowledge base's package because a part's ``default_value`` is validated with it
(``components_db`` imports nothing from ``studio``); ``studio.circuit.values`` adds formatting on top.

A value is a short, strict token: it can never carry a newline, a SPICE card or a shell word, so
validating it here is the first line of defence for every netlist built from a design.
"""

from __future__ import annotations

import re

from components_db.refusal import Refusal

MULTIPLIERS = {
    "f": 1e-15,
    "p": 1e-12,
    "n": 1e-9,
    "u": 1e-6,
    "µ": 1e-6,
    "μ": 1e-6,
    "m": 1e-3,
    "": 1.0,
    "k": 1e3,
    "K": 1e3,
    "M": 1e6,
    "meg": 1e6,
    "G": 1e9,
}
UNITS = ("ohm", "ohms", "Ω", "R", "F", "H", "V", "A", "Hz", "W", "%")
VALUE_MAX_LENGTH = 24

_NUMBER = r"(?P<num>\d+(?:\.\d+)?|\.\d+)"
_PREFIX = r"(?P<prefix>meg|[fpnuµμmkKMG]?)"
_UNIT = r"(?P<unit>ohms?|Ω|R|F|H|V|A|Hz|W|%)?"
_PLAIN = re.compile(rf"{_NUMBER}\s?{_PREFIX}\s?{_UNIT}")
# "4k7", "2R2", "4u7": the prefix letter stands for the decimal point
_ALLOWED = re.compile(r"[0-9.a-zA-ZΩµμ% ]+")
_INFIX = re.compile(r"(?P<whole>\d+)(?P<prefix>[pnuµμmkKMGR])(?P<frac>\d+)\s?(?P<unit>ohms?|Ω|F|H)?")


class InvalidValueError(Refusal, ValueError):
    """A component value that is not a plain engineering-notation number."""


def parse_value(text: str) -> float:
    """The value in base SI units; raises ``ValueError`` with a readable reason otherwise."""
    token = text.strip()
    if not token:
        raise InvalidValueError("value is empty")
    if len(token) > VALUE_MAX_LENGTH or not _ALLOWED.fullmatch(token):
        raise InvalidValueError(
            f"value {_preview(text)} is not a number in engineering notation (e.g. 220, 4k7, 100nF)"
        )
    match = _PLAIN.fullmatch(token)
    if match:
        number = float(match["num"])
        prefix = match["prefix"]
        return number * MULTIPLIERS[prefix]
    match = _INFIX.fullmatch(token)
    if match:
        number = float(f"{match['whole']}.{match['frac']}")
        prefix = match["prefix"]
        return number * (1.0 if prefix == "R" else MULTIPLIERS[prefix])
    raise InvalidValueError(f"value {_preview(text)} is not a number in engineering notation (e.g. 220, 4k7, 100nF)")


def _preview(text: str) -> str:
    shown = text if len(text) <= 30 else text[:27] + "..."
    return repr(shown)
