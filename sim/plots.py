"""Figures drawn from tidy tables (never from live model objects), with matplotlib's object API."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display on servers or in CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

REFERENCE_STYLES = {
    "status_quo": dict(color="0.35", linestyle=":", linewidth=1.6, label="status quo"),
    "compromise": dict(color="tab:green", linestyle="--", linewidth=1.2, label="compromise (c·s mean)"),
    "median": dict(color="tab:purple", linestyle="-.", linewidth=1.2, label="c·s median (start)"),
    "nash": dict(color="black", linestyle=(0, (5, 2, 1, 2)), linewidth=1.2, label="Nash solution"),
}


def _wrap(text: str, width: int = 34) -> str:
    return "\n".join(textwrap.wrap(text, width)) if text else ""


def _issue_panels(count: int, columns: int | None, width: float, height: float) -> tuple[Figure, np.ndarray]:
    """A figure with one panel per issue (up to 3 per row); unused panels are hidden."""
    columns = columns or min(3, count)
    rows = math.ceil(count / columns)
    figure = Figure(figsize=(width * columns, height * rows + 0.8), layout="constrained")
    axes = np.atleast_1d(figure.subplots(rows, columns, squeeze=False)).ravel()
    for ax in axes[count:]:
        ax.set_visible(False)
    return figure, axes


def _legend_below(figure: Figure, ax, columns: int) -> None:
    handles, labels = ax.get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncol=min(len(labels), columns), fontsize=8)


def positions_figure(rounds: pd.DataFrame, issues: pd.DataFrame, columns: int | None = None) -> Figure:
    """One panel per issue: each actor's position by round, with the status quo and the reference
    solutions marked and the issue's end texts at the bottom and top of the scale.

    Args:
        rounds: the rounds table (round, actor, issue, position).
        issues: the reference table (issue, label, low, high, lower, upper, status_quo, compromise,
            median, nash), e.g. ``RunResult.issues``.
    """
    issue_ids = list(issues["issue"])
    figure, axes = _issue_panels(len(issue_ids), columns, 5.2, 3.9)
    actors = list(dict.fromkeys(rounds["actor"]))
    colours = plt.get_cmap("tab10" if len(actors) <= 10 else "tab20")
    reference = issues.set_index("issue")
    for ax, issue in zip(axes, issue_ids):
        info = reference.loc[issue]
        data = rounds[rounds["issue"] == issue]
        for index, actor in enumerate(actors):
            track = data[data["actor"] == actor]
            ax.plot(track["round"], track["position"], marker="o", markersize=2.5, linewidth=1.4,
                    color=colours(index % colours.N), label=actor)
        for column, style in REFERENCE_STYLES.items():
            value = info.get(column)
            if value is not None and np.isfinite(value):
                ax.axhline(value, **style)
        span = info["upper"] - info["lower"]
        ax.set_ylim(info["lower"] - 0.04 * span, info["upper"] + 0.24 * span)
        ax.set_title(_wrap(str(info["label"]), 48), fontsize=10)
        ax.set_xlabel("round")
        unit = f" ({info['unit']})" if info.get("unit") else ""
        ax.set_ylabel(f"position{unit}")
        ax.text(0.01, 0.99, "↑ " + _wrap(str(info["high"])), transform=ax.transAxes, va="top",
                ha="left", fontsize=7, color="0.25")
        ax.text(0.01, 0.01, "↓ " + _wrap(str(info["low"])), transform=ax.transAxes, va="bottom",
                ha="left", fontsize=7, color="0.25",
                bbox=dict(facecolor="white", alpha=0.7, edgecolor="none", pad=1))
        ax.grid(alpha=0.3)
    _legend_below(figure, axes[0], 8)
    return figure


def save(figure: Figure, path: str | Path, dpi: int = 130) -> Path:
    """Save a figure (creating the folder) via a temp file, so no half-written PNG is left."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".tmp" + path.suffix)
    figure.savefig(tmp, dpi=dpi)
    tmp.replace(path)
    return path


