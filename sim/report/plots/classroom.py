"""Figures of the classroom: a person's result against the model agent in the same seat, utilities by
round."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from sim.report.plots.common import integer_rounds, size, styled
from sim.report.plots.labels import PLAIN, Labels


@styled
def replicate_figure(values: np.ndarray, human: float, disagreement: float, seat: str) -> Figure:
    """The model agent's utility in a seat over replicates (histogram) against a person's result."""
    figure = Figure(figsize=size(6.5, 3.2), layout="constrained")
    ax = figure.subplots()
    low, high = min(values.min(), human, disagreement), max(values.max(), human, disagreement)
    pad = max(0.02, 0.05 * (high - low))
    ax.hist(values, bins=np.linspace(low - pad, high + pad, 21), color="tab:gray", alpha=0.7,
            label=f"model agent ({len(values)} runs)")
    ax.axvline(human, color="tab:red", linewidth=2.5, label="you")
    ax.axvline(disagreement, color="black", linestyle=":", label="outside option")
    ax.set_xlabel(f"utility of {seat}")
    ax.set_ylabel("runs")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    figure.legend(loc="outside right upper")
    return figure


@styled
def utilities_figure(table: pd.DataFrame, title: str = "Utility by round", *, labels: Labels = PLAIN) -> Figure:
    """Each party's utility by round (columns: round, then one per actor)."""
    figure = Figure(figsize=size(6.5, 3.4), layout="constrained")
    ax = figure.subplots()
    actors = [c for c in table.columns if c != "round"]
    for actor in actors:
        ax.plot(table["round"], table[actor], marker="o", markersize=3, label=labels.actor(actor))
    integer_rounds(ax)
    ax.set_ylabel("utility")
    ax.set_ylim(-0.05, 1.05)
    ax.set_title(title)
    if actors:
        figure.legend(loc="outside right upper")
    return figure
