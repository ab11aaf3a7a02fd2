"""The one error type a user can cause (a config file, an override, a CSV file, a path).

Entry points print it as one line and exit with status 2 (``experiments/cli.py``)."""

from __future__ import annotations


class ConfigError(ValueError):
    """A mistake in user input: a config file, an override, or a CSV file.

    Args:
        source: the file (or ``"command line"``) where the bad value came from.
        key: the dotted config key, or ``"<column> (row N)"`` for CSV input.
        problem: what is wrong and what is allowed, e.g. ``"-1.0 is not allowed; must be > 0"``.
    """

    def __init__(self, source: str, key: str, problem: str):
        self.source, self.key, self.problem = str(source), key, problem
        super().__init__(f"{self.source}: {key}: {problem}")


class WriteError(OSError):
    """A file that could not be written (a full disk, no permission): ``filename`` is the file the command
    meant to write (never a temp file), and no temp file is left (:mod:`sim.runs.files`). Entry points print
    ``<file>: cannot write: <reason>`` and exit with status 1."""


class CommandFailed(Exception):
    """A command that ran but could not finish as asked (runs that raised, Ctrl-C, a folder that is not a
    results folder): the one line to print and the exit status. The library raises it; entry points print
    ``error: <message>`` and exit with ``status`` (``experiments/cli.py``)."""

    def __init__(self, message: str, status: int = 1):
        self.status = status
        super().__init__(message)
