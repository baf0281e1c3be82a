"""Component values in engineering notation: parsing (``components_db.values``, where a part's
``default_value`` is validated with the same grammar) and formatting for netlists and reports."""

from __future__ import annotations

from components_db.values import UNITS, InvalidValueError, parse_value

__all__ = ["UNITS", "InvalidValueError", "format_value", "is_valid_value", "parse_value"]


def is_valid_value(text: str) -> bool:
    try:
        parse_value(text)
    except ValueError:
        return False
    return True


def format_value(number: float, unit: str = "") -> str:
    """220.0 -> '220', 4700 -> '4.7k', 1e-7 -> '100n' (the SPICE-safe short form)."""
    if number == 0:
        return f"0{unit}"
    for prefix, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3), ("", 1.0), ("m", 1e-3), ("u", 1e-6), ("n", 1e-9)):
        if abs(number) >= scale * 0.999999:
            return f"{number / scale:.4g}{prefix}{unit}"
    return f"{number / 1e-12:.4g}p{unit}"
