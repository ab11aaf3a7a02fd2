"""Figures drawn from tidy tables (never from live model objects), with matplotlib's object API.

Every figure uses one style (:data:`STYLE`), names what it shows in words a reader knows — actor
names, issue labels, level names and parameter labels from :class:`Labels`, never a raw column name —
and can carry a caption line (scenario, protocol, number of runs, seeds) as its suptitle.
:func:`save` writes png, pdf or svg.
"""

from __future__ import annotations

import functools
import math
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure  # the object API: no pyplot, no backend to choose (files only)
from matplotlib.ticker import MaxNLocator

from sim.analysis.stats import binomial_interval

#: One look for every figure (applied while a figure is built).
STYLE = {
    "font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9, "legend.fontsize": 8,
    "xtick.labelsize": 8, "ytick.labelsize": 8, "figure.titlesize": 10,
    "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.3,
    "axes.prop_cycle": matplotlib.cycler(color=matplotlib.colormaps.get_cmap("tab10").colors),
    "legend.frameon": False,
}
FORMATS = ("png", "pdf", "svg")


def styled(function):
    """Build the figure under :data:`STYLE` (artists read the style when they are created)."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with matplotlib.rc_context(STYLE):
            return function(*args, **kwargs)

    return wrapper


# --------------------------------------------------------------------------------------------------
# Labels: readable names for actors, issues, levels, swept parameters and outputs
# --------------------------------------------------------------------------------------------------

#: Top-level config keys a sweep may vary, in words.
PARAMETER_LABELS = {
    "protocol": "protocol", "scenario": "scenario", "strategy": "concession strategy",
    "rounds": "round limit", "perturbation": "perturbation σ (noise on every number)",
    "protocol.order": "proposer order", "protocol.belief_noise": "belief noise (σ)",
    "protocol.consent": "consent rule", "protocol.quota": "majority quota",
    "protocol.variant": "expected-utility variant", "protocol.q": "Q (target stays put)",
    "protocol.t": "T (moves toward the median)", "protocol.shock_probability": "salience shock probability",
    "protocol.walkout": "walk-outs allowed", "protocol.deadline": "deadline (rounds)",
    "strategy.exponent": "concession exponent e", "strategy.name": "concession strategy",
}
#: Actor fields (scenario.actors.<id>.<field>) in words.
ACTOR_FIELD_LABELS = {
    "capability": "capability", "risk_exponent": "risk exponent ρ", "discount_factor": "discount factor δ",
    "concession_exponent": "concession exponent e", "strategy": "strategy",
    "outside_option.optimism": "war optimism (× win probability)",
    "outside_option.cost": "cost of war (utility)", "outside_option.value": "reservation utility",
    "outside_option.kind": "outside option",
    "package.max": "package threshold (weighted mean ≤, scale points)",
    "package.min": "package threshold (weighted mean ≥, scale points)",
}
#: Outcome columns (MODEL.md §6) in words; outcome_/utility_/disagreement_ columns are built below.
OUTPUT_LABELS = {
    "agreement": "agreement", "rounds": "rounds used", "breakdown_cause": "breakdown cause",
    "nash_product": "Nash product", "distance_to_nash": "distance to the Nash solution",
    "pareto_efficient": "Pareto-efficient", "distance_to_pareto": "distance to the Pareto frontier",
    "bargaining_range": "bargaining range (share of bundles all prefer to no deal)",
    "bargaining_range_empty": "bargaining range empty",
}
#: Outputs that are yes/no: drawn as proportions with binomial intervals.
BOOLEAN_OUTPUTS = ("agreement", "pareto_efficient", "bargaining_range_empty")


def _short(label: str) -> str:
    """An issue label without its parenthesis, for axes ("NATO enlargement (Ukraine, ...)")."""
    return label.split(" (")[0].strip() or label


@dataclass(frozen=True)
class Labels:
    """Readable names: actor id → name, issue id → label, issue id → {point: level name}."""

    actors: Mapping[str, str] = field(default_factory=dict)
    issues: Mapping[str, str] = field(default_factory=dict)
    levels: Mapping[str, Mapping[float, str]] = field(default_factory=dict)
    scenarios: Mapping[str, str] = field(default_factory=dict)  # scenario id -> name (sweeps over scenarios)

    @classmethod
    def from_scenario(cls, scenario: Any) -> "Labels":
        """From a :class:`sim.domain.scenario.Scenario`."""
        return cls(actors={a.id: a.name or a.id for a in scenario.actors},
                   issues={i.id: i.label for i in scenario.issues},
                   levels={i.id: {p: name.replace("_", " ") for name, p in i.levels} for i in scenario.issues
                           if i.levels})

    @classmethod
    def from_config(cls, scenario: Mapping[str, Any] | None) -> "Labels":
        """From a resolved ``scenario`` config node (plain dict), e.g. a sweep's config.yaml."""
        scenario = scenario or {}
        issues = scenario.get("issues") or {}
        return cls(actors={k: (v or {}).get("name") or k for k, v in (scenario.get("actors") or {}).items()},
                   issues={k: (v or {}).get("label") or k for k, v in issues.items()},
                   levels={k: {float(p): n.replace("_", " ") for n, p in (v.get("levels") or {}).items()}
                           for k, v in issues.items() if (v or {}).get("levels")})

    def actor(self, actor_id: str) -> str:
        return self.actors.get(actor_id, str(actor_id).replace("_", " "))

    def issue(self, issue_id: str, short: bool = True) -> str:
        label = self.issues.get(issue_id, issue_id.replace("_", " "))
        return _short(label) if short else label

    def parameter(self, key: str) -> str:
        """A swept config key (``scenario.actors.russia.outside_option.optimism``) in words
        ("Russia: war optimism (× win probability)")."""
        if key in PARAMETER_LABELS:
            return PARAMETER_LABELS[key]
        parts = key.split(".")
        if parts[:2] == ["scenario", "actors"] and len(parts) >= 4:
            who, rest = self.actor(parts[2]), parts[3:]
            if rest[0] in ("salience", "position") and len(rest) == 2:
                return f"{who}: {rest[0]} on {self.issue(rest[1])}"
            if rest[0] == "credibility" and len(rest) == 2:
                return f"{who}: belief in promises on {self.issue(rest[1])} (κ, probability)"
            return f"{who}: {ACTOR_FIELD_LABELS.get('.'.join(rest), ' '.join(rest).replace('_', ' '))}"
        if parts[:2] == ["scenario", "issues"] and len(parts) >= 4:
            return f"{self.issue(parts[2])}: {' '.join(parts[3:]).replace('_', ' ')}"
        return " ".join(parts[-2:] if parts[0] in ("scenario", "protocol") else parts).replace("_", " ")

    def output(self, column: str) -> str:
        """An outcome column (``outcome_enlargement``, ``utility_russia``, ``agreement``) in words."""
        if column in OUTPUT_LABELS:
            return OUTPUT_LABELS[column]
        for prefix, words in (("outcome_", "outcome: {}"), ("bundle_", "on the table: {}"),
                              ("utility_", "utility of {}"), ("disagreement_", "no-deal utility of {}")):
            if column.startswith(prefix):
                rest = column[len(prefix):]
                return words.format(self.issue(rest) if prefix in ("outcome_", "bundle_") else self.actor(rest))
        return column.replace("_", " ")

    def value(self, value: Any) -> str:
        """A parameter value on an axis: numbers to 3 significant digits, scenario ids by name."""
        if isinstance(value, (bool, np.bool_)):
            return "yes" if value else "no"
        if isinstance(value, (int, float, np.integer, np.floating)):
            return f"{value:.3g}"
        return self.scenarios.get(str(value), str(value))


