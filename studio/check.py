"""One call that checks a design the way the CLI `check` and the studio's Check button do:
bind it to the knowledge base, run the ERC, simulate it with ngspice."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from spice.simulate import SpiceReport, simulate
from studio.design import Design, DesignError
from studio.erc import run_erc
from studio.erc.report import ErcReport
from studio.resolve import PartLookup, resolve

MAX_DESIGN_BYTES = 2_000_000


class CheckReport(BaseModel):
    design: Design
    erc: ErcReport
    spice: SpiceReport | None

    @property
    def passed(self) -> bool:
        """The pass@1 verdict: no fatal and no major ERC violation (SPICE findings inform, ERC decides)."""
        return self.erc.passed


def read_design(path: Path) -> Design:
    """A design file, refused with a readable DesignError when missing, huge or malformed."""
    if not path.is_file():
        raise DesignError([f"{path}: no such file"])
    if path.stat().st_size > MAX_DESIGN_BYTES:
        raise DesignError([f"{path}: larger than {MAX_DESIGN_BYTES // 1_000_000} MB; not a design file"])
    return Design.from_json(path.read_bytes())


def check_design(design: Design, lookup: PartLookup, *, run_spice: bool = True) -> CheckReport:
    resolved = resolve(design, lookup)
    erc = run_erc(resolved)
    spice = simulate(resolved) if run_spice else None
    return CheckReport(design=design, erc=erc, spice=spice)
