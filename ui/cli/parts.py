"""`circuit-studio parts ...`: search, show, add, remove and list the knowledge base's parts.

Human output is plain-text tables; ``--json`` prints machine-readable JSON. Errors go to stderr with
exit code 2. Text from parts (which users write) has control characters escaped before it reaches
the terminal.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from components_db.catalog import PART_FILE_MAX_BYTES, parse_parts
from components_db.documents import DocumentError, parse_json, parse_yaml, read_text
from components_db.kb import KnowledgeBase
from components_db.schema import Part
from components_db.text import printable
from ui.cli.refusals import EXIT_REFUSED, InputError, reports_refusals

EXIT_OK, EXIT_ERROR = 0, EXIT_REFUSED


def register(sub: argparse._SubParsersAction) -> None:
    parts = sub.add_parser("parts", help="search, show, add, remove and list knowledge-base parts")
    commands = parts.add_subparsers(dest="parts_command", required=True, metavar="ACTION")

    search = commands.add_parser("search", help="parts matching a name, part number or description")
    search.add_argument("query")
    search.add_argument("--top", type=int, default=5, help="how many hits (default 5)")
    search.add_argument("--json", action="store_true")
    search.set_defaults(handler=run_search)

    show = commands.add_parser("show", help="a part's facts and pinout")
    show.add_argument("id")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=run_show)

    add = commands.add_parser("add", help="add your parts from a YAML or JSON file (one part or a list)")
    add.add_argument("file", type=Path)
    add.set_defaults(handler=run_add)

    edit = commands.add_parser("edit", help="replace your parts with the new versions in a YAML or JSON file")
    edit.add_argument("file", type=Path)
    edit.set_defaults(handler=run_edit)

    kicad = commands.add_parser(
        "import-kicad", help="a draft part file from a KiCad symbol (.kicad_sym), for you to complete and add"
    )
    kicad.add_argument(
        "library", type=Path, help="KiCad symbol library, e.g. /usr/share/kicad/symbols/Sensor.kicad_sym"
    )
    kicad.add_argument("symbol", help="the symbol's name in the library, e.g. BME280")
    kicad.add_argument("--id", help="the part id (default: from the symbol name, e.g. bme280)")
    kicad.add_argument("--out", type=Path, help="write the draft to this new file (default: print it)")
    kicad.set_defaults(handler=run_import_kicad)
    remove = commands.add_parser("remove", help="remove one of your parts")
    remove.add_argument("id")
    remove.set_defaults(handler=run_remove)

    listing = commands.add_parser("list", help="every part: id, name, category, source (builtin or user)")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=run_list)


@reports_refusals
def run_search(args: argparse.Namespace) -> int:
    if args.top < 1:
        raise InputError("--top must be at least 1")
    hits = KnowledgeBase.open().search(args.query, top=args.top)
    if args.json:
        print(json.dumps([h.model_dump(mode="json") for h in hits], indent=2))
    elif not hits:
        print("no parts found")
    else:
        rows = [[h.part_id, h.name, h.category.value, f"{h.score:.3f}", h.matched] for h in hits]
        print(table(["id", "name", "category", "score", "matched"], rows))
    return EXIT_OK


@reports_refusals
def run_show(args: argparse.Namespace) -> int:
    kb = KnowledgeBase.open()
    part = kb.get(args.id)
    if part is None:
        near = ", ".join(h.part_id for h in kb.nearest(args.id))
        raise InputError(f"no part {args.id!r} in the knowledge base" + (f"; did you mean: {near}?" if near else ""))
    if args.json:
        print(json.dumps({"source": kb.source_of(part.id), "part": part.model_dump(mode="json")}, indent=2))
    else:
        print(describe(part, kb.source_of(part.id) or ""))
    return EXIT_OK


def _read_parts(path: Path) -> list[Part]:
    """Parts from a YAML or JSON file (``.json``), validated; a refusal names the file and why."""
    text = read_text(path, PART_FILE_MAX_BYTES, "part file")
    try:
        entries = parse_json(text) if path.suffix.lower() == ".json" else parse_yaml(text)
    except DocumentError as exc:
        raise DocumentError(f"{path.name}: {exc}") from None
    return parse_parts(entries, path.name)


@reports_refusals
def run_import_kicad(args: argparse.Namespace) -> int:
    from components_db.kicad_symbols import draft_from_kicad, draft_yaml

    if args.out is not None and args.out.exists():
        raise InputError(f"{args.out} exists: give a new file for the draft")
    part = draft_from_kicad(args.library, args.symbol, args.id)
    text = draft_yaml(part, f"KiCad symbol {args.symbol} ({args.library.name})")
    if args.out is None:
        for line in text.splitlines():
            print(printable(line))
        return EXIT_OK
    args.out.write_text(text, encoding="utf-8")
    print(
        printable(
            f"draft of {part.id} ({len(part.pins)} pins) written to {args.out}: complete it, then "
            f"`circuit-studio parts add {args.out}`"
        ),
        file=sys.stderr,
    )
    return EXIT_OK


@reports_refusals
def run_add(args: argparse.Namespace) -> int:
    parts = _read_parts(args.file)
    KnowledgeBase.open().add_all(parts)
    print(f"added {len(parts)} part(s): {', '.join(p.id for p in parts)}")
    return EXIT_OK


@reports_refusals
def run_edit(args: argparse.Namespace) -> int:
    parts = _read_parts(args.file)
    KnowledgeBase.open().update_all(parts)
    print(f"updated {len(parts)} part(s): {', '.join(p.id for p in parts)}")
    return EXIT_OK


@reports_refusals
def run_remove(args: argparse.Namespace) -> int:
    KnowledgeBase.open().remove(args.id)
    print(f"removed {args.id}")
    return EXIT_OK


@reports_refusals
def run_list(args: argparse.Namespace) -> int:
    kb = KnowledgeBase.open()
    rows = [
        {"id": p.id, "name": p.name, "category": p.category.value, "source": kb.source_of(p.id)} for p in kb.parts()
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(table(["id", "name", "category", "source"], [list(r.values()) for r in rows]))
    for conflict in kb.conflicts:
        print(f"warning: {conflict}", file=sys.stderr)
    return EXIT_OK


def describe(part: Part, source: str) -> str:
    """A part as people read it: facts, then the pinout table, then usage notes."""
    lines = [f"{part.id} - {part.name} ({part.category.value}, {source})", part.description]
    if part.aliases:
        lines.append("aliases: " + ", ".join(part.aliases))
    if part.supply:
        nominal = f", nominal {part.supply.nominal_v:g} V" if part.supply.nominal_v is not None else ""
        lines.append(f"supply: {part.supply.min_v:g}..{part.supply.max_v:g} V{nominal}")
    if part.logic_level_v is not None:
        lines.append(f"logic level: {part.logic_level_v:g} V")
    if part.current_draw_ma is not None:
        lines.append(f"current draw: {part.current_draw_ma:g} mA")
    rows = [
        [
            pin.number,
            pin.name,
            pin.type.value,
            " ".join(role.value for role in pin.roles),
            " ".join(pin.aliases),
            _pin_limits(pin.voltage, pin.min_v, pin.max_v, pin.max_current_ma),
        ]
        for pin in part.pins
    ]
    notes = [f"note: {note}" for note in part.usage.notes]
    pinout = table(["pin", "name", "type", "roles", "aliases", "limits"], rows)
    return "\n".join([*map(printable, lines), "", pinout, *map(printable, notes)])


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Left-aligned columns separated by two spaces, with a dashed rule under the header."""
    cells = [[printable(str(c)) for c in row] for row in [list(headers), *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _pin_limits(voltage: float | None, min_v: float | None, max_v: float | None, max_ma: float | None) -> str:
    limits = []
    if voltage is not None:
        limits.append(f"{voltage:g} V")
    if min_v is not None or max_v is not None:
        limits.append(f"{'' if min_v is None else f'{min_v:g}'}..{'' if max_v is None else f'{max_v:g}'} V")
    if max_ma is not None:
        limits.append(f"max {max_ma:g} mA")
    return ", ".join(limits)