PLAIN = Labels()


def caption(scenario: str = "", protocol: str = "", runs: int | None = None, seeds: str = "") -> str:
    """One caption line: scenario · protocol · n runs · seeds (empty parts left out)."""
    parts = [scenario, f"protocol {protocol}" if protocol else "",
             f"n = {runs:,} run{'s' if runs != 1 else ''}" if runs is not None else "", seeds]
    return " · ".join(p for p in parts if p)


def _caption(figure: Figure, text: str) -> None:
    if text:
        figure.suptitle("\n".join(_wrap(line, 110) for line in text.splitlines()), fontsize=9, color="0.25")


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
    if handles:
        figure.legend(handles, labels, loc="outside lower center", ncol=min(len(labels), columns))


def _end_text(text: str) -> str:
    """An issue's end text, short enough for a tick label."""
    text = text.split(";")[0].split(" (")[0].strip()
    return _wrap(text if len(text) <= 60 else text[:57] + "…", 24)


def _scale_axis(ax, info: Mapping[str, Any], levels: Mapping[float, str] | None) -> None:
    """y axis of an issue: its scale with a little room, level names (discrete issue) or the end
    texts at the two ends as tick labels — outside the data, never over it."""
    lower, upper = float(info["lower"]), float(info["upper"])
    span = upper - lower
    ax.set_ylim(lower - 0.04 * span, upper + 0.04 * span)
    if levels:
        ticks = sorted(levels)
        ax.set_yticks(ticks, [f"{levels[t]} ({t:g})" for t in ticks], fontsize=7)
        return
    ticks = [lower, lower + span / 2, upper]
    ax.set_yticks(ticks, [f"{lower:g} " + _end_text(str(info.get("low") or "")).replace("\n", "\n   "),
                          f"{lower + span / 2:g}",
                          f"{upper:g} " + _end_text(str(info.get("high") or "")).replace("\n", "\n   ")],
                  fontsize=7)


