"""Writing a file all or nothing: every file a command writes goes through here.

A file is written to a temp file beside it (``.<stem>.<pid>.<random>.tmp<suffix>``, hidden, created with
O_EXCL, so that two threads or processes writing the same file never share
one) and renamed over the
target when it is whole (:func:`replacing`). A write that fails (a full disk, no permission) leaves the
target as it was and no temp file, and is raised as an :class:`OSError` whose ``filename`` is the target,
never the temp file: the one line a command prints names the file the user would look for.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping

from sim.domain.errors import WriteError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


def temp_path(path: Path) -> Path:
    """A new, empty temp file beside ``path`` to write it through (same suffix, so writers that go by
    the suffix write the right format), unique to this call: created with O_EXCL, so concurrent writers
    of one file (two threads of the classroom server exporting at once) each get their own."""
    while True:  # "x": created here or not at all; the usual permissions (mkstemp's are 0600)
        tmp = path.with_name(f".{path.stem}.{os.getpid()}.{secrets.token_hex(4)}.tmp{path.suffix}")
        try:
            open(tmp, "xb").close()
            return tmp
        except FileExistsError:
            continue


def naming(error: OSError, path: Path) -> OSError:
    """``error`` as a :class:`~sim.domain.errors.WriteError` naming ``path`` (the target, not a temp file;
    the folder if it could not be made)."""
    if error.errno is None or isinstance(error, WriteError):
        return error
    failed = Path(str(error.filename)) if error.filename else None
    where = failed if failed is not None and failed in path.parents else path
    return WriteError(error.errno, os.strerror(error.errno), str(where))


@contextlib.contextmanager
def replacing(path: str | Path) -> Iterator[Path]:
    """Yields the temp path to write ``path`` through; renamed over ``path`` when the block ends, removed
    if it raises.

    Raises:
        OSError: the write failed; ``filename`` is ``path`` (or the folder that could not be made).
    """
    path = Path(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = temp_path(path)
        yield tmp
        os.replace(tmp, path)
    except OSError as error:
        raise naming(error, path) from error
    finally:
        with contextlib.suppress(OSError):
            if tmp is not None:
                tmp.unlink(missing_ok=True)


def write_with(path: str | Path, write: Callable[[Path], Any]) -> Path:
    """``write(tmp)`` writes the file; it appears at ``path`` whole or not at all. Returns ``path``."""
    with replacing(path) as tmp:
        write(tmp)
    return Path(path)


def write_text(path: str | Path, text: str) -> Path:
    return write_with(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_bytes(path: str | Path, data: bytes) -> Path:
    return write_with(path, lambda temp: temp.write_bytes(data))


def write_json(path: str | Path, data: Mapping[str, Any]) -> Path:
    return write_text(path, json.dumps(data, indent=2, default=str) + "\n")


def write_parquet(frame: "pd.DataFrame", path: str | Path) -> Path:
    return write_with(path, lambda tmp: frame.to_parquet(tmp, index=False))


def write_csv(frame: "pd.DataFrame", path: str | Path) -> Path:
    return write_with(path, lambda tmp: frame.to_csv(tmp, index=False))


def mark_incomplete(path: str | Path, data: Mapping[str, Any]) -> None:
    """Write a manifest that says ``completed: false`` (``data``); if even that cannot be written (a full
    disk), remove the old one, so that no manifest says a folder being rewritten is complete.

    Raises:
        OSError: the write failed (after the old manifest was removed).
    """
    try:
        write_json(path, data)
    except OSError:
        with contextlib.suppress(OSError):
            Path(path).unlink(missing_ok=True)
        raise
