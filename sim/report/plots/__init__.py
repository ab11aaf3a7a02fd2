"""Figures drawn from tidy tables (never from live model objects), with matplotlib's object API.

Every figure uses one style (:data:`STYLE`), names what it shows in words a reader knows — actor
names, issue labels, level names and parameter labels from :class:`Labels`, never a raw column name —
and carries a caption (scenario, protocol, number of runs, seeds) that :func:`save` writes to
``captions.md`` beside it, drawn in the figure only when the layout asks for details (slides).
:func:`layout` sets the final width (``figures.width``: text at 7 pt or more at that width) and details;
:func:`save` writes png, pdf (TrueType fonts) or svg (text as text).

One module per family of figures, every public name re-exported here (``plots.positions_figure``):

* :mod:`~sim.report.plots.common`: the style, captions, issue panels and their axes, :func:`save`;
* :mod:`~sim.report.plots.labels`: :class:`Labels`, readable names for actors, issues, parameters, outputs;
* :mod:`~sim.report.plots.run`: one run or the protocols compared: positions, offers, utility space, outcomes;
* :mod:`~sim.report.plots.deal_gap`: the least relaxations of the declared rules that open a deal;
* :mod:`~sim.report.plots.sweep`: a sweep's heatmap and outcome distributions;
* :mod:`~sim.report.plots.sensitivity`: Sobol indices and Morris screening;
* :mod:`~sim.report.plots.discovery`: PRIM's peeling trajectory and a box's parameter pairs;
* :mod:`~sim.report.plots.calibration`: posterior marginals and pairs, the posterior-predictive check;
* :mod:`~sim.report.plots.classroom`: a seat played by a person against the model agent, utility by round.
"""

from __future__ import annotations

from sim.report.plots.calibration import posterior_marginals_figure, posterior_pairs_figure, predictive_figure
from sim.report.plots.classroom import replicate_figure, utilities_figure
from sim.report.plots.common import (FORMATS, MIN_TEXT, STYLE, WIDTHS, Layout, caption, current_layout, layout,
                                     save, styled, write_caption)
from sim.report.plots.deal_gap import deal_gap_figure
from sim.report.plots.discovery import box_pairs_figure, peeling_figure
from sim.report.plots.labels import (ACTOR_FIELD_LABELS, BOOLEAN_OUTPUTS, OUTPUT_LABELS, PARAMETER_LABELS,
                                     PLAIN, Labels)
from sim.report.plots.run import (REFERENCE_STYLES, comparison_figure, offers_figure, positions_figure,
                                  utility_space_figure)
from sim.report.plots.sensitivity import morris_figure, sobol_figure
from sim.report.plots.sweep import distributions_figure, heatmap_figure

__all__ = [
    "ACTOR_FIELD_LABELS", "BOOLEAN_OUTPUTS", "FORMATS", "MIN_TEXT", "OUTPUT_LABELS", "PARAMETER_LABELS", "PLAIN",
    "REFERENCE_STYLES", "STYLE", "WIDTHS", "Labels", "Layout", "current_layout", "layout", "write_caption", "box_pairs_figure", "caption", "comparison_figure", "deal_gap_figure",
    "distributions_figure", "heatmap_figure", "morris_figure", "offers_figure", "peeling_figure",
    "positions_figure", "posterior_marginals_figure", "posterior_pairs_figure", "predictive_figure",
    "replicate_figure", "save", "sobol_figure", "styled", "utilities_figure", "utility_space_figure",
]
