"""Every export of a design in one call: what `circuit-studio export` and the studio's download offer.

Exports are files other tools open (tscircuit, Wokwi, ngspice, KiCad, a spreadsheet, a browser),
so a design with an unknown part or pin is refused as a whole: a file that silently lacks a part
is worse than no file.
"""

from __future__ import annotations

import json
from pathlib import Path

from spice.netlist import netlist_text
from studio.circuit_json import to_circuit_json
from studio.exports.bom import to_bom_csv
from studio.exports.kicad import to_kicad_netlist
from studio.exports.wokwi import to_wokwi_diagram, wokwi_omissions
from studio.layout import layout_design
from studio.resolve import ResolvedDesign
from studio.svg import render_svg

__all__ = ["ExportError", "to_bom_csv", "to_kicad_netlist", "to_wokwi_diagram", "wokwi_omissions", "write_exports"]

FILES = {
    "circuit_json": "circuit.json",
    "wokwi": "diagram.json",
    "spice": "circuit.cir",
    "kicad": "netlist.net",
    "bom": "bom.csv",
    "svg": "schematic.svg",
}


class ExportError(ValueError):
    """A design that cannot be exported; the message lists what the knowledge base does not know."""


def write_exports(resolved: ResolvedDesign, out_dir: Path, *, seed: int = 0) -> dict[str, Path]:
    """Write every export into ``out_dir`` (created if needed); returns format name -> file written.

    Everything is rendered before the first file is written, so a refusal or a failing exporter
    leaves ``out_dir`` untouched.
    """
    if resolved.unresolved:
        problems = "; ".join(u.message for u in resolved.unresolved)
        raise ExportError(f"not exported: the design names parts or pins the knowledge base does not know: {problems}")
    layout = layout_design(resolved, seed=seed)
    contents = {
        "circuit_json": json.dumps(to_circuit_json(resolved, layout), indent=2, ensure_ascii=False) + "\n",
        "wokwi": json.dumps(to_wokwi_diagram(resolved, layout), indent=2, ensure_ascii=False) + "\n",
        "spice": netlist_text(resolved),
        "kicad": to_kicad_netlist(resolved),
        "bom": to_bom_csv(resolved),
        "svg": render_svg(resolved, layout, title=resolved.design.title),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for name, text in contents.items():
        written[name] = out_dir / FILES[name]
        written[name].write_text(text, encoding="utf-8")
    return written
