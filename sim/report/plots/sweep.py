"""Figures of a sweep: a heatmap of an output over two swept parameters, outputs by the values of one."""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.analysis.stats import binomial_interval
from sim.report.plots.common import add_caption, chars, current_layout, figure_legend, fit, styled, wrap
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
    issue = labels.issue_of(output)
    scale = labels.scale(issue) if issue else None  # an issue's outcome: coloured on the issue's own scale
    target = current_layout().width
    cell = 0.95 if target is None else max(0.2, (target - 1.9) / max(table.shape[1], 1))
    figure = Figure(figsize=(cell * table.shape[1] + 3.6 if target is None else target,
                             min(cell, 0.62) * table.shape[0] + (2.2 if target is None else 1.5)), layout="constrained")
    ax = figure.subplots()
    ax.grid(False)
    values = table.to_numpy(dtype=float)
    low_end, high_end = (0, 1) if proportion else (scale[0], scale[1]) if scale else (None, None)
    image = ax.imshow(values, cmap="viridis", vmin=low_end, vmax=high_end, aspect="auto")
    x_names = [labels.value(v) for v in table.columns]
    ax.set_xticks(range(table.shape[1]), x_names)
    ax.set_yticks(range(table.shape[0]), [labels.value(v) for v in table.index])
    if max((len(v) for v in x_names), default=0) * 0.055 > cell:  # labels wider than a cell: turned
        ax.tick_params(axis="x", labelrotation=90 if target is not None else 30)
    low, high = np.nanmin(values), np.nanmax(values)
    annotate = cell >= 0.42  # a cell takes "0.52 / n=10" at 7 pt; else the colours and the caption say it
    for i in range(table.shape[0]):
        for j in range(table.shape[1]):
            value = table.iat[i, j]
            if not annotate or not np.isfinite(value):
                continue
            bright = (value - low) / (high - low) > 0.6 if high > low else False
            ax.text(j, i, f"{value:.2f}\nn={int(counts.iat[i, j])}", ha="center", va="center", fontsize=7,
                    color="black" if bright else "white")
    ax.set_xlabel(wrap(x_label or labels.parameter(x), chars(figure.get_figwidth() - 1.2, 8)))
    ax.set_ylabel(wrap(y_label or labels.parameter(y), chars(0.7 * figure.get_figheight(), 8)))
    unit = f" ({scale[2]})" if scale and scale[2] else ""
    figure.colorbar(image, ax=ax, label=wrap(what + unit, 40 if target is None else chars(0.6 * figure.get_figheight())))
    ax.set_title(wrap(title or what[0].upper() + what[1:], chars(figure.get_figwidth() - 0.3, 8)))
    if not annotate:
        shown = counts.to_numpy(dtype=float)
        shown = shown[np.isfinite(shown)]
        caption = "\n".join(filter(None, [caption, f"runs per cell: {int(shown.min())}" + (
            f"-{int(shown.max())}" if shown.size and shown.max() != shown.min() else "")])) if shown.size else caption
    add_caption(figure, caption)
    return figure


@styled
def distributions_figure(runs: pd.DataFrame, by: str, outputs: list[str], *, labels: Labels = PLAIN,
                         by_label: str | None = None, order: list | None = None, caption: str = "") -> Figure:
    """Each output by the values of ``by`` (protocol, scenario, σ, ...): yes/no outputs as
    proportions with 95% Wilson intervals, the others as box plots with the mean marked."""
    outputs = [o for o in outputs if o in runs and runs[o].astype(float).notna().any()]  # no empty panel
    target = current_layout().width
    columns = fit(len(outputs), 2.6, most=len(outputs))
    rows = -(-len(outputs) // columns)
    groups = _ordered(runs[by], order)
    names = [labels.value(g) for g in groups]
    panel_width = 4.0 if target is None else target / columns
    turned = max((len(name) for name in names), default=0) * 0.055 * len(names) > 0.8 * panel_width
    figure = Figure(figsize=(4.0 * len(outputs) + 0.4, 3.9) if target is None else
                    (target, rows * (2.1 + (0.05 * max(len(n) for n in names) if turned else 0)) + 0.6),
                    layout="constrained")
    axes = np.atleast_1d(figure.subplots(rows, columns, squeeze=False)).ravel()
    for ax in axes[len(outputs):]:
        ax.set_visible(False)
    positions = np.arange(len(groups))
    boxes = False
    for ax, output in zip(axes, outputs):
        if output in BOOLEAN_OUTPUTS or runs[output].dtype == bool:
            flags = [runs.loc[runs[by] == g, output].dropna().astype(bool) for g in groups]
            share = np.array([f.mean() if len(f) else np.nan for f in flags])
            n = np.array([len(f) for f in flags])
            low, high = binomial_interval(share * n, n)
            errors = [np.clip(share - low, 0, None), np.clip(high - share, 0, None)]  # 1e-17 below the share at 1
            ax.errorbar(positions, share, yerr=errors, fmt="o", capsize=4, color="tab:blue")
            for p, value, count in zip(positions, share, n):
                ax.annotate(f"{value:.2f}" + (f" (n={count})" if target is None else ""), (p, value),
                            xytext=(6, 0), textcoords="offset points", va="center", fontsize=7)
            ax.set_ylim(-0.03, 1.03)
            ax.set_ylabel(wrap("share of runs (95% Wilson interval)", chars(0.7 * (figure.get_figheight() - 0.6) / rows)))
        else:
            data = [runs.loc[runs[by] == g, output].astype(float).dropna().to_numpy() for g in groups]
            ax.boxplot(data, positions=positions, showmeans=True, widths=0.5,
                       medianprops=dict(color="tab:orange"), meanprops=dict(marker="^", markerfacecolor="tab:green",
                                                                            markeredgecolor="tab:green"))
            boxes = True
            issue = labels.issue_of(output)
            if issue is not None:  # the issue's own scale and unit
                lower, upper, _ = labels.scale(issue)
                ax.set_ylim(lower - 0.04 * (upper - lower), upper + 0.04 * (upper - lower))
                ax.set_ylabel(labels.position_label(issue))
            else:
                ax.set_ylabel("utility" if output.startswith(("utility_", "disagreement_")) else
                              wrap(labels.output(output), 32))
        ax.set_xticks(positions, names)
        ax.set_xlim(-0.6, len(groups) - 0.4)
        ax.set_title(wrap(labels.output(output)[0].upper() + labels.output(output)[1:], chars(panel_width - 0.3, 8)))
        ax.set_xlabel(wrap(by_label or labels.parameter(by), chars(panel_width - 0.3, 8)))
        if turned or (target is None and any(len(name) > 6 for name in names)):
            ax.tick_params(axis="x", labelrotation=90 if target is not None else 30)
    if target is not None and any(output in BOOLEAN_OUTPUTS or runs[output].dtype == bool for output in outputs):
        counts = runs.groupby(by).size()
        caption = "\n".join(filter(None, [caption, "runs per group: " + ", ".join(
            f"{labels.value(g)} {int(counts.get(g, 0))}" for g in groups)]))
    if boxes:
        from matplotlib.lines import Line2D

        figure_legend(figure, [Line2D([], [], color="tab:orange"),
                               Line2D([], [], marker="^", color="tab:green", linestyle=""),
                               Line2D([], [], marker="o", color="black", markerfacecolor="none", linestyle="")],
                      ["median (box: quartiles, whiskers: 1.5 IQR)", "mean", "outlying run"], 3)
    add_caption(figure, caption)
    return figure