def utility_space_figure(space: pd.DataFrame, path: pd.DataFrame | None = None,
                         actors: tuple[str, str] | None = None) -> Figure:
    """Utility space of two actors: sampled feasible set, Pareto frontier, Nash and Kalai–Smorodinsky
    points, disagreement point, the outcome(s) and the path of offers.

    Args:
        space: table with columns ``kind`` (sample | frontier | nash | kalai_smorodinsky |
            disagreement | outcome), ``label`` and ``u_<actor>`` for the two actors
            (:func:`sim.metrics.utility_space_table`).
        path: optional offers table with ``round`` and ``utility_<actor>`` columns (events of kind
            ``offer``) drawn as the path of offers.
    """
    if actors is None:
        actors = tuple(c[2:] for c in space.columns if c.startswith("u_"))[:2]
    x_col, y_col = f"u_{actors[0]}", f"u_{actors[1]}"
    figure = Figure(figsize=(6.4, 5.6), layout="constrained")
    ax = figure.subplots()
    sample = space[space["kind"] == "sample"]
    ax.scatter(sample[x_col], sample[y_col], s=3, color="0.8", label="feasible bundles (sample)")
    frontier = space[space["kind"] == "frontier"].sort_values(x_col)
    ax.plot(frontier[x_col], frontier[y_col], color="tab:blue", linewidth=1.5, label="Pareto frontier")
    markers = {"disagreement": ("s", "0.2", "disagreement point"), "nash": ("*", "black", "Nash"),
               "kalai_smorodinsky": ("D", "tab:orange", "Kalai–Smorodinsky")}
    for kind, (marker, colour, label) in markers.items():
        rows = space[space["kind"] == kind]
        if not rows.empty:
            ax.scatter(rows[x_col], rows[y_col], marker=marker, s=90, color=colour, label=label, zorder=5)
    for _, row in space[space["kind"] == "outcome"].iterrows():
        ax.scatter(row[x_col], row[y_col], marker="o", s=70, facecolors="none", linewidths=2,
                   edgecolors="tab:red", zorder=6)
        ax.annotate(row["label"], (row[x_col], row[y_col]), textcoords="offset points", xytext=(6, 4),
                    fontsize=8, color="tab:red")
    if path is not None and not path.empty and f"utility_{actors[0]}" in path:
        ax.plot(path[f"utility_{actors[0]}"], path[f"utility_{actors[1]}"], color="tab:red", alpha=0.6,
                linewidth=1, marker=".", label="offers (in order)")
    ax.set_xlabel(f"utility of {actors[0]}")
    ax.set_ylabel(f"utility of {actors[1]}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    return figure


def offers_figure(events: pd.DataFrame, issues: pd.DataFrame, columns: int | None = None) -> Figure:
    """Per issue, the value each proposal offered by round, coloured by proposer; filled markers for
    the agreed offer, crosses for rejected ones."""
    offers = events[events["kind"] == "offer"] if "kind" in events else events
    issue_ids = list(issues["issue"])
    figure, axes = _issue_panels(len(issue_ids), columns, 5.0, 3.4)
    proposers = list(dict.fromkeys(offers["proposer"])) if not offers.empty else []
    colours = plt.get_cmap("tab10")
    reference = issues.set_index("issue")
    for ax, issue in zip(axes, issue_ids):
        info = reference.loc[issue]
        for index, proposer in enumerate(proposers):
            mine = offers[offers["proposer"] == proposer]
            agreed = mine["agreement"].astype(bool)
            colour = colours(index % 10)
            ax.scatter(mine.loc[~agreed, "round"], mine.loc[~agreed, f"offer_{issue}"], marker="x",
                       color=colour, label=f"{proposer} (rejected)")
            ax.scatter(mine.loc[agreed, "round"], mine.loc[agreed, f"offer_{issue}"], marker="o", s=60,
                       color=colour, label=f"{proposer} (agreed)")
        ax.axhline(info["status_quo"], **REFERENCE_STYLES["status_quo"])
        ax.set_ylim(info["lower"], info["upper"])
        ax.set_title(_wrap(str(info["label"]), 48), fontsize=10)
        ax.set_xlabel("round")
        ax.set_ylabel("offered value")
        ax.grid(alpha=0.3)
    _legend_below(figure, axes[0], 6)
    return figure


def comparison_figure(comparison: pd.DataFrame, issues: pd.DataFrame) -> Figure:
    """Outcome bundle per issue for each protocol beside the compromise, median and Nash solutions
    and the status quo; the issue's end texts label the ends of each scale.

    Args:
        comparison: one row per protocol with ``protocol``, ``agreement`` and ``outcome_<issue>``.
        issues: the reference table (issue, label, low, high, lower, upper, status_quo, compromise,
            median, nash).
    """
    count = len(issues)
    figure = Figure(figsize=(11, 0.95 * count + 1.6), layout="constrained")
    ax = figure.subplots()
    markers = {"status_quo": ("|", "0.3"), "compromise": ("^", "tab:green"), "median": ("v", "tab:purple"),
               "nash": ("*", "black")}
    protocol_colours = plt.get_cmap("tab10")
    for row, (_, info) in enumerate(issues.iterrows()):
        y = count - 1 - row
        scale = lambda v: (v - info["lower"]) / (info["upper"] - info["lower"])  # noqa: E731
        ax.plot([0, 1], [y, y], color="0.85", linewidth=6, solid_capstyle="butt", zorder=1)
        for column, (marker, colour) in markers.items():
            if np.isfinite(info[column]):
                ax.scatter(scale(info[column]), y, marker=marker, s=120 if marker != "|" else 300,
                           color=colour, zorder=3, label=column.replace("_", " ") if row == 0 else None)
        for index, (_, outcome) in enumerate(comparison.iterrows()):
            value = outcome.get(f"outcome_{info['issue']}")
            if value is None or not np.isfinite(value):
                continue
            agreed = bool(outcome["agreement"])
            ax.scatter(scale(value), y + 0.18 * (index - 1), marker="o", s=55,
                       facecolors=protocol_colours(index) if agreed else "none",
                       edgecolors=protocol_colours(index), linewidths=1.5, zorder=4,
                       label=(f"{outcome['protocol']} ({'agreement' if agreed else outcome['breakdown_cause']})"
                              if row == 0 else None))
        ax.text(-0.01, y, _wrap(str(info["low"]), 38), ha="right", va="center", fontsize=7)
        ax.text(1.01, y, _wrap(str(info["high"]), 38), ha="left", va="center", fontsize=7)
        ax.text(0.5, y + 0.38, str(info["label"]), ha="center", va="bottom", fontsize=8, weight="bold")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.7, count - 0.2)
    ax.set_yticks([])
    ax.set_xticks([0, 0.5, 1], ["low end", "middle", "high end"])
    figure.legend(loc="outside lower center", ncol=4, fontsize=8)
    ax.set_title("Outcome per issue by protocol (hollow: no agreement — status quo or predicted outcome)")
    return figure


