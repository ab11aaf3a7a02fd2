"""Sweep designs: which points a sweep visits and which seed each run gets (DESIGN.md "Sweeps").

A sweep (``configs/sweep/<name>.yaml``) is a design — a table of points, each a set of config values —
times ``replicates``. Every run gets its seed from ``SeedSequence(master).spawn`` by its run index, in the
parent, before any dispatch, so results never depend on worker count, shard size, order or resumption.
Nothing here touches files or runs a model: :mod:`sim.runs.sweep` executes a design.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import product
from typing import Any, Mapping

import numpy as np
import pandas as pd

from sim.domain.config import SWEEP_KEYS
from sim.domain.errors import ConfigError

DESIGNS = ("grid", "zip", "random", "lhs", "sobol", "morris")
GROUPS = ("scenario", "protocol", "strategy")  # parameters that select a config file
PERTURBATION = "perturbation"  # pseudo-parameter: σ of N(0, σ) noise on every number (Masad 2016)


def column_name(key: str) -> str:
    """The runs-table column of a config key: ``scenario.actors.russia.capability`` ->
    ``scenario_actors_russia_capability``."""
    return key.replace(".", "_").replace("-", "_")


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
        return column_name(self.key)

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
    protocols: tuple[str, ...] = ()  # protocol=all: every point is run under each of these (column "protocol")
    references: tuple[str, ...] | None = None  # the reference columns its rows compute (RunSpec.references); None: all

    @property
    def columns(self) -> list[str]:
        """The columns that identify a point in the runs table: the parameters' (and ``protocol``)."""
        return [p.column for p in self.parameters] + (["protocol"] if self.protocols else [])

    def to_dict(self) -> dict[str, Any]:
        extra = {"protocols": list(self.protocols)} if self.protocols else {}
        if self.references is not None:  # rows without some references are other rows (None: the hash as before)
            extra["references"] = list(self.references)
        return {**extra, 
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
    for key in data:
        if key not in SWEEP_KEYS:
            raise ConfigError(source, f"sweep.{key}", f"unknown key; allowed: {', '.join(SWEEP_KEYS)}")
    design = str(data.get("design", "grid"))
    if design not in DESIGNS:
        raise ConfigError(source, "sweep.design", f"unknown design {design!r}; allowed: {', '.join(DESIGNS)}")
    raw = data.get("parameters") or {}
    if not raw:
        raise ConfigError(source, "sweep.parameters", "give at least one parameter (config key -> range or list)")
    parameters = [_parameter(key, entry, design, source) for key, entry in raw.items()]
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
    references = _references(data.get("references"), tuple(data.get("outputs") or ("agreement",)), source)
    return SweepSpec(
        references=references,
        name=str(data.get("name") or "sweep"), parameters=tuple(parameters), design=design,
        samples=samples, replicates=replicates, seed=int(data.get("seed", 0)), shard_size=shard_size,
        outputs=tuple(data.get("outputs") or ("agreement",)),
        heatmap=tuple(Parameter(h).column if "." in h else h for h in heatmap),
        description=str(data.get("description") or ""),
        protocols=tuple(str(p) for p in data.get("protocols") or ()),
    )


def _references(given: Any, outputs: tuple[str, ...], source: str) -> tuple[str, ...] | None:
    """``sweep.references`` checked: known names, and no output (``sweep.outputs``) among the columns it skips."""
    from sim.engine.metrics import REFERENCES, check_references

    if given is not None and given != "all" and not isinstance(given, (list, tuple)):
        raise ConfigError(source, "sweep.references", f"{given!r}; give a list of: {', '.join(REFERENCES)} (or null: all)")
    references = check_references(given, source, "sweep.references")
    if references is None:
        return None
    for output in outputs:
        for name, columns in REFERENCES.items():
            if output in columns and name not in references:
                raise ConfigError(source, "sweep.outputs", f"{output!r} is a column of the reference {name!r}, which "
                                                           f"sweep.references leaves out; add {name!r} there")
    return references


def _parameter(key: Any, entry: Any, design: str, source: str) -> Parameter:
    """One entry of a sweep's ``parameters``: a list of values (or one value), or a range low-high."""
    where = f"sweep.parameters.{key}"
    if key == "seed":  # each run's seed is spawned from sweep.seed (a column of every row), never swept
        raise ConfigError(source, where, "a run's seed is not a parameter: runs get seeds spawned from sweep.seed; "
                                         "set sweep.replicates for more seeds per point, or sweep.seed for another set")
    if not isinstance(entry, Mapping):
        entry = {"values": list(entry) if isinstance(entry, (list, tuple)) else [entry]}
    extra = set(entry) - {"values", "low", "high", "steps"}
    if extra:
        raise ConfigError(source, f"{where}.{sorted(extra)[0]}", "unknown key; allowed: values, low, high, steps")
    values = entry.get("values")
    if values is not None:
        if not list(values):
            raise ConfigError(source, f"{where}.values", "empty list")
        return Parameter(str(key), values=tuple(values))
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
    return Parameter(str(key), low=low, high=high, steps=None if steps is None else int(steps))


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
    if spec.protocols:  # protocol=all: the design crossed with the protocols, each point under each
        table = table.loc[table.index.repeat(len(spec.protocols))].reset_index(drop=True)
        table["protocol"] = np.tile(np.array(spec.protocols, dtype=object), len(table) // len(spec.protocols))
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


def cross_protocols(spec: SweepSpec, base: Mapping[str, Any], source: str) -> SweepSpec:
    """``protocol=all`` in a sweep: every design point under each protocol of ``configs/protocol/all.yaml``
    (the design crossed with them, as a ``protocol`` column), like ``protocol=all`` in a single run; a
    sweep that sweeps ``protocol`` itself keeps its own list."""
    from sim.runs.spec import protocols_of, shared_settings

    protocol = dict(base.get("protocol") or {})
    if protocol.get("name") != "all":
        return spec
    swept = {p.key.split(".", 1)[1]: None for p in spec.parameters if p.key.startswith("protocol.")}
    shared_settings({**protocol, **swept}, source)  # settings (given or swept) that no protocol has end here
    if "protocol" in [p.key for p in spec.parameters]:  # the sweep names its protocols itself
        return spec
    return replace(spec, protocols=tuple(protocols_of(protocol)))
