"""A draft part from a symbol of a KiCad symbol library (``.kicad_sym``, KiCad 6 and later; Debian's
``kicad-symbols`` installs them in /usr/share/kicad/symbols), read with kiutils: the symbol's pins with
their numbers, names and KiCad electrical types (the same types the ERC's pin-conflict matrix uses),
its description and datasheet. What a symbol cannot say (category, supply range, pin roles, the pins
a part needs to work) the user completes before ``circuit-studio parts add``.

    draft = draft_from_kicad(Path("/usr/share/kicad/symbols/Sensor.kicad_sym"), "BME280")
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from kiutils.symbol import Symbol, SymbolLib
from kiutils.utils import sexpr
from pydantic import ValidationError

from components_db.documents import DocumentError, read_text
from components_db.refusal import Refusal
from components_db.schema import PART_ID_PATTERN, Category, ElectricalType, Part

MAX_LIBRARY_BYTES = 20_000_000  # the largest library Debian ships is 9.5 MB (FPGA_Xilinx_Virtex7)
MAX_PINS = 400
UNNAMED = {"", "~"}  # KiCad's "no name" for a pin


class KicadImportError(Refusal, ValueError):
    """A library or symbol that cannot become a draft part; the message says why."""


def read_library(path: Path) -> SymbolLib:
    """The library at ``path``, refused readably when it is not a readable KiCad symbol library."""
    try:
        text = read_text(path, MAX_LIBRARY_BYTES, "KiCad symbol library")
    except DocumentError as exc:
        raise KicadImportError(str(exc)) from None
    if not text.lstrip().startswith("(kicad_symbol_lib"):
        raise KicadImportError(f"{path}: not a KiCad symbol library (it does not open with '(kicad_symbol_lib')")
    try:
        return SymbolLib.from_sexpr(sexpr.parse_sexp(text))
    except Exception:  # kiutils raises bare Exceptions (and worse) on text it cannot read
        raise KicadImportError(f"{path}: a damaged KiCad symbol library (it could not be parsed)") from None


def symbol_names(library: SymbolLib) -> list[str]:
    return [symbol.entryName for symbol in library.symbols]


def draft_from_kicad(path: Path, symbol_name: str, part_id: str | None = None) -> Part:
    """The draft part of ``symbol_name`` in the library at ``path`` (validated as every part is)."""
    library = read_library(path)
    symbol = _find(library, symbol_name, path)
    pins = _pins(library, symbol)
    if not pins:
        raise KicadImportError(f"{symbol_name} has no pins: nothing to wire")
    if len(pins) > MAX_PINS:
        raise KicadImportError(f"{symbol_name} has {len(pins)} pins; a part has at most {MAX_PINS}")
    properties = _properties(library, symbol)
    datasheet = properties.get("Datasheet", "")
    data = {
        "id": part_id or slug(symbol_name),
        "name": symbol_name,
        "category": Category.IC.value,
        "description": _one_line(properties.get("ki_description") or f"{symbol_name} (KiCad symbol)"),
        "datasheet": datasheet if datasheet not in UNNAMED else f"KiCad library {path.name}, symbol {symbol_name}",
        "pins": pins,
    }
    if properties.get("Value") and properties["Value"] != symbol_name:
        data["aliases"] = [properties["Value"]]
    try:
        return Part.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise KicadImportError(f"{symbol_name}: the draft is not a valid part ({where}: {first['msg']})") from None


def draft_yaml(part: Part, source: str) -> str:
    """The draft as a part file to complete, with what to complete said at its top."""
    body = yaml.safe_dump(
        part.model_dump(mode="json", exclude_defaults=True),
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=None,
        width=110,
    )
    categories = ", ".join(c.value for c in Category)
    header = (
        f"# Draft part from {source}: pins, numbers and electrical types are KiCad's.\n"
        "# Complete it, then: circuit-studio parts add THIS_FILE\n"
        f"#   category (now ic): one of {categories}\n"
        "#   supply: {min_v: ..., max_v: ...} and logic_level_v, from the datasheet\n"
        "#   each pin's roles (GROUND, I2C_SDA, I2C_SCL, GPIO, ...) and usage.required_pins (pins it needs wired)\n"
    )
    return header + body


def slug(name: str) -> str:
    """A part id from a symbol name: "BME280" -> "bme280", "LM7805_TO220" -> "lm7805-to220"."""
    text = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:64].strip("-")
    if not re.fullmatch(PART_ID_PATTERN, text):
        raise KicadImportError(f"cannot make a part id from {name!r}: give one with --id")
    return text


def pin_name(name: str, number: str) -> str:
    """A KiCad pin name in the knowledge base's pin-name grammar: the overbar of "~{CS}" becomes a "~"
    prefix ("~CS"), other characters outside the grammar become "_"; an unnamed pin takes its number."""
    if name.strip() in UNNAMED:
        return number
    text = re.sub(r"~\{([^}]*)\}", r"~\1", name.strip())
    text = re.sub(r"[^A-Za-z0-9_+\-/#~.]", "_", text)[:24]
    return text or number


def _find(library: SymbolLib, name: str, path: Path) -> Symbol:
    for symbol in library.symbols:
        if symbol.entryName == name:
            return symbol
    close = [n for n in symbol_names(library) if name.lower() in n.lower()][:5]
    hint = f"; similar: {', '.join(close)}" if close else f"; it has {len(library.symbols)} symbols"
    raise KicadImportError(f"{path.name} has no symbol {name!r}{hint}")


def _parent(library: SymbolLib, symbol: Symbol) -> Symbol:
    """The symbol a derived one (``extends``) takes its pins from."""
    seen = {symbol.entryName}
    while symbol.extends:
        parent = next((s for s in library.symbols if s.entryName == symbol.extends), None)
        if parent is None or parent.entryName in seen:
            raise KicadImportError(f"{symbol.entryName} extends {symbol.extends!r}, which the library lacks")
        seen.add(parent.entryName)
        symbol = parent
    return symbol


def _pins(library: SymbolLib, symbol: Symbol) -> list[dict]:
    """Every pin of every unit, once per pin number (stacked pins share one), in number order, each name
    once."""
    pins: dict[str, dict] = {}
    for unit in _parent(library, symbol).units:
        for pin in unit.pins:
            number = re.sub(r"[^A-Za-z0-9_]", "_", pin.number)[:8] or "_"
            kind = pin.electricalType if pin.electricalType in set(ElectricalType) else "unspecified"
            pins.setdefault(number, {"number": number, "name": pin_name(pin.name, number), "type": kind})
    ordered = sorted(pins.values(), key=lambda p: _natural(p["number"]))
    used: set[str] = set()
    for pin in ordered:  # a name KiCad repeats (GND on pins 1 and 7) becomes GND, GND2, ... as in the catalog
        name, count = pin["name"], 1
        while name.upper() in used:  # taken already (names are unique regardless of case, as Part checks)
            count += 1
            name = f"{pin['name'][:22]}{count}"
        pin["name"] = name
        used.add(name.upper())
    return ordered


def _properties(library: SymbolLib, symbol: Symbol) -> dict[str, str]:
    """The symbol's properties, a derived symbol's over its parent's."""
    base = {p.key: p.value for p in _parent(library, symbol).properties}
    return base | {p.key: p.value for p in symbol.properties}


def _one_line(text: str) -> str:
    return " ".join(text.split())[:2000]


def _natural(number: str) -> tuple:
    return tuple(int(t) if t.isdigit() else t for t in re.findall(r"\d+|\D+", number))
