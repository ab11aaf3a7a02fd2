"""Parameter sweeps: designs, seeding, sharded execution, resume, failures, aggregation.

A sweep is a design (a table of points, each a set of config values) times ``replicates``. Every run
gets its seed from ``SeedSequence(master).spawn`` by its run index, in the parent, before any
dispatch, so results never depend on worker count, shard size, order or resumption (DESIGN.md).
Runs are grouped into shards of consecutive run indices; a shard is executed in one process and
written atomically (temp file + rename) to ``shards/``; a shard that exists is never run again, which
is what makes a killed sweep resumable. Runs that raise are recorded in ``failures/`` with their
parameters, seed and traceback, and the sweep goes on. ``runs.parquet`` is assembled at the end by
streaming the shards one at a time (memory does not grow with the number of runs).
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import socket
import time
import traceback
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from sim.config import CONFIG_DIR, ConfigError

DESIGNS = ("grid", "zip", "random", "lhs", "sobol", "morris")
GROUPS = ("scenario", "protocol", "strategy")  # parameters that select a config file
#: Outcome columns every run has (MODEL.md §6); outcome_<issue>, utility_<actor> and
#: disagreement_<actor> depend on the scenario.
OUTCOME_COLUMNS = ("agreement", "rounds", "nash_product", "distance_to_nash", "pareto_efficient",
                   "distance_to_pareto", "bargaining_range", "bargaining_range_empty")
PERTURBATION = "perturbation"  # pseudo-parameter: σ of N(0, σ) noise on every number (Masad 2016)


@dataclass(frozen=True)
class Parameter:
    """One swept config key: a list of values, or a range [low, high] (with ``steps`` for grids)."""

    key: str
    values: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    steps: int | None = None

    @property
    def column(self) -> str:
        """snake_case column name in the runs table."""
        return self.key.replace(".", "_").replace("-", "_")

    def grid(self) -> list[Any]:
        if self.values is not None:
            return list(self.values)
        return list(np.linspace(self.low, self.high, self.steps or 5))

    def from_unit(self, u: np.ndarray) -> list[Any]:
        """Map points in [0, 1) to values (uniform on the range, or equal-probability choice)."""
        if self.values is not None:
            index = np.minimum((u * len(self.values)).astype(int), len(self.values) - 1)
            return [self.values[i] for i in index]
        return list(self.low + u * (self.high - self.low))


@dataclass(frozen=True)
class SweepSpec:
    """A sweep (``configs/sweep/<name>.yaml``)."""

    name: str
    parameters: tuple[Parameter, ...]
    design: str = "grid"
    samples: int = 0
    replicates: int = 1
    seed: int = 0
    shard_size: int = 100
    outputs: tuple[str, ...] = ("agreement",)
    heatmap: tuple[str, ...] = ()
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "design": self.design, "samples": self.samples,
            "replicates": self.replicates, "seed": self.seed, "shard_size": self.shard_size,
            "outputs": list(self.outputs), "heatmap": list(self.heatmap),
            "parameters": {p.key: {k: v for k, v in (("values", list(p.values) if p.values is not None else None),
                                                     ("low", p.low), ("high", p.high), ("steps", p.steps))
                                   if v is not None} for p in self.parameters},
        }


def spec_from_config(node: Mapping[str, Any], source: str = "configs/sweep") -> SweepSpec:
    """Validate a sweep config node (plain dict); errors name the file and key."""
    data = dict(node or {})
    allowed = ("name", "description", "design", "samples", "replicates", "seed", "shard_size",
               "parameters", "outputs", "heatmap", "workers", "out", "shards", "jobs", "job", "progress")
    for key in data:
        if key not in allowed:
            raise ConfigError(source, f"sweep.{key}", f"unknown key; allowed: {', '.join(allowed)}")
    design = str(data.get("design", "grid"))
    if design not in DESIGNS:
        raise ConfigError(source, "sweep.design", f"unknown design {design!r}; allowed: {', '.join(DESIGNS)}")
    raw = data.get("parameters") or {}
    if not raw:
        raise ConfigError(source, "sweep.parameters", "give at least one parameter (config key -> range or list)")
    parameters = []
    for key, entry in raw.items():
        where = f"sweep.parameters.{key}"
        if not isinstance(entry, Mapping):
            entry = {"values": list(entry) if isinstance(entry, (list, tuple)) else [entry]}
        extra = set(entry) - {"values", "low", "high", "steps"}
        if extra:
            raise ConfigError(source, f"{where}.{sorted(extra)[0]}", "unknown key; allowed: values, low, high, steps")
        values = entry.get("values")
        if values is not None:
            if not list(values):
                raise ConfigError(source, f"{where}.values", "empty list")
            parameters.append(Parameter(str(key), values=tuple(values)))
            continue
        if entry.get("low") is None or entry.get("high") is None:
            raise ConfigError(source, where, "give values: [...] or low and high")
        low, high = float(entry["low"]), float(entry["high"])
        if not high > low:
            raise ConfigError(source, where, f"high ({high:g}) must exceed low ({low:g})")
        steps = entry.get("steps")
        if design == "grid" and steps is None:
            raise ConfigError(source, f"{where}.steps", "a grid needs steps (or a values list)")
        if key in GROUPS:
            raise ConfigError(source, where, f"{key} selects a config file: give values: [...]")
        parameters.append(Parameter(str(key), low=low, high=high, steps=None if steps is None else int(steps)))
    if design == "zip":
        lengths = {len(p.grid()) for p in parameters}
        if len(lengths) != 1:
            raise ConfigError(source, "sweep.parameters", "a zip design needs lists of equal length")
    if design in ("sobol", "morris"):
        for p in parameters:
            if p.values is not None:
                raise ConfigError(source, f"sweep.parameters.{p.key}",
                                  f"{design} needs a continuous range (low, high), not a list")
    samples = int(data.get("samples") or 0)
    if design in ("random", "lhs", "sobol", "morris") and samples < 1:
        raise ConfigError(source, "sweep.samples", f"the {design} design needs samples >= 1")
    replicates = int(data.get("replicates", 1))
    if replicates < 1:
        raise ConfigError(source, "sweep.replicates", f"{replicates}; must be >= 1")
    shard_size = int(data.get("shard_size", 100))
    if shard_size < 1:
        raise ConfigError(source, "sweep.shard_size", f"{shard_size}; must be >= 1")
    columns = [p.column for p in parameters]
    heatmap = tuple(data.get("heatmap") or ())
    for column in heatmap:
        if column not in columns and column not in [p.key for p in parameters]:
            raise ConfigError(source, "sweep.heatmap", f"{column!r} is not a swept parameter; allowed: "
                                                       f"{', '.join(p.key for p in parameters)}")
    return SweepSpec(
        name=str(data.get("name") or "sweep"), parameters=tuple(parameters), design=design,
        samples=samples, replicates=replicates, seed=int(data.get("seed", 0)), shard_size=shard_size,
        outputs=tuple(data.get("outputs") or ("agreement",)),
        heatmap=tuple(Parameter(h).column if "." in h else h for h in heatmap),
        description=str(data.get("description") or ""),
    )


# --------------------------------------------------------------------------------------------------
# Designs
# --------------------------------------------------------------------------------------------------


def salib_problem(spec: SweepSpec) -> dict[str, Any]:
    return {"num_vars": len(spec.parameters), "names": [p.column for p in spec.parameters],
            "bounds": [[p.low, p.high] for p in spec.parameters]}


def design_points(spec: SweepSpec) -> pd.DataFrame:
    """The design as a table: one row per point, one column per parameter (snake_case)."""
    params = spec.parameters
    columns = [p.column for p in params]
    design_seed = np.random.SeedSequence([spec.seed, 1])  # independent of the runs' seeds
    if spec.design == "grid":
        rows = list(product(*(p.grid() for p in params)))
    elif spec.design == "zip":
        rows = list(zip(*(p.grid() for p in params)))
    elif spec.design in ("random", "lhs"):
        if spec.design == "random":
            unit = np.random.default_rng(design_seed).random((spec.samples, len(params)))
        else:
            from scipy.stats import qmc

            unit = qmc.LatinHypercube(d=len(params), seed=np.random.default_rng(design_seed)).random(spec.samples)
        rows = list(zip(*(p.from_unit(unit[:, j]) for j, p in enumerate(params))))
    elif spec.design == "sobol":
        from SALib.sample import sobol

        rows = sobol.sample(salib_problem(spec), spec.samples, calc_second_order=False,
                            seed=int(design_seed.generate_state(1)[0]))
    else:  # morris
        from SALib.sample import morris

        rows = morris.sample(salib_problem(spec), spec.samples, num_levels=4,
                             seed=int(design_seed.generate_state(1)[0]))
    table = pd.DataFrame([list(r) for r in rows], columns=columns)
    for column in table:
        if table[column].dtype == object:
            try:
                table[column] = pd.to_numeric(table[column])
            except (ValueError, TypeError):
                table[column] = table[column].astype(str)
    table.insert(0, "point", np.arange(len(table)))
    return table


def run_seeds(master: int, count: int) -> np.ndarray:
    """One 63-bit seed per run index: child ``i`` of ``SeedSequence(master).spawn(count)``, built one at
    a time (same numbers as spawn, without holding ``count`` SeedSequence objects)."""
    seeds = np.empty(count, dtype=np.int64)
    for index in range(count):
        child = np.random.SeedSequence(master, spawn_key=(index,))
        seeds[index] = int(child.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
    return seeds


def run_table(spec: SweepSpec) -> pd.DataFrame:
    """Every run: run_index, point, replicate, seed and the parameter values."""
    points = design_points(spec)
    runs = points.loc[points.index.repeat(spec.replicates)].reset_index(drop=True)
    runs.insert(0, "run_index", np.arange(len(runs)))
    runs.insert(2, "replicate", np.tile(np.arange(spec.replicates), len(points)))
    runs.insert(3, "seed", run_seeds(spec.seed, len(runs)))
    return runs


def shard_ranges(total: int, shard_size: int) -> list[tuple[int, int]]:
    return [(start, min(start + shard_size, total)) for start in range(0, total, shard_size)]


# --------------------------------------------------------------------------------------------------
# Building one run's config
# --------------------------------------------------------------------------------------------------


def _load_group(group: str, name: str) -> dict[str, Any]:
    from omegaconf import OmegaConf

    path = CONFIG_DIR / group / f"{name}.yaml"
    if not path.exists():
        options = sorted(str(p.relative_to(CONFIG_DIR / group).with_suffix("")) for p in (CONFIG_DIR / group).rglob("*.yaml"))
        raise ConfigError(f"configs/{group}", group, f"unknown {group} {name!r}; allowed: {', '.join(options)}")
    return OmegaConf.to_container(OmegaConf.load(path), resolve=True)


def _set(config: dict[str, Any], key: str, value: Any) -> None:
    node = config
    *path, last = key.split(".")
    for part in path:
        if not isinstance(node.get(part), dict):
            raise ConfigError("configs (sweep parameter)", key, f"no config node {part!r} on this path")
        node = node[part]
    if last not in node:
        raise ConfigError("configs (sweep parameter)", key, "unknown config key")
    node[last] = value.item() if isinstance(value, np.generic) else value


def point_config(base: Mapping[str, Any], spec: SweepSpec, values: Mapping[str, Any]) -> dict[str, Any]:
    """The full config of one design point: base config, group selections, then key overrides."""
    config = copy.deepcopy(dict(base))
    for parameter in spec.parameters:
        if parameter.key in GROUPS:
            config[parameter.key] = _load_group(parameter.key, str(values[parameter.column]))
    for parameter in spec.parameters:
        if parameter.key not in GROUPS and parameter.key != PERTURBATION:
            _set(config, parameter.key, values[parameter.column])
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
    """What a worker needs to run any shard (picklable)."""

    folder: Path
    spec: SweepSpec
    base: dict[str, Any]  # the composed config as plain containers (scenario, protocol, ...)
    runs: pd.DataFrame = field(repr=False)

    def shard_path(self, index: int) -> Path:
        return self.folder / "shards" / f"shard-{index:06d}.parquet"

    def failure_path(self, index: int) -> Path:
        return self.folder / "failures" / f"shard-{index:06d}.parquet"


_POINT_CACHE: dict[tuple, Any] = {}


def _prepare_point(context: SweepContext, values: Mapping[str, Any]) -> tuple[Any, dict[str, Any], str]:
    """(scenario, config, config_hash) of a design point, cached per process."""
    from sim.runner import config_hash
    from sim.scenario import scenario_from_config

    key = (id(context), tuple(sorted((k, str(v)) for k, v in values.items())))
    if key not in _POINT_CACHE:
        config = point_config(context.base, context.spec, values)
        scenario = scenario_from_config(config["scenario"])
        _POINT_CACHE.clear() if len(_POINT_CACHE) > 512 else None
        _POINT_CACHE[key] = (scenario, config, config_hash(config))
    return _POINT_CACHE[key]


def execute_run(context: SweepContext, run: Mapping[str, Any]) -> dict[str, Any]:
    """One run of the sweep → its outcome row (MODEL.md §6) plus run_index, point, replicate, params."""
    from sim.metrics import outcome
    from sim.model import BargainingModel
    from sim.scoring import score_columns

    values = {p.column: run[p.column] for p in context.spec.parameters}
    scenario, config, digest = _prepare_point(context, values)
    seed = int(run["seed"])
    sequence = np.random.SeedSequence(seed)
    if PERTURBATION in [p.key for p in context.spec.parameters]:
        noise_seed, model_seed = sequence.spawn(2)
        scenario = perturb(scenario, float(values[PERTURBATION]), np.random.default_rng(noise_seed))
    protocol = dict(config["protocol"])
    name = protocol.get("name")
    strategy = config.get("strategy") or {}
    model = BargainingModel(scenario, protocol=name, protocol_params=protocol,
                            strategy=strategy.get("name", "linear"), strategy_exponent=strategy.get("exponent"),
                            rounds=int(config.get("rounds", 20)), rng=seed,
                            record_rounds=False, record_events=False)
    model.run()
    row = outcome(model, seed=seed, config_hash=digest)
    row.update(score_columns(model, row, config.get("observed")))  # score_* vs the observed record (sim/scoring.py)
    row.update({"run_index": int(run["run_index"]), "point": int(run["point"]),
                "replicate": int(run["replicate"]), **{k: _plain(v) for k, v in values.items()}})
    return row


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def execute_shard(context: SweepContext, index: int, runs: pd.DataFrame | None = None) -> tuple[int, int]:
    """Run shard ``index`` (its rows of the run table, or ``runs`` when given) and write it and its
    failures atomically. Returns (done, failed)."""
    if runs is None:
        start, stop = shard_ranges(len(context.runs), context.spec.shard_size)[index]
        runs = context.runs.iloc[start:stop]
    rows, failures = [], []
    for run in runs.to_dict("records"):
        try:
            rows.append(execute_run(context, run))
        except Exception as error:  # noqa: BLE001 - recorded (bad points included), the sweep goes on
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
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, path)


def _worker(context: SweepContext, index: int, runs: pd.DataFrame) -> tuple[int, int, int]:
    done, failed = execute_shard(context, index, runs)
    return index, done, failed


# --------------------------------------------------------------------------------------------------
# The folder: lock, resume, aggregation
# --------------------------------------------------------------------------------------------------


class SweepLock:
    """Refuse a second sweep writing the same folder (an O_EXCL lock file holding pid and host)."""

    def __init__(self, folder: Path):
        self.path = Path(folder) / "sweep.lock"

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
                raise ConfigError(str(self.path.parent), "out",
                                  f"another sweep (pid {owner.get('pid') if owner else '?'}) is writing this "
                                  "folder; wait for it or choose another out= folder") from None
        raise ConfigError(str(self.path.parent), "out", "could not take the sweep lock")

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


def prepare_folder(folder: Path, spec: SweepSpec, base: Mapping[str, Any]) -> SweepContext:
    """Create or resume a sweep folder; refuse one that holds a different sweep."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    digest = design_hash(spec, base)
    stamp = folder / "design.json"
    if stamp.exists():
        existing = json.loads(stamp.read_text())
        if existing.get("design_hash") != digest:
            raise ConfigError(str(folder), "out", "this folder holds a different sweep (design or base config "
                                                  "differ); choose another out= folder")
    else:
        tmp = stamp.with_suffix(".tmp")
        tmp.write_text(json.dumps({"design_hash": digest, "spec": spec.to_dict()}, indent=2, default=str))
        tmp.replace(stamp)
    runs = run_table(spec)
    if not (folder / "design.parquet").exists():
        _write_atomic(runs, folder / "design.parquet")
    return SweepContext(folder=folder, spec=spec, base=dict(base), runs=runs)


