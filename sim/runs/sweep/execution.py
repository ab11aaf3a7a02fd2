"""Executing a sweep's shards: runs one by one or as blocks, in this process or in a pool of workers.

Runs are grouped into shards of consecutive run indices; a shard is executed in one process and written
atomically (:mod:`sim.runs.sweep.store`). Runs that raise are recorded with their parameters, seed and
traceback, and the sweep goes on. Workers are forked from a ``forkserver`` that has imported what a shard
needs, and take one shard at a time (:func:`_in_pool`): a worker that dies costs its own shard only, which
runs again once in a fresh worker, then is recorded as lost. Workers and their server die with the sweep,
however it ends (:mod:`sim.runs.lifeline`). Ctrl-C cancels queued shards and stops the workers
(:class:`Interrupted`).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import traceback
from dataclasses import replace
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from sim.runs.design import PERTURBATION, shard_ranges
from sim.runs.sweep.planning import SweepContext, perturb, plain, point_spec
from sim.runs.sweep.store import write_atomic, write_shard


# --------------------------------------------------------------------------------------------------
# Runs, blocks and shards
# --------------------------------------------------------------------------------------------------


def execute_run(context: SweepContext, run: Mapping[str, Any]) -> dict[str, Any]:
    """One run of the sweep → its outcome row (MODEL.md §6) plus run_index, point, replicate, params."""
    from dataclasses import replace

    values = {column: run[column] for column in context.spec.columns}
    spec = point_spec(context, values).with_seed(int(run["seed"]))
    if PERTURBATION in [p.key for p in context.spec.parameters]:
        noise_seed, _ = np.random.SeedSequence(spec.seed).spawn(2)
        spec = replace(spec, scenario=perturb(spec.scenario, float(values[PERTURBATION]),
                                              np.random.default_rng(noise_seed)))
    model = spec.build().run()
    row = spec.row(model)
    row.update({"run_index": int(run["run_index"]), "point": int(run["point"]),
                "replicate": int(run["replicate"]), **{k: plain(v) for k, v in values.items()}})
    return row


def execute_block(context: SweepContext, runs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Consecutive runs of one design point (replicates: only the seed differs) → their rows, computed
    together (:func:`sim.runs.batch.run_block`); the same rows as :func:`execute_run` run by run."""
    from sim.runs.batch import run_block

    values = {column: runs[0][column] for column in context.spec.columns}
    rows = run_block(point_spec(context, values), [int(run["seed"]) for run in runs])
    extra = {k: plain(v) for k, v in values.items()}
    for row, run in zip(rows, runs):
        row.update({"run_index": int(run["run_index"]), "point": int(run["point"]),
                    "replicate": int(run["replicate"]), **extra})
    return rows


def blocks(context: SweepContext, runs: Sequence[Mapping[str, Any]]) -> list[list[Mapping[str, Any]]]:
    """The runs grouped into blocks of consecutive runs of one design point; one run each when the design
    perturbs the scenario run by run (then no two runs share a scenario)."""
    if PERTURBATION in [p.key for p in context.spec.parameters]:
        return [[run] for run in runs]
    groups: list[list[Mapping[str, Any]]] = []
    for run in runs:
        if groups and groups[-1][0]["point"] == run["point"]:
            groups[-1].append(run)
        else:
            groups.append([run])
    return groups


