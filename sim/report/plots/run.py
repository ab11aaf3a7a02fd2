"""Figures of one run (or of the protocols compared on one scenario): positions by round, offers, the
utility space of every actor, the outcome per protocol."""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.report.plots.common import (add_caption, chars, current_layout, figure_legend, fit, integer_rounds,
                                     issue_panels, legend_below, scale_axis, styled, wrap)
from sim.report.plots.labels import PLAIN, Labels
from sim.report.wording import cause_in_words

REFERENCE_STYLES = {
    "status_quo": dict(color="0.35", linestyle=":", linewidth=1.6, label="status quo"),
    "compromise": dict(color="tab:green", linestyle="--", linewidth=1.2, label="compromise (c·s mean)"),
    "median": dict(color="tab:purple", linestyle="-.", linewidth=1.2, label="c·s median (start)"),
    "nash": dict(color="black", linestyle=(0, (5, 2, 1, 2)), linewidth=1.2, label="Nash solution"),
}


@styled
def positions_figure(rounds: pd.DataFrame, issues: pd.DataFrame, columns: int | None = None, *,
                     labels: Labels = PLAIN, caption: str = "") -> Figure:
    """One panel per issue: each actor's position by round, with the status quo and the reference
    solutions marked; the y axis names the issue's levels or its end texts.

    Args:
        rounds: the rounds table (round, actor, issue, position).
        issues: the reference table (issue, label, low, high, lower, upper, status_quo, compromise,
            median, nash), e.g. ``RunResult.issues``.
        labels: actor names and level names (:meth:`Labels.from_scenario`).
        caption: a line above the panels (:func:`caption`).
    """
    issue_ids = list(issues["issue"])
    figure, axes = issue_panels(len(issue_ids), columns, 5.2, 3.4)
    actors = list(dict.fromkeys(rounds["actor"]))
    colours = matplotlib.colormaps.get_cmap("tab10" if len(actors) <= 10 else "tab20")
    reference = issues.set_index("issue")
    for ax, issue in zip(axes, issue_ids):
        info = reference.loc[issue]
        data = rounds[rounds["issue"] == issue]
        for index, actor in enumerate(actors):
            track = data[data["actor"] == actor]
            ax.plot(track["round"], track["position"], marker="o", markersize=2.5, linewidth=1.4,
                    color=colours(index % colours.N), label=labels.actor(actor))
        for column, style in REFERENCE_STYLES.items():
            value = info.get(column)
            if value is not None and np.isfinite(value):
                ax.axhline(value, **style)
        scale_axis(ax, info, labels.levels.get(issue))
        ax.set_title(wrap(str(info["label"]), _title_chars(figure, axes)), loc=_title_side())
        integer_rounds(ax)
        unit = f" ({info['unit']})" if info.get("unit") else ""
        ax.set_ylabel(f"position{unit}")
    legend_below(figure, axes[0], 8)
    add_caption(figure, caption)
    return figure


def _title_side() -> str:
    """Panel titles start at the panel's left edge at a chosen width (the room to the figure's edge is the
    panel's width), else they are centred over it."""
    return "center" if current_layout().width is None else "left"


def _title_chars(figure: Figure, axes: np.ndarray) -> int:
    """A panel title's wrap width: 48 characters, or what a panel of a chosen width takes."""
    if current_layout().width is None:
        return 48
    return chars(0.55 * figure.get_figwidth() / axes[0].get_gridspec().ncols, 8)


_POINT_MARKERS = {"disagreement": ("s", "0.2", "no deal (disagreement)"), "nash": ("*", "black", "Nash solution"),
                  "kalai_smorodinsky": ("D", "tab:orange", "Kalai–Smorodinsky")}


