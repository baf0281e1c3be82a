"""The reference designer's reasoning in words: the plan the reason stage is taught to write and the
explanation shown beside a "suggested fix".

    Rails: GND common; 3V3 from U1.3V3 (3.3 V); 5V from BT1.+ (5 V).
    R1 (resistor 10k): pull-up on U2.DATA (datasheet asks for one).
    Nets:
    3V3: U1.3V3 U2.VCC R1.1
    U2_DATA: U2.DATA U1.GPIO32 R1.2

Rails first (what powers what), then why each supporting part is there, then every net with its pins,
so the synthesis stage writes the design from the plan line by line.
"""

from __future__ import annotations

from studio.circuit.design import Design
from studio.circuit.rails import NetKind
from studio.circuit.resolve import PartLookup, resolve


def plan_text(design: Design, added: list[str], notes: list[str], kb: PartLookup) -> str:
    resolved = resolve(design, kb)
    rails = []
    for net in resolved.nets:
        role = resolved.net_roles[net.name]
        if role.kind is NetKind.GROUND:
            rails.insert(0, f"{net.name} common")
        elif role.kind is NetKind.POWER:
            source = f" from {role.source}" if role.source else ""
            volts = f" ({role.voltage:g} V)" if role.voltage is not None else ""
            rails.append(f"{net.name}{source}{volts}")
    lines = [f"Rails: {'; '.join(rails)}." if rails else "Rails: none."]
    lines += [_sentence(text) for text in added]
    lines += [f"Note: {_sentence(text)}" for text in notes]
    lines.append("Nets:")
    lines += [f"{net.name}: {' '.join(net.pins)}" for net in design.nets]
    return "\n".join(lines)


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text if text.endswith(".") else text + "."