def execute_shard(context: SweepContext, index: int, runs: pd.DataFrame | None = None,
                  together: bool = True) -> tuple[int, int]:
    """Run shard ``index`` (its rows of the run table, or ``runs`` when given) and write it and its
    failures atomically. Returns (done, failed). Runs of one point go as a block (``together``), or one
    at a time; a block that raises is run again one run at a time, so each failure is recorded with
    its own run."""
    if runs is None:
        start, stop = shard_ranges(len(context.runs), context.spec.shard_size)[index]
        runs = context.runs.iloc[start:stop]
    records = runs.to_dict("records")
    rows, failures = [], []
    for group in blocks(context, records) if together else [[run] for run in records]:
        if len(group) > 1:
            try:
                rows.extend(execute_block(context, group))
                continue
            except Exception:  # noqa: BLE001 - find the run(s) that raise, one at a time
                pass
        for run in group:
            try:
                rows.append(execute_run(context, run))
            except Exception as error:  # noqa: BLE001 - recorded, the sweep goes on
                failures.append({**{k: plain(v) for k, v in run.items()}, "error": repr(error),
                                 "traceback": traceback.format_exc()})
    frame = pd.DataFrame(rows)
    if frame.empty:
        frame = pd.DataFrame({"run_index": pd.Series(dtype="int64")})
    write_shard(context, index, frame, pd.DataFrame(failures) if failures else None)
    return len(rows), len(failures)


# --------------------------------------------------------------------------------------------------
# The workers: their server, signals, the pool
# --------------------------------------------------------------------------------------------------


def _worker(context: SweepContext, index: int, runs: pd.DataFrame) -> tuple[int, int, int, int, float]:
    started = time.process_time()
    done, failed = execute_shard(context, index, runs)
    return index, done, failed, os.getpid(), time.process_time() - started


#: What a worker needs to run a shard, imported once by the forkserver process that workers are forked from,
#: so that a worker starts in milliseconds instead of importing numpy, pandas, Mesa and the solvers itself.
WORKER_PRELOAD = ["sim.runs.sweep", "sim.runs.batch", "sim.engine.model", "sim.engine.metrics", "sim.runs.scoring", "sim.engine.protocols.eu",
                  "sim.engine.protocols.offers", "sim.engine.protocols.exchange", "scipy.stats",  # (scipy.stats: the Sobol
                  # sample of the bargaining range, sim.kernels.solutions.sobol; imported on first use, ~1 s)
                  "sim.runs.sweep.server_lifeline"]  # last: the server dies with the sweep (sim.runs.lifeline)


def _worker_context():
    """Workers are forked from a clean server process (``forkserver``: no copy of this process's threads or
    state) that has already imported :data:`WORKER_PRELOAD`."""
    import multiprocessing
    import signal
    from multiprocessing import forkserver, resource_tracker

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(WORKER_PRELOAD)
    # Ctrl-C in a terminal interrupts the whole process group. The server spends its first second or two
    # importing WORKER_PRELOAD, before it ignores SIGINT itself: interrupted then, it would die with a
    # KeyboardInterrupt traceback of its own under our one-line message. So it is started with SIGINT
    # blocked, a mask it keeps across exec and passes on to the workers (the standard library starts its
    # resource tracker the same way; it goes first because starting it unblocks SIGINT on its way out).
    resource_tracker.ensure_running()
    with _ctrl_c_deferred():
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            forkserver.ensure_running()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
    return context


@contextlib.contextmanager
def _ctrl_c_deferred():
    """A Ctrl-C pressed inside the block takes effect when the block ends, not halfway through it (e.g.
    with a worker forked but not yet known to the pool, which then could not stop it). Main thread only:
    elsewhere Python delivers no signals, and the block runs as it is."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pressed: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda number, frame: pressed.append(number))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if pressed and callable(previous):
        previous(signal.SIGINT, None)  # Python's default handler: raises KeyboardInterrupt


def _ignore_interrupts() -> None:
    """Worker initializer: Ctrl-C is the parent's to handle (it cancels queued shards and stops the
    workers); a worker that caught it too would die mid-shard with a traceback of its own."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


class Interrupted(Exception):
    """Ctrl-C during :func:`execute`: queued shards were cancelled, running ones stopped; finished shards
    are on disk, so the same command resumes."""

    def __init__(self, done: int, failed: int):
        self.done, self.failed = done, failed
        super().__init__(f"interrupted after {done} runs")


