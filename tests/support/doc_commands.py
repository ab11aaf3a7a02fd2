"""The shell commands the documentation shows (fenced ``sh``/``bash``/``shell`` blocks of README.md and
docs/**/*.md): ``python -m experiments.<command> ...`` lines, a trailing ``# comment`` dropped and ``\\``
continuations joined, ``.venv/bin/python`` written as ``python`` (tests/integration/test_doc_commands.py)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from tests.support import REPO

FENCE = re.compile(r"^[ \t]*```(sh|bash|shell|console)?[ \t]*\n(.*?)^[ \t]*```", re.S | re.M)


def doc_files() -> list[Path]:
    return [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]


def commands_in(text: str) -> list[str]:
    """The ``python -m experiments.*`` commands of the fenced shell blocks in ``text``, normalised."""
    out = []
    for block in FENCE.finditer(text):
        lines = block.group(2).splitlines()
        index = 0
        while index < len(lines):
            line = lines[index].strip()
            while line.endswith("\\") and index + 1 < len(lines):
                index += 1
                line = line[:-1].rstrip() + " " + lines[index].strip()
            index += 1
            line = re.sub(r"^(\$ )?(\.venv/bin/)?python ", "python ", line)
            if not line.startswith("python -m experiments."):
                continue
            words = shlex.split(line, comments=True)  # quotes as the shell reads them, "# ..." dropped
            out.append(shlex.join(words))
    return out


def doc_commands() -> dict[str, list[str]]:
    """Every command the docs show -> the files that show it (relative to the repository)."""
    found: dict[str, list[str]] = {}
    for path in doc_files():
        for command in commands_in(path.read_text(encoding="utf-8")):
            found.setdefault(command, []).append(str(path.relative_to(REPO)))
    return found
