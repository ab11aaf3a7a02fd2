"""What every figure shares: one style (:data:`STYLE`), the layout a report chose (:func:`layout`: the
final width and whether run details are drawn), the caption (drawn, or written to ``captions.md`` beside
the figure), the issue panels and their scale axes, text wrapping, and :func:`save` (png, pdf or svg,
written whole or not at all, with TrueType fonts in PDF and text as text in SVG)."""

from __future__ import annotations

import contextlib
import contextvars
import functools
import math
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

import matplotlib
import numpy as np
from matplotlib.figure import Figure  # the object API: no pyplot, no backend to choose (files only)
from matplotlib.ticker import MaxNLocator

#: The smallest text a figure has, in points, at the size it is saved (journals ask for 6-8 pt at print size).
MIN_TEXT = 7.0
#: One look for every figure (applied while a figure is built); no text below :data:`MIN_TEXT`.
STYLE = {
    "font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9, "legend.fontsize": 8,
    "xtick.labelsize": 8, "ytick.labelsize": 8, "figure.titlesize": 10,
    "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.3,
    "axes.prop_cycle": matplotlib.cycler(color=matplotlib.colormaps.get_cmap("tab10").colors),
    "legend.frameon": False,
}
#: At a chosen final width (a journal column), text a little smaller, never below :data:`MIN_TEXT`.
STYLE_AT_WIDTH = {"font.size": 8, "axes.titlesize": 8, "axes.labelsize": 8, "legend.fontsize": 7,
                  "xtick.labelsize": 7, "ytick.labelsize": 7, "figure.titlesize": 8,
                  "axes.titlepad": 4.0, "legend.handlelength": 1.6, "legend.columnspacing": 1.0}
#: Fonts embedded as TrueType (Type 42) in PDF and PostScript, text kept as text in SVG: what journals accept.
SAVE_STYLE = {"pdf.fonttype": 42, "ps.fonttype": 42, "svg.fonttype": "none"}
FORMATS = ("png", "pdf", "svg")
#: ``figures.width`` names: a journal's single column and full page width, in inches.
WIDTHS = {"single": 3.5, "double": 7.2}


@dataclass(frozen=True)
class Layout:
    """How a report's figures are laid out (``figures.width``, ``figures.details``).

    Attributes:
        width: the final width in inches (figures are drawn at it, text at its final size); None: each
            figure's own size.
        details: draw the run details (scenario, protocol, n, seeds) above the panels, for slides; else
            they go to ``captions.md`` beside the figure only.
    """

    width: float | None = None
    details: bool = False


_LAYOUT: contextvars.ContextVar[Layout] = contextvars.ContextVar("figure_layout", default=Layout())


@contextlib.contextmanager
def layout(width: float | None = None, details: bool = False) -> Iterator[Layout]:
    """Figures built inside are laid out for this width and draw their run details only if ``details``."""
    token = _LAYOUT.set(Layout(width, details))
    try:
        yield _LAYOUT.get()
    finally:
        _LAYOUT.reset(token)


def current_layout() -> Layout:
    return _LAYOUT.get()


def size(width: float, height: float, fixed: float = 0.0) -> tuple[float, float]:
    """A figure's size: its own (``width``, ``height``), or at a chosen width the height scaled with it
    (``fixed`` inches of it, text such as titles and legends, not scaled)."""
    target = _LAYOUT.get().width
    if target is None:
        return width, height
    return target, fixed + max(height - fixed, 0.5) * min(max(target / width, 0.45), 1.6)