def check_first_point(context: SweepContext) -> None:
    """Build the first design point's config and scenario in the parent, so that a mistake every run
    would share (unknown key, bad base config) ends the sweep at once with a ConfigError."""
    from sim.runner import check_protocol_needs

    first = context.runs.iloc[0]
    scenario, config, _ = _prepare_point(context, {p.column: first[p.column] for p in context.spec.parameters})
    protocols = next((p.values for p in context.spec.parameters if p.key == "protocol"), None)
    for name in protocols or [config["protocol"].get("name")]:
        check_protocol_needs(scenario, str(name))
    known = set(OUTCOME_COLUMNS) | {f"{prefix}_{i}" for i in scenario.issue_ids for prefix in ("outcome", "bundle")} | {
        f"{prefix}_{a}" for a in scenario.actor_ids for prefix in ("utility", "disagreement")}
    if "scenario" not in [p.key for p in context.spec.parameters]:  # other scenarios have other columns
        for output in context.spec.outputs:
            if output not in known:
                raise ConfigError(f"configs/sweep/{context.spec.name}.yaml", "sweep.outputs",
                                  f"{output!r} is not an outcome column; allowed: {', '.join(sorted(known))}")


def pending_shards(context: SweepContext, selection: Iterable[int] | None = None) -> list[int]:
    total = len(shard_ranges(len(context.runs), context.spec.shard_size))
    chosen = range(total) if selection is None else [i for i in selection if 0 <= i < total]
    return [i for i in chosen if not context.shard_path(i).exists()]


def execute(context: SweepContext, shards: Sequence[int], workers: int = 1,
            progress: Callable[[int, int], None] | None = None) -> tuple[int, int]:
    """Run the given shards, in this process or in ``workers`` processes. Returns (done, failed)."""
    done = failed = 0
    if workers <= 1 or len(shards) <= 1:
        for index in shards:
            d, f = execute_shard(context, index)
            done, failed = done + d, failed + f
            if progress:
                progress(d + f, f)
        return done, failed
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from dataclasses import replace

    ranges = shard_ranges(len(context.runs), context.spec.shard_size)
    light = replace(context, runs=context.runs.iloc[:0])  # each task carries only its own rows
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("forkserver")) as pool:
        futures = [pool.submit(_worker, light, index, context.runs.iloc[slice(*ranges[index])])
                   for index in shards]
        for future in as_completed(futures):
            _, d, f = future.result()
            done, failed = done + d, failed + f
            if progress:
                progress(d + f, f)
    return done, failed


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