#: What starting worker processes costs, in seconds: a fresh interpreter each, importing numpy, pandas and
#: Mesa, and refilling the per-process caches (scenarios, the offers programs' answers) before the first run.
POOL_WORTH = 2.0


def shard_costs(context: SweepContext, shards: Sequence[int]) -> dict[int, float]:
    """Expected relative cost of each shard: its runs' :meth:`~sim.engine.protocols.base.Protocol.expected_cost`
    (protocol, scenario size, round limit of their design points). Only the order of work uses it."""
    from sim.engine.protocols import PROTOCOLS

    ranges = shard_ranges(len(context.runs), context.spec.shard_size)
    point_cost: dict[int, float] = {}
    costs = {}
    for index in shards:
        runs = context.runs.iloc[slice(*ranges[index])]
        total = 0.0
        for point, count in runs["point"].value_counts(sort=False).items():
            if point not in point_cost:
                first = runs.loc[runs["point"] == point].iloc[0]
                spec = point_spec(context, {column: first[column] for column in context.spec.columns})
                point_cost[point] = PROTOCOLS[spec.protocol].expected_cost(spec.scenario, spec.rounds)
            total += point_cost[point] * count
        costs[index] = total
    return costs


def execute(context: SweepContext, shards: Sequence[int], workers: int = 1,
            progress: Callable[[int, int], None] | None = None,
            cpu: dict[int, float] | None = None) -> tuple[int, int]:
    """Run the given shards, in this process or in ``workers`` processes. Returns (done, failed).

    With several workers the first two shards run at once, the first here and the second in the first
    worker (started as the sweep starts). If that worker is not up when the first shard is done, the second
    runs here too, timed, and workers are used only if the time they would save on the rest (at the faster
    probe's speed) exceeds what starting them costs: :data:`POOL_WORTH` plus the cold start the slower probe
    showed. Workers started after the first get this process's memoised answers (:func:`_warm_caches`).
    The workers then take the rest heaviest first (:func:`shard_costs`), so that expensive points do not
    all land at the end with one worker busy and the other idle. The runs table is the same either way:
    seeds belong to run indices, not to processes. ``cpu``, when given, receives the CPU seconds each
    process (by pid, this one included) spent on shards.

    Raises:
        Interrupted: on Ctrl-C, within moments: queued shards are cancelled and workers stopped.
    """
    shards = list(shards)
    counts = [0, 0]
    cpu = {} if cpu is None else cpu

    def here(indices: Sequence[int]) -> None:
        for index in indices:
            started = time.process_time()
            d, f = execute_shard(context, index)
            cpu[os.getpid()] = cpu.get(os.getpid(), 0.0) + time.process_time() - started
            counts[0], counts[1] = counts[0] + d, counts[1] + f
            if progress:
                progress(d + f, f)

    try:
        if workers <= 1 or len(shards) <= 1:
            here(shards)
            return counts[0], counts[1]
        # Probe two shards at once: the first here, the second in the first worker, started now (its server
        # imports what a shard needs while the first probe runs). If that worker is not up by the time the
        # first probe ends (a sweep of tiny shards), the second probe runs here too. A shard that meets a
        # scenario or protocol for the first time pays this process's cold start (the caches of its programs
        # and reference solutions); a worker started later receives this process's caches, warm
        # (:func:`_warm_caches`), so it does not pay it again.
        server = _worker_context()
        pool = _Pool(server, replace(context, runs=context.runs.iloc[:0]))
        starter = _Starter(pool, shards[1], _shard_runs(context, shards[1]))
        started = time.perf_counter()
        here([shards[0]])
        probes = [time.perf_counter() - started]
        rest = shards[2:]
        if not starter.claim():  # the worker was not up in time: the second probe here as well
            started = time.perf_counter()
            here([shards[1]])
            probes.append(time.perf_counter() - started)
            # The faster probe estimates the rest; the slower one what a worker's start costs.
            saved = min(probes) * len(rest) * (1 - 1 / workers)
            if saved < POOL_WORTH + max(probes):
                starter.discard()  # closes its worker once up, without making this sweep wait for it
                here(rest)
                return counts[0], counts[1]
        costs = shard_costs(context, rest)
        starter.join()
    except KeyboardInterrupt:
        if "starter" in locals():
            starter.discard(stop=True)
        raise Interrupted(*counts) from None
    _in_pool(context, rest, costs, workers, server, counts, cpu, progress, pool)
    return counts[0], counts[1]