def _integer_rounds(ax) -> None:
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    ax.set_xlabel("round")


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
    figure, axes = _issue_panels(len(issue_ids), columns, 5.2, 3.4)
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
        _scale_axis(ax, info, labels.levels.get(issue))
        ax.set_title(_wrap(str(info["label"]), 48))
        _integer_rounds(ax)
        unit = f" ({info['unit']})" if info.get("unit") else ""
        ax.set_ylabel(f"position{unit}")
    _legend_below(figure, axes[0], 8)
    _caption(figure, caption)
    return figure


def save(figure: Figure, path: str | Path, dpi: int = 150, format: str | None = None) -> Path:
    """Save a figure (creating the folder) via a temp file, so no half-written file is left.

    Args:
        path: target; its suffix is replaced by ``format`` when one is given.
        dpi: resolution of raster output (png).
        format: png | pdf | svg (default: the suffix of ``path``).
    """
    path = Path(path)
    if format is not None:
        if format not in FORMATS:
            raise ValueError(f"figure format {format!r}; allowed: {', '.join(FORMATS)}")
        path = path.with_suffix("." + format)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".tmp" + path.suffix)
    metadata = {"Software": None} if path.suffix == ".png" else None  # no version stamp: stable bytes
    figure.savefig(tmp, dpi=dpi, metadata=metadata, bbox_inches="tight", pad_inches=0.08)
    tmp.replace(path)
    return path


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
    columns = min(3, len(pairs))
    rows = math.ceil(len(pairs) / columns)
    figure = Figure(figsize=(4.1 * columns, 3.7 * rows + 0.9), layout="constrained")
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
    _legend_below(figure, axes[0], 4)
    _caption(figure, caption)
    return figure


def _parallel_utilities(space: pd.DataFrame, actors: tuple[str, ...], labels: Labels, caption: str) -> Figure:
    """Parallel coordinates: each actor a vertical utility axis; a line per point of interest."""
    figure = Figure(figsize=(max(6.5, 0.9 * len(actors) + 2), 4.6), layout="constrained")
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
    _legend_below(figure, ax, 4)
    _caption(figure, caption)
    return figure


@styled
def offers_figure(events: pd.DataFrame, issues: pd.DataFrame, columns: int | None = None, *,
                  labels: Labels = PLAIN, caption: str = "") -> Figure:
    """Per issue, the value each proposal offered by round, coloured by proposer; filled markers for
    the agreed offer, crosses for rejected ones."""
    offers = events[events["kind"] == "offer"] if "kind" in events else events
    issue_ids = list(issues["issue"])
    figure, axes = _issue_panels(len(issue_ids), columns, 5.0, 3.2)
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
        _scale_axis(ax, info, labels.levels.get(issue))
        ax.set_title(_wrap(str(info["label"]), 48))
        _integer_rounds(ax)
        ax.set_ylabel("offered value")
    _legend_below(figure, axes[0], 6)
    _caption(figure, caption)
    return figure


