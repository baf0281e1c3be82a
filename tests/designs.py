"""Small designs written the short way tests write them: ``{"R1": "resistor=220"}`` (a value after "=")
and ``{"N1": ["U1.GPIO2", "R1.1"]}``, and circuits several test modules check."""

from __future__ import annotations

from studio.design import Design

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
