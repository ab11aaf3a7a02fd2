"""Scenario discovery figures (:mod:`sim.analysis.discovery`, docs/how-to/discover.md): PRIM's peeling
trajectory and the runs over each pair of a box's parameters."""

from __future__ import annotations

from typing import Mapping

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from sim.report.plots.common import add_caption, chars, current_layout, figure_legend, styled, wrap


@styled
def peeling_figure(trajectories: pd.DataFrame, *, base_rate: float, outcome: str = "the outcome",
                   caption: str = "") -> Figure:
    """PRIM's peeling trajectory per box: density against coverage, each box on the way coloured by the
    number of parameters it restricts, the chosen box circled and annotated.

    Args:
        trajectories: :meth:`sim.analysis.discovery.Discovery.trajectories` (box, step, coverage, density, mass,
            res_dim, chosen).
        base_rate: the share of all runs with the outcome (the density of the whole space).
        outcome: the outcome in words, for the title.
    """
    numbers = list(pd.unique(trajectories["box"]))
    target = current_layout().width
    columns = len(numbers) if target is None else max(1, min(len(numbers), int((target - 0.8) // 2.4)))
    rows = -(-len(numbers) // columns)
    panel = 4.6 if target is None else (target - 0.8) / columns
    figure = Figure(figsize=(panel * columns + (1.2 if target is None else 0.8), (4.2 if target is None else
                             min(panel, 3.2) + 0.4) * rows + (0 if target is None else 1.0)), layout="constrained")
    axes = np.atleast_1d(figure.subplots(rows, columns, squeeze=False)).ravel()
    for ax in axes[len(numbers):]:
        ax.set_visible(False)
    axes = axes[:len(numbers)]
    most = max(int(trajectories["res_dim"].max()), 1)
    cmap = matplotlib.colormaps["viridis"].resampled(most + 1)
    for ax, number in zip(axes, numbers):
        path = trajectories[trajectories["box"] == number]
        ax.plot(path["coverage"], path["density"], color="0.75", linewidth=0.8, zorder=1)
        points = ax.scatter(path["coverage"], path["density"], c=path["res_dim"], cmap=cmap, vmin=-0.5,
                            vmax=most + 0.5, s=18, zorder=2)
        chosen = path[path["chosen"]].iloc[0]
        ax.scatter([chosen["coverage"]], [chosen["density"]], s=160, facecolors="none", edgecolors="tab:red",
                   linewidths=1.8, zorder=3, label="chosen box")
        ax.annotate(f"box {number}: coverage {chosen['coverage']:.2f}\ndensity {chosen['density']:.2f}, "
                    f"mass {chosen['mass']:.2f}\n{int(chosen['res_dim'])} limits", (chosen["coverage"], chosen["density"]),
                    xytext=(-12, -14), textcoords="offset points", ha="right", va="top", fontsize=7,
                    bbox=dict(boxstyle="round,pad=0.3", facecolor="white", edgecolor="0.7"))
        if number == numbers[0]:
            ax.axhline(base_rate, color="0.4", linestyle=":", linewidth=1, label=f"base rate {base_rate:.2f}")
        ax.set_xlim(-0.02, 1.04)
        ax.set_ylim(-0.02, 1.04)
        room = 50 if target is None else chars(panel - 0.5)
        ax.set_xlabel(wrap("coverage (share of the runs of interest inside the box)", room))
        ax.set_ylabel(wrap("density (share of the runs inside the box of interest)", room))
        ax.set_title(wrap(f"Box {number}" + ("" if number == numbers[0] else " (runs outside the boxes before it)"),
                          chars(panel - 0.3, 8)))
    handles = {}
    for ax in axes:  # one legend below the panels: it covers no run
        for handle, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, handle)
    figure_legend(figure, list(handles.values()), list(handles.keys()), 2)
    figure.colorbar(points, ax=axes.tolist(), ticks=range(most + 1), label="parameters restricted")
    add_caption(figure, caption, title=f"PRIM peeling trajectory: runs with {outcome}")
    return figure


def _axis_codes(values: pd.Series, categories: list[str] | None) -> tuple[np.ndarray, list[str] | None]:
    """Numbers for an axis: the values themselves, or category codes (with the category names)."""
    if categories is None:
        return values.to_numpy(dtype=float), None
    order = {c: i for i, c in enumerate(categories)}
    return values.astype(str).map(order).to_numpy(dtype=float), categories


@styled
def box_pairs_figure(x: pd.DataFrame, flags: np.ndarray, limits: pd.DataFrame, *, names: Mapping[str, str],
                     outcome: str = "the outcome", categories: Mapping[str, list[str]] | None = None,
                     title: str = "", caption: str = "") -> Figure:
    """The runs over each pair of a box's restricted parameters, coloured by the outcome, with the box
    limits drawn; on the diagonal, each parameter's runs with and without the outcome as histograms.

    Args:
        x: the parameter table (one row per run).
        flags: True for the runs of interest.
        limits: the box's limits (:attr:`sim.analysis.discovery.Box.limits`: parameter, low, high, values).
        names: parameter column -> axis label with its unit.
        categories: categorical column -> its values in axis order (others are numbers).
    """
    categories = categories or {}
    params = list(limits["parameter"])
    k = len(params)
    target = current_layout().width
    size = (2.35 if k > 2 else 3.2) if target is None else (target - 1.0) / k
    room = 28 if target is None else chars(size - 0.1)
    figure = Figure(figsize=(size * k + 1.0, size * k + 0.9 + (0 if target is None else 0.8)), layout="constrained")
    axes = np.atleast_2d(figure.subplots(k, k, squeeze=False))
    flags = np.asarray(flags, dtype=bool)
    codes, coords, ticks, spans = _box_axes(x, limits, categories)
    for i, row_param in enumerate(params):
        for j, col_param in enumerate(params):
            ax = axes[i, j]
            if j > i:
                ax.set_visible(False)
                continue
            if i == j:  # each parameter's runs with and without the outcome, stacked
                _diagonal_panel(ax, codes[col_param], coords[col_param], ticks[col_param], spans[col_param],
                                flags)
            else:
                _pair_panel(ax, coords[col_param], coords[row_param], spans[col_param], spans[row_param],
                            flags)
                ax.set_ylabel(wrap(names.get(row_param, row_param), room) if j == 0 else "")
            for axis, param in ((ax.xaxis, col_param),) + (((ax.yaxis, row_param),) if i != j else ()):
                if ticks[param] is not None:
                    axis.set_ticks(range(len(ticks[param])), ticks[param])
            ax.set_xlabel(wrap(names.get(col_param, col_param), room) if i == k - 1 else "")
    figure_legend(figure, [Line2D([], [], marker="o", color="tab:orange", linestyle=""),
                           Line2D([], [], marker="o", color="0.7", linestyle=""), Patch(fill=False, edgecolor="tab:blue")],
                  [f"run with {outcome}", f"run without {outcome}", "box limits"], 3)
    add_caption(figure, caption, title=title or f"Runs with {outcome} and the PRIM box")
    return figure


def _box_axes(x: pd.DataFrame, limits: pd.DataFrame, categories: Mapping[str, list[str]]) -> tuple[dict, ...]:
    """Per restricted parameter: its values as numbers (category codes), where its runs are drawn (the
    codes jittered inside their band for categories), its category names (None for numbers) and the
    spans of the axis the box allows."""
    codes, coords, ticks, spans = {}, {}, {}, {}
    rng = np.random.default_rng(0)  # jitter of categorical axes: fixed, so the figure is the same every time
    for _, limit in limits.iterrows():
        column = limit["parameter"]
        codes[column], ticks[column] = _axis_codes(x[column], categories.get(column))
        coords[column] = codes[column]
        if ticks[column] is not None:  # categories: jitter inside a band, the allowed bands are the box
            coords[column] = codes[column] + rng.uniform(-0.3, 0.3, len(x))
            allowed = limit["values"].split(", ")
            spans[column] = [(ticks[column].index(v) - 0.4, ticks[column].index(v) + 0.4) for v in allowed]
        else:
            spans[column] = [(float(limit["low"]), float(limit["high"]))]
    return codes, coords, ticks, spans


def _diagonal_panel(ax, codes: np.ndarray, coords: np.ndarray, ticks: list[str] | None,
                    spans: list[tuple[float, float]], flags: np.ndarray) -> None:
    """One parameter's runs without and with the outcome, stacked (bars of run counts for categories),
    the box's spans shaded."""
    if ticks is not None:  # categories: bars of run counts
        where = np.arange(len(ticks))
        counts = [np.bincount(codes[mask].astype(int), minlength=len(where)) for mask in (~flags, flags)]
        ax.bar(where, counts[0], width=0.6, color="0.75")
        ax.bar(where, counts[1], width=0.6, bottom=counts[0], color="tab:orange")
    else:
        bins = np.linspace(np.nanmin(coords), np.nanmax(coords), 25)
        ax.hist([coords[~flags], coords[flags]], bins=bins, stacked=True, color=["0.75", "tab:orange"])
    for low, high in spans:
        ax.axvspan(low, high, color="tab:blue", alpha=0.12, linewidth=0, zorder=0)
        ax.axvline(low, color="tab:blue", linewidth=1.2)
        ax.axvline(high, color="tab:blue", linewidth=1.2)
    ax.set_ylabel("runs")


def _pair_panel(ax, xs: np.ndarray, ys: np.ndarray, x_spans: list[tuple[float, float]],
                y_spans: list[tuple[float, float]], flags: np.ndarray) -> None:
    """The runs over two parameters, those with the outcome in orange, the box's limits as rectangles."""
    ax.scatter(xs[~flags], ys[~flags], s=3, color="0.7", alpha=0.5, linewidths=0, rasterized=True)
    ax.scatter(xs[flags], ys[flags], s=4, color="tab:orange", alpha=0.8, linewidths=0, rasterized=True)
    for x_low, x_high in x_spans:
        for y_low, y_high in y_spans:
            ax.add_patch(Rectangle((x_low, y_low), x_high - x_low, y_high - y_low, fill=False,
                                   edgecolor="tab:blue", linewidth=1.5))
