"""The bill of materials as CSV: one row per part and value, with its refs and quantity.

Cells that a spreadsheet would read as a formula (``=``, ``+``, ``-``, ``@`` first) are prefixed
with an apostrophe: a user-added part's name must not run as a formula when the BOM is opened.
"""

from __future__ import annotations

import csv
import io
import re

from studio.circuit.resolve import ResolvedDesign
from studio.circuit.values import is_valid_value, parse_value

COLUMNS = ["refs", "value", "part_id", "name", "quantity"]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def to_bom_csv(resolved: ResolvedDesign) -> str:
    """Known parts grouped by part id and value ("4k7" and "4.7k" are one row), in ref order."""
    groups: dict[tuple[str, float | str], list[str]] = {}
    for dp in resolved.design.parts:
        part = resolved.parts.get(dp.ref)
        if part is None:
            continue
        value = dp.value or part.default_value or ""
        key = (part.id, parse_value(value) if is_valid_value(value) else value)
        groups.setdefault(key, []).append(dp.ref)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for refs in sorted(groups.values(), key=lambda refs: _natural(refs[0])):
        first = resolved.design_part(refs[0])
        part = resolved.parts[first.ref]
        value = first.value or part.default_value or ""
        row = [", ".join(sorted(refs, key=_natural)), value, part.id, part.name, str(len(refs))]
        writer.writerow([_cell(text) for text in row])
    return out.getvalue()


def _natural(ref: str) -> list[str | int]:
    """R2 before R10."""
    return [int(chunk) if chunk.isdigit() else chunk for chunk in re.split(r"(\d+)", ref)]


def _cell(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text
