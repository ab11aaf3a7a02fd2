"""Executing a sweep: its folder, sharded runs, resume, failures, aggregation.

The design (points, replicates, seeds) is :mod:`sim.runs.design`'s; each point becomes a run specification
(:func:`point_spec`, the same :func:`sim.runs.spec.specs_from_config` a single run uses). Every point is
checked before any file is written (:func:`check_points`). Runs are grouped into shards of consecutive run indices; a shard is executed in one process and
written atomically (temp file + rename) to ``shards/``; a shard that exists is never run again, which
is what makes a killed sweep resumable. Runs that raise are recorded in ``failures/`` with their
parameters, seed and traceback, and the sweep goes on. ``runs.parquet`` is assembled at the end by
streaming the shards one at a time (memory does not grow with the number of runs).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import os
import socket
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from sim.domain.config import CONFIG_DIR
from sim.domain.errors import ConfigError
from sim.runs.design import GROUPS, PERTURBATION, SweepSpec, cross_protocols, run_table, shard_ranges

if TYPE_CHECKING:  # pragma: no cover
    from sim.runs.spec import RunSpec

#: Outcome columns every run has (MODEL.md §6); outcome_<issue>, utility_<actor> and
#: disagreement_<actor> depend on the scenario.
OUTCOME_COLUMNS = ("agreement", "rounds", "nash_product", "distance_to_nash", "pareto_efficient",
                   "distance_to_pareto", "bargaining_range", "bargaining_range_empty")


# --------------------------------------------------------------------------------------------------
# Building one run's config
# --------------------------------------------------------------------------------------------------


def _load_group(group: str, name: str, config_dirs: Sequence[Path] = ()) -> dict[str, Any]:
    """``configs/<group>/<name>.yaml`` (or the user's config dirs first, as Hydra's search path has
    them), with a scenario's ``defaults`` inheritance resolved and a schema ``defaults`` list dropped."""
    dirs = [Path(d) for d in config_dirs] + [CONFIG_DIR]
    path = next((d / group / f"{name}.yaml" for d in dirs if (d / group / f"{name}.yaml").exists()), None)
    if path is None:
        options = sorted({str(p.relative_to(d / group).with_suffix("")) for d in dirs if (d / group).is_dir()
                          for p in (d / group).rglob("*.yaml")})
        raise ConfigError(f"configs/{group}", group, f"unknown {group} {name!r}; allowed: {', '.join(options)}")
    # Cached by content: the file and its folder (a scenario inherits only from files beside it). Loading
    # and checking a scenario against its schema takes 0.1-0.2 s, and every design point loads its own.
    key = (group, name, str(path), _folder_digest(path.parent))
    if key not in _GROUPS:
        _GROUPS[key] = _load_checked(group, name, path)
    return copy.deepcopy(_GROUPS[key])


_GROUPS: dict[tuple, dict[str, Any]] = {}


