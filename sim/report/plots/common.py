"""What every figure shares: one style (:data:`STYLE`), the caption line, the issue panels and their
scale axes, text wrapping, and :func:`save` (png, pdf or svg, written whole or not at all)."""

from __future__ import annotations

import functools
import math
import textwrap
from pathlib import Path
from typing import Any, Mapping

import matplotlib
import numpy as np
from matplotlib.figure import Figure  # the object API: no pyplot, no backend to choose (files only)
from matplotlib.ticker import MaxNLocator

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


def caption(scenario: str = "", protocol: str = "", runs: int | None = None, seeds: str = "") -> str:
    """One caption line: scenario · protocol · n runs · seeds (empty parts left out)."""
    parts = [scenario, f"protocol {protocol}" if protocol else "",
             f"n = {runs:,} run{'s' if runs != 1 else ''}" if runs is not None else "", seeds]
    return " · ".join(p for p in parts if p)


def add_caption(figure: Figure, text: str) -> None:
    """Put a caption (:func:`caption`, lines of it) above the panels, wrapped; nothing when it is empty."""
    if text:
        figure.suptitle("\n".join(wrap(line, 110) for line in text.splitlines()), fontsize=9, color="0.25")


def wrap(text: str, width: int = 34) -> str:
    """``text`` broken into lines of at most ``width`` characters (a title, an axis label)."""
    return "\n".join(textwrap.wrap(text, width)) if text else ""


def issue_panels(count: int, columns: int | None, width: float, height: float) -> tuple[Figure, np.ndarray]:
    """A figure with one panel per issue (up to 3 per row); unused panels are hidden."""
    columns = columns or min(3, count)
    rows = math.ceil(count / columns)
    figure = Figure(figsize=(width * columns, height * rows + 0.8), layout="constrained")
    axes = np.atleast_1d(figure.subplots(rows, columns, squeeze=False)).ravel()
    for ax in axes[count:]:
        ax.set_visible(False)
    return figure, axes


def legend_below(figure: Figure, ax, columns: int) -> None:
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        figure.legend(handles, labels, loc="outside lower center", ncol=min(len(labels), columns))


def _end_text(text: str) -> str:
    """An issue's end text, short enough for a tick label."""
    text = text.split(";")[0].split(" (")[0].strip()
    return wrap(text if len(text) <= 60 else text[:57] + "…", 24)


def scale_axis(ax, info: Mapping[str, Any], levels: Mapping[float, str] | None) -> None:
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


def integer_rounds(ax) -> None:
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    ax.set_xlabel("round")


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
    metadata = {"Software": None} if path.suffix == ".png" else None  # no version stamp: stable bytes
    from sim.runs.files import write_with

    return write_with(path, lambda tmp: figure.savefig(tmp, dpi=dpi, metadata=metadata, bbox_inches="tight",
                                                       pad_inches=0.08))
