"""What a simulation returns: the operating point, findings against the part limits, and analyses
with plot data and a table summary. Plain pydantic, so the CLI, the UI and the run report share it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from studio.circuit.measured import Measured

Severity = Literal["fatal", "major", "minor", "warning"]  # the ERC's scale


class Finding(BaseModel):
    rule: str  # "led_overcurrent", "gpio_overcurrent", "regulator_dropout", ...
    severity: Severity
    message: str
    refs: list[str] = Field(default_factory=list)


class OperatingPoint(BaseModel):
    """DC solution; voltages in V relative to ground, currents in mA."""

    node_voltages: dict[str, float] = Field(default_factory=dict)  # net name -> V
    rail_voltages: dict[str, float] = Field(default_factory=dict)  # power nets only
    led_currents_ma: dict[str, float] = Field(default_factory=dict)  # ref -> forward current
    gpio_currents_ma: dict[str, float] = Field(default_factory=dict)  # "U1.GPIO2" -> current sourced
    supply_currents_ma: dict[str, float] = Field(default_factory=dict)  # "BT1.+" -> current delivered
    regulator_dropout_v: dict[str, float] = Field(default_factory=dict)  # ref -> V(in) - V(out)


class Series(BaseModel):
    label: str
    x: list[float]
    y: list[float]


class Plot(BaseModel):
    title: str
    x_label: str
    y_label: str
    x_log: bool = False
    series: list[Series]


class SummaryRow(BaseModel):
    quantity: str
    simulated: str
    expected: str = ""


class Analysis(BaseModel):
    kind: Literal["rc_filter", "divider", "timer555"]
    title: str
    refs: list[str]
    values: dict[str, float]  # machine-readable results, e.g. {"cutoff_hz": ..., "expected_hz": ...}
    rows: list[SummaryRow]
    plot: Plot | None = None


class SpiceReport(BaseModel):
    ok: bool
    error: str | None = None
    operating_point: OperatingPoint | None = None
    findings: list[Finding] = Field(default_factory=list)
    analyses: list[Analysis] = Field(default_factory=list)
    assumptions: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)  # skipped parts, analyses that could not run
    netlist: str = ""

    def measured(self) -> Measured | None:
        """What the intent check holds a request's numbers against; None when nothing was solved."""
        if not self.ok or self.operating_point is None:
            return None
        op = self.operating_point
        return Measured(
            simulated=True,
            rails_v=dict(op.rail_voltages),
            frequencies_hz={"+".join(a.refs): a.values["frequency_hz"] for a in self.analyses if a.kind == "timer555"},
            cutoffs_hz={"+".join(a.refs): a.values["cutoff_hz"] for a in self.analyses if a.kind == "rc_filter"},
            led_currents_a={ref: ma / 1000 for ref, ma in op.led_currents_ma.items()},
        )
