"""Designs for the SPICE tests, built from real catalog parts."""

from __future__ import annotations

import pytest

from components_db.catalog import load_catalog
from components_db.schema import Part
from studio.circuit.design import Design
from studio.circuit.resolve import ResolvedDesign, resolve


@pytest.fixture(scope="session")
def catalog() -> dict[str, Part]:
    return {p.id: p for p in load_catalog()}


@pytest.fixture(scope="session")
def build(catalog: dict[str, Part]):
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
