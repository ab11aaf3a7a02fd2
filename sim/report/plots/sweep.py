"""Figures of a sweep: a heatmap of an output over two swept parameters, outputs by the values of one."""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.analysis.stats import binomial_interval
from sim.report.plots.common import add_caption, styled, wrap
from sim.report.plots.labels import BOOLEAN_OUTPUTS, PLAIN, Labels


def _ordered(values: pd.Series, categories: list | None) -> list:
    """Axis order: the design's order for categories, ascending for numbers."""
    present = list(pd.unique(values.dropna()))
    if categories:
        return [c for c in categories if c in present] + [c for c in present if c not in categories]
    try:
        return sorted(present, key=float)
    except (TypeError, ValueError):
        return present


@styled
def heatmap_figure(grid: pd.DataFrame, x: str, y: str, title: str | None = None, *, labels: Labels = PLAIN,
                   x_label: str | None = None, y_label: str | None = None, output: str = "agreement",
                   categories: Mapping[str, list] | None = None, caption: str = "") -> Figure:
    """A heatmap of ``mean`` over two parameters (numbers or categories such as protocol names);
    each cell annotated with its value and n.

    Args:
        grid: long table with columns ``x``, ``y``, ``mean`` and ``n`` (:func:`sim.analysis.sensitivity.agreement_grid`).
        x, y: the two parameter columns.
        x_label, y_label: axis names (default: ``labels.parameter`` of the column).
        output: the averaged output (names the colour bar; proportions get the [0, 1] scale).
        categories: column -> order of its categorical values.
    """
    categories = categories or {}
    columns = _ordered(grid[x], categories.get(x))
    rows = _ordered(grid[y], categories.get(y))[::-1]  # largest / last at the top
    table = grid.pivot_table(index=y, columns=x, values="mean", aggfunc="mean").reindex(index=rows, columns=columns)
    counts = grid.pivot_table(index=y, columns=x, values="n", aggfunc="sum").reindex(index=rows, columns=columns)
    proportion = output in BOOLEAN_OUTPUTS
    what = "share of runs with " + labels.output(output) if proportion else "mean " + labels.output(output)
    figure = Figure(figsize=(0.95 * table.shape[1] + 3.6, 0.62 * table.shape[0] + 2.2), layout="constrained")
    ax = figure.subplots()
    ax.grid(False)
    values = table.to_numpy(dtype=float)
    image = ax.imshow(values, cmap="viridis", vmin=0 if proportion else None, vmax=1 if proportion else None,
                      aspect="auto")
    ax.set_xticks(range(table.shape[1]), [labels.value(v) for v in table.columns])
    ax.set_yticks(range(table.shape[0]), [labels.value(v) for v in table.index])
    if any(len(labels.value(v)) > 6 for v in table.columns):
        ax.tick_params(axis="x", labelrotation=30)
    low, high = np.nanmin(values), np.nanmax(values)
    for i in range(table.shape[0]):
        for j in range(table.shape[1]):
            value = table.iat[i, j]
            if not np.isfinite(value):
                continue
            bright = (value - low) / (high - low) > 0.6 if high > low else False
            ax.text(j, i, f"{value:.2f}\nn={int(counts.iat[i, j])}", ha="center", va="center", fontsize=7,
                    color="black" if bright else "white")
    ax.set_xlabel(x_label or labels.parameter(x))
    ax.set_ylabel(y_label or labels.parameter(y))
    figure.colorbar(image, ax=ax, label=wrap(what, 40))
    ax.set_title(title or what[0].upper() + what[1:])
    add_caption(figure, caption)
    return figure


@styled
def distributions_figure(runs: pd.DataFrame, by: str, outputs: list[str], *, labels: Labels = PLAIN,
                         by_label: str | None = None, order: list | None = None, caption: str = "") -> Figure:
    """Each output by the values of ``by`` (protocol, scenario, σ, ...): yes/no outputs as
    proportions with 95% Wilson intervals, the others as box plots with the mean marked."""
    outputs = [o for o in outputs if o in runs]
    figure = Figure(figsize=(4.0 * len(outputs) + 0.4, 3.9), layout="constrained")
    axes = np.atleast_1d(figure.subplots(1, len(outputs), squeeze=False)).ravel()
    groups = _ordered(runs[by], order)
    names = [labels.value(g) for g in groups]
    positions = np.arange(len(groups))
    boxes = False
    for ax, output in zip(axes, outputs):
        if output in BOOLEAN_OUTPUTS or runs[output].dtype == bool:
            flags = [runs.loc[runs[by] == g, output].dropna().astype(bool) for g in groups]
            share = np.array([f.mean() if len(f) else np.nan for f in flags])
            n = np.array([len(f) for f in flags])
            low, high = binomial_interval(share * n, n)
            ax.errorbar(positions, share, yerr=[share - low, high - share], fmt="o", capsize=4, color="tab:blue")
            for p, value, count in zip(positions, share, n):
                ax.annotate(f"{value:.2f} (n={count})", (p, value), xytext=(6, 0), textcoords="offset points",
                            va="center", fontsize=7)
            ax.set_ylim(-0.03, 1.03)
            ax.set_ylabel("share of runs (95% Wilson interval)")
        else:
            data = [runs.loc[runs[by] == g, output].astype(float).dropna().to_numpy() for g in groups]
            ax.boxplot(data, positions=positions, showmeans=True, widths=0.5,
                       medianprops=dict(color="tab:orange"), meanprops=dict(marker="^", markerfacecolor="tab:green",
                                                                            markeredgecolor="tab:green"))
            boxes = True
            ax.set_ylabel("position on the issue's scale" if output.startswith(("outcome_", "bundle_")) else
                          "utility" if output.startswith(("utility_", "disagreement_")) else
                          wrap(labels.output(output), 32))
        ax.set_xticks(positions, names)
        ax.set_xlim(-0.6, len(groups) - 0.4)
        ax.set_title(wrap(labels.output(output)[0].upper() + labels.output(output)[1:], 40))
        ax.set_xlabel(by_label or labels.parameter(by))
        if any(len(name) > 6 for name in names):
            ax.tick_params(axis="x", labelrotation=30)
    if boxes:
        from matplotlib.lines import Line2D

        figure.legend([Line2D([], [], color="tab:orange"), Line2D([], [], marker="^", color="tab:green", linestyle=""),
                       Line2D([], [], marker="o", color="black", markerfacecolor="none", linestyle="")],
                      ["median (box: quartiles, whiskers: 1.5 IQR)", "mean", "outlying run"],
                      loc="outside lower center", ncol=3)
    add_caption(figure, caption)
    return figure
