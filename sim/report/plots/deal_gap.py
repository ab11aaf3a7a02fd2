"""The deal gap (sim/kernels/deal_gap.py): the least relaxations of the declared rules that open a deal, or
each actor's range of acceptable utility when one exists."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.report.plots.common import add_caption, chars, current_layout, styled, wrap
from sim.report.wording import rule_in_words


@styled
def deal_gap_figure(table: pd.DataFrame, names: dict[str, str] | None = None, caption: str = "") -> Figure:
    """Stacked bars, one per minimal set of relaxed rules (points on the issues' 0-100 scales, each
    segment a rule: declared -> relaxed); with a deal, each actor's worst-best acceptable utility."""
    names = names or {}
    if "set" not in table:
        return _ranges(table, names, caption)
    sets = sorted(table["set"].unique())
    width = current_layout().width or 8.0
    figure = Figure(figsize=(width, 1.1 + 0.95 * len(sets) * max(1.0, 8.0 / width) ** 0.5), layout="constrained")
    ax = figure.subplots()
    colours = {rule: f"C{i % 10}" for i, rule in enumerate(dict.fromkeys(table["rule"]))}
    for row, number in enumerate(sets):
        left = 0.0
        for _, move in table[table["set"] == number].iterrows():
            ax.barh(row, move["points"], left=left, color=colours[move["rule"]], edgecolor="white")
            digits = ".3f" if "outside_option" in move["rule"] else ".1f"
            room = max(8, int(move["points"] / 100 * 95 * width / 8))  # characters that fit the segment
            text = f"{wrap(rule_in_words(move['rule'], names), room)}\n{move['declared']:{digits}} -> {move['relaxed']:{digits}}"
            ax.text(left + move["points"] / 2, row, text, ha="center", va="center", fontsize=7)
            left += move["points"]
    totals = table.groupby("set")["set_points"].first()
    ax.set_yticks(range(len(sets)), [f"{'least' if n == 1 else f'set {n}'}\n{totals[n]:.1f} points" for n in sets])
    ax.invert_yaxis()
    ax.set_xlabel(wrap("relaxation needed to open a deal (points on the issues' 0-100 scales)", chars(width - 1.2, 8)))
    ax.set_title(wrap("No bundle meets every declared rule: the least relaxations that open one", chars(width - 1.2, 8)),
                 loc="left")
    add_caption(figure, caption)
    return figure


def _ranges(table: pd.DataFrame, names: dict[str, str], caption: str) -> Figure:
    width = current_layout().width or 7.0
    figure = Figure(figsize=(width, 0.9 + 0.45 * max(len(table), 1) + (0.4 if width < 7 else 0)), layout="constrained")
    ax = figure.subplots()
    rows = np.arange(len(table))
    ax.barh(rows, table["best"] - table["worst"], left=table["worst"], color="C2", alpha=0.6)
    ax.set_yticks(rows, [names.get(a, a) for a in table["actor"]])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel(wrap("utility of the bundles every needed actor accepts (worst to best)", chars(width - 1.2, 8)))
    ax.set_title(wrap("Deal gap 0: bundles exist that every needed actor accepts", chars(width - 1.2, 8)), loc="left")
    add_caption(figure, caption)
    return figure
