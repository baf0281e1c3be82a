"""A design drawn and checked in one call: what the studio shows for a design (and the CLI exports)."""

from __future__ import annotations

from pydantic import BaseModel

from studio.check import CheckReport, check_design
from studio.design import Design
from studio.layout import layout_design
from studio.resolve import PartLookup, resolve
from studio.svg import render_svg


class DesignPreview(BaseModel):
    svg: str
    check: CheckReport


def preview_design(design: Design, lookup: PartLookup, *, seed: int = 0) -> DesignPreview:
    resolved = resolve(design, lookup)
    svg = render_svg(resolved, layout_design(resolved, seed=seed), title=design.title)
    return DesignPreview(svg=svg, check=check_design(design, lookup))
