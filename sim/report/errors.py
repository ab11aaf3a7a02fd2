"""A folder that is not what a report needs, as one line: ``<where>: <problem>``."""

from __future__ import annotations

from pathlib import Path

from sim.domain.errors import ConfigError


class FolderError(ConfigError):
    """A results folder that is not the kind a report is made from (no runs table, not a run folder,
    no exported games), or a command line that names none. A :class:`ConfigError` (exit status 2 in
    the commands) without a key: the line is ``<where>: <problem>``.
    """

    def __init__(self, where: str | Path, problem: str):
        super().__init__(str(where), "", problem)
        self.args = (f"{self.source}: {problem}",)
