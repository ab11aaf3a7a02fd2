"""Charts for a projector: drawn at the size they are shown (``DPI`` pixels per inch, no scaling by
the page), so an 11 pt font is 15 px on screen; whole-number rounds; the person's seat drawn thick
and named "(you)". Each function returns PNG bytes, or None when there is nothing to draw yet.

Drawing is what a click costs on the server (the model's step is a few ms), so a chart draws only what
changed. Its static parts (axes, ticks, titles, the x axis over the game's whole round limit, the
status quo and the seat's own lines, the legend) are drawn once per game into a :class:`Canvas` and
kept as pixels; each draw pastes them back and draws only the data (the offers, the utilities) on
top. Margins are fixed in pixels (no constrained layout, which measured every text on every draw), and
the PNG is compressed lightly. ``scale`` draws the same chart larger (projector mode): every size,
font and margin times ``scale``.
"""

from __future__ import annotations

import io
import textwrap
import threading

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator
from PIL import Image

from sim.classroom.model import ClassroomModel
from sim.domain.cache import BoundedCache
from sim.classroom.tables import actor_name, utilities_by_round

DPI = 100  # the page shows the PNG at its pixel size: font px = pt * DPI / 72
FONT = 11  # pt -> 15.3 px; legends and panel titles FONT - 0.5 = 14.6 px (>= 14 px on a projector)
COLORS = ["#1f77b4", "#2ca02c", "#d62728", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
COMPRESS = 1  # zlib level of the PNG: a third of the default's encoding time, files ~5 % larger


class Canvas:
    """One chart's figure: its static parts drawn once and kept as pixels.

    :meth:`prepare` returns the figure for ``key`` (what fixes the static parts: the scenario's content,
    the seat, the protocol's kind, the round limit, the chart and its size), building it with ``make``
    and drawing its background when ``key`` changed; :meth:`png` pastes the background back, draws
    ``artists`` on top, encodes the PNG and removes them. Hold :attr:`lock` from prepare to png: the
    canvases are shared by every game with the same static parts (:func:`_canvas`), so thirty students
    in one seat draw their backgrounds once."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.key: tuple | None = None
        self.figure: Figure | None = None
        self.agg: FigureCanvasAgg | None = None
        self.background = None

    def prepare(self, key: tuple, make) -> Figure:
        if self.figure is None or self.key != key:
            self.figure = make()
            self.agg = FigureCanvasAgg(self.figure)
            self.agg.draw()
            self.background = self.agg.copy_from_bbox(self.figure.bbox)
            self.key = key
        return self.figure

    def png(self, artists: list) -> bytes:
        agg = self.agg
        agg.restore_region(self.background)
        for artist in sorted(artists, key=lambda a: a.get_zorder()):
            artist.axes.draw_artist(artist)
        for artist in artists:
            artist.remove()
        buffer = io.BytesIO()
        Image.fromarray(np.asarray(agg.buffer_rgba())).save(buffer, format="png", compress_level=COMPRESS)
        return buffer.getvalue()


_CANVASES = BoundedCache("sim.classroom.charts.canvases", 64)


def _canvas(key: tuple, canvas: Canvas | None) -> Canvas:
    """``canvas``, or the canvas shared by every chart whose static parts ``key`` describes."""
    return canvas if canvas is not None else _CANVASES.get_or_compute(key, Canvas)


def _static_key(model: ClassroomModel, *parts) -> tuple:
    """What the static parts of a game's chart depend on: the scenario's content, the seat and what it
    gets from no deal, the protocol's kind and the round limit (and the chart's own ``parts``)."""
    seat = model.seat
    own = float(model.disagreement[seat]) if seat is not None else -1.0
    return (model.negotiation.digest, model.play_as, own, bool(model.protocol.makes_offers), int(model.max_rounds),
            *parts)


def _figure(width: float, height: float, scale: float = 1.0, *, left: float = 52, right: float = 12,
            top: float = 30, bottom: float = 72, hspace: float = 0, wspace: float = 0, rows: int = 1,
            columns: int = 1) -> Figure:
    """A figure ``width`` x ``height`` inches at ``scale``, its subplots' margins fixed in pixels
    (``hspace``/``wspace``: pixels between panels), so nothing is measured when it is drawn."""
    figure = Figure(figsize=(width, height), dpi=DPI * scale)
    w, h = width * DPI, height * DPI  # pixels at scale 1: margins scale with the figure
    panel_h = (h - top - bottom - hspace * (rows - 1)) / rows
    panel_w = (w - left - right - wspace * (columns - 1)) / columns
    figure.subplots_adjust(left=left / w, right=1 - right / w, top=1 - top / h, bottom=bottom / h,
                           hspace=hspace / panel_h if rows > 1 else 0, wspace=wspace / panel_w if columns > 1 else 0)
    return figure


def _legend(figure: Figure, handles: list, columns: int) -> None:
    figure.legend(handles, [h.get_label() for h in handles], loc="lower center", bbox_to_anchor=(0.5, 0.0),
                  ncol=columns, fontsize=FONT - 0.5, frameon=False, handlelength=1.5, columnspacing=1.0,
                  borderaxespad=0.2)


def _rounds(model: ClassroomModel) -> tuple[float, float]:
    """The x axis: the game's whole round limit (static, so it is drawn once per game)."""
    first = 0.5 if model.protocol.makes_offers else -0.5
    return first, max(float(model.max_rounds), 1.0) + 0.5


