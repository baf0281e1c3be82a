"""Builds small designs from real catalog parts and runs the ERC on them."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from components_db.catalog import load_catalog
from components_db.schema import Part
from studio.design import Design
from studio.erc import run_erc
from studio.erc.report import ErcReport
from studio.resolve import ResolvedDesign, resolve

Check = Callable[[dict[str, str], dict[str, list[str]]], ErcReport]


@pytest.fixture(scope="session")
def lookup() -> dict[str, Part]:
    return {p.id: p for p in load_catalog()}


def make_design(parts: dict[str, str], nets: dict[str, list[str]]) -> Design:
    """``{"R1": "resistor=220"}`` and ``{"N1": ["U1.GPIO2", "R1.1"]}`` -> a Design."""
    entries = []
    for ref, spec in parts.items():
        part, _, value = spec.partition("=")
        entries.append({"ref": ref, "part": part, **({"value": value} if value else {})})
    return Design.model_validate({"parts": entries, "nets": [{"name": k, "pins": v} for k, v in nets.items()]})


@pytest.fixture(scope="session")
def build(lookup: dict[str, Part]) -> Callable[[dict[str, str], dict[str, list[str]]], ResolvedDesign]:
    def run(parts: dict[str, str], nets: dict[str, list[str]]) -> ResolvedDesign:
        return resolve(make_design(parts, nets), lookup)

    return run


@pytest.fixture(scope="session")
def check(build) -> Check:
    def run(parts: dict[str, str], nets: dict[str, list[str]]) -> ErcReport:
        return run_erc(build(parts, nets))

    return run