def fit(count: int, panel: float, most: int = 3) -> int:
    """How many panels of about ``panel`` inches fit side by side (1 to ``most``, at most ``count``)."""
    target = _LAYOUT.get().width
    room = most if target is None else int(target // panel)
    return max(1, min(most, count, room))


def chars(inches: float, points: float = MIN_TEXT) -> int:
    """About how many characters of ``points``-point text fit in ``inches`` (a wrap width)."""
    return max(8, int(inches * 72 / (0.55 * points)))


def styled(function):
    """Build the figure under :data:`STYLE` (artists read the style when they are created), smaller text
    at a chosen width (:data:`STYLE_AT_WIDTH`)."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        style = STYLE | (STYLE_AT_WIDTH if _LAYOUT.get().width is not None else {})
        with matplotlib.rc_context(style):
            figure = function(*args, **kwargs)
            if _LAYOUT.get().width is not None:
                keep_inside(figure)
        figure.sim_layout = _LAYOUT.get()  # what save() needs: the page is the chosen width
        return figure

    return wrapper


def caption(scenario: str = "", protocol: str = "", runs: int | None = None, seeds: str = "") -> str:
    """One caption line: scenario · protocol · n runs · seeds (empty parts left out)."""
    parts = [scenario, f"protocol {protocol}" if protocol else "",
             f"n = {runs:,} run{'s' if runs != 1 else ''}" if runs is not None else "", seeds]
    return " · ".join(p for p in parts if p)


def add_caption(figure: Figure, text: str, title: str = "") -> None:
    """The figure's caption (:func:`caption`, lines of it): kept for ``captions.md`` (:func:`save`) and drawn
    above the panels, wrapped, only when the layout asks for run details; ``title`` (what the figure shows)
    is drawn there always."""
    figure.sim_caption = text
    details = _LAYOUT.get().details
    lines = [line for line in [title, *(text.splitlines() if details else [])] if line]
    if lines:
        width = chars(figure.get_figwidth() - 0.2, 8)
        figure.suptitle("\n".join(wrap(line, min(width, 110)) for line in lines), fontsize=8 if
                        _LAYOUT.get().width else 9, color="0.25" if not title else "black")


def wrap(text: str, width: int = 34) -> str:
    """``text`` broken into lines of at most ``width`` characters (a title, an axis label)."""
    return "\n".join(textwrap.wrap(text, width)) if text else ""


def issue_panels(count: int, columns: int | None, width: float, height: float) -> tuple[Figure, np.ndarray]:
    """A figure with one panel per issue (up to 3 per row, as many as fit a chosen width); unused panels
    are hidden."""
    target = _LAYOUT.get().width
    columns = columns or fit(count, 2.3)
    rows = math.ceil(count / columns)
    if target is not None:  # panels as wide as the width allows, their height kept in proportion (bounded)
        height = min(max(height * (target / columns) / width, 1.6), height)
        width = target / columns
    figure = Figure(figsize=(width * columns, height * rows + 0.8), layout="constrained")
    axes = np.atleast_1d(figure.subplots(rows, columns, squeeze=False)).ravel()
    for ax in axes[count:]:
        ax.set_visible(False)
    return figure, axes


def legend_below(figure: Figure, ax, columns: int) -> None:
    """The panel's legend below the panels (outside them: it covers no data), as many columns as fit."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        figure_legend(figure, handles, labels, columns)


def figure_legend(figure: Figure, handles: list, labels: list[str], columns: int, **kwargs: Any) -> None:
    """A legend below every panel (``outside lower center``: it covers no data); at a chosen width, as many
    columns as the longest entry allows."""
    target = _LAYOUT.get().width
    if target is not None:
        longest = max((max(len(line) for line in str(label).splitlines() or [""]) for label in labels), default=1)
        columns = max(1, min(columns, int(target / (0.055 * longest + 0.45))))
        labels = [wrap(str(label), chars(target - 0.5)) for label in labels]
    figure.legend(handles, labels, loc="outside lower center", ncol=min(len(labels), columns), **kwargs)


def _end_text(text: str) -> str:
    """An issue's end text, short enough for a tick label."""
    text = text.split(";")[0].split(" (")[0].strip()
    return wrap(text if len(text) <= 60 else text[:57] + "…", 24)


def scale_axis(ax, info: Mapping[str, Any], levels: Mapping[float, str] | None, ends: bool = True) -> None:
    """y axis of an issue: its scale with a little room, level names (discrete issue) or the end
    texts at the two ends as tick labels — outside the data, never over it (``ends=False`` or a narrow
    panel: the numbers only)."""
    lower, upper = float(info["lower"]), float(info["upper"])
    span = upper - lower
    ax.set_ylim(lower - 0.04 * span, upper + 0.04 * span)
    if levels:
        ticks = sorted(levels)
        ax.set_yticks(ticks, [f"{levels[t]} ({t:g})" for t in ticks], fontsize=7)
        return
    target = _LAYOUT.get().width
    if not ends or (target is not None and target / max(ax.get_gridspec().ncols, 1) < 4.5):
        ax.yaxis.set_major_locator(MaxNLocator(5))
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
    """Save a figure (creating the folder) via a temp file, so no half-written file is left; PDF with
    TrueType (Type 42) fonts, SVG with its text as text (:data:`SAVE_STYLE`). A figure laid out for a width
    (:func:`layout`) is saved at exactly that width; else cropped to its content. Its caption
    (:func:`add_caption`) goes to ``captions.md`` in the same folder.

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

    fixed = getattr(figure, "sim_layout", Layout()).width is not None
    with matplotlib.rc_context(SAVE_STYLE):
        written = write_with(path, lambda tmp: figure.savefig(
            tmp, dpi=dpi, metadata=metadata, format=path.suffix[1:],
            **({} if fixed else {"bbox_inches": "tight", "pad_inches": 0.08})))
    caption_text = getattr(figure, "sim_caption", "")
    if caption_text:
        write_caption(path, caption_text)
    return written


def keep_inside(figure: Figure, tries: int = 4) -> None:
    """Panel titles and axis labels that reach past the figure's edge (a figure saved at its chosen width is
    not cropped) are wrapped to fewer characters until they fit; the layout is redone after each pass."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)
    for _ in range(tries):
        canvas.draw()
        renderer = canvas.get_renderer()
        right = figure.bbox.x1
        changed = False
        for ax in figure.axes:
            for text in (ax.title, ax._left_title, ax._right_title, ax.xaxis.label):
                words = text.get_text()
                if not words or not text.get_visible():
                    continue
                box = text.get_window_extent(renderer)
                if box.x1 <= right + 0.5 and box.x0 >= -0.5:
                    continue
                room = (right - max(box.x0, 0.0)) if text is ax._left_title else min(box.width, right) * 0.5
                longest = max(len(line) for line in words.splitlines())
                shorter = max(8, int(longest * max(room, 1.0) / max(box.width, 1.0)) - 1)
                if shorter < longest:
                    text.set_text(wrap(" ".join(words.split()), shorter))
                    changed = True
            label = ax.yaxis.label  # turned: as long as the panel is high at most
            words = label.get_text()
            if words and label.get_visible():
                box, high = label.get_window_extent(renderer), ax.get_window_extent(renderer).height
                longest = max(len(line) for line in words.splitlines())
                if box.height > high + 0.5 and longest > 8:
                    label.set_text(wrap(" ".join(words.split()), max(8, int(longest * high / box.height) - 1)))
                    changed = True
        if not changed:
            return


CAPTIONS = "captions.md"
_CAPTIONS_HEAD = ("# Figure captions\n\nWhat each figure in this folder was drawn from (scenario, protocol, number "
                  "of runs, seeds) and what to read it with; `figures.details=true` draws it in the figure.\n")


def write_caption(figure_path: Path, text: str) -> Path:
    """Set the caption of ``figure_path`` in ``captions.md`` beside it (one section per figure file, the
    others kept)."""
    from sim.runs.files import write_text

    page = figure_path.parent / CAPTIONS
    sections: dict[str, str] = {}
    if page.exists():
        for block in re.split(r"^## ", page.read_text(), flags=re.M)[1:]:
            name, _, body = block.partition("\n")
            sections[name.strip()] = body.strip()
    sections[figure_path.name] = "\n\n".join(line.strip() for line in text.splitlines() if line.strip())
    body = "".join(f"\n## {name}\n\n{sections[name]}\n" for name in sorted(sections))
    write_text(page, _CAPTIONS_HEAD + body)
    return page