def _shard_runs(context: SweepContext, index: int) -> pd.DataFrame:
    return context.runs.iloc[slice(*shard_ranges(len(context.runs), context.spec.shard_size)[index])]


class _Starter:
    """Starts the first worker in a thread (starting blocks until the worker server has imported what a shard
    needs) and gives it ``shard``, unless this process claimed that shard first (:meth:`claim`)."""

    def __init__(self, pool: "_Pool", shard: int, runs: pd.DataFrame):
        import threading

        self.pool, self.shard, self.runs = pool, shard, runs
        self.lock = threading.Lock()
        self.taken_by: str | None = None  # "worker" or "here"
        self.unwanted = False
        self.slot: "_Slot | None" = None
        self.thread = threading.Thread(target=self._start, name="sweep-worker-start", daemon=True)
        self.thread.start()

    def _start(self) -> None:
        try:
            slot = self.pool.start(warm=False)
        except Exception:  # noqa: BLE001 - no worker: the sweep runs the shard here (claim) or starts others later
            return
        with self.lock:
            self.slot = slot
            if self.unwanted:
                self.pool.close()
                return
            if self.taken_by is None:
                self.taken_by = "worker"
                self.pool.assign(slot, self.shard, self.runs)

    def claim(self) -> bool:
        """True when the worker has the second probe; else this process takes it (False)."""
        with self.lock:
            if self.taken_by is None:
                self.taken_by = "here"
            return self.taken_by == "worker"

    def join(self) -> None:
        """Wait until the first worker is started (it is in the pool from then on)."""
        self.thread.join()

    def discard(self, stop: bool = False) -> None:
        """No pool after all: the worker is closed once it is up (``stop``: stopped, whatever it runs); this
        sweep does not wait for it to start."""
        with self.lock:
            self.unwanted = True
            if self.slot is not None:
                self.pool.stop() if stop else self.pool.close()


