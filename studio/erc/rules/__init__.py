"""The rule groups, one module each; every rule id they emit is listed in ``studio.erc.registry``."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from studio.erc.findings import Violation
from studio.erc.nodes import ErcContext
from studio.erc.rules import buses, conflicts, inputs, leds, loads, logic, power, structure

RuleCheck = Callable[[ErcContext], Iterable[Violation]]

GROUPS: tuple[RuleCheck, ...] = (
    structure.check,
    conflicts.check,
    power.check,
    leds.check,
    logic.check,
    loads.check,
    buses.check,
    inputs.check,
)
