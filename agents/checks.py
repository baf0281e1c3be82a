"""One call that checks a design the way the CLI `check`, the studio's Check button and the pipeline
do: bind it to the knowledge base, run the ERC, simulate it with ngspice, and, given the request, hold
the design against what the request asks for (``studio.intent``).

Two findings join the ERC from outside its rule groups, because the netlist alone cannot decide them:
an LED whose simulated current exceeds its maximum, and a simulated value (a 555's frequency, a filter's
cutoff, a rail, an LED current) more than 20 % from the number the request states."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from components_db.documents import DocumentError, read_text
from spice.simulate import SpiceReport, simulate
from studio.circuit.design import MAX_DESIGN_BYTES, Design, DesignError
from studio.circuit.resolve import ResolvedDesign
from studio.circuit.values import format_value
from studio.erc import run_erc, with_findings
from studio.erc.findings import ErcReport, Violation
from studio.erc.registry import violation
from studio.intent import IntentReport, RequestReading, check_intent
from studio.schematic.svg import draw_schematic


class CheckReport(BaseModel):
    design: Design
    erc: ErcReport
    spice: SpiceReport | None
    intent: IntentReport | None = None  # with a request: is the design what it asked for

    @property
    def passed(self) -> bool:
        """The pass@1 verdict: no fatal and no major ERC violation."""
        return self.erc.passed

    @property
    def right(self) -> bool:
        """What a user would accept: the ERC passes and the design is what was asked (with a request)."""
        return self.erc.passed and (self.intent is None or self.intent.met)


def read_design(path: Path) -> Design:
    """A design file, refused with a readable DesignError when missing, not a regular file (a folder,
    ``/proc``), larger than ``MAX_DESIGN_BYTES``, not UTF-8 or malformed (``components_db.documents``)."""
    try:
        text = read_text(path, MAX_DESIGN_BYTES, "design file")
    except DocumentError as exc:
        raise DesignError([str(exc)]) from None
    return Design.from_json(text)


def check_design(
    resolved: ResolvedDesign, *, run_spice: bool = True, reading: RequestReading | None = None
) -> CheckReport:
    """The ERC, the simulation (unless ``run_spice`` is off) and, given the request's ``reading``, the
    intent check of a design bound to the knowledge base."""
    erc = run_erc(resolved)
    spice = simulate(resolved) if run_spice else None
    measured = spice.measured() if spice is not None else None
    intent = check_intent(reading, resolved, measured) if reading is not None else None
    found = simulated_led_overcurrent(erc, spice) + (off_target(intent) if intent is not None else [])
    return CheckReport(design=resolved.design, erc=with_findings(erc, found), spice=spice, intent=intent)


def check_and_draw(
    resolved: ResolvedDesign,
    *,
    run_spice: bool = True,
    reading: RequestReading | None = None,
    seed: int = 0,
    title: str | None = None,
) -> tuple[CheckReport, str]:
    """A design checked (``check_design``) and drawn (SVG): what the studio shows for any design and the
    pipeline for the reference designer's suggestion."""
    check = check_design(resolved, run_spice=run_spice, reading=reading)
    return check, draw_schematic(resolved, seed=seed, title=title)


def simulated_led_overcurrent(erc: ErcReport, spice: SpiceReport | None) -> list[Violation]:
    """SPICE's LED overcurrent findings, for LEDs the ERC's own estimate did not already report."""
    if spice is None:
        return []
    known = {ref for v in erc.violations if v.rule == "led-overcurrent" for ref in v.refs}
    return [
        violation(
            "led-overcurrent-simulated",
            f"SPICE: {f.message}; the LED (and what drives it) can burn out.",
            "Raise its series resistance until the simulated current is at most half its maximum.",
            refs=f.refs,
        )
        for f in spice.findings
        if f.rule == "led_overcurrent" and not known.intersection(f.refs)
    ]


def off_target(intent: IntentReport) -> list[Violation]:
    """A finding per number of the request that the simulated design misses by more than 20 %."""
    found = []
    for r in intent.off_target:
        stated, got = r.stated or 0.0, r.found or 0.0
        where = f"net {r.net}" if r.net else ", ".join(r.refs)
        found.append(
            violation(
                "spice-off-target",
                f"The request asks for {r.text} ({format_value(stated, r.unit)}), but SPICE gives "
                f"{format_value(got, r.unit)} ({where}): {abs(got - stated) / stated:.0%} off.",
                "Change the values that set it (timing resistors and capacitor, the regulator, the series resistor) "
                f"so that the simulation gives {format_value(stated, r.unit)} within 20 %.",
                refs=r.refs,
                net=r.net,
            )
        )
    return found
