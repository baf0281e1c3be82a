"""Analyses chosen from the topology: resistor dividers (operating point plus a DC sweep), RC low-
and high-pass filters (AC sweep, -3 dB point) and 555 astables (transient, frequency and duty).

Each detector looks only at the netlist's resistors and capacitors and the nodes a source drives,
so it applies to whatever design holds the pattern; each analysis is short (a few hundred points).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from functools import partial
from itertools import islice, permutations

import numpy as np

from components_db.schema import ElectricalType, PinRole
from spice import engine
from spice.builder import TwoTerminal
from spice.checks import Vectors, voltage
from spice.names import GROUND, spice_number
from spice.netlist import SpiceNetlist
from spice.results import Analysis, Plot, Series, SummaryRow
from studio.circuit.resolve import ResolvedDesign
from studio.circuit.values import format_value

MAX_PER_KIND = 3
AC_POINTS_PER_DECADE = 50
AC_DECADES = 3  # each side of the expected corner
TRAN_POINTS_PER_PERIOD = 400
TRAN_PERIODS = 8
TEXTBOOK_555 = 1.44  # f = 1.44 / ((R1 + 2 R2) C)
_TIMER_ROLES = (PinRole.TRIGGER, PinRole.THRESHOLD, PinRole.DISCHARGE, PinRole.POWER_IN)


def run_analyses(resolved: ResolvedDesign, netlist: SpiceNetlist, op: Vectors) -> tuple[list[Analysis], list[str]]:
    """Every analysis that applies (at most a few of each kind); a failed one becomes a note."""
    analyses: list[Analysis] = []
    notes: list[str] = []
    jobs = [
        *(("divider", partial(_divider, netlist, op, *d)) for d in islice(_dividers(netlist), MAX_PER_KIND)),
        *(("RC filter", partial(_rc_filter, netlist, *f)) for f in islice(_rc_filters(netlist), MAX_PER_KIND)),
        *(("555", partial(_timer, netlist, *t)) for t in islice(_astables(resolved, netlist), MAX_PER_KIND)),
    ]
    for name, job in jobs:
        try:
            analyses.append(job())
        except engine.SimulationError as exc:
            notes.append(f"{name} analysis failed: {exc}")
    return analyses, notes


# ---- detection ---------------------------------------------------------------------------------


def _only_parts(netlist: SpiceNetlist, node: str, allowed: set[str]) -> bool:
    return set(netlist.node_owners.get(node, [])) <= allowed


def _dividers(netlist: SpiceNetlist) -> Iterator[tuple[TwoTerminal, TwoTerminal, str, str]]:
    """(top, bottom, driven node, tap): top from a driven node to the tap, bottom from the tap to ground."""
    resistors = [t for t in netlist.two_terminals if t.kind == "resistor"]
    capacitors = {t.ref for t in netlist.two_terminals if t.kind == "capacitor"}
    for top, bottom in permutations(resistors, 2):
        for tap in set(top.nodes) & set(bottom.nodes):
            high, low = _other(top, tap), _other(bottom, tap)
            if (
                tap != GROUND
                and low == GROUND
                and high in netlist.drivers
                and _only_parts(netlist, tap, {top.ref, bottom.ref} | capacitors)
            ):
                yield top, bottom, high, tap


def _rc_filters(netlist: SpiceNetlist) -> Iterator[tuple[TwoTerminal, TwoTerminal, str, str, str]]:
    """(series part, shunt part, driven node, output node, "low"|"high")."""
    parts = netlist.two_terminals
    for series in parts:
        for shunt in parts:
            if {series.kind, shunt.kind} != {"resistor", "capacitor"}:
                continue
            for out in set(series.nodes) & set(shunt.nodes):
                source, low = _other(series, out), _other(shunt, out)
                if out != GROUND and low == GROUND and source in netlist.drivers and out not in netlist.drivers:
                    yield series, shunt, source, out, ("low" if shunt.kind == "capacitor" else "high")


def _astables(
    resolved: ResolvedDesign, netlist: SpiceNetlist
) -> Iterator[tuple[str, str, TwoTerminal, TwoTerminal, TwoTerminal]]:
    """(555 ref, output node, R1 VCC-DIS, R2 DIS-THR, C THR-GND) with TRIG tied to THR."""
    for ref, part in resolved.parts.items():
        if part.spice is None or part.spice.kind != "timer555":
            continue

        def node(pins: list, ref: str = ref) -> str | None:
            return netlist.pin_nodes.get(f"{ref}.{pins[0].name}") if pins else None

        trig, thr, dis, vcc = (node(part.pins_with_role(role)) for role in _TIMER_ROLES)
        out = node([pin for pin in part.pins if pin.type is ElectricalType.OUTPUT])
        if out is None or trig is None or trig != thr:
            continue
        r1 = _between(netlist, "resistor", vcc, dis)
        r2 = _between(netlist, "resistor", dis, thr)
        c = _between(netlist, "capacitor", thr, GROUND)
        if r1 and r2 and c:
            yield ref, out, r1, r2, c


def _between(netlist: SpiceNetlist, kind: str, a: str | None, b: str | None) -> TwoTerminal | None:
    return next((t for t in netlist.two_terminals if t.kind == kind and set(t.nodes) == {a, b}), None)


def _other(part: TwoTerminal, node: str) -> str:
    a, b = part.nodes
    return b if a == node else a


# ---- runs --------------------------------------------------------------------------------------


def _divider(
    netlist: SpiceNetlist, op: Vectors, top: TwoTerminal, bottom: TwoTerminal, high: str, tap: str
) -> Analysis:
    v_high, v_tap = voltage(op, high), voltage(op, tap)
    expected = bottom.value / (top.value + bottom.value)
    ratio = v_tap / v_high if v_high else math.nan
    source = netlist.drivers[high]
    start = netlist.source_volts[source] - v_high
    stop = netlist.source_volts[source]
    sweep = engine.run(
        netlist.render(
            f".dc {source} {spice_number(start)} {spice_number(stop)} {spice_number((stop - start) / 50 or 1)}"
        )
    )
    x, y = _vector(sweep, high), _vector(sweep, tap)
    refs = list(dict.fromkeys([top.ref, bottom.ref]))
    return Analysis(
        kind="divider",
        title=f"Divider {'/'.join(refs)}",
        refs=refs,
        values={"ratio": ratio, "expected_ratio": expected, "v_in": v_high, "v_out": v_tap},
        rows=[
            SummaryRow(quantity="ratio", simulated=f"{ratio:.4f}", expected=f"{expected:.4f}"),
            SummaryRow(quantity="output voltage", simulated=f"{v_tap:.3f} V", expected=f"{v_high * expected:.3f} V"),
        ],
        plot=Plot(
            title=f"Divider {'/'.join(refs)}: output against input",
            x_label="input (V)",
            y_label="output (V)",
            series=[Series(label="output", x=x.tolist(), y=y.tolist())],
        ),
    )


def _rc_filter(
    netlist: SpiceNetlist, series: TwoTerminal, shunt: TwoTerminal, source: str, out: str, shape: str
) -> Analysis:
    r, c = (series.value, shunt.value) if series.kind == "resistor" else (shunt.value, series.value)
    expected = 1 / (2 * math.pi * r * c)
    f_start, f_stop = expected / 10**AC_DECADES, expected * 10**AC_DECADES
    deck = netlist.render(
        f".ac dec {AC_POINTS_PER_DECADE} {spice_number(f_start)} {spice_number(f_stop)}",
        ac_source=netlist.drivers[source],
    )
    sweep = engine.run(deck)
    freq = np.real(sweep["frequency"])
    gain_db = 20 * np.log10(np.abs(_vector(sweep, out)) / np.abs(_vector(sweep, source)))
    reference = gain_db[0] if shape == "low" else gain_db[-1]
    cutoff = _crossing(freq, gain_db, reference - 10 * math.log10(2))
    refs = [series.ref, shunt.ref]
    return Analysis(
        kind="rc_filter",
        title=f"RC {shape}-pass {'/'.join(refs)}",
        refs=refs,
        values={"cutoff_hz": cutoff, "expected_hz": expected, "passband_db": float(reference)},
        rows=[
            SummaryRow(
                quantity="-3 dB frequency", simulated=format_value(cutoff, "Hz"), expected=format_value(expected, "Hz")
            ),
            SummaryRow(quantity="pass-band gain", simulated=f"{reference:.2f} dB", expected="0 dB"),
        ],
        plot=Plot(
            title=f"RC {shape}-pass {'/'.join(refs)}: gain",
            x_label="frequency (Hz)",
            y_label="gain (dB)",
            x_log=True,
            series=[Series(label="gain", x=freq.tolist(), y=gain_db.tolist())],
        ),
    )


def _timer(
    netlist: SpiceNetlist, ref: str, out_node: str, r1: TwoTerminal, r2: TwoTerminal, c: TwoTerminal
) -> Analysis:
    expected = TEXTBOOK_555 / ((r1.value + 2 * r2.value) * c.value)
    period = 1 / expected
    step = period / TRAN_POINTS_PER_PERIOD
    deck = netlist.render(
        f".tran {spice_number(step)} {spice_number(TRAN_PERIODS * period)} 0 {spice_number(step)} uic"
    )
    sweep = engine.run(deck)
    time = np.real(sweep["time"])
    out = _vector(sweep, out_node)
    cap = _vector(sweep, _other(c, GROUND))
    frequency, duty = _frequency(time, out)
    expected_duty = (r1.value + r2.value) / (r1.value + 2 * r2.value)
    return Analysis(
        kind="timer555",
        title=f"555 astable {ref}",
        refs=[ref, r1.ref, r2.ref, c.ref],
        values={"frequency_hz": frequency, "expected_hz": expected, "duty": duty, "expected_duty": expected_duty},
        rows=[
            SummaryRow(
                quantity="frequency", simulated=format_value(frequency, "Hz"), expected=format_value(expected, "Hz")
            ),
            SummaryRow(quantity="duty cycle", simulated=f"{duty:.1%}", expected=f"{expected_duty:.1%}"),
        ],
        plot=Plot(
            title=f"555 astable {ref}",
            x_label="time (s)",
            y_label="voltage (V)",
            series=[
                Series(label="output", x=time.tolist(), y=out.tolist()),
                Series(label="timing capacitor", x=time.tolist(), y=cap.tolist()),
            ],
        ),
    )


def _vector(vectors: Vectors, node: str) -> np.ndarray:
    if node == GROUND:
        return np.zeros_like(next(iter(vectors.values())))
    return vectors[node.lower()]


def _crossing(x: np.ndarray, y: np.ndarray, level: float) -> float:
    """First x where y crosses ``level``, interpolated on a log-x axis; NaN when it never does."""
    above = y >= level
    for i in range(len(y) - 1):
        if above[i] != above[i + 1]:
            t = (level - y[i]) / (y[i + 1] - y[i])
            return float(10 ** (math.log10(x[i]) + t * (math.log10(x[i + 1]) - math.log10(x[i]))))
    return math.nan


def _frequency(time: np.ndarray, wave: np.ndarray) -> tuple[float, float]:
    """Mean frequency and duty cycle over the whole cycles after the first (which starts from 0 V)."""
    level = (float(wave.max()) + float(wave.min())) / 2
    high = np.real(wave) > level
    rising = [_edge(time, wave, i, level) for i in range(1, len(high)) if high[i] and not high[i - 1]]
    falling = [_edge(time, wave, i, level) for i in range(1, len(high)) if not high[i] and high[i - 1]]
    if len(rising) < 3:
        return math.nan, math.nan
    periods = np.diff(rising[1:]) if len(rising) > 3 else np.diff(rising)
    start, end = rising[-2], rising[-1]
    fall = next((f for f in falling if start < f < end), math.nan)
    return float(1 / periods.mean()), float((fall - start) / (end - start))


def _edge(time: np.ndarray, wave: np.ndarray, i: int, level: float) -> float:
    t = (level - np.real(wave[i - 1])) / (np.real(wave[i]) - np.real(wave[i - 1]))
    return float(time[i - 1] + t * (time[i] - time[i - 1]))
