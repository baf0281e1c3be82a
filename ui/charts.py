"""Matplotlib figures for the page (``gr.Plot`` shows them): per-expert usage bars, baseline against
steered, and the SPICE analyses' plots. Figures are made without pyplot, so concurrent sessions never
share a current figure."""

from __future__ import annotations

import math

from matplotlib.figure import Figure

from agents.run_report import RoutingSummary
from spice.results import Analysis

MAX_LAYER_PANELS = 12


def usage_bars(
    baseline: RoutingSummary | None, steered: RoutingSummary | None = None, *, title: str = ""
) -> Figure | None:
    """One panel per MoE layer: the share of the stage's tokens that picked each expert."""
    first = baseline or steered
    if first is None:
        return None
    layers = min(len(first.usage), MAX_LAYER_PANELS)
    experts = len(first.usage[0]) if first.usage else 0
    cols = min(layers, 4)
    rows = math.ceil(layers / cols) if layers else 1
    fig = Figure(figsize=(3.2 * cols, 2.1 * rows + 0.5), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False, sharey=True)
    series = [
        (s, label, colour)
        for s, label, colour in ((baseline, "baseline", "#8a94a6"), (steered, "steered", "#e4572e"))
        if s
    ]
    width = 0.8 / max(len(series), 1)
    for index in range(rows * cols):
        ax = axes[index // cols][index % cols]
        if index >= layers:
            ax.set_visible(False)
            continue
        for offset, (summary, label, colour) in enumerate(series):
            total = max(summary.tokens, 1)
            shares = [count / total for count in summary.usage[index]]
            xs = [e + (offset - (len(series) - 1) / 2) * width for e in range(experts)]
            ax.bar(xs, shares, width=width, color=colour, label=label)
        ax.set_title(f"MoE layer {index}", fontsize=9)
        ax.set_xticks(range(experts))
        ax.tick_params(labelsize=7)
        ax.set_ylim(0, 1)
    axes[0][0].set_ylabel("share of tokens", fontsize=8)
    if series:
        axes[0][0].legend(fontsize=7, loc="upper right")
    if title:
        fig.suptitle(title, fontsize=10)
    if len(first.usage) > MAX_LAYER_PANELS:
        fig.supxlabel(f"expert (first {MAX_LAYER_PANELS} of {len(first.usage)} layers)", fontsize=8)
    else:
        fig.supxlabel("expert", fontsize=8)
    return fig


def spice_plots(analyses: list[Analysis]) -> Figure | None:
    """The analyses that carry plot data (RC filters, dividers, 555 timers), one panel each."""
    plots = [a.plot for a in analyses if a.plot is not None and a.plot.series]
    if not plots:
        return None
    fig = Figure(figsize=(5.5 * len(plots), 3.2), layout="constrained")
    axes = fig.subplots(1, len(plots), squeeze=False)[0]
    for ax, plot in zip(axes, plots, strict=True):
        for series in plot.series:
            ax.plot(series.x, series.y, label=series.label)
        if plot.x_log:
            ax.set_xscale("log")
        ax.set_title(plot.title, fontsize=9)
        ax.set_xlabel(plot.x_label, fontsize=8)
        ax.set_ylabel(plot.y_label, fontsize=8)
        ax.grid(alpha=0.3)
        if len(plot.series) > 1:
            ax.legend(fontsize=7)
    return fig
