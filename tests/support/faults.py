"""Faults injected for real into a command run in a fresh interpreter (tests/integration/test_faults.py):

    python -m tests.support.faults <command> ARGS...     # python -m experiments.<command> ARGS..., with faults

The faults are named in the environment:

* ``FAULT_ENOSPC=<name>``: writing a file whose name contains ``<name>`` (a figure, a parquet or CSV table,
  a text file) writes part of it, then fails as a full disk does (``OSError(ENOSPC)``);
* ``FAULT_KILL_SHARD=<index>``: the sweep worker that starts shard ``<index>`` kills itself with SIGKILL
  (every time: the retry dies too).

The sweep's workers are forked from its forkserver, so this module is also imported there (appended to
:data:`sim.runs.sweep.execution.WORKER_PRELOAD`): the workers inherit the faults.
"""

from __future__ import annotations

import errno
import os
import re
import runpy
import signal
import sys
from pathlib import Path

FAULTS = ("FAULT_ENOSPC", "FAULT_KILL_SHARD")


def _target(path) -> str:
    """The file a write is for: ``.summary.123.k2x_9a.tmp.csv`` (sim.runs.files' temp file) is ``summary.csv``."""
    path = Path(str(path))
    return str(path.with_name(re.sub(r"^\.(.*)\.\d+\.[^.]+\.tmp(\.[^.]*)?$", r"\1\2", path.name)))


def _full(path) -> None:
    Path(path).write_bytes(b"PAR1 half a file")  # what a full disk leaves: a partial file
    raise OSError(errno.ENOSPC, "No space left on device")


def install() -> None:
    """Patch the writers and the sweep worker as the environment asks."""
    name = os.environ.get("FAULT_ENOSPC")
    if name:
        import matplotlib.figure
        import pandas as pd

        def failing(original):
            def write(self, path, *args, **kwargs):
                if name in _target(path):
                    _full(path)
                return original(self, path, *args, **kwargs)
            return write

        matplotlib.figure.Figure.savefig = failing(matplotlib.figure.Figure.savefig)
        pd.DataFrame.to_parquet = failing(pd.DataFrame.to_parquet)
        pd.DataFrame.to_csv = failing(pd.DataFrame.to_csv)
        original_text = Path.write_text

        def write_text(self, data, *args, **kwargs):
            if name in _target(self):
                _full(self)
            return original_text(self, data, *args, **kwargs)

        Path.write_text = write_text
    shard = os.environ.get("FAULT_KILL_SHARD")
    if shard:
        from sim.runs.sweep import execution

        original_worker = execution._worker

        def worker(context, index, runs):
            if index == int(shard):
                os.kill(os.getpid(), signal.SIGKILL)
            return original_worker(context, index, runs)

        execution._worker = worker


def main() -> None:
    from sim.runs.sweep import execution

    command, *args = sys.argv[1:]
    execution.WORKER_PRELOAD.insert(len(execution.WORKER_PRELOAD) - 1, "tests.support.faults")
    install()
    sys.argv = [f"experiments/{command}.py", *args]
    runpy.run_module(f"experiments.{command}", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
elif any(os.environ.get(fault) for fault in FAULTS) and "multiprocessing.forkserver" in sys.modules:
    install()  # imported by the sweep's forkserver: its workers inherit the faults
