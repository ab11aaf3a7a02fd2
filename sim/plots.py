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


def positions_figure(rounds: pd.DataFrame, issues: pd.DataFrame, columns: int | None = None) -> Figure:
    """One panel per issue: each actor's position by round, with the status quo and the reference
    solutions marked and the issue's end texts at the bottom and top of the scale.

    Args:
        rounds: the rounds table (round, actor, issue, position).
        issues: the reference table (issue, label, low, high, lower, upper, status_quo, compromise,
            median, nash), e.g. ``RunResult.issues``.
    """
    issue_ids = list(issues["issue"])
    count = len(issue_ids)
    columns = columns or min(3, count)
    rows = math.ceil(count / columns)
    figure = Figure(figsize=(5.2 * columns, 3.9 * rows + 0.8), layout="constrained")
    axes = np.atleast_1d(figure.subplots(rows, columns, squeeze=False)).ravel()
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
    for ax in axes[count:]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncol=min(len(labels), 8), fontsize=8)
    return figure


def save(figure: Figure, path: str | Path, dpi: int = 130) -> Path:
    """Save a figure (creating the folder) via a temp file, so no half-written PNG is left."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".tmp" + path.suffix)
    figure.savefig(tmp, dpi=dpi)
    tmp.replace(path)
    return path
