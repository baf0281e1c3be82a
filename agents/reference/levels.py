"""Logic levels between the MCU and a module: wire straight when the levels agree, else shift.

A 5 V output into a 3.3 V-only input gets a level-shifter channel when the request lists a shifter,
else a resistor divider sized so the tap stays under the input's limit. A 3.3 V output into a 5 V
input is wired straight: CMOS inputs read it as high in practice (the ERC notes it as minor).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agents.reference.builder import DesignBuilder, ReferenceDesignError
from agents.reference.power import GND, PowerPlan, Rail
from components_db.schema import Part, Pin
from studio.circuit.values import format_value

SHIFTER = "level-shifter-bss138-4ch"
DIVIDER_TOP_OHMS = 1000.0
# E12 values from 1k to 22k: the bottom resistor of a divider with a 1k top resistor
BOTTOM_OHMS = [v * m for m in (1e3, 1e4) for v in (1.0, 1.2, 1.5, 1.8, 2.2, 2.7, 3.3, 3.9, 4.7, 5.6, 6.8, 8.2)] + [1e5]
MARGIN_V = 0.05


def output_level(part: Part, pin: Pin, supply_v: float | None) -> float | None:
    """The high level a pin drives: pin, then part logic level, then its supply rail."""
    return pin.logic_level_v or part.logic_level_v or supply_v


def input_limit(part: Part, pin: Pin, supply_v: float | None) -> float | None:
    """The highest voltage an input accepts, the way the ERC reads it."""
    if pin.max_v is not None:
        return pin.max_v
    if part.io_max_v is not None:
        return part.io_max_v
    level = output_level(part, pin, supply_v)
    return None if level is None else level + 0.5


@dataclass
class Levels:
    b: DesignBuilder
    power: PowerPlan
    _channels: list[tuple[str, str, str, str]] = field(default_factory=list)  # (LVn, HVn, LV rail, HV rail)

    def join(self, a: str, a_volts: float | None, b: str, b_limit: float | None, *, bidirectional: bool) -> None:
        """Wire a (driving at ``a_volts``) to b (accepting ``b_limit``), shifting when a is too high for b."""
        if a_volts is None or b_limit is None or a_volts <= b_limit + MARGIN_V:
            self.b.link(a, b)
        elif bidirectional or (self._shifter_listed() and shiftable(a_volts, b_limit)):
            self.shift(a, a_volts, b, b_limit)
        else:
            self.divide(a, a_volts, b, b_limit)

    def divide(self, source: str, volts: float, target: str, limit: float) -> None:
        bottom = max(o for o in BOTTOM_OHMS if volts * o / (DIVIDER_TOP_OHMS + o) <= limit or o == BOTTOM_OHMS[0])
        tap_v = volts * bottom / (DIVIDER_TOP_OHMS + bottom)
        why = f"divider {volts:g} V -> {tap_v:.2f} V for {target} (max {limit:g} V)"
        top = self.b.supporting("resistor", f"top of the {why}", format_value(DIVIDER_TOP_OHMS), _is_resistor)
        low = self.b.supporting("resistor", f"bottom of the {why}", format_value(bottom), _is_resistor)
        self.b.link(source, top.pin("1"))
        tap = self.b.link(top.pin("2"), target)
        self.b.connect(tap, low.pin("1"))
        self.b.connect(GND, low.pin("2"))

    def shift(self, high_side: str, high_v: float, low_side: str, low_v: float) -> None:
        """One channel of a BSS138 shifter: LV on the low-side part's rail, HV on the high-side part's."""
        low, high = sorted((_rail(high_v), _rail(low_v)))
        if not shiftable(low, high):
            raise ReferenceDesignError(f"no level shift between {low_side} and {high_side}: both run at {low:g} V")
        lv, hv = self._channel(self._rail_of(low_side, low), self._rail_of(high_side, high))
        self.b.link(low_side, lv)
        self.b.link(high_side, hv)

    def _rail_of(self, label: str, volts: float) -> Rail:
        """The rail at ``volts`` that feeds the part of ``label`` (a module on its own regulator), else the
        design's rail at that voltage."""
        ref = label.partition(".")[0]
        for rail in self.power.rails:
            on_it = any(pin.partition(".")[0] == ref for pin in self.b.nets.get(rail.net, []))
            if on_it and abs(rail.voltage - volts) < MARGIN_V:
                return rail
        return self.power.rail_at(volts)

    def _channel(self, low: Rail, high: Rail) -> tuple[str, str]:
        for index, (lv, hv, lo, hi) in enumerate(self._channels):
            if (lo, hi) == (low.net, high.net):
                del self._channels[index]
                return lv, hv
        why = f"shifts logic levels between {low.voltage:g} V ({low.net}) and {high.voltage:g} V ({high.net})"
        shifter = self.b.supporting(SHIFTER, why)
        self.power.ground(shifter)
        self.b.connect(low.net, shifter.pin("LV"))
        self.b.connect(high.net, shifter.pin("HV"))
        channels = [(shifter.pin(f"LV{n}"), shifter.pin(f"HV{n}"), low.net, high.net) for n in range(1, 5)]
        self._channels.extend(channels[1:])
        return channels[0][0], channels[0][1]

    def _shifter_listed(self) -> bool:
        return any(p.id == SHIFTER for p in self.b.stock) or bool(self._channels)


def shiftable(a_volts: float, b_volts: float) -> bool:
    """Whether the two levels run on different standard rails, which a shifter's LV and HV sides need."""
    return abs(_rail(a_volts) - _rail(b_volts)) >= MARGIN_V


def _rail(volts: float) -> float:
    """The standard rail a logic level runs on (a 3.6 V input limit is a 3.3 V rail)."""
    return 3.3 if volts < 4.0 else 5.0


def _is_resistor(part: Part) -> bool:
    return part.id == "resistor"
