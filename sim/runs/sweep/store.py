"""A sweep's folder: its shards and failures written atomically, the lock, resume, and aggregation.

A shard that exists is never run again, which is what makes a killed sweep resumable. Each shard is written
with its record (``shards/shard-<index>.json``: row count, run indices, checksum; :func:`write_shard`), and a
resume checks every shard against it (:func:`check_shards`): one that was truncated, changed or copied over
another is removed and run again. ``runs.parquet`` is assembled at the end by streaming the shards one at a
time (memory does not grow with the number of runs), once every run index is known to appear at most once
(:func:`aggregate`).
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, NamedTuple

import pandas as pd

from sim.domain.errors import CommandFailed, ConfigError
from sim.runs import files
from sim.runs.design import shard_ranges

if TYPE_CHECKING:  # pragma: no cover
    from sim.runs.sweep.planning import SweepContext


def write_atomic(frame: pd.DataFrame, path: Path) -> None:
    """``frame`` as parquet at ``path``, all or nothing (a temp file renamed over it)."""
    files.write_parquet(frame, path)


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
        files.write_json(stamp, {"design_hash": context.digest, "spec": context.spec.to_dict()})
    if not (folder / "design.parquet").exists():
        write_atomic(context.runs, folder / "design.parquet")
    return context


def pending_shards(context: SweepContext, selection: Iterable[int] | None = None) -> list[int]:
    """The shards (of ``selection``, else all) that are not done: no shard file in ``shards/``."""
    total = len(shard_ranges(len(context.runs), context.spec.shard_size))
    chosen = range(total) if selection is None else [i for i in selection if 0 <= i < total]
    return [i for i in chosen if not context.shard_path(i).exists()]


# --------------------------------------------------------------------------------------------------
# Shards you can trust: each written with its record (row count, run indices, checksum), checked on resume
# --------------------------------------------------------------------------------------------------


def record_path(context: SweepContext, index: int) -> Path:
    """The record of shard ``index``: ``shards/shard-<index>.json`` beside it."""
    return context.shard_path(index).with_suffix(".json")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_shard(context: SweepContext, index: int, frame: pd.DataFrame, failures: pd.DataFrame | None) -> None:
    """Write shard ``index``: its failures (or remove an old failures file), then its record, then the shard
    itself, each atomically. The shard file is written last: it is what says the shard is done. The record
    (``shards/shard-<index>.json``) holds the shard's row count, its run indices and those of its failed
    runs, and the SHA-256 of the shard file and of its failures file, as written."""
    failure_path = context.failure_path(index)
    if failures is not None and len(failures):
        write_atomic(failures, failure_path)
        failed = sorted(int(i) for i in failures["run_index"])
        failures_sha = _sha256(failure_path)
    else:
        failure_path.unlink(missing_ok=True)
        failed, failures_sha = [], None
    with files.replacing(context.shard_path(index)) as tmp:
        frame.to_parquet(tmp, index=False)
        files.write_json(record_path(context, index), {
            "shard": index, "rows": len(frame), "run_indices": sorted(int(i) for i in frame["run_index"]),
            "failed_run_indices": failed, "sha256": _sha256(tmp), "failures_sha256": failures_sha})


def shard_problem(context: SweepContext, index: int) -> str | None:
    """What is wrong with the done shard ``index`` (None: nothing): a checksum that differs from its record
    (truncated, changed, copied over), run indices that are not this shard's, a record that is missing or
    unreadable. A shard written before records existed is read instead, and adopted (its record written)
    when its run indices are this shard's."""
    path, record = context.shard_path(index), record_path(context, index)
    start, stop = shard_ranges(len(context.runs), context.spec.shard_size)[index]
    expected = list(range(start, stop))
    if not record.exists():
        return _adopt(context, index, expected)
    try:
        data = json.loads(record.read_text())
        rows, done, failed = int(data["rows"]), list(data["run_indices"]), list(data["failed_run_indices"])
        sha, failures_sha = str(data["sha256"]), data.get("failures_sha256")
    except (OSError, ValueError, KeyError, TypeError):
        return f"its record {record.name} is unreadable"
    if _sha256(path) != sha:
        return f"its checksum differs from its record {record.name} (truncated or changed since it was written)"
    if rows != len(done) or sorted(done + failed) != expected:
        return (f"it holds run indices {_span(done + failed)}, not this shard's {start}..{stop - 1}"
                if sorted(done + failed) != expected else f"its record {record.name} does not match it")
    failure_path = context.failure_path(index)
    if failed and (not failure_path.exists() or _sha256(failure_path) != failures_sha):
        return f"its failures file {failure_path.relative_to(context.folder)} is missing or differs from its record"
    return None


