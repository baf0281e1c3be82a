"""Designs for the SPICE tests, built from real catalog parts (the session ``catalog``)."""

from __future__ import annotations

import pytest

from studio.circuit.design import Design
from studio.circuit.resolve import ResolvedDesign, resolve


@pytest.fixture(scope="session")
def build(catalog):
    """``build(parts, nets, title=None)`` with parts as (ref, part id, value) and nets as name -> pins."""

    def _build(
        parts: list[tuple[str, str, str | None]], nets: dict[str, list[str]], title: str | None = None
    ) -> ResolvedDesign:
        design = Design.model_validate(
            {
                "title": title,
                "parts": [{"ref": r, "part": p, **({"value": v} if v else {})} for r, p, v in parts],
                "nets": [{"name": name, "pins": pins} for name, pins in nets.items()],
            }
        )
        return resolve(design, catalog)

    return _build
