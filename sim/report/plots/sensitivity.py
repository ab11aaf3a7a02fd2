"""Sensitivity figures: Sobol indices and Morris screening (:mod:`sim.analysis.sensitivity`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.report.plots.common import add_caption, chars, current_layout, figure_legend, styled, wrap
from sim.report.plots.labels import PLAIN, Labels


@styled
def sobol_figure(indices: pd.DataFrame, output: str, *, labels: Labels = PLAIN, caption: str = "") -> Figure:
    """First-order (S1) and total (ST) Sobol indices with 95% confidence intervals; parameters
    whose indices are not trustworthy (``flag`` column, :func:`sim.analysis.sensitivity.flag_sobol`) are
    marked, and the caption says why. The legend sits below the axes (it covers no bar)."""
    width = current_layout().width or 8.0
    flags = indices["flag"] if "flag" in indices else pd.Series([""] * len(indices))
    names = [wrap(labels.parameter(p) + (" ⚠" if f else ""), chars(0.4 * width) if width < 8 else 40)
             for p, f in zip(indices["parameter"], flags)]
    lines = sum(name.count("\n") + 1 for name in names)
    height = max(0.6 * len(indices), 0.14 * lines) + (2.2 if width >= 8 else 1.6)
    figure = Figure(figsize=(width, height), layout="constrained")
    ax = figure.subplots()
    position = np.arange(len(indices))[::-1]
    ax.barh(position + 0.2, indices["S1"], 0.4, xerr=indices["S1_conf"], label="S1 (first order)", capsize=2)
    ax.barh(position - 0.2, indices["ST"], 0.4, xerr=indices["ST_conf"], label="ST (total)", capsize=2)
    ax.set_yticks(position, names)
    ax.axvline(0, color="0.5", linewidth=0.8)
    ax.set_xlabel("Sobol index (95% interval)")
    ax.set_title(wrap(f"Sobol indices of {labels.phrase(output)}", chars(0.55 * width, 8)))
    figure_legend(figure, *ax.get_legend_handles_labels(), 2)
    notes = sorted({f for f in flags if f})
    add_caption(figure, caption + ("\n⚠ marks: " + "; ".join(notes) if notes else ""))
    return figure


@styled
def morris_figure(indices: pd.DataFrame, output: str, *, labels: Labels = PLAIN, caption: str = "") -> Figure:
    """Morris screening: mu* (importance) against sigma (non-linearity / interactions); parameters
    numbered at their points (coinciding points share one label, "1, 5") and named in the legend below
    the axes; a parameter whose interval of mu* is wider than mu* (``flag``) is marked ⚠."""
    width = current_layout().width or 7.5
    figure = Figure(figsize=(width, (4.2 if width >= 7.5 else 0.55 * width + 1.2) + 0.22 * len(indices)),
                    layout="constrained")
    ax = figure.subplots()
    groups: dict[tuple[float, float], list[str]] = {}
    flags = indices["flag"] if "flag" in indices else pd.Series([""] * len(indices), index=indices.index)
    for number, ((_, row), flag) in enumerate(zip(indices.iterrows(), flags), start=1):
        ax.errorbar(row["mu_star"], row["sigma"], xerr=row["mu_star_conf"], fmt="o", capsize=2,
                    label=wrap(f"{number}: {labels.parameter(row['parameter'])}" + (" ⚠" if flag else ""), 60))
        key = (round(float(row["mu_star"]), 6), round(float(row["sigma"]), 6))
        groups.setdefault(key, []).append(str(number))
    for (x, y), numbers in groups.items():
        ax.annotate(", ".join(numbers), (x, y), fontsize=7, xytext=(4, 4), textcoords="offset points")
    ax.set_xlabel("μ* (mean absolute elementary effect)")
    ax.set_ylabel("σ (spread of effects)")
    ax.set_title(wrap(f"Morris screening of {labels.phrase(output)}", chars(0.75 * width, 8)))
    figure_legend(figure, *ax.get_legend_handles_labels(), 2, fontsize=7)
    notes = sorted({f for f in flags if f})
    add_caption(figure, caption + ("\n⚠ marks: " + "; ".join(notes) if notes else ""))
    return figure