def heatmap_figure(grid: pd.DataFrame, x: str, y: str, title: str = "probability of agreement") -> Figure:
    """A heatmap of ``mean`` over two parameters; each cell annotated with its value and n."""
    table = grid.pivot(index=y, columns=x, values="mean").sort_index(ascending=False)
    counts = grid.pivot(index=y, columns=x, values="n").reindex_like(table)
    figure = Figure(figsize=(1.1 * table.shape[1] + 3, 0.7 * table.shape[0] + 2), layout="constrained")
    ax = figure.subplots()
    image = ax.imshow(table.to_numpy(dtype=float), cmap="viridis", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(table.shape[1]), [f"{v:.3g}" for v in table.columns])
    ax.set_yticks(range(table.shape[0]), [f"{v:.3g}" for v in table.index])
    for i in range(table.shape[0]):
        for j in range(table.shape[1]):
            value = table.iat[i, j]
            ax.text(j, i, f"{value:.2f}\nn={int(counts.iat[i, j])}", ha="center", va="center", fontsize=7,
                    color="white" if value < 0.6 else "black")
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    figure.colorbar(image, ax=ax, label=title)
    ax.set_title(title)
    return figure


def distributions_figure(runs: pd.DataFrame, by: str, outputs: list[str]) -> Figure:
    """Box plots of each output by the values of ``by`` (protocol, scenario, sigma, ...)."""
    outputs = [o for o in outputs if o in runs]
    figure = Figure(figsize=(4.2 * len(outputs), 3.8), layout="constrained")
    axes = np.atleast_1d(figure.subplots(1, len(outputs), squeeze=False)).ravel()
    groups = sorted(runs[by].dropna().unique(), key=str)
    for ax, output in zip(axes, outputs):
        data = [runs.loc[runs[by] == g, output].astype(float).dropna().to_numpy() for g in groups]
        ax.boxplot(data, tick_labels=[str(g) for g in groups], showmeans=True)
        ax.set_title(output)
        ax.set_xlabel(by)
        ax.tick_params(axis="x", labelrotation=30)
        ax.grid(alpha=0.3)
    return figure


