"""Design behaviours a person can see in a schematic, each measured on the netlist and the parts (never
on labels, roles or answer text a model can garble). The steering-effect harness (``agents.effect``)
counts them; a steering profile names the one it is meant to change (its ``behaviour`` field).

Each behaviour is a function of a checked design: True (every case of it in the design is handled),
False (at least one is not), or None (the design has no case of it: no LED, no coil, no I2C bus...).

    shown = measure("led-resistor", resolved, erc)   # True / False / None
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from components_db.schema import Category, ElectricalType, PinRole
from studio.circuit.resolve import ResolvedDesign
from studio.erc.findings import ErcReport
from studio.erc.nodes import RESISTORS, ErcContext, Node, is_board, is_led, supply_pins
from studio.erc.rules.buses import I2C, i2c_line, pulled_up
from studio.erc.rules.loads import flyback_protected

REGULATING_KINDS = frozenset({"regulator", "switching_regulator"})
SOURCE_KINDS = frozenset({"source"})
FIVE_VOLT_LOGIC, THREE_VOLT_LIMIT = 4.5, 3.9  # a 5 V-level part and an input that takes at most ~3.3 V


@dataclass(frozen=True)
class Behaviour:
    name: str
    title: str  # "LED series resistors"
    question: str  # what a True answer means, for tables
    shown: Callable[[ErcContext, ErcReport], bool | None]


def measure(name: str, resolved: ResolvedDesign, erc: ErcReport) -> bool | None:
    return BEHAVIOURS[name].shown(ErcContext(resolved), erc)


def _led_resistor(ctx: ErcContext, erc: ErcReport) -> bool | None:
    """Every LED has a resistor (with a value other than 0) on its anode or cathode node, going elsewhere."""
    leds = [(ref, part) for ref, part in ctx.parts() if is_led(part)]
    verdicts = []
    for ref, part in leds:
        nodes = [n for p in part.pins if (n := ctx.node(ref, p)) is not None]
        if len(nodes) < 2:
            continue
        verdicts.append(any(_series_resistor(ctx, node, nodes) for node in nodes))
    return all(verdicts) if verdicts else None


def _series_resistor(ctx: ErcContext, node: Node, led_nodes: list[Node]) -> bool:
    return any(
        other is not None and other not in led_nodes and (ctx.ohms(bp.ref) or 0.0) > 0
        for bp, other in ctx.two_terminals_on(node, RESISTORS)
    )


def _flyback(ctx: ErcContext, erc: ErcReport) -> bool | None:
    """Every bare inductive load (relay coil, motor, pump, solenoid, fan) in a circuit has a flyback diode
    across it or is driven by a driver module."""
    verdicts = [
        flyback_protected(ctx, ref, part)
        for ref, part in ctx.parts()
        if part.usage.inductive and not part.usage.flyback_included
    ]
    known = [v for v in verdicts if v is not None]
    return all(known) if known else None


def _i2c_pullups(ctx: ErcContext, erc: ErcReport) -> bool | None:
    """Every I2C bus line has a pull-up resistor to a rail or a module that carries its own."""
    lines = [node for node in ctx.nodes if not node.is_power and not node.is_ground and i2c_line(node)]
    return all(pulled_up(ctx, node) for node in lines) if lines else None


def _i2c_wiring(ctx: ErcContext, erc: ErcReport) -> bool | None:
    """Every I2C device's SDA and SCL reach another part's I2C pin (the board's, or through a level shifter)."""
    verdicts = []
    for ref, part in ctx.parts():
        if is_board(part):
            continue
        for pin in (p for p in part.pins if I2C.intersection(p.roles)):
            node = ctx.node(ref, pin)
            others = [bp for bp in node.pins if bp.ref != ref] if node is not None else []
            verdicts.append(any(I2C.intersection(bp.pin.roles) or bp.pin.domain for bp in others))
    return all(verdicts) if verdicts else None


def _level_shifting(ctx: ErcContext, erc: ErcReport) -> bool | None:
    """Where a 5 V-logic part and a part whose inputs take at most ~3.3 V share a design, no 5 V level
    reaches a 3.3 V input (a level shifter or a divider sits between)."""
    signals = [bp for node in ctx.nodes if not node.is_power and not node.is_ground for bp in node.pins]
    signal_types = {ElectricalType.OUTPUT, ElectricalType.BIDIRECTIONAL, ElectricalType.TRI_STATE}
    high = {bp.ref for bp in signals if bp.pin.type in signal_types and (ctx.logic_level(bp) or 0) >= FIVE_VOLT_LOGIC}
    low = {
        bp.ref
        for bp in signals
        if bp.pin.type in signal_types | {ElectricalType.INPUT}
        and (limit := ctx.input_limit(bp)) is not None
        and limit <= THREE_VOLT_LIMIT
    }
    if not high or not (low - high):
        return None
    return "logic-level-overvoltage" not in erc.rule_ids()


def _decoupling(ctx: ErcContext, erc: ErcReport) -> bool | None:
    """Every wired chip that wants a decoupling capacitor has one from its supply to ground."""
    chips = [ref for ref, part in ctx.parts() if part.usage.decoupling_required and ref in ctx.pins_of]
    return "missing-decoupling" not in erc.rule_ids() if chips else None


def _regulation(ctx: ErcContext, erc: ErcReport) -> bool | None:
    """Where a supply above a board's range is in the design, a regulator or converter feeds the board."""
    sources = [
        bp.pin.voltage or 0.0
        for node in ctx.nodes
        for bp in node.rail_pins
        if bp.part.spice is not None and bp.part.spice.kind in SOURCE_KINDS
    ]
    boards = [(ref, part) for ref, part in ctx.parts() if is_board(part)]
    if not sources or not boards:
        return None
    verdicts = []
    for ref, part in boards:
        pins = supply_pins(part)
        limits = [p.max_v if p.max_v is not None else part.supply.max_v if part.supply else None for p in pins]
        known = [v for v in limits if v is not None]
        if not known or max(sources) <= max(known):
            continue
        verdicts.append(any(_fed_by_regulator(ctx, node) for p in pins if (node := ctx.node(ref, p)) is not None))
    if not verdicts:
        return None
    return all(verdicts) and "supply-out-of-range" not in erc.rule_ids()


def _fed_by_regulator(ctx: ErcContext, node: Node) -> bool:
    return any(
        bp.part.spice is not None and bp.part.spice.kind in REGULATING_KINDS
        for bp in node.rail_pins
        if bp.part.category is Category.POWER and PinRole.POWER_OUT in bp.pin.roles
    )


BEHAVIOURS: dict[str, Behaviour] = {
    b.name: b
    for b in (
        Behaviour("led-resistor", "LED series resistors", "every LED has a series resistor", _led_resistor),
        Behaviour("flyback-diode", "flyback diodes", "every inductive load has a flyback diode or driver", _flyback),
        Behaviour("i2c-pullups", "I2C pull-ups", "every I2C bus line has a pull-up", _i2c_pullups),
        Behaviour("i2c-wiring", "I2C bus wiring", "every I2C device's SDA and SCL reach the bus", _i2c_wiring),
        Behaviour(
            "level-shifting",
            "logic-level shifting",
            "no 5 V level reaches a 3.3 V input (a shifter or divider between)",
            _level_shifting,
        ),
        Behaviour(
            "decoupling", "decoupling capacitors", "every chip that wants one has a decoupling capacitor", _decoupling
        ),
        Behaviour(
            "regulation",
            "power regulation",
            "a regulator or converter feeds a board from a supply above its range",
            _regulation,
        ),
    )
}
BEHAVIOUR_NAMES: tuple[str, ...] = tuple(BEHAVIOURS)
