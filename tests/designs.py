"""Small designs written the short way tests write them: ``{"R1": "resistor=220"}`` (a value after "=")
and ``{"N1": ["U1.GPIO2", "R1.1"]}``, and circuits several test modules check."""

from __future__ import annotations

import json

from studio.circuit.design import Design

# a relay coil switched by an NPN from an Uno pin (no flyback diode)
COIL = {"U1": "arduino-uno", "K1": "relay-5v", "Q1": "npn-2n2222", "R1": "resistor=1k"}
COIL_NETS = {
    "5V": ["U1.5V", "K1.COIL1"],
    "SW": ["K1.COIL2", "Q1.C"],
    "BASE": ["U1.D7", "R1.1"],
    "B": ["R1.2", "Q1.B"],
    "GND": ["Q1.E", "U1.GND"],
}


def make_design(parts: dict[str, str], nets: dict[str, list[str]]) -> Design:
    entries = []
    for ref, spec in parts.items():
        part, _, value = spec.partition("=")
        entries.append({"ref": ref, "part": part, **({"value": value} if value else {})})
    return Design.model_validate({"parts": entries, "nets": [{"name": k, "pins": v} for k, v in nets.items()]})


def resistor_mesh(parts: int, nets: int, pins_per_net: int) -> str:
    """A design JSON of ``parts`` resistors and ``nets`` nets of ``pins_per_net`` pins each, compact;
    ``resistor_mesh(400, 1000, 200)`` is issue 13's 1.8 MB design (42 s, 1.6 GB and 186 MB to export)."""
    data = {
        "parts": [{"ref": f"R{i}", "part": "resistor", "value": "220"} for i in range(1, parts + 1)],
        "nets": [
            {"name": f"N{n}", "pins": [f"R{(n + k) % parts + 1}.{1 + k % 2}" for k in range(pins_per_net)]}
            for n in range(nets)
        ],
    }
    return json.dumps(data, separators=(",", ":"))
