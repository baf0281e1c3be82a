"""What a design does in numbers: SPICE writes it (``spice.results``), the intent check holds a
request's stated voltages, frequencies and currents against it (``studio.intent.check``)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Measured(BaseModel):
    """What the design does, as far as the intent check asks: from SPICE when it ran (``simulated``),
    else the rails the parts state."""

    simulated: bool = False
    rails_v: dict[str, float] = Field(default_factory=dict)  # net -> volts
    frequencies_hz: dict[str, float] = Field(default_factory=dict)  # 555 astables: "U1+R1+R2+C1" -> Hz
    cutoffs_hz: dict[str, float] = Field(default_factory=dict)  # RC filters: "R1+C1" -> Hz
    led_currents_a: dict[str, float] = Field(default_factory=dict)  # LED ref -> amps