@styled
def comparison_figure(comparison: pd.DataFrame, issues: pd.DataFrame, *, caption: str = "") -> Figure:
    """Outcome bundle per issue for each protocol beside the compromise, median and Nash solutions
    and the status quo; the issue's end texts label the ends of each scale.

    Args:
        comparison: one row per protocol with ``protocol``, ``agreement`` and ``outcome_<issue>``.
        issues: the reference table (issue, label, low, high, lower, upper, status_quo, compromise,
            median, nash).
    """
    count = len(issues)
    figure = Figure(figsize=(11, 0.95 * count + 1.8), layout="constrained")
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
                       label=(f"{outcome['protocol']} ({'agreement' if agreed else outcome['breakdown_cause']})"
                              if row == 0 else None))
        ax.text(-0.01, y, _wrap(str(info["low"]), 38), ha="right", va="center", fontsize=7)
        ax.text(1.01, y, _wrap(str(info["high"]), 38), ha="left", va="center", fontsize=7)
        ax.text(0.5, y + 0.38, str(info["label"]), ha="center", va="bottom", fontsize=8, weight="bold")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.7, count - 0.2)
    ax.set_yticks([])
    ax.spines[["left", "top", "right"]].set_visible(False)
    ax.set_xticks([0, 0.5, 1], ["low end of scale", "middle", "high end of scale"])
    figure.legend(loc="outside lower center", ncol=4)
    ax.set_title("Outcome per issue by protocol (filled: agreement; hollow: no agreement)")
    _caption(figure, caption)
    return figure


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
    figure.colorbar(image, ax=ax, label=_wrap(what, 40))
    ax.set_title(title or what[0].upper() + what[1:])
    _caption(figure, caption)
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
                          _wrap(labels.output(output), 32))
        ax.set_xticks(positions, names)
        ax.set_xlim(-0.6, len(groups) - 0.4)
        ax.set_title(_wrap(labels.output(output)[0].upper() + labels.output(output)[1:], 40))
        ax.set_xlabel(by_label or labels.parameter(by))
        if any(len(name) > 6 for name in names):
            ax.tick_params(axis="x", labelrotation=30)
    if boxes:
        from matplotlib.lines import Line2D

        figure.legend([Line2D([], [], color="tab:orange"), Line2D([], [], marker="^", color="tab:green", linestyle=""),
                       Line2D([], [], marker="o", color="black", markerfacecolor="none", linestyle="")],
                      ["median (box: quartiles, whiskers: 1.5 IQR)", "mean", "outlying run"],
                      loc="outside lower center", ncol=3)
    _caption(figure, caption)
    return figure


@styled
def sobol_figure(indices: pd.DataFrame, output: str, *, labels: Labels = PLAIN, caption: str = "") -> Figure:
    """First-order (S1) and total (ST) Sobol indices with 95% confidence intervals; parameters
    whose indices are not trustworthy (``flag`` column, :func:`sim.analysis.sensitivity.flag_sobol`) are marked."""
    figure = Figure(figsize=(8, 0.6 * len(indices) + 2.2), layout="constrained")
    ax = figure.subplots()
    position = np.arange(len(indices))[::-1]
    ax.barh(position + 0.2, indices["S1"], 0.4, xerr=indices["S1_conf"], label="S1 (first order)", capsize=2)
    ax.barh(position - 0.2, indices["ST"], 0.4, xerr=indices["ST_conf"], label="ST (total)", capsize=2)
    flags = indices["flag"] if "flag" in indices else pd.Series([""] * len(indices))
    names = [_wrap(labels.parameter(p) + (" ⚠" if f else ""), 40) for p, f in zip(indices["parameter"], flags)]
    ax.set_yticks(position, names)
    ax.axvline(0, color="0.5", linewidth=0.8)
    ax.set_xlabel("Sobol index (95% interval)")
    ax.set_title(f"Sobol indices for {labels.output(output)}")
    ax.legend(loc="lower right")
    notes = sorted({f for f in flags if f})
    _caption(figure, caption + ("\n⚠ marks: " + "; ".join(notes) if notes else ""))
    return figure


