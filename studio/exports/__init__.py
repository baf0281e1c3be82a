"""The files a design is exported to (a registry of format name, file name and renderer) and writing
them all or nothing. ``spice.exports.EXPORTS`` adds the SPICE netlist: what `circuit-studio export`,
`design` and the studio's download write.

Exports are files other tools open (tscircuit, Wokwi, ngspice, KiCad, a spreadsheet, a browser),
so a design with an unknown part or pin is refused as a whole: a file that silently lacks a part
is worse than no file.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from components_db.refusal import Refusal
from studio.circuit.resolve import ResolvedDesign
from studio.exports.bom import to_bom_csv
from studio.exports.circuit_json import to_circuit_json
from studio.exports.kicad import to_kicad_netlist
from studio.exports.wokwi import to_wokwi_diagram, wokwi_omissions
from studio.schematic.geometry import Layout
from studio.schematic.placement import layout_design
from studio.schematic.svg import render_svg


@dataclass(frozen=True)
class Export:
    """One file an export writes: its format name, file name, and the function that renders it."""

    name: str
    file: str
    render: Callable[[ResolvedDesign, Layout], str]
    omissions: Callable[[ResolvedDesign], list[str]] | None = None  # what the file leaves out, said to the user


def _json(elements: object) -> str:
    return json.dumps(elements, indent=2, ensure_ascii=False) + "\n"


CIRCUIT_JSON = Export("circuit_json", "circuit.json", lambda r, layout: _json(to_circuit_json(r, layout)))
WOKWI = Export("wokwi", "diagram.json", lambda r, layout: _json(to_wokwi_diagram(r, layout)), wokwi_omissions)
KICAD = Export("kicad", "netlist.net", lambda r, _layout: to_kicad_netlist(r))
BOM = Export("bom", "bom.csv", lambda r, _layout: to_bom_csv(r))
SVG = Export("svg", "schematic.svg", lambda r, layout: render_svg(r, layout, title=r.design.title))
CORE_EXPORTS = (CIRCUIT_JSON, WOKWI, KICAD, BOM, SVG)  # the SPICE netlist joins them in spice.exports


class ExportError(Refusal, ValueError):
    """A design that cannot be exported; the message lists what the knowledge base does not know."""


def write_exports(
    resolved: ResolvedDesign, out_dir: Path, *, exports: Sequence[Export], seed: int = 0
) -> dict[str, Path]:
    """Write each of ``exports`` into ``out_dir`` (created if needed); returns format name -> file written.

    All or nothing: everything is rendered, then written into a temporary folder beside ``out_dir``,
    then moved into place, so a refusal, a failing exporter or a failing write (a full disk) leaves
    ``out_dir`` as it was.
    Links are never followed there: a symlink in ``out_dir`` named like an export (``bom.csv`` ->
    somewhere) is replaced by the export and its target left alone, as a user re-exporting into a
    folder expects the folder, not some other file, to hold the result. A folder in the way of an
    export is refused before anything is moved.
    """
    if resolved.unresolved:
        problems = "; ".join(u.message for u in resolved.unresolved)
        raise ExportError(f"not exported: the design names parts or pins the knowledge base does not know: {problems}")
    layout = layout_design(resolved, seed=seed)
    texts = {export.file: export.render(resolved, layout) for export in exports}
    return write_files(out_dir, texts, names=[export.name for export in exports])


def export_omissions(resolved: ResolvedDesign, exports: Sequence[Export]) -> list[str]:
    """What the files leave out of this design (a part Wokwi has no element for), one line each."""
    return [line for export in exports if export.omissions for line in export.omissions(resolved)]


def write_files(out_dir: Path, texts: dict[str, str], *, names: list[str] | None = None) -> dict[str, Path]:
    """Write ``texts`` (file name -> text) into ``out_dir`` all or nothing (see ``write_exports``);
    returns ``names`` (default the file names) -> the path written."""
    folder = output_folder(out_dir)
    targets = [folder / name for name in texts]
    in_the_way = [t.name for t in targets if t.is_dir() and not t.is_symlink()]
    if in_the_way:
        raise ExportError(f"{out_dir}: {', '.join(in_the_way)} is a folder; nothing exported")
    staging = None
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
        for target, text in zip(targets, texts.values(), strict=True):
            (staging / target.name).write_text(text, encoding="utf-8")
        for target in targets:  # renames within one file system: only these could stop part-way
            os.replace(staging / target.name, target)  # replaces a link itself, never its target
    except OSError as exc:
        raise ExportError(f"{out_dir}: {exc.strerror or exc}; nothing exported") from None
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    return dict(zip(names or list(texts), targets, strict=True))


def output_folder(out_dir: Path) -> Path:
    """``out_dir`` as a folder that exists and can be written (made if needed), resolved; else an
    ``ExportError`` in one line (a file, a path under a file, ``/dev/null``, a folder not writable)."""
    check_output_folder(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"{out_dir}: cannot be made ({exc.strerror or exc}); give a folder you can write") from None
    return out_dir.resolve()


def check_output_folder(out_dir: Path) -> None:
    """Refuse, creating nothing, an ``out_dir`` that cannot be a folder to write in: a file (or
    ``/dev/null``), a path under a file, or under a folder this user cannot write. Commands call it
    before a long run, so the run is not wasted."""
    existing = out_dir.absolute()
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        where = "exists and is not a folder" if existing == out_dir.absolute() else f"{existing} is not a folder"
        raise ExportError(f"{out_dir}: {where}; give a folder for the exports")
    try:
        tempfile.TemporaryDirectory(dir=existing).cleanup()  # what writing there would meet (root too)
    except OSError as exc:
        reason = exc.strerror or exc
        raise ExportError(f"{out_dir}: cannot be written ({reason}); give a folder you can write") from None