def sobol_figure(indices: pd.DataFrame, output: str) -> Figure:
    """First-order (S1) and total (ST) Sobol indices with 95% confidence intervals."""
    figure = Figure(figsize=(8, 0.45 * len(indices) + 1.8), layout="constrained")
    ax = figure.subplots()
    position = np.arange(len(indices))
    ax.barh(position - 0.2, indices["S1"], 0.4, xerr=indices["S1_conf"], label="S1 (first order)")
    ax.barh(position + 0.2, indices["ST"], 0.4, xerr=indices["ST_conf"], label="ST (total)")
    ax.set_yticks(position, indices["parameter"], fontsize=8)
    ax.axvline(0, color="0.5", linewidth=0.8)
    ax.set_xlabel("Sobol index")
    ax.set_title(f"Sobol indices for {output}")
    ax.legend()
    return figure


def morris_figure(indices: pd.DataFrame, output: str) -> Figure:
    """Morris screening: mu* (importance) against sigma (non-linearity / interactions)."""
    figure = Figure(figsize=(6.5, 5), layout="constrained")
    ax = figure.subplots()
    ax.errorbar(indices["mu_star"], indices["sigma"], xerr=indices["mu_star_conf"], fmt="o")
    for _, row in indices.iterrows():
        ax.annotate(row["parameter"], (row["mu_star"], row["sigma"]), fontsize=7, xytext=(4, 3),
                    textcoords="offset points")
    ax.set_xlabel("μ* (mean absolute elementary effect)")
    ax.set_ylabel("σ (spread of effects)")
    ax.set_title(f"Morris screening for {output}")
    ax.grid(alpha=0.3)
    return figure


def replicate_figure(values: np.ndarray, human: float, disagreement: float, seat: str) -> Figure:
    """The model agent's utility in a seat over replicates (histogram) against a person's result."""
    figure = Figure(figsize=(6.5, 3.2), layout="constrained")
    ax = figure.subplots()
    low, high = min(values.min(), human, disagreement), max(values.max(), human, disagreement)
    pad = max(0.02, 0.05 * (high - low))
    ax.hist(values, bins=np.linspace(low - pad, high + pad, 21), color="tab:gray", alpha=0.7,
            label=f"model agent ({len(values)} runs)")
    ax.axvline(human, color="tab:red", linewidth=2.5, label="you")
    ax.axvline(disagreement, color="black", linestyle=":", label="outside option")
    ax.set_xlabel(f"utility of {seat}")
    ax.set_ylabel("runs")
    ax.legend(loc="upper left", fontsize=8)
    return figure


def utilities_figure(table: pd.DataFrame, title: str = "utility by round") -> Figure:
    """Each party's utility by round (columns: round, then one per actor)."""
    figure = Figure(figsize=(6.5, 3.4), layout="constrained")
    ax = figure.subplots()
    actors = [c for c in table.columns if c != "round"]
    for actor in actors:
        ax.plot(table["round"], table[actor], marker="o", markersize=3, label=actor)
    ax.set_xlabel("round")
    ax.set_ylabel("utility")
    ax.set_ylim(-0.05, 1.05)
    ax.set_title(title)
    if actors:
        ax.legend(fontsize=8, ncols=min(4, len(actors)), loc="lower right")
    return figure