def _adopt(context: SweepContext, index: int, expected: list[int]) -> str | None:
    """A shard without a record (written before records existed): readable, and holding this shard's run
    indices with its failures? Then its record is written now."""
    import pyarrow.parquet as pq

    path, failure_path = context.shard_path(index), context.failure_path(index)
    try:
        done = [int(i) for i in pq.read_table(path, columns=["run_index"]).column("run_index").to_pylist()] \
            if "run_index" in pq.read_schema(path).names else []
        failed = [int(i) for i in pd.read_parquet(failure_path, columns=["run_index"])["run_index"]] \
            if failure_path.exists() else []
    except (OSError, ValueError) as error:
        return f"it cannot be read ({type(error).__name__}) and it has no record {record_path(context, index).name}"
    if sorted(done + failed) != expected:
        return f"it holds run indices {_span(done + failed)}, not this shard's {expected[0]}..{expected[-1]}"
    files.write_json(record_path(context, index), {
        "shard": index, "rows": len(done), "run_indices": sorted(done), "failed_run_indices": sorted(failed),
        "sha256": _sha256(path), "failures_sha256": _sha256(failure_path) if failed else None})
    return None


def _span(indices: list[int]) -> str:
    if not indices:
        return "none"
    unique = sorted(set(indices))
    text = f"{unique[0]}..{unique[-1]}" if unique == list(range(unique[0], unique[-1] + 1)) else \
        ", ".join(map(str, unique[:6])) + (", ..." if len(unique) > 6 else "")
    return text + (f" ({len(indices) - len(unique)} twice)" if len(unique) < len(indices) else "")


def check_shards(context: SweepContext, selection: Iterable[int] | None = None) -> list[tuple[Path, str]]:
    """Verify every done shard (of ``selection``): each one with a problem (:func:`shard_problem`) is removed,
    with its record and failures, so that it runs again. Returns (shard path, problem) of each removed."""
    total = len(shard_ranges(len(context.runs), context.spec.shard_size))
    chosen = range(total) if selection is None else [i for i in selection if 0 <= i < total]
    removed = []
    for index in chosen:
        path = context.shard_path(index)
        if not path.exists():
            continue
        problem = shard_problem(context, index)
        if problem is not None:
            for stale in (path, record_path(context, index), context.failure_path(index)):
                stale.unlink(missing_ok=True)
            removed.append((path, problem))
    return removed


# --------------------------------------------------------------------------------------------------
# Aggregation
# --------------------------------------------------------------------------------------------------


class Aggregated(NamedTuple):
    """What :func:`aggregate` wrote: rows in runs.parquet, failures in failures.parquet, and the design's run
    indices in neither (0 when every run is accounted for exactly once)."""

    rows: int
    failures: int
    missing: int


def aggregate(context: SweepContext) -> Aggregated:
    """Stream the shards (in run order) into runs.parquet and the failures into failures.parquet, after
    checking that no run index of the design appears twice (in two shards, or as a run and a failure) or
    outside the design.

    Columns may differ between shards (e.g. different actors per scenario); the file has their union.

    Raises:
        CommandFailed: a run index twice or out of the design, naming the shards (nothing is written).
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    total = len(shard_ranges(len(context.runs), context.spec.shard_size))
    paths = [context.shard_path(i) for i in range(total) if context.shard_path(i).exists()]
    failure_paths = sorted((context.folder / "failures").glob("shard-*.parquet"))
    seen = np.zeros(len(context.runs), dtype=np.int64)
    for path in [*paths, *failure_paths]:
        try:
            indices = pq.read_table(path, columns=["run_index"]).column("run_index").to_numpy() \
                if "run_index" in pq.read_schema(path).names else np.array([], dtype=np.int64)
        except (OSError, ValueError) as error:
            raise CommandFailed(f"{path}: cannot be read ({type(error).__name__}); remove it and run the same "
                                "command again to run its runs again", 1) from None
        outside = indices[(indices < 0) | (indices >= len(context.runs))]
        if len(outside):
            raise CommandFailed(f"{path}: run index {int(outside[0])} is not in the design (0..{len(context.runs) - 1}); "
                                "runs.parquet not written", 1)
        np.add.at(seen, indices.astype(np.int64), 1)
    twice = np.flatnonzero(seen > 1)
    if len(twice):
        first = int(twice[0])
        holders = [p for p in [*paths, *failure_paths]
                   if first in set(pq.read_table(p, columns=["run_index"]).column("run_index").to_pylist())]
        raise CommandFailed(f"{len(twice)} run indices appear more than once (run {first} in "
                            f"{' and '.join(str(p.relative_to(context.folder)) for p in holders)}); "
                            "runs.parquet not written: remove the shard that is not its own and run the same "
                            "command again", 1)
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
    with files.replacing(context.folder / "runs.parquet") as tmp, pq.ParquetWriter(tmp, schema) as writer:
        for path in paths:
            table = pq.read_table(path)
            if table.num_rows == 0:
                continue
            columns = [table.column(n).cast(schema.field(n).type) if n in table.column_names
                       else pa.nulls(table.num_rows, schema.field(n).type) for n in names]
            writer.write_table(pa.Table.from_arrays(columns, schema=schema))
            rows += table.num_rows
    failures = 0
    if failure_paths:
        frame = pd.concat([pd.read_parquet(p) for p in failure_paths], ignore_index=True)
        failures = len(frame)
        write_atomic(frame.sort_values("run_index"), context.folder / "failures.parquet")
    else:
        (context.folder / "failures.parquet").unlink(missing_ok=True)
    return Aggregated(rows, failures, int((seen == 0).sum()))