def _warm_caches() -> dict[str, bytes]:
    """This process's memoised answers (:mod:`sim.domain.cache`: scenarios' reference solutions, the offers
    programs' answers, records...), for a worker to start with: computed once in the sweep's process, not
    again in every worker."""
    import pickle

    from sim.domain.cache import snapshot

    out = {}
    for name, items in snapshot().items():
        try:
            out[name] = pickle.dumps(items, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001 - an answer that does not pickle: that cache starts cold
            continue
    return out


def _in_pool(context: SweepContext, rest: Sequence[int], costs: dict[int, float], workers: int, server: Any,
             counts: list[int], cpu: dict[int, float], progress: Callable[[int, int], None] | None,
             pool: "_Pool | None" = None) -> None:
    """The pool part of :func:`execute`: the shards ``rest``, heaviest first (``costs``), in ``workers``
    processes forked from ``server`` (:func:`_worker_context`), one shard at a time each; ``counts`` (done,
    failed) and ``cpu`` grow as shards finish. ``pool``: workers already started (one may be running a
    shard not in ``rest``: it is counted when it ends); new ones start with this process's caches.

    A worker that dies (killed by a signal, out of memory) costs only its own shard: that shard is run again
    once, in a fresh worker; if its worker dies again, its runs are recorded in ``failures/`` with the cause
    and the shard stays pending (:func:`lost_shards`), so that the same command runs it again. The other
    workers go on.

    Raises:
        Interrupted: on Ctrl-C: queued shards are cancelled and the workers stopped.
    """
    from collections import deque

    ranges = shard_ranges(len(context.runs), context.spec.shard_size)
    light = replace(context, runs=context.runs.iloc[:0])  # each task carries only its own rows
    queue = deque(sorted(rest, key=lambda i: (-costs[i], i)))
    deaths: dict[int, int] = {}
    pool = _Pool(server, light) if pool is None else pool
    try:
        while queue or pool.busy:
            while queue and len(pool.workers) < workers and len(pool.idle()) < len(queue):
                with _ctrl_c_deferred():  # a worker forked is in pool.workers when Ctrl-C acts
                    pool.start()
            for worker in pool.idle():
                if not queue:
                    break
                index = queue.popleft()
                pool.assign(worker, index, context.runs.iloc[slice(*ranges[index])])
            for worker, outcome in pool.wait():
                if isinstance(outcome, _Died):
                    index = outcome.shard
                    deaths[index] = deaths.get(index, 0) + 1
                    if deaths[index] == 1:
                        print(f"warning: a worker died ({outcome.cause}) running shard {index}; its runs are run "
                              "again in a new worker", file=sys.stderr)
                        with _ctrl_c_deferred():
                            fresh = pool.start()
                        pool.assign(fresh, index, context.runs.iloc[slice(*ranges[index])])
                    else:
                        lost = _record_lost(context, index, f"the worker running it died twice ({outcome.cause})")
                        counts[1] += lost
                        if progress:
                            progress(lost, lost)
                    continue
                _, d, f, pid, seconds = outcome
                cpu[pid] = cpu.get(pid, 0.0) + seconds
                counts[0], counts[1] = counts[0] + d, counts[1] + f
                if progress:
                    progress(d + f, f)
    except KeyboardInterrupt:
        pool.stop()  # a running shard is lost (never half-written: atomic rename)
        raise Interrupted(*counts) from None
    except BaseException:
        pool.stop()
        raise
    pool.close()


def lost_shards(context: SweepContext) -> list[int]:
    """The shards whose failures say their worker died (they stay pending: the same command runs them again)."""
    lost = []
    for index in range(len(shard_ranges(len(context.runs), context.spec.shard_size))):
        path = context.failure_path(index)
        if path.exists() and not context.shard_path(index).exists():
            lost.append(index)
    return lost


def _record_lost(context: SweepContext, index: int, cause: str) -> int:
    """Shard ``index``'s runs as failures with ``cause`` (failures/shard-<index>.parquet); the shard itself is
    not written, so it stays pending. Returns the number of runs."""
    start, stop = shard_ranges(len(context.runs), context.spec.shard_size)[index]
    runs = context.runs.iloc[start:stop].to_dict("records")
    write_atomic(pd.DataFrame([{**{k: plain(v) for k, v in run.items()}, "error": cause, "traceback": ""}
                               for run in runs]), context.failure_path(index))
    return len(runs)


class _Died:
    """A worker ended while it ran shard ``shard``; ``cause`` in words (the signal or exit status)."""

    def __init__(self, shard: int, exitcode: int | None):
        import signal

        self.shard = shard
        if exitcode is not None and exitcode < 0:
            try:
                name = signal.Signals(-exitcode).name
            except ValueError:
                name = f"signal {-exitcode}"
            self.cause = f"killed by {name}" + (": out of memory, or killed" if -exitcode == signal.SIGKILL else "")
        else:
            self.cause = f"exited with status {exitcode}"


class _Pool:
    """Worker processes forked from ``server``, each fed one shard at a time over its own pipe, so that the
    parent always knows which shard each worker runs (a worker that dies costs that shard only)."""

    def __init__(self, server: Any, context: SweepContext):
        self.server, self.context = server, context
        self.workers: list[_Slot] = []

    @property
    def busy(self) -> bool:
        return any(slot.shard is not None for slot in self.workers)

    def start(self, warm: bool = True) -> "_Slot":
        """A new worker, idle; ``warm``: it starts with this process's memoised answers (:func:`_warm_caches`)."""
        mine, theirs = self.server.Pipe()
        caches = _warm_caches() if warm else None
        process = self.server.Process(target=_serve, args=(theirs, self.context, os.getpid(), caches), daemon=True)
        process.start()
        theirs.close()
        self.workers.append(_Slot(process, mine))
        return self.workers[-1]

    def idle(self) -> list["_Slot"]:
        return [slot for slot in self.workers if slot.shard is None]

    def assign(self, slot: "_Slot", index: int, runs: pd.DataFrame) -> None:
        slot.shard = index
        try:
            slot.conn.send((index, runs))
        except (BrokenPipeError, ConnectionResetError):
            pass  # it died: wait() finds its sentinel

    def wait(self) -> list[tuple["_Slot", Any]]:
        """Block until a worker sends a result or ends; returns (worker, result or :class:`_Died`) for each.
        A worker that raised re-raises its exception here."""
        from multiprocessing.connection import wait

        busy = [slot for slot in self.workers if slot.shard is not None]
        ready = set(wait([slot.conn for slot in busy] + [slot.process.sentinel for slot in busy]))
        out = []
        for slot in busy:
            if slot.conn in ready or slot.process.sentinel in ready:
                message = None
                try:
                    if slot.conn.poll():
                        message = slot.conn.recv()
                except (EOFError, OSError):
                    message = None
                if message is None:
                    slot.process.join(timeout=5)
                    out.append((slot, _Died(slot.shard, slot.process.exitcode)))
                    slot.conn.close()
                    self.workers.remove(slot)
                    continue
                kind, payload = message
                if kind == "raised":
                    raise payload
                slot.shard = None
                out.append((slot, payload))
        return out

    def stop(self) -> None:
        """Stop every worker now (Ctrl-C, or an error in one of them)."""
        for slot in self.workers:
            if slot.process.is_alive():
                slot.process.terminate()
        for slot in self.workers:
            slot.process.join(timeout=5)
            slot.conn.close()
        self.workers = []

    def close(self) -> None:
        """Tell every worker to exit, and wait for them."""
        for slot in self.workers:
            try:
                slot.conn.send(None)
            except OSError:
                pass
        for slot in self.workers:
            slot.process.join(timeout=10)
            if slot.process.is_alive():
                slot.process.terminate()
                slot.process.join(timeout=5)
            slot.conn.close()
        self.workers = []


class _Slot:
    def __init__(self, process: Any, conn: Any):
        self.process, self.conn, self.shard = process, conn, None


def _serve(conn: Any, context: SweepContext, sweep: int, caches: dict[str, bytes] | None = None) -> None:
    """A worker's life: shards from ``conn`` until told to stop (None) or the sweep (pid ``sweep``) ends;
    ``caches``: the sweep's memoised answers to start with (:func:`_warm_caches`)."""
    from sim.domain.cache import load
    from sim.runs.lifeline import die_with_parent, watch

    if caches:
        import pickle

        load({name: pickle.loads(items) for name, items in caches.items()})
    _ignore_interrupts()
    die_with_parent()  # its parent is the forkserver: when that ends, so does this worker
    watch(sweep)  # and when the sweep ends, however it ends
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        index, runs = task
        try:
            result = ("done", _worker(context, index, runs))
        except Exception as error:  # noqa: BLE001 - re-raised in the sweep's process
            result = ("raised", error)
        try:
            conn.send(result)
        except Exception:  # noqa: BLE001 - an exception that does not pickle: its text
            conn.send(("raised", RuntimeError(f"worker, shard {index}: {result[1]!r}")))


def elapsed(start: float) -> str:
    seconds = time.time() - start
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"
