"""The operating point read back by design names, and checked against the parts' limits."""

from __future__ import annotations

import math

import numpy as np

from spice.names import GROUND
from spice.netlist import SpiceNetlist
from spice.results import Finding, OperatingPoint

Vectors = dict[str, np.ndarray]
SUPPLY_TOLERANCE = 0.01  # a rail 1 % outside a range is within the parts' and the model's accuracy
PLAUSIBLE_V_FACTOR, PLAUSIBLE_V_MARGIN = 1.5, 1.0  # no node sits beyond 1.5 x the highest source + 1 V
PLAUSIBLE_A = 1000.0  # no branch of a hobby circuit carries a kiloampere


def voltage(vectors: Vectors, node: str) -> float:
    if node == GROUND:
        return 0.0
    values = vectors.get(node.lower())
    return float(np.real(values[0])) if values is not None and len(values) else math.nan


def current_ma(vectors: Vectors, source: str, sign: float) -> float:
    values = vectors.get(f"{source.lower()}#branch")
    return sign * 1000 * float(np.real(values[0])) if values is not None and len(values) else math.nan


def implausible(netlist: SpiceNetlist, vectors: Vectors) -> str | None:
    """Why the solution cannot be physical, or None.

    Passive parts cannot raise a pin above the highest source (or converter output), so a pin
    well beyond it, or a kiloampere in a branch, means ngspice settled on a point that is not a
    solution; no finding built on it would mean anything. Nodes inside behavioural models are
    not pins (an op-amp's open-loop gain stage sits far beyond its rails when it saturates).
    """
    labels = {node: label for label, node in netlist.pin_nodes.items()}
    labels |= {node: net for net, node in netlist.node_of_net.items()}
    bound = PLAUSIBLE_V_FACTOR * netlist.highest_v + PLAUSIBLE_V_MARGIN
    reasons = [
        f"{label} at {volts:.4g} V"
        for node, label in labels.items()
        if not abs(volts := voltage(vectors, node)) <= bound and not math.isnan(volts)
    ]
    for name, values in vectors.items():
        amps = float(np.real(values[0])) if len(values) else 0.0
        if name.endswith("#branch") and not abs(amps) <= PLAUSIBLE_A:
            reasons.append(f"{abs(amps):.3g} A through {name.removesuffix('#branch').upper()}")
    if not reasons:
        return None
    return (
        f"the operating point did not converge to a physical solution ({', '.join(reasons[:3])}, "
        f"where no source sets more than {netlist.highest_v:g} V); its values are not reported"
    )


def operating_point(netlist: SpiceNetlist, vectors: Vectors) -> OperatingPoint:
    nodes = {net: voltage(vectors, node) for net, node in netlist.node_of_net.items()}
    nodes = {net: round(v, 6) for net, v in nodes.items() if not math.isnan(v)}
    currents = {kind: {} for kind in ("led", "gpio", "supply")}
    for probe in netlist.probes.currents:
        currents[probe.kind][probe.label] = round(current_ma(vectors, probe.source, probe.sign), 6)
    dropout = {
        reg.ref: round(voltage(vectors, reg.in_node) - voltage(vectors, reg.out_node), 6)
        for reg in netlist.probes.regulators
    }
    return OperatingPoint(
        node_voltages=nodes,
        rail_voltages={net: v for net, v in nodes.items() if net in netlist.rails},
        led_currents_ma=currents["led"],
        gpio_currents_ma=currents["gpio"],
        supply_currents_ma=currents["supply"],
        regulator_dropout_v=dropout,
    )


def check_limits(netlist: SpiceNetlist, vectors: Vectors) -> list[Finding]:
    return [
        *_current_findings(netlist, vectors),
        *_regulator_findings(netlist, vectors),
        *_supply_findings(netlist, vectors),
    ]


def _current_findings(netlist: SpiceNetlist, vectors: Vectors) -> list[Finding]:
    findings = []
    for probe in netlist.probes.currents:
        amount = current_ma(vectors, probe.source, probe.sign)
        if probe.max_ma is None or math.isnan(amount) or abs(amount) <= probe.max_ma:
            continue
        if probe.kind == "led":
            message = f"LED {probe.ref} carries {amount:.1f} mA, above its {probe.max_ma:g} mA maximum"
            rule = "led_overcurrent"
        elif probe.kind == "gpio":
            message = (
                f"{probe.label} sources {abs(amount):.1f} mA (GPIO driven high), above its {probe.max_ma:g} mA limit"
            )
            rule = "gpio_overcurrent"
        else:
            message = f"{probe.label} supplies {abs(amount):.1f} mA, above its {probe.max_ma:g} mA rating"
            rule = "supply_overcurrent"
        findings.append(Finding(rule=rule, severity="major", message=message, refs=[probe.ref]))
    return findings


def _regulator_findings(netlist: SpiceNetlist, vectors: Vectors) -> list[Finding]:
    findings = []
    for reg in netlist.probes.regulators:
        v_in = voltage(vectors, reg.in_node) - voltage(vectors, reg.gnd_node)
        v_out = voltage(vectors, reg.out_node) - voltage(vectors, reg.gnd_node)
        target = reg.vout_v + (
            voltage(vectors, reg.adjust_node) - voltage(vectors, reg.gnd_node) if reg.adjust_node else 0
        )
        needed = target + reg.dropout_v
        if 0.1 < v_in < needed * (1 - SUPPLY_TOLERANCE / 10):
            findings.append(
                Finding(
                    rule="regulator_dropout",
                    severity="major",
                    message=(
                        f"{reg.ref} is in dropout: {v_in:.2f} V in gives {v_out:.2f} V out; "
                        f"{target:.2f} V needs at least {needed:.2f} V in"
                    ),
                    refs=[reg.ref],
                )
            )
        load = current_ma(vectors, reg.sense, 1.0)
        if reg.max_ma is not None and load > reg.max_ma:
            findings.append(
                Finding(
                    rule="regulator_overcurrent",
                    severity="major",
                    message=f"{reg.ref} delivers {load:.0f} mA, above its {reg.max_ma:g} mA maximum",
                    refs=[reg.ref],
                )
            )
    return findings


def _supply_findings(netlist: SpiceNetlist, vectors: Vectors) -> list[Finding]:
    findings = []
    for probe in netlist.probes.supplies:
        v = voltage(vectors, probe.node) - voltage(vectors, probe.gnd_node)
        if math.isnan(v):
            continue
        if probe.max_v is not None and v > probe.max_v * (1 + SUPPLY_TOLERANCE):
            bound = f"above its {probe.max_v:g} V maximum"
        elif probe.min_v is not None and v < probe.min_v * (1 - SUPPLY_TOLERANCE) and not probe.regulator_input:
            bound = f"below its {probe.min_v:g} V minimum" + (" (not powered)" if abs(v) < 0.1 else "")
        else:
            continue
        findings.append(
            Finding(
                rule="supply_out_of_range",
                severity="major",
                message=f"{probe.label} is at {v:.2f} V, {bound}",
                refs=[probe.ref],
            )
        )
    return findings
