"""What every wiring rule shares: the design being built, its rails, level shifting and the MCU's pins."""

from __future__ import annotations

from dataclasses import dataclass

from agents.reference.builder import DesignBuilder, Placed
from agents.reference.levels import Levels, input_limit, output_level
from agents.reference.pins import McuPins
from agents.reference.power import PowerPlan
from components_db.schema import ElectricalType, Part, Pin, PinRole
from studio.circuit.values import format_value

PULLUP_OHMS = "10k"
I2C_PULLUP_OHMS = "4.7k"


@dataclass
class Wiring:
    b: DesignBuilder
    power: PowerPlan
    levels: Levels
    mcu: Placed | None
    pins: McuPins | None

    @property
    def logic_v(self) -> float | None:
        return self.power.logic_v

    def mcu_rail(self) -> str:
        """The net of the rail at the MCU's logic level (pull-ups, pots, dividers to the ADC)."""
        assert self.logic_v is not None
        return self.power.rail_at(self.logic_v).net

    def mcu_limit(self, label: str) -> float | None:
        assert self.mcu is not None and self.pins is not None
        return input_limit(self.mcu.part, self.pins.pin(label), self.logic_v)

    def drive(self, role: PinRole, target: Placed, pin: Pin, supply_v: float | None) -> str:
        """An MCU output (of ``role``) to a module input, level-shifted when the MCU is too high for it."""
        assert self.pins is not None
        label = self.pins.take(role)
        limit = input_limit(target.part, pin, supply_v)
        self.levels.join(label, self.logic_v, target.label(pin), limit, bidirectional=False)
        return label

    def read(self, role: PinRole, source: Placed, pin: Pin, supply_v: float | None) -> str:
        """A module output to an MCU input (of ``role``), divided or shifted when the module is too high."""
        assert self.pins is not None
        label = self.pins.take(role, output=False)
        level = output_level(source.part, pin, supply_v)
        if pin.type is ElectricalType.OPEN_COLLECTOR and not source.part.usage.onboard_pullups:
            level = self.logic_v  # only as high as the pull-up, which goes to the MCU's rail
        self.levels.join(source.label(pin), level, label, self.mcu_limit(label), bidirectional=False)
        return label

    def read_from(self, label: str, volts: float, *, analog_out: bool = False) -> str:
        """An output of a circuit the design built (a 555, an op-amp) into an MCU GPIO or ADC pin."""
        assert self.pins is not None
        pin = self.pins.take(PinRole.ADC if analog_out else PinRole.GPIO, output=False)
        self.levels.join(label, volts, pin, self.mcu_limit(pin), bidirectional=False)
        return pin

    def pull_up(self, label: str, rail_net: str, ohms: str = PULLUP_OHMS, why: str = "") -> None:
        resistor = self.b.supporting("resistor", why or f"pull-up on {label}", ohms, _is_resistor)
        self.b.connect(rail_net, resistor.pin("1"))
        self.b.link(label, resistor.pin("2"))

    def pull_down(self, label: str, ohms: str, why: str) -> None:
        resistor = self.b.supporting("resistor", why, ohms, _is_resistor)
        self.b.link(label, resistor.pin("1"))
        self.b.connect("GND", resistor.pin("2"))

    def series_resistor(self, a: str, b: str, ohms: float, why: str) -> None:
        resistor = self.b.supporting("resistor", why, format_value(ohms), _is_resistor)
        self.b.link(a, resistor.pin("1"))
        self.b.link(resistor.pin("2"), b)


def _is_resistor(part: Part) -> bool:
    return part.id == "resistor"
