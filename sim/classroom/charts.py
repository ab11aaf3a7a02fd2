"""Charts for a projector: drawn at the size they are shown (``DPI`` pixels per inch, no scaling by
the page), so an 11 pt font is 15 px on screen; whole-number rounds; the person's seat drawn thick
and named "(you)". Each function returns PNG bytes, or None when there is nothing to draw yet."""

from __future__ import annotations

import io
import textwrap

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from sim.classroom.model import ClassroomModel
from sim.classroom.tables import actor_name, utilities_by_round

DPI = 100  # the page shows the PNG at its pixel size: font px = pt * DPI / 72
FONT = 11  # pt -> 15.3 px; legends and panel titles FONT - 0.5 = 14.6 px (>= 14 px on a projector)
COLORS = ["#1f77b4", "#2ca02c", "#d62728", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    return figure


def style_axes(ax) -> None:
    """Projector-size tick labels, whole rounds on the x axis (even over a single round), a light grid."""
    ax.tick_params(labelsize=FONT)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    ax.grid(alpha=0.3)


def _label(model: ClassroomModel, actor: str) -> str:
    return actor_name(model, actor) + (" (you)" if actor == model.play_as else "")


def utility_chart(model: ClassroomModel, width: float = 5.3, height: float = 2.45) -> bytes | None:
    """Each party's utility (0 = worst possible, 1 = all it wants) of each round's offer (offers) or of
    the predicted outcome (eu, exchange)."""
    table = utilities_by_round(model)
    if table.empty:
        return None
    figure = _figure(width, height)
    ax = figure.subplots()
    for n, actor in enumerate(model.negotiation.actor_ids):
        mine = actor == model.play_as
        ax.plot(table["round"], table[actor], marker="o", markersize=6 if mine else 4,
                linewidth=4 if mine else 1.5, color=COLORS[n % len(COLORS)], label=_label(model, actor),
                zorder=3 if mine else 2)
        if mine:
            seat = model.negotiation.actor_ids.index(actor)
            ax.axhline(model.disagreement[seat], color=COLORS[n % len(COLORS)], linestyle=":", linewidth=2,
                       label="your outside option")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlim(0.5 if model.protocol.makes_offers else -0.5, max(float(table["round"].max()), 1) + 0.5)
    title = "What each offer gives each party" if model.protocol.makes_offers else \
        "What the predicted outcome gives each party"
    ax.set_title(title + " (1 = all it wants)", fontsize=FONT + 1, loc="left")
    style_axes(ax)
    handles, labels = ax.get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncol=3, fontsize=FONT - 0.5, frameon=False,
                  handlelength=1.5, columnspacing=1.0)
    return _png(figure)


def top_issues(model: ClassroomModel, count: int = 2) -> list[int]:
    """The issues shown on the main page: those the seat cares most about (with nobody seated, those
    the parties care most about together)."""
    saliences = model.negotiation.saliences
    weight = saliences[model.seat] if model.seat is not None else saliences.sum(axis=0)
    return [int(k) for k in np.argsort(-weight, kind="stable")[:count]]


def issues_chart(model: ClassroomModel, issues: list[int] | None = None, width: float = 5.3,
                 row_height: float = 1.95, columns: int = 2) -> bytes | None:
    """Offers by round on some issues (offers: crosses rejected, dots agreed) or each party's position
    by round (eu, exchange), beside the status quo (dashed) and the seat's ideal (dotted)."""
    scenario = model.negotiation
    issues = top_issues(model) if issues is None else issues
    offers_protocol = model.protocol.makes_offers
    if offers_protocol:
        events = model.events_table()
        if "kind" not in events or not (events["kind"] == "offer").any():
            return None
        events = events[events["kind"] == "offer"]
    else:
        rounds = model.rounds_table()
        if rounds.empty or rounds["round"].max() < 1:
            return None
    rows = -(-len(issues) // columns)
    figure = _figure(width, row_height * rows + 0.5)  # + the legend below
    axes = np.atleast_1d(figure.subplots(rows, columns, squeeze=False)).ravel()
    for ax in axes[len(issues):]:
        ax.set_visible(False)
    for ax, k in zip(axes, issues):
        issue = scenario.issues[k]
        if offers_protocol:
            values = events[f"offer_{issue.id}"].to_numpy(dtype=float)
            agreed = events["agreement"].to_numpy(dtype=bool)
            x = events["round"].to_numpy()
            ax.plot(x, values, color="#444", linewidth=1)
            ax.scatter(x[~agreed], values[~agreed], marker="x", s=50, color="#d62728", zorder=3, label="rejected")
            ax.scatter(x[agreed], values[agreed], marker="o", s=70, color="#2ca02c", zorder=3, label="agreed")
            ax.set_xlim(0.5, max(float(x.max()), 1) + 0.5)
        else:
            part = rounds[rounds["issue"] == issue.id]
            for n, actor in enumerate(scenario.actor_ids):
                mine = actor == model.play_as
                line = part[part["actor"] == actor]
                ax.plot(line["round"], line["position"], color=COLORS[n % len(COLORS)],
                        linewidth=3 if mine else 1.5, label=_label(model, actor))
        ax.axhline(issue.status_quo, color="black", linestyle="--", linewidth=1, label="no deal")
        if model.seat is not None:
            ax.axhline(scenario.positions[model.seat, k], color="#1f77b4", linestyle=":", linewidth=2,
                       label="you want")
        ax.set_ylim(issue.lower - 0.05 * issue.span, issue.upper + 0.05 * issue.span)
        ax.set_title("\n".join(textwrap.wrap(textwrap.shorten(issue.label or issue.id, 62, placeholder="…"), 32)),
                     fontsize=FONT - 0.5, loc="left")
        style_axes(ax)
    axes[0].set_ylabel("offer" if offers_protocol else "position", fontsize=FONT)
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncol=min(len(labels), 4), fontsize=FONT - 0.5,
                  frameon=False, handlelength=1.5, columnspacing=1.0)
    return _png(figure)


def all_issues_chart(model: ClassroomModel) -> bytes | None:
    """Every issue, three to a row (the "Every issue by round" tab)."""
    return issues_chart(model, list(range(model.negotiation.n_issues)), width=9.3, row_height=2.3, columns=3)
