"""Self-contained debrief reports (HTML, figures embedded) for a results folder or a class folder
(``python -m experiments.debrief``; the classroom app's export calls :func:`report`).

The report holds: the timeline of offers and responses (or the positions by round), the outcome beside
the compromise and Nash solutions and the status quo, what happened in reality (the scenario's
teacher's note, ``classroom.what_happened``, for classroom scenarios) and, when a person played a seat
in the classroom app (``play_as`` in runs.parquet), that person's utility beside the model agent's in
the same seat over ``--replicates`` runs of the same config (seeds spawned from the session's seed,
with belief noise when the protocol has none, so that the runs differ). A game exported before its
end is labelled "in progress at round N" and not compared.

``--class <folder>`` pools every game exported into a class folder (``make classroom CLASS=<name>``):
the class's outcomes per issue and the seats' utilities beside the model agents' runs, the reference
solutions and 2022, the agreement rates, and the games closest to and furthest from what happened.

Either report opens without network access and prints on A4: no scripts, no external files.

Modules: :mod:`~sim.report.debrief.game` (one folder: :func:`report`), :mod:`~sim.report.debrief.pooled`
(a class: :func:`class_report`), :mod:`~sim.report.debrief.reading` (the words at a reading level,
``level=school|university``), :mod:`~sim.report.debrief.replicates` (the model agents' runs a seat
is compared with), :mod:`~sim.report.debrief.page` (the HTML page), :mod:`~sim.report.debrief.write`
(the command's :func:`write_debrief`).
"""

from __future__ import annotations

from sim.report.debrief.game import report, seat_comparison
from sim.report.debrief.page import STYLE, embed, page, table_html
from sim.report.debrief.pooled import class_report
from sim.report.debrief.reading import Reading, cause_text
from sim.report.debrief.replicates import REPLICATE_NOISE, model_replicates, replicate_settings
from sim.report.debrief.write import write_debrief

__all__ = ["REPLICATE_NOISE", "Reading", "STYLE", "cause_text", "class_report", "embed", "model_replicates", "page",
           "replicate_settings", "report", "seat_comparison", "table_html", "write_debrief"]