@styled
def morris_figure(indices: pd.DataFrame, output: str, *, labels: Labels = PLAIN, caption: str = "") -> Figure:
    """Morris screening: mu* (importance) against sigma (non-linearity / interactions); parameters
    numbered at their points (coinciding points share one label, "1, 5") and named in the legend."""
    figure = Figure(figsize=(7.5, 4.2 + 0.22 * len(indices)), layout="constrained")
    ax = figure.subplots()
    groups: dict[tuple[float, float], list[str]] = {}
    for number, (_, row) in enumerate(indices.iterrows(), start=1):
        ax.errorbar(row["mu_star"], row["sigma"], xerr=row["mu_star_conf"], fmt="o", capsize=2,
                    label=_wrap(f"{number}: {labels.parameter(row['parameter'])}", 60))
        key = (round(float(row["mu_star"]), 6), round(float(row["sigma"]), 6))
        groups.setdefault(key, []).append(str(number))
    for (x, y), numbers in groups.items():
        ax.annotate(", ".join(numbers), (x, y), fontsize=7, xytext=(4, 4), textcoords="offset points")
    ax.set_xlabel("μ* (mean absolute elementary effect)")
    ax.set_ylabel("σ (spread of effects)")
    ax.set_title(f"Morris screening for {labels.output(output)}")
    figure.legend(loc="outside lower center", ncol=2, fontsize=7)
    _caption(figure, caption)
    return figure


@styled
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
    ax.yaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    figure.legend(loc="outside right upper")
    return figure


@styled
def utilities_figure(table: pd.DataFrame, title: str = "Utility by round", *, labels: Labels = PLAIN) -> Figure:
    """Each party's utility by round (columns: round, then one per actor)."""
    figure = Figure(figsize=(6.5, 3.4), layout="constrained")
    ax = figure.subplots()
    actors = [c for c in table.columns if c != "round"]
    for actor in actors:
        ax.plot(table["round"], table[actor], marker="o", markersize=3, label=labels.actor(actor))
    _integer_rounds(ax)
    ax.set_ylabel("utility")
    ax.set_ylim(-0.05, 1.05)
    ax.set_title(title)
    if actors:
        figure.legend(loc="outside right upper")
    return figure


# --------------------------------------------------------------------------------------------------
# Scenario discovery (sim/discovery.py, docs/how-to/discover.md)
# --------------------------------------------------------------------------------------------------


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
    figure = Figure(figsize=(4.6 * len(numbers) + 1.2, 4.2), layout="constrained")
    axes = np.atleast_1d(figure.subplots(1, len(numbers), squeeze=False)).ravel()
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
        ax.set_xlabel("coverage (share of the runs of interest inside the box)")
        ax.set_ylabel("density (share of the runs inside the box of interest)")
        ax.set_title(f"Box {number}" + ("" if number == numbers[0] else " (runs outside the boxes before it)"))
        ax.legend(loc="lower left")
    figure.colorbar(points, ax=axes.tolist(), ticks=range(most + 1), label="parameters restricted")
    figure.suptitle("\n".join(_wrap(line, 110) for line in [f"PRIM peeling trajectory: runs with {outcome}",
                                                             *caption.splitlines()] if line))
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
    size = 2.35 if k > 2 else 3.2
    figure = Figure(figsize=(size * k + 1.0, size * k + 0.9), layout="constrained")
    axes = np.atleast_2d(figure.subplots(k, k, squeeze=False))
    flags = np.asarray(flags, dtype=bool)
    coords, codes, ticks, spans = {}, {}, {}, {}
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
    from matplotlib.patches import Rectangle

    for i, row_param in enumerate(params):
        for j, col_param in enumerate(params):
            ax = axes[i, j]
            if j > i:
                ax.set_visible(False)
                continue
            if i == j:  # each parameter's runs with and without the outcome, stacked
                if ticks[col_param] is not None:  # categories: bars of run counts
                    where = np.arange(len(ticks[col_param]))
                    counts = [np.bincount(codes[col_param][mask].astype(int), minlength=len(where))
                              for mask in (~flags, flags)]
                    ax.bar(where, counts[0], width=0.6, color="0.75")
                    ax.bar(where, counts[1], width=0.6, bottom=counts[0], color="tab:orange")
                else:
                    values = coords[col_param]
                    bins = np.linspace(np.nanmin(values), np.nanmax(values), 25)
                    ax.hist([values[~flags], values[flags]], bins=bins, stacked=True, color=["0.75", "tab:orange"])
                for low, high in spans[col_param]:
                    ax.axvspan(low, high, color="tab:blue", alpha=0.12, linewidth=0, zorder=0)
                    ax.axvline(low, color="tab:blue", linewidth=1.2)
                    ax.axvline(high, color="tab:blue", linewidth=1.2)
                ax.set_ylabel("runs")
            else:
                xs, ys = coords[col_param], coords[row_param]
                ax.scatter(xs[~flags], ys[~flags], s=3, color="0.7", alpha=0.5, linewidths=0, rasterized=True)
                ax.scatter(xs[flags], ys[flags], s=4, color="tab:orange", alpha=0.8, linewidths=0, rasterized=True)
                for x_low, x_high in spans[col_param]:
                    for y_low, y_high in spans[row_param]:
                        ax.add_patch(Rectangle((x_low, y_low), x_high - x_low, y_high - y_low, fill=False,
                                               edgecolor="tab:blue", linewidth=1.5))
                ax.set_ylabel(_wrap(names.get(row_param, row_param), 28) if j == 0 else "")
            for axis, param in ((ax.xaxis, col_param),) + (((ax.yaxis, row_param),) if i != j else ()):
                if ticks[param] is not None:
                    axis.set_ticks(range(len(ticks[param])), ticks[param])
            ax.set_xlabel(_wrap(names.get(col_param, col_param), 28) if i == k - 1 else "")
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    figure.legend([Line2D([], [], marker="o", color="tab:orange", linestyle=""),
                   Line2D([], [], marker="o", color="0.7", linestyle=""), Patch(fill=False, edgecolor="tab:blue")],
                  [f"run with {outcome}", f"run without {outcome}", "box limits"], loc="outside lower center", ncol=3)
    figure.suptitle("\n".join(_wrap(line, 110) for line in [title or f"Runs with {outcome} and the PRIM box",
                                                             *caption.splitlines()] if line))
    return figure


