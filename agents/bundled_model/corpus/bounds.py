"""The synthesis grammar's bounds the bundled model runs with (its circuit_studio.json): the reference
designer's larger designs (eight LEDs, a GND of 12 pins) exceed the pipeline's defaults."""

from __future__ import annotations

from agents.synthesize import GrammarBounds

BUNDLED_BOUNDS = GrammarBounds(max_nets=32, max_pins_per_net=20, max_net_name=16)
