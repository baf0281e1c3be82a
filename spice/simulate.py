"""Simulate a resolved design with ngspice: operating point, limit checks, topology analyses.

``simulate`` never raises for a bad circuit: a netlist ngspice rejects or cannot solve, or a
solution that cannot be physical, becomes ``ok=False`` with the reason, so a caller (CLI, UI,
pipeline) can show it next to the ERC.
"""

from __future__ import annotations

from spice import engine
from spice.analyses import run_analyses
from spice.checks import check_limits, implausible, operating_point
from spice.netlist import build_netlist
from spice.results import SpiceReport
from studio.circuit.resolve import ResolvedDesign


def simulate(resolved: ResolvedDesign, *, analyses: bool = True) -> SpiceReport:
    netlist = build_netlist(resolved)
    deck = netlist.render()
    base = {"netlist": deck, "notes": list(netlist.notes), "assumptions": netlist.assumptions}
    if not any(card[0] != "*" and not card.startswith(".model") for card in netlist.cards):
        return SpiceReport(ok=False, error="nothing to simulate: no part of the design has a SPICE model", **base)
    try:
        vectors = engine.run(deck)
    except engine.SimulationError as exc:
        return SpiceReport(ok=False, error=f"operating point failed: {exc}", **base)
    unphysical = implausible(netlist, vectors)
    if unphysical:
        return SpiceReport(ok=False, error=unphysical, **base)
    done, notes = run_analyses(resolved, netlist, vectors) if analyses else ([], [])
    base["notes"] += notes
    return SpiceReport(
        ok=True,
        operating_point=operating_point(netlist, vectors),
        findings=check_limits(netlist, vectors),
        analyses=done,
        **base,
    )