# --------------------------------------------------------------------------------------------------
# Calibration (sim/calibration.py): posterior marginals, pair plot, posterior-predictive check
# --------------------------------------------------------------------------------------------------


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
    columns = min(count, 3)
    rows = math.ceil(count / columns)
    figure = Figure(figsize=(3.6 * columns, 2.8 * rows + 0.8), layout="constrained")
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
        ax.set_xlabel(_wrap(labels.parameter(key), 40))
        ax.set_ylabel("density")
    for ax in axes.ravel()[count:]:
        ax.set_visible(False)
    _legend_below(figure, axes[0, 0], 3)
    _caption(figure, caption)
    return figure


@styled
def posterior_pairs_figure(posterior: pd.DataFrame, priors: list[tuple[str, str, float, float]], *,
                           labels: Labels = PLAIN, caption: str = "") -> Figure:
    """Pair plot of the posterior particles: weighted histograms on the diagonal, particles below it
    (dot area ∝ weight), each axis over its prior's range."""
    count = len(priors)
    figure = Figure(figsize=(2.3 * count + 0.6, 2.3 * count + 0.6), layout="constrained")
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
                ax.set_xlabel(_wrap(labels.parameter(key_x), 26))
            if j == 0 and i > 0:
                ax.set_ylabel(_wrap(labels.parameter(key_y), 26))
    _caption(figure, caption)
    return figure


@styled
def predictive_figure(rounds: pd.DataFrame, observed: pd.DataFrame, issues: list[str], last_round: int, *,
                      labels: Labels = PLAIN, caption: str = "") -> Figure:
    """Posterior-predictive check: per issue, each actor's simulated positions by round for every posterior
    draw (thin lines; held after a run's last round, as scoring holds them) with the observed positions
    at their mapped rounds (large dots).

    Args:
        rounds: draw, round, actor, issue, position (:func:`sim.runs.calibration.predictive_runs`).
        observed: round, actor, issue, position (:func:`sim.runs.scoring.observed_table`).
        issues: the issues to show (those observed at a mapped round).
        last_round: the x axis ends here.
    """
    figure, axes = _issue_panels(len(issues), None, 4.2, 2.9)
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
        ax.set_title(_wrap(labels.issue(issue), 44))
        ax.set_xlim(-0.2, last_round + 0.2)
        ax.set_ylim(-5, 105)
        ax.set_ylabel("position")
        _integer_rounds(ax)
    handles = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, handle)
    figure.legend(list(handles.values()), list(handles.keys()), loc="outside lower center", ncol=len(handles))
    _caption(figure, caption)
    return figure
