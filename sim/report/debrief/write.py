"""``python -m experiments.debrief``: the debrief of a results folder, or of a class folder, written
beside it (or to ``out``)."""

from __future__ import annotations

from pathlib import Path

from sim.domain.config import check_level
from sim.domain.errors import ConfigError
from sim.report.debrief.game import report
from sim.report.debrief.pooled import class_report
from sim.report.errors import FolderError
from sim.runs.files import write_text

RUN_FILES = ("runs.parquet", "issues.parquet", "config.yaml")  # what a results folder needs for its debrief


def write_debrief(folder: Path | None = None, class_folder: Path | None = None, out: Path | None = None,
                  replicates: int | None = None, include_all: bool = False, level: str = "university") -> Path:
    """Write the debrief of one results folder (``folder``: <folder>/report.html) or the class debrief
    of a class folder (``class_folder``: <class folder>/class-debrief.html), or into ``out``; returns
    the file written.

    Args:
        replicates: runs of the model agent in a person-played seat (one folder: when the export saved
            none; None = 30); for a class, per distinct game setting (None = the runs the exports saved;
            :func:`~sim.report.debrief.pooled.class_report`).
        include_all: the class debrief pools watch-only games and games with changed actors too.
        level: the reading level, school or university (:mod:`~sim.report.debrief.reading`).

    Raises:
        ConfigError: a negative ``replicates``, neither or both folders, a class folder without
            exported games, a folder that is not a run folder, or a ``level`` that is not a reading level.
    """
    level = check_level(level)
    if replicates is not None and replicates < 0:
        raise ConfigError("command line", "--replicates", f"{replicates}; must be >= 0")
    if (folder is None) == (class_folder is None):
        raise FolderError("command line", "give either a results folder or --class <class folder>")
    if class_folder is not None:
        from sim.analysis.pooling import game_folders

        if not class_folder.is_dir() or not game_folders(class_folder):
            raise ConfigError(str(class_folder), "--class", "no exported games in this folder (each needs "
                              "runs.parquet, issues.parquet, config.yaml, manifest.json); export from the "
                              "app with make classroom CLASS=<name>")
        out = out or class_folder / "class-debrief.html"
        write_text(out, class_report(class_folder, replicates=replicates, include_all=include_all, level=level))
        return out
    needed = [n for n in RUN_FILES if not (folder / n).exists()]
    if needed:
        raise FolderError(folder, f"not a run folder (missing {', '.join(needed)}); give a folder written by "
                                  "python -m experiments.run")
    out = out or folder / "report.html"
    write_text(out, report(folder, replicates=30 if replicates is None else replicates, level=level))
    return out