@styled
def utility_space_figure(space: pd.DataFrame, path: pd.DataFrame | None = None,
                         actors: tuple[str, ...] | None = None, *, labels: Labels = PLAIN,
                         caption: str = "") -> Figure:
    """The utility space of every actor: one panel per pair of actors (up to five actors), else a
    parallel-coordinates view (one vertical axis per actor). Sampled feasible bundles, Pareto
    frontier, Nash and Kalai–Smorodinsky points, the no-deal point, the outcome(s) and the path of
    offers.

    Args:
        space: table with columns ``kind`` (sample | frontier | nash | kalai_smorodinsky |
            disagreement | outcome), ``label`` and ``u_<actor>`` for each actor; frontier rows may
            carry ``pair`` ("a|b") when each pair has its own frontier (:func:`sim.analysis.sensitivity.utility_space`).
        path: optional offers table with ``utility_<actor>`` columns (events of kind ``offer``).
        actors: the actors to show (default: every ``u_`` column).
    """
    actors = tuple(actors or (c[2:] for c in space.columns if c.startswith("u_")))
    if len(actors) > 5:
        return _parallel_utilities(space, actors, labels, caption)
    pairs = [(a, b) for i, a in enumerate(actors) for b in actors[i + 1:]]
    columns = fit(len(pairs), 2.3)
    rows = math.ceil(len(pairs) / columns)
    target = current_layout().width
    side = 3.7 if target is None else min(target / columns, 3.7)
    figure = Figure(figsize=(4.1 * columns if target is None else target, side * rows + 0.9 + (0.8 if target else 0)),
                    layout="constrained")
    axes = np.atleast_1d(figure.subplots(rows, columns, squeeze=False)).ravel()
    for ax in axes[len(pairs):]:
        ax.set_visible(False)
    for ax, (a, b) in zip(axes, pairs):
        x_col, y_col = f"u_{a}", f"u_{b}"
        sample = space[space["kind"] == "sample"]
        ax.scatter(sample[x_col], sample[y_col], s=3, color="0.82", label="feasible bundles (sample)",
                   rasterized=True)
        frontier = space[space["kind"] == "frontier"]
        if "pair" in frontier:
            frontier = frontier[frontier["pair"].isin([f"{a}|{b}", f"{b}|{a}"]) | frontier["pair"].isna()]
        frontier = frontier.sort_values(x_col)
        ax.plot(frontier[x_col], frontier[y_col], color="tab:blue", linewidth=1.5, label="Pareto frontier")
        for kind, (marker, colour, label) in _POINT_MARKERS.items():
            rows_ = space[space["kind"] == kind]
            if not rows_.empty:
                ax.scatter(rows_[x_col], rows_[y_col], marker=marker, s=80, color=colour, label=label, zorder=5)
        outcomes = space[space["kind"] == "outcome"]
        for index, (_, row) in enumerate(outcomes.iterrows()):
            ax.scatter(row[x_col], row[y_col], marker="o", s=70, facecolors="none", linewidths=2,
                       edgecolors=matplotlib.colormaps.get_cmap("Set1")(index % 9), zorder=6,
                       label=f"outcome ({row['label']})")
        if path is not None and not path.empty and f"utility_{a}" in path and f"utility_{b}" in path:
            ax.plot(path[f"utility_{a}"], path[f"utility_{b}"], color="tab:red", alpha=0.6, linewidth=1,
                    marker=".", label="offers (in order)")
        ax.set_xlabel(f"utility of {labels.actor(a)}")
        ax.set_ylabel(f"utility of {labels.actor(b)}")
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.02, 1.02)
        ax.set_aspect("equal")
    legend_below(figure, axes[0], 4)
    add_caption(figure, caption)
    return figure


def _parallel_utilities(space: pd.DataFrame, actors: tuple[str, ...], labels: Labels, caption: str) -> Figure:
    """Parallel coordinates: each actor a vertical utility axis; a line per point of interest."""
    target = current_layout().width
    figure = Figure(figsize=(max(6.5, 0.9 * len(actors) + 2), 4.6) if target is None else (target, 0.6 * target + 2.4),
                    layout="constrained")
    ax = figure.subplots()
    x = np.arange(len(actors))
    columns = [f"u_{a}" for a in actors]
    sample = space[space["kind"] == "sample"]
    for _, row in sample.iloc[:300].iterrows():
        ax.plot(x, row[columns].to_numpy(float), color="0.85", linewidth=0.5, zorder=1)
    ax.plot([], [], color="0.85", label="feasible bundles (sample)")
    styles = {"disagreement": ("0.2", ":", "no deal (disagreement)"), "nash": ("black", "-", "Nash solution"),
              "kalai_smorodinsky": ("tab:orange", "--", "Kalai–Smorodinsky")}
    for kind, (colour, line, label) in styles.items():
        for _, row in space[space["kind"] == kind].iterrows():
            ax.plot(x, row[columns].to_numpy(float), color=colour, linestyle=line, marker="o", label=label, zorder=3)
    for index, (_, row) in enumerate(space[space["kind"] == "outcome"].iterrows()):
        ax.plot(x, row[columns].to_numpy(float), color=matplotlib.colormaps.get_cmap("Set1")(index % 9),
                linewidth=2, marker="o", label=f"outcome ({row['label']})", zorder=4)
    ax.set_xticks(x, [labels.actor(a) for a in actors], rotation=30, ha="right")
    ax.set_ylabel("utility")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title("Utility of every actor")
    legend_below(figure, ax, 4)
    add_caption(figure, caption)
    return figure