def _folder_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for file in sorted(folder.glob("*.yaml")):
        digest.update(file.name.encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()


def _load_checked(group: str, name: str, path: Path) -> dict[str, Any]:
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    from sim.domain.config import ScenarioConfig
    from sim.domain.protocol_params import PARAMS
    from sim.runs.configs import load_with_defaults

    node = load_with_defaults(path) if group == "scenario" else OmegaConf.load(path)
    node.pop("defaults", None)
    schema = ScenarioConfig if group == "scenario" else PARAMS.get(name)
    try:  # the schema's defaults and checks, exactly as Hydra composes ``<group>=<name>``
        node = OmegaConf.merge(OmegaConf.structured(schema), node) if schema is not None else node
    except OmegaConfBaseException as error:
        raise ConfigError(str(path), f"{group}.{getattr(error, 'full_key', '?')}", str(error).splitlines()[0]) from None
    return OmegaConf.to_container(node, resolve=True)


def _set(config: dict[str, Any], key: str, value: Any, source: str) -> None:
    node = config
    *path, last = key.split(".")
    for part in path:
        if not isinstance(node.get(part), dict):
            raise ConfigError(source, f"sweep.parameters.{key}", f"no config node {part!r} on this path")
        node = node[part]
    if last not in node:
        raise ConfigError(source, f"sweep.parameters.{key}", f"unknown config key {last!r}; allowed here: "
                                                             f"{', '.join(sorted(node)) or '(none)'}")
    node[last] = value.item() if isinstance(value, np.generic) else value


def point_config(base: Mapping[str, Any], spec: SweepSpec, values: Mapping[str, Any],
                 config_dirs: Sequence[Path] = (), source: str = "configs/sweep") -> dict[str, Any]:
    """The full config of one design point: base config, group selections, then key overrides."""
    config = copy.deepcopy(dict(base))
    for parameter in spec.parameters:
        if parameter.key in GROUPS:
            config[parameter.key] = _load_group(parameter.key, str(values[parameter.column]), config_dirs)
    if spec.protocols:  # protocol=all: this point's protocol, with the settings given for all it has
        from sim.runs.spec import all_params, shared_settings

        name = str(values["protocol"])
        config["protocol"] = {**_load_group("protocol", name, config_dirs),
                              **all_params(name, shared_settings(base["protocol"], source))}
    for parameter in spec.parameters:
        if parameter.key not in GROUPS and parameter.key != PERTURBATION:
            if spec.protocols and parameter.key.startswith("protocol.") and \
                    parameter.key.split(".", 1)[1] not in config["protocol"]:
                continue  # protocol=all: a swept setting goes to the protocols that have it (checked in plan)
            _set(config, parameter.key, values[parameter.column], source)
    config["record"] = {"rounds": False, "events": False, "figures": False}
    return config


def perturb(scenario, sigma: float, rng: np.random.Generator):
    """Every position (σ × scale), salience (σ) and capability (σ × its value) plus N(0, σ) noise,
    clipped to its range (after Masad 2016)."""
    if sigma <= 0:
        return scenario
    positions = np.clip(scenario.positions + rng.normal(0, sigma, scenario.positions.shape) * scenario.spans,
                        scenario.lower, scenario.upper)
    saliences = np.clip(scenario.saliences + rng.normal(0, sigma, scenario.saliences.shape), 0.0, 1.0)
    capabilities = np.maximum(scenario.capabilities * (1 + rng.normal(0, sigma, scenario.n_actors)), 1e-6)
    return scenario.with_arrays(positions=positions, saliences=saliences, capabilities=capabilities)


# --------------------------------------------------------------------------------------------------
# Executing shards
# --------------------------------------------------------------------------------------------------


@dataclass
class SweepContext:
    """What a worker needs to run any shard (picklable). Built by :func:`plan` without touching files."""

    folder: Path
    spec: SweepSpec
    base: dict[str, Any]  # the composed config as plain containers (scenario, protocol, ...)
    runs: pd.DataFrame = field(repr=False)
    digest: str = ""  # design_hash(spec, base): what the point cache keys on
    config_dirs: tuple[str, ...] = ()  # the user's config dirs (Hydra's search path), searched first
    source: str = "configs/sweep"  # the sweep's file, for error messages
    scenario_file: str | None = None  # the user's own scenario file (scenario=<path>), for error messages

    def shard_path(self, index: int) -> Path:
        return self.folder / "shards" / f"shard-{index:06d}.parquet"

    def failure_path(self, index: int) -> Path:
        return self.folder / "failures" / f"shard-{index:06d}.parquet"


_POINT_CACHE: dict[tuple[str, tuple], "RunSpec"] = {}  # (design hash, point values) -> spec; by content


def point_spec(context: SweepContext, values: Mapping[str, Any]) -> "RunSpec":
    """The run specification of a design point (seed 0; each run sets its own), cached per process by
    the design's content hash and the point's values — never by object identity."""
    from sim.runs.spec import specs_from_config

    key = (context.digest or design_hash(context.spec, context.base),
           tuple(sorted((k, repr(_plain(v))) for k, v in values.items())))
    if key not in _POINT_CACHE:
        config = point_config(context.base, context.spec, values, context.config_dirs, context.source)
        swept = "scenario" in [p.key for p in context.spec.parameters]
        (spec,) = specs_from_config(config, source=None if swept else context.scenario_file)  # (protocol=all
        # is crossed into the design: SweepSpec.protocols)
        if len(_POINT_CACHE) > 512:
            _POINT_CACHE.clear()
        _POINT_CACHE[key] = spec
    return _POINT_CACHE[key]


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
                "replicate": int(run["replicate"]), **{k: _plain(v) for k, v in values.items()}})
    return row


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def execute_block(context: SweepContext, runs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Consecutive runs of one design point (replicates: only the seed differs) → their rows, computed
    together (:func:`sim.runs.batch.run_block`); the same rows as :func:`execute_run` run by run."""
    from sim.runs.batch import run_block

    values = {column: runs[0][column] for column in context.spec.columns}
    rows = run_block(point_spec(context, values), [int(run["seed"]) for run in runs])
    extra = {k: _plain(v) for k, v in values.items()}
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
                failures.append({**{k: _plain(v) for k, v in run.items()}, "error": repr(error),
                                 "traceback": traceback.format_exc()})
    if failures:
        _write_atomic(pd.DataFrame(failures), context.failure_path(index))
    frame = pd.DataFrame(rows)
    if frame.empty:
        frame = pd.DataFrame({"run_index": pd.Series(dtype="int64")})
    _write_atomic(frame, context.shard_path(index))
    return len(rows), len(failures)


def _write_atomic(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        frame.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _worker(context: SweepContext, index: int, runs: pd.DataFrame) -> tuple[int, int, int, int, float]:
    started = time.process_time()
    done, failed = execute_shard(context, index, runs)
    return index, done, failed, os.getpid(), time.process_time() - started


#: What a worker needs to run a shard, imported once by the forkserver process that workers are forked from,
#: so that a worker starts in milliseconds instead of importing numpy, pandas, Mesa and the solvers itself.
WORKER_PRELOAD = ["sim.runs.sweep", "sim.runs.batch", "sim.engine.model", "sim.engine.metrics", "sim.runs.scoring", "sim.engine.protocols.eu",
                  "sim.engine.protocols.offers", "sim.engine.protocols.exchange", "scipy.stats"]  # (scipy.stats: the Sobol
#: sample of the bargaining range, sim.kernels.solutions.sobol; imported on first use, ~1 s)


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


# --------------------------------------------------------------------------------------------------
# The folder: lock, resume, aggregation
# --------------------------------------------------------------------------------------------------


class SweepLock:
    """Refuse a second sweep (or calibration) writing the same folder (an O_EXCL lock file holding pid
    and host)."""

    def __init__(self, folder: Path, what: str = "sweep"):
        self.path = Path(folder) / "sweep.lock"
        self.what = what

    def __enter__(self) -> "SweepLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
                os.write(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname()}).encode())
                os.close(fd)
                return self
            except FileExistsError:
                owner = self._owner()
                if owner and owner.get("host") == socket.gethostname() and not _alive(owner.get("pid", -1)):
                    self.path.unlink(missing_ok=True)  # stale lock of a killed sweep
                    continue
                raise ConfigError(str(self.path.parent), f"{self.what}.out",
                                  f"another {self.what} (pid {owner.get('pid') if owner else '?'}) is writing this "
                                  f"folder; wait for it or choose another {self.what}.out= folder") from None
        raise ConfigError(str(self.path.parent), f"{self.what}.out", "could not take the folder's lock")

    def _owner(self) -> dict | None:
        try:
            return json.loads(self.path.read_text() or "{}")
        except (OSError, ValueError):
            return None

    def __exit__(self, *exc: Any) -> None:
        self.path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(int(pid), 0)
    except (OSError, ValueError):
        return False
    return True


def design_hash(spec: SweepSpec, base: Mapping[str, Any]) -> str:
    text = json.dumps({"spec": spec.to_dict(), "base": base}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def plan(folder: Path, spec: SweepSpec, base: Mapping[str, Any], config_dirs: Sequence[Path] = (),
         source: str = "configs/sweep", scenario_file: str | None = None) -> SweepContext:
    """The sweep's context (design, seeds, base config), without creating any file."""
    spec = cross_protocols(spec, base, source)
    return SweepContext(folder=Path(folder), spec=spec, base=dict(base), runs=run_table(spec),
                        digest=design_hash(spec, base), config_dirs=tuple(str(d) for d in config_dirs),
                        source=source, scenario_file=scenario_file)


def check_points(context: SweepContext) -> int:
    """Build every design point's run specification in the parent, before any file is written, so that
    a mistake (an unknown key, a value out of range at some sampled point, a protocol the scenario cannot
    run, an output that is not a column) ends the sweep at once with one ConfigError naming the point,
    rather than as failed runs. Returns the number of points checked."""
    spec = context.spec
    points = context.runs.drop_duplicates("point")
    scenarios = {}
    for run in points.to_dict("records"):
        values = {column: run[column] for column in spec.columns}
        try:
            scenario = point_spec(context, values).scenario
        except ConfigError as error:
            where = ", ".join(f"{k}={_plain(v)!r}" for k, v in values.items())
            swept = [p.key for p in spec.parameters if error.key in (p.key, f"sweep.parameters.{p.key}")]
            source, key = (context.source, f"sweep.parameters.{swept[0]}") if swept else (error.source, error.key)
            raise ConfigError(source, key, f"{error.problem} (at design point {run['point']}: {where})") from None
        scenarios.setdefault(scenario.id, scenario)
    if "scenario" in [p.key for p in spec.parameters]:  # other scenarios have other columns
        return len(points)
    scenario = next(iter(scenarios.values()))
    known = set(OUTCOME_COLUMNS) | {f"{prefix}_{i}" for i in scenario.issue_ids for prefix in ("outcome", "bundle")} | {
        f"{prefix}_{a}" for a in scenario.actor_ids for prefix in ("utility", "disagreement")}
    for output in spec.outputs:
        if output not in known:
            raise ConfigError(context.source, "sweep.outputs",
                              f"{output!r} is not an outcome column; allowed: {', '.join(sorted(known))}")
    return len(points)


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
        _write_atomic(context.runs, folder / "design.parquet")
    return context


def pending_shards(context: SweepContext, selection: Iterable[int] | None = None) -> list[int]:
    total = len(shard_ranges(len(context.runs), context.spec.shard_size))
    chosen = range(total) if selection is None else [i for i in selection if 0 <= i < total]
    return [i for i in chosen if not context.shard_path(i).exists()]


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

    With several workers the first two shards run here first, timed: workers are started only if the
    time they would save on the rest (at the faster probe's speed) exceeds what starting them costs:
    :data:`POOL_WORTH` plus the cold start the slower probe showed (each worker pays it again).
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
        # Probe two shards here. A shard that meets a scenario or protocol for the first time pays this
        # process's cold start (the caches of its programs and reference solutions); each worker would
        # pay it again, on top of starting an interpreter. So: the faster probe estimates the rest, the
        # slower one what a worker's start costs.
        probes = []
        for index in shards[:2]:
            started = time.perf_counter()
            here([index])
            probes.append(time.perf_counter() - started)
        rest = shards[2:]
        saved = min(probes) * len(rest) * (1 - 1 / workers)
        if saved < POOL_WORTH + max(probes):
            here(rest)
            return counts[0], counts[1]
        costs = shard_costs(context, rest)
        server = _worker_context()
    except KeyboardInterrupt:
        raise Interrupted(*counts) from None
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from dataclasses import replace

    ranges = shard_ranges(len(context.runs), context.spec.shard_size)
    light = replace(context, runs=context.runs.iloc[:0])  # each task carries only its own rows
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=server, initializer=_ignore_interrupts)
    try:
        with _ctrl_c_deferred():  # submitting forks the workers: each is in pool._processes when Ctrl-C acts
            futures = [pool.submit(_worker, light, index, context.runs.iloc[slice(*ranges[index])])
                       for index in sorted(rest, key=lambda i: (-costs[i], i))]
        for future in as_completed(futures):
            _, d, f, pid, seconds = future.result()
            cpu[pid] = cpu.get(pid, 0.0) + seconds
            counts[0], counts[1] = counts[0] + d, counts[1] + f
            if progress:
                progress(d + f, f)
    except KeyboardInterrupt:
        processes = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:  # a running shard is lost (never half-written: atomic rename)
            process.terminate()
        for process in processes:
            process.join(timeout=5)
        raise Interrupted(*counts) from None
    pool.shutdown()
    return counts[0], counts[1]


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
        _write_atomic(frame.sort_values("run_index"), context.folder / "failures.parquet")
    else:
        (context.folder / "failures.parquet").unlink(missing_ok=True)
    return rows, failures


def elapsed(start: float) -> str:
    seconds = time.time() - start
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"
