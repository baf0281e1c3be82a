"""LEDs: a series resistor between the LED and what drives it, and the current that resistor sets.

An LED's anode side is *driven* when a supply rail or a GPIO reaches it through wires, switches or
transistors only; its cathode side *sinks* when ground or a GPIO does. Both without a resistor in
between is a short through the LED. Through one resistor on either side, I = (V - Vf) / R; a
series resistor of 0 ohm, or one the design gives no value, limits nothing anyone can tell.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import product

from components_db.schema import Part, PinRole
from studio.erc.findings import Violation
from studio.erc.nodes import GPIO_TYPES, RESISTORS, SINK_TYPES, ErcContext, Node, is_led
from studio.erc.registry import violation

MIN_SERIES_OHMS = 100.0
DEFAULT_VF = 2.0


@dataclass(frozen=True)
class Source:
    volts: float | None  # None: a GPIO whose logic level is unknown
    label: str


@dataclass(frozen=True)
class SeriesPath:
    volts: float | None
    ohms: float
    resistors: tuple[str, ...]
    source: str


def check(ctx: ErcContext) -> Iterator[Violation]:
    leds = [(ref, part) for ref, part in ctx.parts() if is_led(part)]
    if not leds:
        return
    regions = _Regions(ctx)
    for ref, part in leds:
        for anode, cathode in product(part.pins_with_role(PinRole.ANODE), part.pins_with_role(PinRole.CATHODE)):
            a_node, k_node = ctx.node(ref, anode), ctx.node(ref, cathode)
            if a_node is not None and k_node is not None:
                yield from _check_led(ctx, regions, ref, part, a_node, k_node)


def _check_led(
    ctx: ErcContext, regions: _Regions, ref: str, part: Part, a_node: Node, k_node: Node
) -> Iterator[Violation]:
    sources, sinks = regions.sources(a_node), regions.sinks(k_node)
    if sources and sinks:
        yield violation(
            "led-no-resistor",
            f"LED {ref} is driven from {sources[0].label} to {sinks[0]} with no resistor in series: nothing limits "
            "its current, so the LED (and the pin driving it) can burn out.",
            f"Add a series resistor (about 220 ohm at 3.3-5 V) between {sources[0].label} and {ref}.",
            refs=[ref, sources[0].label.partition(".")[0]],
            pins=[f"{ref}.{p.name}" for p in part.pins],
            net=a_node.name,
        )
        return
    high = [SeriesPath(s.volts, 0.0, (), s.label) for s in sources] or regions.through_resistor(a_node, sources=True)
    low = [SeriesPath(0.0, 0.0, (), s) for s in sinks] or regions.through_resistor(k_node, sources=False)
    if not high or not low:
        return  # not a complete LED circuit: the connectivity rules say what is missing
    path, ground = min(high, key=lambda p: p.ohms), min(low, key=lambda p: p.ohms)
    ohms = path.ohms + ground.ohms
    resistors = [*path.resistors, *ground.resistors]
    unvalued = [r for r in resistors if ctx.resolved.design_part(r).numeric_value is None]
    if unvalued or ohms <= 0:
        what = f"{', '.join(unvalued)} ha{'s' if len(unvalued) == 1 else 've'} no value" if unvalued else "is 0 ohm"
        yield violation(
            "led-resistor-no-value",
            f"The series resistor of LED {ref} ({' + '.join(resistors)}) {what}: nothing sets the LED's current, "
            "so it may burn out (and a bill of materials cannot be made).",
            f"Give {' + '.join(resistors)} a value: about 220 ohm at 3.3-5 V for a standard LED.",
            refs=[ref, *resistors],
            net=a_node.name,
        )
        return
    if ohms < MIN_SERIES_OHMS:
        yield violation(
            "led-resistor-low",
            f"The series resistor of LED {ref} is only {ohms:g} ohm; below 100 ohm it barely limits the current.",
            f"Use 220 ohm to 1 k for {' + '.join(resistors)}.",
            refs=[ref, *resistors],
            net=a_node.name,
        )
    if path.volts is None:
        return
    vf = _forward_voltage(part)
    milliamps = max(0.0, (path.volts - vf) / ohms * 1000.0)
    limit = _max_current_ma(part)
    if limit is not None and milliamps > limit:
        suggested = (path.volts - vf) / (0.5 * limit / 1000.0)
        yield violation(
            "led-overcurrent",
            f"LED {ref} gets about {milliamps:.0f} mA from {path.source} ({path.volts:g} V - {vf:g} V over "
            f"{ohms:g} ohm), above its {limit:g} mA maximum.",
            f"Raise the series resistance to at least {suggested:.0f} ohm (half the LED's maximum current).",
            refs=[ref, *resistors],
            net=a_node.name,
        )


class _Regions:
    """What each conduction region of the design can source (rails, GPIOs) or sink (ground, GPIOs)."""

    def __init__(self, ctx: ErcContext) -> None:
        self.ctx = ctx
        self.members: dict[int, list[Node]] = {}
        for node in ctx.nodes:
            self.members.setdefault(ctx.region(node), []).append(node)

    def nodes(self, node: Node) -> list[Node]:
        return self.members[self.ctx.region(node)]

    def sources(self, node: Node) -> list[Source]:
        found: list[Source] = []
        for member in self.nodes(node):
            found += [Source(bp.pin.voltage, bp.label) for bp in member.rail_pins]
            found += [Source(self.ctx.logic_level(bp), bp.label) for bp in member.of_type(GPIO_TYPES)]
        return sorted(found, key=lambda s: -(s.volts or 0.0))

    def sinks(self, node: Node) -> list[str]:
        found: list[str] = []
        for member in self.nodes(node):
            if member.is_ground:
                found.append(f"ground ({member.name})")
            found += [bp.label for bp in member.of_type(SINK_TYPES)]
        return found

    def through_resistor(self, node: Node, *, sources: bool) -> list[SeriesPath]:
        """Resistors from this node's region to a region that sources (or sinks) current."""
        paths: list[SeriesPath] = []
        region = self.ctx.region(node)
        for member in self.nodes(node):
            for bp, other in self.ctx.two_terminals_on(member, RESISTORS):
                if other is None or self.ctx.region(other) == region:
                    continue
                ohms = self.ctx.ohms(bp.ref) or 0.0
                if sources:
                    paths += [SeriesPath(s.volts, ohms, (bp.ref,), s.label) for s in self.sources(other)[:1]]
                elif self.sinks(other):
                    paths.append(SeriesPath(0.0, ohms, (bp.ref,), bp.ref))
        return paths


def _forward_voltage(part: Part) -> float:
    values = [float(v) for k, v in part.specs.items() if k.startswith("vf") and isinstance(v, int | float)]
    return min(values, default=DEFAULT_VF)


def _max_current_ma(part: Part) -> float | None:
    value = part.specs.get("max_if_ma")
    if isinstance(value, int | float):
        return float(value)
    if part.spice is not None and "max_ma" in part.spice.params:
        return part.spice.params["max_ma"]
    return None
