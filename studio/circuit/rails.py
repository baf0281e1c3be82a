"""What each net of a design carries: ground, a supply rail (with its voltage), or a signal.

Decided from the pins on the net (a power_out pin with a voltage, a GROUND-role pin) and, when no
pin says, from the net's name ("GND", "3V3", "+5V", "VIN_12V"). ERC, SPICE, layout and the Circuit
JSON compiler all ask this one module (through ``ResolvedDesign.net_roles``, worked out once per
design), so a rail is a rail everywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from components_db.schema import ElectricalType, PinRole
from studio.circuit.bound import BoundNet

_GROUND_NAMES = re.compile(r"^(?:A|D|P)?(?:GND|VSS|GROUND|0V|COM|V-)\d*$", re.IGNORECASE)
_POWER_NAMES = re.compile(r"^\+?(?:VCC|VDD|VIN|VBUS|VBAT|V\+|VS|VMOT|VM|\d+V\d*|\d+\.\d+V|\d+V\d+)", re.IGNORECASE)


class NetKind(StrEnum):
    GROUND = "ground"
    POWER = "power"
    SIGNAL = "signal"


@dataclass(frozen=True)
class NetRole:
    kind: NetKind
    voltage: float | None  # volts for ground (0.0) and known rails; None for signals / unknown rails
    source: str | None  # "U1.3V3" when a pin sets the voltage, None when only the name does

    @property
    def is_power(self) -> bool:
        return self.kind is NetKind.POWER

    @property
    def is_ground(self) -> bool:
        return self.kind is NetKind.GROUND


def classify_net(net: BoundNet) -> NetRole:
    """Ground, rail or signal, from the pins first and the name second."""
    for bp in net.pins:
        if PinRole.GROUND in bp.pin.roles:
            return NetRole(NetKind.GROUND, 0.0, bp.label)
    for bp in net.pins:
        if bp.pin.type is ElectricalType.POWER_OUT and bp.pin.voltage is not None:
            return NetRole(NetKind.POWER, bp.pin.voltage, bp.label)
    if is_ground_name(net.name):
        return NetRole(NetKind.GROUND, 0.0, None)
    if _POWER_NAMES.match(net.name) or any(bp.pin.type is ElectricalType.POWER_IN for bp in net.pins):
        return NetRole(NetKind.POWER, voltage_from_name(net.name), None)
    return NetRole(NetKind.SIGNAL, None, None)


def is_ground_name(name: str) -> bool:
    """A net name that says ground ("GND", "AGND", "VSS", "0V"): such a net is ground unless a pin on it
    says otherwise."""
    return _GROUND_NAMES.match(name) is not None


def voltage_from_name(name: str) -> float | None:
    """'3V3' -> 3.3, '+5V' -> 5.0, 'VIN_12V' -> 12.0, '3.3V' -> 3.3; None when the name holds no voltage."""
    match = re.search(r"(\d+)V(\d+)", name, re.IGNORECASE)
    if match:
        return float(f"{match[1]}.{match[2]}")
    match = re.search(r"(\d+(?:\.\d+)?)V(?![A-Za-z])", name, re.IGNORECASE)
    if match:
        return float(match[1])
    return None
