"""Planning a sweep: each design point's config and run specification, the run table, the checks.

The design (points, replicates, seeds) is :mod:`sim.runs.design`'s; each point becomes a run specification
(:func:`point_spec`, the same :func:`sim.runs.spec.specs_from_config` a single run uses). Every point is
checked before any file is written (:func:`check_points`). Nothing here writes a file or runs a model.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np
import pandas as pd

from sim.domain.cache import BoundedCache
from sim.domain.errors import ConfigError
from sim.runs.configs import load_group
from sim.runs.design import GROUPS, PERTURBATION, SweepSpec, cross_protocols, run_table

if TYPE_CHECKING:  # pragma: no cover
    from sim.runs.spec import RunSpec

#: Outcome columns every run has (MODEL.md §6); outcome_<issue>, utility_<actor> and
#: disagreement_<actor> depend on the scenario.
OUTCOME_COLUMNS = ("agreement", "rounds", "nash_product", "distance_to_nash", "pareto_efficient",
                   "distance_to_pareto", "bargaining_range", "bargaining_range_empty", "deal_gap")


# --------------------------------------------------------------------------------------------------
# Building one run's config
# --------------------------------------------------------------------------------------------------


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
            config[parameter.key] = load_group(parameter.key, str(values[parameter.column]),
                                               config_dirs=config_dirs)
    if spec.protocols:  # protocol=all: this point's protocol, with the settings given for all it has
        from sim.runs.spec import all_params, shared_settings

        name = str(values["protocol"])
        config["protocol"] = {**load_group("protocol", name, config_dirs=config_dirs),
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
    references: tuple[str, ...] | None = None  # the reference columns its rows compute (RunSpec.references)
    #: (path the config names, where it is read from now): a results folder's input copies, for reproduce
    relocated: tuple[tuple[str, str], ...] = ()

    def shard_path(self, index: int) -> Path:
        return self.folder / "shards" / f"shard-{index:06d}.parquet"

    def failure_path(self, index: int) -> Path:
        return self.folder / "failures" / f"shard-{index:06d}.parquet"


_POINT_SPECS = BoundedCache("sim.runs.sweep.planning.point_spec", 512)  # (design hash, point values) -> spec


def point_spec(context: SweepContext, values: Mapping[str, Any]) -> "RunSpec":
    """The run specification of a design point (seed 0; each run sets its own), cached per process by
    the design's content hash and the point's values — never by object identity."""
    from sim.runs.spec import specs_from_config

    key = (context.digest or design_hash(context.spec, context.base),
           tuple(sorted((k, repr(plain(v))) for k, v in values.items())), context.references,
           context.relocated)

    def build() -> "RunSpec":
        config = point_config(context.base, context.spec, values, context.config_dirs, context.source)
        swept = "scenario" in [p.key for p in context.spec.parameters]
        (spec,) = specs_from_config(config, source=None if swept else context.scenario_file,  # (protocol=all
                                    relocated=dict(context.relocated))
        return spec.with_references(context.references)  # is crossed into the design: SweepSpec.protocols)

    return _POINT_SPECS.get_or_compute(key, build)


def plain(value: Any) -> Any:
    """A numpy scalar as the Python value it holds (rows and cache keys hold plain values)."""
    return value.item() if isinstance(value, np.generic) else value


# --------------------------------------------------------------------------------------------------
# Planning and checking the whole design
# --------------------------------------------------------------------------------------------------


def design_hash(spec: SweepSpec, base: Mapping[str, Any]) -> str:
    text = json.dumps({"spec": spec.to_dict(), "base": base}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def plan(folder: Path, spec: SweepSpec, base: Mapping[str, Any], config_dirs: Sequence[Path] = (),
         source: str = "configs/sweep", scenario_file: str | None = None) -> SweepContext:
    """The sweep's context (design, seeds, base config), without creating any file."""
    spec = cross_protocols(spec, base, source)
    return SweepContext(folder=Path(folder), spec=spec, base=dict(base), runs=run_table(spec),
                        digest=design_hash(spec, base), config_dirs=tuple(str(d) for d in config_dirs),
                        source=source, scenario_file=scenario_file, references=spec.references)


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
            where = ", ".join(f"{k}={plain(v)!r}" for k, v in values.items())
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

