"""Calibration figures (:mod:`sim.runs.calibration`): posterior marginals, pair plot, posterior-predictive
check."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.report.plots.common import (add_caption, chars, current_layout, figure_legend, fit, integer_rounds,
                                     issue_panels, legend_below, styled, wrap)
from sim.report.plots.labels import PLAIN, Labels


@styled
def posterior_marginals_figure(posterior: pd.DataFrame, priors: list[tuple[str, str, float, float]], *,
                               labels: Labels = PLAIN, caption: str = "") -> Figure:
    """One panel per calibrated parameter: the weighted histogram of the posterior particles over the
    prior's range, the prior's density (dashed) and the posterior mean.

    Args:
        posterior: particles (one column per parameter, ``weight``), :func:`sim.runs.calibration.posterior_table`.
        priors: (config key, column, low, high[, kind: uniform | loguniform]) per parameter.
    """
    count = len(priors)
    columns = fit(count, 2.2)
    rows = math.ceil(count / columns)
    target = current_layout().width
    panel = 3.6 if target is None else target / columns
    figure = Figure(figsize=(panel * columns, min(2.8, 0.8 * panel + 0.4) * rows + 0.8), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False)
    weights = posterior["weight"].to_numpy()
    for ax, (key, column, low, high, *rest) in zip(axes.ravel(), priors):
        kind = rest[0] if rest else "uniform"
        values = posterior[column].to_numpy()
        ax.hist(values, bins=np.linspace(low, high, 21), weights=weights, density=True, color="C0", alpha=0.7,
                label="posterior")
        grid = np.linspace(low, high, 200)
        density = (1.0 / (grid * np.log(high / low)) if kind == "loguniform"
                   else np.full_like(grid, 1.0 / (high - low)))
        ax.plot(grid, density, color="0.3", linestyle="--", linewidth=1, label="prior")
        ax.axvline(float(np.sum(weights * values)), color="C3", linewidth=1.4, label="posterior mean")
        ax.set_xlim(low, high)
        ax.set_xlabel(wrap(labels.parameter(key), chars(panel - 0.4) if target else 40))
        ax.set_ylabel("density")
    for ax in axes.ravel()[count:]:
        ax.set_visible(False)
    legend_below(figure, axes[0, 0], 3)
    add_caption(figure, caption)
    return figure


@styled
def posterior_pairs_figure(posterior: pd.DataFrame, priors: list[tuple[str, str, float, float]], *,
                           labels: Labels = PLAIN, caption: str = "") -> Figure:
    """Pair plot of the posterior particles: weighted histograms on the diagonal, particles below it
    (dot area ∝ weight), each axis over its prior's range."""
    count = len(priors)
    side = 2.3 * count + 0.6 if current_layout().width is None else current_layout().width
    figure = Figure(figsize=(side, side), layout="constrained")
    label_chars = 26 if current_layout().width is None else chars(side / count - 0.1)
    axes = figure.subplots(count, count, squeeze=False)
    weights = posterior["weight"].to_numpy()
    size = 4 + 40 * weights / max(weights.max(), 1e-12)
    for i, (key_y, column_y, low_y, high_y, *_) in enumerate(priors):
        for j, (key_x, column_x, low_x, high_x, *_) in enumerate(priors):
            ax = axes[i, j]
            if j > i:
                ax.set_visible(False)
                continue
            if i == j:
                ax.hist(posterior[column_x], bins=np.linspace(low_x, high_x, 16), weights=weights, color="C0", alpha=0.7)
                ax.set_yticks([])
            else:
                ax.scatter(posterior[column_x], posterior[column_y], s=size, color="C0", alpha=0.45, linewidths=0)
                ax.set_ylim(low_y, high_y)
            ax.set_xlim(low_x, high_x)
            if i == count - 1:
                ax.set_xlabel(wrap(labels.parameter(key_x), label_chars))
            if j == 0 and i > 0:
                ax.set_ylabel(wrap(labels.parameter(key_y), label_chars))
    add_caption(figure, caption)
    return figure


@styled
def predictive_figure(rounds: pd.DataFrame, observed: pd.DataFrame, issues: list[str], last_round: int, *,
                      labels: Labels = PLAIN, scales: dict[str, tuple[float, float, str]] | None = None,
                      caption: str = "") -> Figure:
    """Posterior-predictive check: per issue, each actor's simulated positions by round for every posterior
    draw (thin lines; held after a run's last round, as scoring holds them) with the observed positions
    at their mapped rounds (large dots).

    Args:
        rounds: draw, round, actor, issue, position (:func:`sim.runs.calibration.predictive_runs`).
        observed: round, actor, issue, position (:func:`sim.runs.scoring.observed_table`).
        issues: the issues to show (those observed at a mapped round).
        last_round: the x axis ends here.
        scales: issue -> (lower, upper, unit): each panel's y axis is its issue's own scale (default:
            ``labels.scale``, 0-100 when not known). Issues with neither simulated nor observed positions
            get no panel.
    """
    scales = {**labels.scales, **(scales or {})}
    issues = [i for i in issues if ((observed["issue"] == i).any() or (rounds["issue"] == i).any())]
    figure, axes = issue_panels(len(issues), None, 4.2, 2.9)
    actors = list(dict.fromkeys(list(observed["actor"]) + list(rounds["actor"])))
    colour = {a: f"C{index % 10}" for index, a in enumerate(actors)}
    data = rounds[rounds["round"] <= last_round]
    for ax, issue in zip(axes, issues):
        for actor in actors:
            own = observed[(observed["issue"] == issue) & (observed["actor"] == actor)]
            if own.empty:
                continue
            tracks = data[(data["issue"] == issue) & (data["actor"] == actor)]
            for _, track in tracks.groupby("draw"):
                x, y = track["round"].to_numpy(), track["position"].to_numpy()
                if x.size and x[-1] < last_round:  # talks over: the stance stands
                    x, y = np.append(x, last_round), np.append(y, y[-1])
                ax.plot(x, y, color=colour[actor], alpha=0.12, linewidth=1)
            ax.scatter(own["round"], own["position"], s=46, color=colour[actor], edgecolors="black", zorder=3,
                       label=labels.actor(actor))
        ax.set_title(wrap(labels.issue(issue), 44 if current_layout().width is None else
                          chars(0.55 * figure.get_figwidth() / axes[0].get_gridspec().ncols, 8)),
                     loc="center" if current_layout().width is None else "left")
        ax.set_xlim(-0.2, last_round + 0.2)
        lower, upper, unit = scales.get(issue, (0.0, 100.0, ""))
        ax.set_ylim(lower - 0.05 * (upper - lower), upper + 0.05 * (upper - lower))  # the issue's own scale
        ax.set_ylabel(f"position ({unit})" if unit else "position")
        integer_rounds(ax)
    handles = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, handle)
    figure_legend(figure, list(handles.values()), list(handles.keys()), len(handles))
    add_caption(figure, caption)
    return figure
