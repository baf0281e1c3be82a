"""Every export of a design: the studio core's files (``studio.exports``) with the ngspice netlist among
them, in the order `circuit-studio export` lists them."""

from __future__ import annotations

from spice.netlist import netlist_text
from studio.exports import BOM, CIRCUIT_JSON, KICAD, SVG, WOKWI, Export

SPICE_NETLIST = Export("spice", "circuit.cir", lambda resolved, _layout: netlist_text(resolved))
EXPORTS = (CIRCUIT_JSON, WOKWI, SPICE_NETLIST, KICAD, BOM, SVG)
