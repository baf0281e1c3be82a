"""`circuit-studio check` and `circuit-studio export`: the design toolkit from the command line.

Exit codes of `check`: 0 the design passes (no fatal, no major violation; with ``--request``, and it is
what the request asks for), 1 it fails, 2 the input cannot be read. `export` writes nothing unless every
part and pin is known.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from agents.checks import CheckReport, check_design, read_design
from agents.request import RequestError, clean_request
from components_db import KnowledgeBase
from components_db.text import printable
from spice.exports import EXPORTS
from spice.results import SpiceReport
from studio.circuit.design import MAX_DESIGN_BYTES, MAX_NETS, MAX_PARTS, MAX_PINS_PER_NET, MAX_TOTAL_PINS
from studio.circuit.resolve import resolve
from studio.exports import export_omissions, write_exports
from studio.intent import IntentReport, RequestReader
from ui.cli.refusals import EXIT_REFUSED, InputError, reports_refusals

EXIT_PASS, EXIT_FAIL, EXIT_INVALID = 0, 1, EXIT_REFUSED
DESIGN_HELP = (
    f"design JSON file (at most {MAX_DESIGN_BYTES // 1000} kB, {MAX_PARTS} parts, {MAX_NETS} nets, "
    f"{MAX_PINS_PER_NET} pins a net, {MAX_TOTAL_PINS} pin references)"
)


def register(sub: argparse._SubParsersAction) -> None:
    check = sub.add_parser("check", help="electrical rule check and SPICE simulation of a design JSON")
    check.add_argument("design", type=Path, help=DESIGN_HELP)
    check.add_argument("--json", action="store_true", help="print the full report as JSON")
    check.add_argument("--no-spice", action="store_true", help="skip the SPICE simulation")
    check.add_argument(
        "--request", metavar="TEXT", help="also check that the design is what this request asks for (intent check)"
    )
    check.set_defaults(handler=run_check)
    export = sub.add_parser("export", help="write Circuit JSON, Wokwi, SPICE, KiCad, BOM and SVG files")
    export.add_argument("design", type=Path, help=DESIGN_HELP)
    export.add_argument(
        "--out", type=Path, required=True, help="output folder (created if needed; written all or nothing)"
    )
    export.set_defaults(handler=run_export)


@reports_refusals
def run_check(args: argparse.Namespace) -> int:
    design = read_design(args.design)
    try:
        request = clean_request(args.request).text if args.request is not None else None
    except RequestError as exc:
        raise InputError(f"--request: {exc}") from None
    kb = KnowledgeBase.open()
    reading = RequestReader(kb).read(request) if request is not None else None
    report = check_design(resolve(design, kb), run_spice=not args.no_spice, reading=reading)
    print(report.model_dump_json(indent=2) if args.json else format_check(report))
    return EXIT_PASS if report.right else EXIT_FAIL


@reports_refusals
def run_export(args: argparse.Namespace) -> int:
    design = read_design(args.design)
    resolved = resolve(design, KnowledgeBase.open())
    written = write_exports(resolved, args.out, exports=EXPORTS)
    for name, path in written.items():
        print(printable(f"{name:<12} {path}"))
    for line in export_omissions(resolved, EXPORTS):
        print(printable(f"note: {line}"))
    return EXIT_PASS


def format_check(report: CheckReport) -> str:
    """The report for a terminal; user text (part names, values, the request) is shown with its control
    characters escaped (``components_db.text.printable``), so an escape sequence cannot repaint it."""
    erc = report.erc
    lines = [
        f"ERC: {'PASS' if erc.passed else 'FAIL'} - {len(erc.violations)} finding(s), "
        f"structural {erc.structural_score:.2f}, electrical {erc.electrical_score:.2f}"
    ]
    for v in erc.violations:
        where = ", ".join(v.pins or v.refs) + (f" on net {v.net}" if v.net else "")
        lines.append(f"  [{v.severity.value}] {v.rule}: {v.message}" + (f" ({where})" if where else ""))
        lines.append(f"      fix: {v.fix}")
    if report.spice is not None:
        lines += format_spice(report.spice)
    if report.intent is not None:
        lines += format_intent(report.intent)
    return "\n".join(printable(line) for line in lines)


def format_intent(intent: IntentReport) -> list[str]:
    if not intent.understood:
        return [f"Intent: {intent.verdict}"]
    lines = [f"Intent: {'MET' if intent.met else 'NOT MET'} - score {intent.score:.2f}"]
    lines += [f"  [{r.status}] {r.kind} {r.text}: {r.detail}" for r in intent.requirements]
    lines += [f"  substituted: {s.used} ({', '.join(s.refs)}) for {s.named} - {s.why}" for s in intent.substitutions]
    return lines


def format_spice(spice: SpiceReport) -> list[str]:
    if not spice.ok:
        return [f"SPICE: not simulated - {spice.error}"]
    lines = [f"SPICE operating point: {len(spice.findings)} finding(s)"]
    op = spice.operating_point
    if op is not None:
        if op.rail_voltages:
            lines.append("  rails: " + ", ".join(f"{net} {v:.3g} V" for net, v in op.rail_voltages.items()))
        if op.led_currents_ma:
            lines.append("  LED currents: " + ", ".join(f"{ref} {i:.3g} mA" for ref, i in op.led_currents_ma.items()))
    lines += [f"  [{f.severity}] {f.message}" for f in spice.findings]
    for analysis in spice.analyses:
        lines.append(f"  {analysis.title}:")
        lines += [
            f"    {row.quantity}: {row.simulated}" + (f" (expected {row.expected})" if row.expected else "")
            for row in analysis.rows
        ]
    lines += [f"  assumed: {text}" for text in spice.assumptions]
    lines += [f"  note: {text}" for text in spice.notes]
    return lines