def style_axes(ax) -> None:
    """Projector-size tick labels, whole rounds on the x axis (even over a single round), a light grid."""
    ax.tick_params(labelsize=FONT)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=True, min_n_ticks=1))
    ax.grid(alpha=0.3)


def _label(model: ClassroomModel, actor: str) -> str:
    return actor_name(model, actor) + (" (you)" if actor == model.play_as else "")


def _actor_style(model: ClassroomModel, n: int, actor: str, thick: float = 4) -> dict:
    mine = actor == model.play_as
    return {"color": COLORS[n % len(COLORS)], "linewidth": thick if mine else 1.5, "zorder": 3 if mine else 2,
            "label": _label(model, actor)}


def utility_chart(model: ClassroomModel, width: float = 5.3, height: float = 2.45, scale: float = 1.0,
                  canvas: Canvas | None = None) -> bytes | None:
    """Each party's utility (0 = worst possible, 1 = all it wants) of each round's offer (offers) or of
    the predicted outcome (eu, exchange)."""
    table = utilities_by_round(model)
    if table.empty:
        return None
    ids = model.negotiation.actor_ids

    def make() -> Figure:
        handles = [Line2D([], [], marker="o", markersize=6 if a == model.play_as else 4,
                          **_actor_style(model, n, a)) for n, a in enumerate(ids)]
        if model.seat is not None:
            handles.append(Line2D([], [], color=COLORS[model.seat % len(COLORS)], linestyle=":", linewidth=2,
                                  label="your outside option"))
        figure = _figure(width, height, scale, left=42, top=26, bottom=34 + 21 * -(-len(handles) // 3))
        ax = figure.subplots()
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlim(*_rounds(model))
        title = "What each offer gives each party" if model.protocol.makes_offers else \
            "What the predicted outcome gives each party"
        ax.set_title(title + " (1 = all it wants)", fontsize=FONT + 1, loc="left")
        style_axes(ax)
        if model.seat is not None:
            ax.axhline(model.disagreement[model.seat], color=COLORS[model.seat % len(COLORS)], linestyle=":",
                       linewidth=2)
        _legend(figure, handles, 3)
        return figure

    key = _static_key(model, "utility", width, height, scale)
    canvas = _canvas(key, canvas)
    with canvas.lock:
        ax = canvas.prepare(key, make).axes[0]
        artists = []
        for n, actor in enumerate(ids):
            artists += ax.plot(table["round"], table[actor], marker="o",
                               markersize=6 if actor == model.play_as else 4, **_actor_style(model, n, actor))
        return canvas.png(artists)


def top_issues(model: ClassroomModel, count: int = 2) -> list[int]:
    """The issues shown on the main page: those the seat cares most about (with nobody seated, those
    the parties care most about together)."""
    saliences = model.negotiation.saliences
    weight = saliences[model.seat] if model.seat is not None else saliences.sum(axis=0)
    return [int(k) for k in np.argsort(-weight, kind="stable")[:count]]


def _title(issue, panel_px: float) -> str:
    """An issue's name in two lines at most that fit over its panel (~8.4 px a character)."""
    chars = max(int(panel_px / 8.4), 12)
    return "\n".join(textwrap.wrap(issue.label or issue.id, chars, max_lines=2, placeholder=" …"))


def issues_chart(model: ClassroomModel, issues: list[int] | None = None, width: float = 5.3,
                 row_height: float = 1.95, columns: int = 2, scale: float = 1.0,
                 canvas: Canvas | None = None) -> bytes | None:
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

    def make() -> Figure:
        if offers_protocol:
            handles = [Line2D([], [], marker="x", markersize=7, linestyle="", color="#d62728", label="rejected"),
                       Line2D([], [], marker="o", markersize=8, linestyle="", color="#2ca02c", label="agreed")]
        else:
            handles = [Line2D([], [], **_actor_style(model, n, a, thick=3)) for n, a in enumerate(scenario.actor_ids)]
        handles.append(Line2D([], [], color="black", linestyle="--", linewidth=1, label="no deal"))
        if model.seat is not None:
            handles.append(Line2D([], [], color="#1f77b4", linestyle=":", linewidth=2, label="you want"))
        panel_px = (width * DPI - 62 - 12 - 44 * (columns - 1)) / columns
        titles = {k: _title(scenario.issues[k], panel_px) for k in issues}
        title_px = 8 + 18 * max(title.count("\n") + 1 for title in titles.values())
        figure = _figure(width, row_height * rows + 0.5, scale, left=62, top=title_px,
                         bottom=34 + 21 * -(-len(handles) // 4), hspace=title_px + 26, wspace=44, rows=rows,
                         columns=columns)
        axes = np.atleast_1d(figure.subplots(rows, columns, squeeze=False)).ravel()
        for ax in axes[len(issues):]:
            ax.set_visible(False)
        for ax, k in zip(axes, issues):
            issue = scenario.issues[k]
            ax.set_ylim(issue.lower - 0.05 * issue.span, issue.upper + 0.05 * issue.span)
            ax.set_xlim(*_rounds(model))
            ax.set_title(titles[k], fontsize=FONT - 0.5, loc="left")
            style_axes(ax)
            ax.axhline(issue.status_quo, color="black", linestyle="--", linewidth=1)
            if model.seat is not None:
                ax.axhline(scenario.positions[model.seat, k], color="#1f77b4", linestyle=":", linewidth=2)
        axes[0].set_ylabel("offer" if offers_protocol else "position", fontsize=FONT)
        _legend(figure, handles, min(len(handles), 4))
        return figure

    key = _static_key(model, "issues", tuple(issues), width, row_height, columns, scale)
    canvas = _canvas(key, canvas)
    with canvas.lock:
        return canvas.png(_issue_data(canvas.prepare(key, make), model, issues, events if offers_protocol else rounds))


def _issue_data(figure: Figure, model: ClassroomModel, issues: list[int], table) -> list:
    """The data of :func:`issues_chart` on its figure: offers by round, or positions by round."""
    scenario = model.negotiation
    offers_protocol = model.protocol.makes_offers
    events = rounds = table
    artists = []
    for ax, k in zip(figure.axes, issues):
        issue = scenario.issues[k]
        if offers_protocol:
            values = events[f"offer_{issue.id}"].to_numpy(dtype=float)
            agreed = events["agreement"].to_numpy(dtype=bool)
            x = events["round"].to_numpy()
            artists += ax.plot(x, values, color="#444", linewidth=1)
            artists.append(ax.scatter(x[~agreed], values[~agreed], marker="x", s=50, color="#d62728", zorder=3))
            artists.append(ax.scatter(x[agreed], values[agreed], marker="o", s=70, color="#2ca02c", zorder=3))
        else:
            part = rounds[rounds["issue"] == issue.id]
            for n, actor in enumerate(scenario.actor_ids):
                line = part[part["actor"] == actor]
                artists += ax.plot(line["round"], line["position"], **_actor_style(model, n, actor, thick=3))
    return artists


def all_issues_chart(model: ClassroomModel, scale: float = 1.0, canvas: Canvas | None = None) -> bytes | None:
    """Every issue, three to a row (the "Every issue by round" tab)."""
    return issues_chart(model, list(range(model.negotiation.n_issues)), width=9.3, row_height=2.3, columns=3,
                        scale=scale, canvas=canvas)
