"""A classroom game written out: its results folder (what ``experiments.run`` writes, the command line
that re-runs it, the model agent's runs in the played seat) and its debrief report, in the class's
folder."""

from __future__ import annotations

import re
import time
from pathlib import Path

from sim.classroom.model import NOBODY, ClassroomModel
from sim.domain.errors import ConfigError
from sim.report.run_report import write_run
from sim.runs.result import result_of
from sim.runs.results import write_parquet


def class_folder(class_name: str = "", root: Path | str = "results/classroom") -> Path:
    """Where a class's exports go: ``<root>/<class>`` (``make classroom CLASS=monday-3rd``), or
    ``<root>`` without a class. A class name is one folder name: letters, digits, ``-``, ``_``, ``.``."""
    name = (class_name or "").strip()
    if not name:
        return Path(root)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name):
        raise ConfigError("CLASS", "class", f"{name!r} is not a folder name (letters, digits, '-', '_', '.')")
    return Path(root) / name


def export(model: ClassroomModel, root: Path | str = "results/classroom", replicates: int = 30) -> Path:
    """Write the session's results folder and its debrief (``report.html``); returns the report path.

    The folder (``<root>/<timestamp>_<seat>``) holds what ``experiments.run`` writes, the command line
    that re-runs the session with model agents in every seat (manifest.json ``command``) and, for a
    played seat of a finished game, the model agent's results in that seat over ``replicates`` runs
    (``replicates.parquet``, see :func:`sim.report.debrief.model_replicates`). A game still running is
    written as it stands and marked ``in progress`` (``game`` in manifest.json and runs.parquet); it
    is not compared with the model agent.
    """
    from sim.report.debrief import model_replicates, report

    stamp = time.strftime("%Y-%m-%d_%H-%M-%S")
    name = f"{stamp}_{model.play_as}"
    folder = Path(root) / name
    suffix = 1
    while folder.exists():
        folder = Path(root) / f"{name}_{suffix}"
        suffix += 1
    result = result_of(model.spec, model, issues=model.issues)
    game = "finished" if model.finished else "in progress"
    result.runs["game"] = game
    if not model.finished:  # the outcome of an unfinished game is not an outcome
        result.runs["agreement"] = False
        result.runs["breakdown_cause"] = f"in progress at round {model.round + 1}"
    write_run(result, folder, model.cfg, figures=False, source="classroom app", play_as=model.play_as,
              game=game, command="python -m experiments.run " + " ".join(model.command))
    if model.finished and model.play_as != NOBODY and replicates > 0:
        write_parquet(model_replicates(folder, result.runs, replicates), folder / "replicates.parquet")
    out = folder / "report.html"
    out.write_text(report(folder, replicates=replicates), encoding="utf-8")
    return out
