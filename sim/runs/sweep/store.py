"""A sweep's folder: its shards and failures written atomically, the lock, resume, and aggregation.

A shard that exists is never run again, which is what makes a killed sweep resumable. ``runs.parquet`` is
assembled at the end by streaming the shards one at a time (memory does not grow with the number of runs).
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

import pandas as pd

from sim.domain.errors import ConfigError
from sim.runs.design import shard_ranges

if TYPE_CHECKING:  # pragma: no cover
    from sim.runs.sweep.planning import SweepContext


def write_atomic(frame: pd.DataFrame, path: Path) -> None:
    """``frame`` as parquet at ``path``, all or nothing (a temp file renamed over it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        frame.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


class SweepLock:
    """Refuse a second sweep (or calibration) writing the same folder: an OS-level lock (``fcntl.flock``)
    on ``sweep.lock``, which holds the holder's pid and host for the message.

    The kernel releases the lock when its holder exits, however it exits (``kill -9`` included), so there
    is no staleness rule to race on. The holder removes the file while it still holds the lock; a process
    that locked a file which was removed meanwhile (its inode is no longer the path's) lets go and tries
    again, so two processes never both hold ``sweep.lock``.

    Args:
        folder: the folder to lock.
        what: what is writing it, for the message (``sweep``, ``calibration``).
        key: the config key that chose the folder, for the message (``sweep.out``, ``calibrate.out``).
    """

    def __init__(self, folder: Path, what: str = "sweep", key: str | None = None):
        self.path = Path(folder) / "sweep.lock"
        self.what = what
        self.key = key or f"{what}.out"
        self.fd: int | None = None

    def __enter__(self) -> "SweepLock":
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                owner = _owner(fd)
                os.close(fd)
                raise ConfigError(str(self.path.parent), self.key,
                                  f"another {self.what} (pid {owner.get('pid', '?')}) is writing this folder; "
                                  f"wait for it or choose another {self.key}= folder") from None
            except BaseException:
                os.close(fd)
                raise
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if not same:  # its holder removed it between our open and our lock: take the new one
                os.close(fd)
                continue
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname()}).encode(), 0)
            self.fd = fd
            return self

    def __exit__(self, *exc: Any) -> None:
        if self.fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)  # while still holding it (see the class's note)
        finally:
            os.close(self.fd)
            self.fd = None


def _owner(fd: int) -> dict:
    """The pid and host a lock file holds ({} while its holder is still writing them)."""
    try:
        data = json.loads(os.pread(fd, 4096, 0).decode() or "{}")
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def prepare_folder(context: SweepContext) -> SweepContext:
    """Create or resume the sweep's folder; refuse one that holds a different sweep."""
    folder = context.folder
    stamp = folder / "design.json"
    if stamp.exists():
        existing = json.loads(stamp.read_text())
        if existing.get("design_hash") != context.digest:
            raise ConfigError(str(folder), "sweep.out", "this folder holds a different sweep (design or base "
                                                        "config differ); choose another sweep.out= folder")
    elif folder.exists() and any(not p.name.startswith(".") and p.suffix != ".log" and p.name != "sweep.lock"
                                 for p in folder.iterdir()):
        raise ConfigError(str(folder), "sweep.out", "the folder exists and holds other files; choose an empty "
                                                    "or new sweep.out= folder")
    else:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = stamp.with_suffix(".tmp")
        tmp.write_text(json.dumps({"design_hash": context.digest, "spec": context.spec.to_dict()},
                                  indent=2, default=str))
        tmp.replace(stamp)
    if not (folder / "design.parquet").exists():
        write_atomic(context.runs, folder / "design.parquet")
    return context


def pending_shards(context: SweepContext, selection: Iterable[int] | None = None) -> list[int]:
    total = len(shard_ranges(len(context.runs), context.spec.shard_size))
    chosen = range(total) if selection is None else [i for i in selection if 0 <= i < total]
    return [i for i in chosen if not context.shard_path(i).exists()]


def aggregate(context: SweepContext) -> tuple[int, int]:
    """Stream the shards (in run order) into runs.parquet and the failures into failures.parquet.

    Columns may differ between shards (e.g. different actors per scenario); the file has their union.
    Returns (rows, failures).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    total = len(shard_ranges(len(context.runs), context.spec.shard_size))
    paths = [context.shard_path(i) for i in range(total) if context.shard_path(i).exists()]
    schemas = [pq.read_schema(p) for p in paths]
    fields: dict[str, pa.DataType] = {}
    for schema in schemas:
        for item in schema:
            if item.name.startswith("__"):
                continue
            if item.name not in fields or pa.types.is_null(fields[item.name]):
                fields[item.name] = item.type
    order = ["run_index", "point", "replicate", "seed"] + [p.column for p in context.spec.parameters]
    names = [n for n in order if n in fields] + [n for n in fields if n not in order]
    schema = pa.schema([(n, fields[n] if not pa.types.is_null(fields[n]) else pa.string()) for n in names])
    rows = 0
    target = context.folder / "runs.parquet"
    tmp = target.with_name(".runs.parquet.tmp")
    with pq.ParquetWriter(tmp, schema) as writer:
        for path in paths:
            table = pq.read_table(path)
            if table.num_rows == 0:
                continue
            columns = [table.column(n).cast(schema.field(n).type) if n in table.column_names
                       else pa.nulls(table.num_rows, schema.field(n).type) for n in names]
            writer.write_table(pa.Table.from_arrays(columns, schema=schema))
            rows += table.num_rows
    os.replace(tmp, target)
    failure_paths = sorted((context.folder / "failures").glob("shard-*.parquet"))
    failures = 0
    if failure_paths:
        frame = pd.concat([pd.read_parquet(p) for p in failure_paths], ignore_index=True)
        failures = len(frame)
        write_atomic(frame.sort_values("run_index"), context.folder / "failures.parquet")
    else:
        (context.folder / "failures.parquet").unlink(missing_ok=True)
    return rows, failures

