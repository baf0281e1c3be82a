"""Switch inputs: a button or switch on a GPIO needs a resistor that holds the pin when it is open."""

from __future__ import annotations

from collections.abc import Iterator

from studio.erc.findings import Violation
from studio.erc.nodes import RECEIVER_TYPES, SWITCHES, ErcContext
from studio.erc.registry import violation


def check(ctx: ErcContext) -> Iterator[Violation]:
    for node in ctx.nodes:
        if node.is_power or node.is_ground:
            continue
        switches = ctx.two_terminals_on(node, SWITCHES)
        inputs = [bp for bp in node.of_type(RECEIVER_TYPES) if bp.ref not in {s.ref for s, _ in switches}]
        if not switches or not inputs:
            continue
        if ctx.pull_ups(node) or ctx.pull_downs(node) or ctx.onboard_pullups(node):
            continue
        switch = switches[0][0]
        yield violation(
            "floating-switch-input",
            f"{inputs[0].label} reads switch {switch.ref}, but nothing holds net {node.name} at a level while the "
            "switch is open: the input floats and reads random presses.",
            f"Add a 10k resistor from net {node.name} to the supply (pull-up, switch to GND) or to GND (pull-down, "
            "switch to the supply).",
            refs=[switch.ref, inputs[0].ref],
            pins=[inputs[0].label, switch.label],
            net=node.name,
        )
