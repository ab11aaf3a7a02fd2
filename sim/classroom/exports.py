"""A classroom game written out: its results folder (what ``experiments.run`` writes, the command line
that re-runs it, the model agent's runs in the played seat) and its debrief report, in the class's
folder."""

from __future__ import annotations

import os
import time
import unicodedata
from pathlib import Path

from sim.classroom.model import NOBODY, ClassroomModel
from sim.domain.errors import ConfigError
from sim.report.run_report import write_run
from sim.runs.result import result_of
from sim.runs.files import write_text
from sim.runs.results import write_parquet


def check_class_name(class_name: str) -> str:
    """The class name as a folder name, or a :class:`ConfigError` saying why it is not one.

    Any name a teacher would type is accepted (``3ème-B``, ``Monday 3rd``): letters of any script,
    digits, spaces and punctuation. Refused: ``/`` and ``\\`` (a path, not a name), ``.`` and ``..``,
    a leading ``.`` (a hidden folder), control characters (NUL, newline, tab ...), more than 100
    characters."""
    name = unicodedata.normalize("NFC", (class_name or "").strip())
    why = ""
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn") for c in name):
        why = "holds a control character"
    elif "/" in name or "\\" in name:
        why = "holds / or \\ (give a name, not a path)"
    elif name.startswith("."):
        why = "starts with '.'"
    elif len(name) > 100:
        why = "is longer than 100 characters"
    if why:
        raise ConfigError("CLASS", "class", f"{name!r} {why}; a class name is one folder name, e.g. 3ème-B "
                          "or monday-3rd (letters, digits, spaces, '-', '_', '.')")
    return name


def class_folder(class_name: str = "", root: Path | str = "results/classroom") -> Path:
    """Where a class's exports go: ``<root>/<class>`` (``make classroom CLASS=monday-3rd``), or
    ``<root>`` without a class (:func:`check_class_name` says what a class name may be)."""
    name = check_class_name(class_name)
    return Path(root) / name if name else Path(root)


def claim_game_folder(root: Path, name: str) -> Path:
    """A new folder ``<root>/<name>`` (or ``<name>_2``, ``_3``, ...) that this call alone created:
    :func:`os.mkdir` fails if the folder exists, so two exports never share one."""
    root.mkdir(parents=True, exist_ok=True)
    number = 1
    while True:
        folder = root / (name if number == 1 else f"{name}_{number}")
        try:
            os.mkdir(folder)
            return folder
        except FileExistsError:
            number += 1


def export(model: ClassroomModel, root: Path | str = "results/classroom", replicates: int = 30,
           session: str = "", level: str = "university") -> Path:
    """Write the session's results folder and its debrief (``report.html``); returns the report path.

    The folder (``<root>/<timestamp>_<seat>_<session>``, claimed by :func:`claim_game_folder`; ``session``
    is the browser tab's id, so that two students exporting in the same second never meet) holds what
    ``experiments.run`` writes (every file through a temp file of its own), the command line that re-runs the session with model agents in every seat (manifest.json ``command``) and, for a
    played seat of a finished game, the model agent's results in that seat over ``replicates`` runs
    (``replicates.parquet``, see :func:`sim.report.debrief.model_replicates`). A game still running is
    written as it stands and marked ``in progress`` (``game`` in manifest.json and runs.parquet); it
    is not compared with the model agent. manifest.json also says which ``session`` wrote it (the class
    debrief keeps one export per game state) and ``changed_actors``, the Tune-the-actors overrides (such
    games are listed apart in the class debrief). ``level``: the debrief's reading level (the tab's).
    """
    from sim.report.debrief import model_replicates, report

    stamp = time.strftime("%Y-%m-%d_%H-%M-%S")
    folder = claim_game_folder(Path(root), "_".join(part for part in (stamp, model.play_as, session) if part))
    result = result_of(model.spec, model, issues=model.issues)
    game = "finished" if model.finished else "in progress"
    result.runs["game"] = game
    if not model.finished:  # the outcome of an unfinished game is not an outcome
        result.runs["agreement"] = False
        result.runs["breakdown_cause"] = f"in progress at round {model.round + 1}"
    write_run(result, folder, model.cfg, figures=False, source="classroom app", play_as=model.play_as,
              game=game, command="python -m experiments.run " + " ".join(model.command),
              session=session, changed_actors=[c for c in model.command if c.startswith("scenario.")])
    if model.finished and model.play_as != NOBODY and replicates > 0:
        write_parquet(model_replicates(folder, result.runs, replicates), folder / "replicates.parquet")
    return write_text(folder / "report.html", report(folder, replicates=replicates, level=level))