@styled
def offers_figure(events: pd.DataFrame, issues: pd.DataFrame, columns: int | None = None, *,
                  labels: Labels = PLAIN, caption: str = "") -> Figure:
    """Per issue, the value each proposal offered by round, coloured by proposer; filled markers for
    the agreed offer, crosses for rejected ones."""
    offers = events[events["kind"] == "offer"] if "kind" in events else events
    issue_ids = list(issues["issue"])
    figure, axes = issue_panels(len(issue_ids), columns, 5.0, 3.2)
    proposers = list(dict.fromkeys(offers["proposer"])) if not offers.empty else []
    colours = matplotlib.colormaps.get_cmap("tab10")
    reference = issues.set_index("issue")
    for ax, issue in zip(axes, issue_ids):
        info = reference.loc[issue]
        for index, proposer in enumerate(proposers):
            mine = offers[offers["proposer"] == proposer]
            agreed = mine["agreement"].astype(bool)
            colour = colours(index % 10)
            name = labels.actor(proposer)
            if (~agreed).any():
                ax.scatter(mine.loc[~agreed, "round"], mine.loc[~agreed, f"offer_{issue}"], marker="x",
                           color=colour, label=f"{name} (rejected)")
            if agreed.any():  # no legend entry for an offer that never happened
                ax.scatter(mine.loc[agreed, "round"], mine.loc[agreed, f"offer_{issue}"], marker="o", s=60,
                           color=colour, label=f"{name} (agreed)")
        ax.axhline(info["status_quo"], **REFERENCE_STYLES["status_quo"])
        scale_axis(ax, info, labels.levels.get(issue))
        ax.set_title(wrap(str(info["label"]), _title_chars(figure, axes)), loc=_title_side())
        integer_rounds(ax)
        ax.set_ylabel(f"offered value ({info['unit']})" if info.get("unit") else "offered value")
    legend_below(figure, axes[0], 6)
    add_caption(figure, caption)
    return figure


@styled
def comparison_figure(comparison: pd.DataFrame, issues: pd.DataFrame, *, labels: Labels = PLAIN,
                      caption: str = "") -> Figure:
    """Outcome bundle per issue for each protocol beside the compromise, median and Nash solutions
    and the status quo; the issue's end texts label the ends of each scale.

    Args:
        comparison: one row per protocol with ``protocol``, ``agreement`` and ``outcome_<issue>``.
        issues: the reference table (issue, label, low, high, lower, upper, status_quo, compromise,
            median, nash).
    """
    count = len(issues)
    target = current_layout().width
    width = target or 11.0
    ends = width >= 6  # the end texts of each scale beside it: only where there is room
    figure = Figure(figsize=(width, (0.95 if ends else 0.75) * count + 1.8 + (0 if target is None else 1.2)),
                    layout="constrained")
    ax = figure.subplots()
    ax.grid(False)
    markers = {"status_quo": ("|", "0.3", "status quo"), "compromise": ("^", "tab:green", "compromise (c·s mean)"),
               "median": ("v", "tab:purple", "c·s median"), "nash": ("*", "black", "Nash solution")}
    palette = ("tab:blue", "tab:orange", "tab:red", "tab:brown", "tab:pink", "tab:cyan")
    protocol_colours = lambda index: palette[index % len(palette)]  # noqa: E731 - none green/purple/black
    for row, (_, info) in enumerate(issues.iterrows()):
        y = count - 1 - row
        scale = lambda v: (v - info["lower"]) / (info["upper"] - info["lower"])  # noqa: E731
        ax.plot([0, 1], [y, y], color="0.88", linewidth=6, solid_capstyle="butt", zorder=1)
        for column, (marker, colour, label) in markers.items():
            if np.isfinite(info[column]):
                ax.scatter(scale(info[column]), y, marker=marker, s=120 if marker != "|" else 300,
                           color=colour, zorder=3, label=label if row == 0 else None)
        for index, (_, outcome) in enumerate(comparison.iterrows()):
            agreed = bool(outcome["agreement"])
            # no agreement: the hollow marker is what was on the table (the forecast or last offer)
            value = outcome.get(f"{'outcome' if agreed else 'bundle'}_{info['issue']}",
                                outcome.get(f"outcome_{info['issue']}"))
            if value is None or not np.isfinite(value):
                continue
            ax.scatter(scale(value), y + 0.18 * (index - 1), marker="o", s=55,
                       facecolors=protocol_colours(index) if agreed else "none",
                       edgecolors=protocol_colours(index), linewidths=1.5, zorder=4,
                       label=(f"{outcome['protocol']}: " + ("agreement" if agreed else
                                                                   cause_in_words(outcome["breakdown_cause"], labels.actors,
                                                                                  issues={i: labels.issue(i) for i in labels.issues}))
                              if row == 0 else None))
        if ends:
            ax.text(-0.01, y, wrap(str(info["low"]), int(38 * width / 11)), ha="right", va="center", fontsize=7)
            ax.text(1.01, y, wrap(str(info["high"]), int(38 * width / 11)), ha="left", va="center", fontsize=7)
        unit = f" {info['unit']}" if info.get("unit") else ""
        scale = f" ({float(info['lower']):g}-{float(info['upper']):g}{unit})"
        label, room = str(info["label"]), chars(width - 0.4, 8) - len(scale)  # the scale stays whole
        ax.text(0.5, y + 0.38, (label if len(label) <= room else label[:max(room - 1, 8)].rstrip() + "…") + scale,
                ha="center", va="bottom", fontsize=8, weight="bold")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.7, count - 0.2)
    ax.set_yticks([])
    ax.spines[["left", "top", "right"]].set_visible(False)
    ax.set_xticks([0, 0.5, 1], ["low end of scale", "middle", "high end of scale"])
    figure_legend(figure, *ax.get_legend_handles_labels(), 4)
    ax.set_title(wrap("Outcome per issue by protocol (filled: agreement; hollow: no agreement)", chars(width - 0.3, 8)))
    add_caption(figure, caption)
    return figure
