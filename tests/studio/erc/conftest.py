"""Builds small designs from real catalog parts and runs the ERC on them."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from components_db.schema import Part
from studio.circuit.resolve import ResolvedDesign, resolve
from studio.erc import run_erc
from studio.erc.findings import ErcReport
from tests.fixtures.designs import make_design

Check = Callable[[dict[str, str], dict[str, list[str]]], ErcReport]


@pytest.fixture(scope="session")
def build(catalog: dict[str, Part]) -> Callable[[dict[str, str], dict[str, list[str]]], ResolvedDesign]:
    def run(parts: dict[str, str], nets: dict[str, list[str]]) -> ResolvedDesign:
        return resolve(make_design(parts, nets), catalog)

    return run


@pytest.fixture(scope="session")
def check(build) -> Check:
    def run(parts: dict[str, str], nets: dict[str, list[str]]) -> ErcReport:
        return run_erc(build(parts, nets))

    return run
