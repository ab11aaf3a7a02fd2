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
