"""Executing a sweep: its folder, sharded runs, resume, failures, aggregation.

The design (points, replicates, seeds) is :mod:`sim.runs.design`'s; each point becomes a run specification
(:func:`point_spec`, the same :func:`sim.runs.spec.specs_from_config` a single run uses). Every point is
checked before any file is written (:func:`check_points`). Runs are grouped into shards of consecutive run indices; a shard is executed in one process and
written atomically (temp file + rename) to ``shards/`` with its record (row count, run indices, checksum),
checked on resume; a shard that exists and passes the check is never run again, which is what makes a
killed sweep resumable. A worker that dies costs its own shard only: run again once, then recorded as lost. Runs that raise are recorded in ``failures/`` with their
parameters, seed and traceback, and the sweep goes on. ``runs.parquet`` is assembled at the end by
streaming the shards one at a time (memory does not grow with the number of runs).

By concern: :mod:`~sim.runs.sweep.planning` (design points' configs and specs, the run table, the checks),
:mod:`~sim.runs.sweep.execution` (runs, blocks, shards, the worker pool and Ctrl-C) and
:mod:`~sim.runs.sweep.store` (the folder: atomic shards, lock, resume, aggregation). Their public names
are importable from here. Settings such as :data:`~sim.runs.sweep.execution.POOL_WORTH` are read where
they are used: set (or monkeypatch) them on their own module.
"""

from sim.runs.sweep.execution import (WORKER_PRELOAD, Interrupted, _worker_context, blocks, elapsed, execute,
                                      execute_block, execute_run, execute_shard, lost_shards, shard_costs)
from sim.runs.sweep.planning import (OUTCOME_COLUMNS, SweepContext, check_points, design_hash, perturb, plan,
                                     point_config, point_spec)
from sim.runs.sweep.store import (SweepLock, aggregate, check_shards, pending_shards, prepare_folder, write_atomic,
                                  write_shard)

__all__ = ["OUTCOME_COLUMNS", "WORKER_PRELOAD", "Interrupted", "SweepContext", "SweepLock", "aggregate", "blocks",
           "check_points", "check_shards", "design_hash", "elapsed", "execute", "execute_block", "execute_run",
           "execute_shard", "lost_shards", "pending_shards", "perturb", "plan", "point_config", "point_spec",
           "prepare_folder", "shard_costs", "write_atomic", "write_shard"]
