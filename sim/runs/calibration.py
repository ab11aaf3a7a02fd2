"""Calibration to the observed record by ABC-SMC (pyabc), on the sweep engine's runs.

Which parameter values are consistent with what was observed? Approximate Bayesian computation with
sequential Monte Carlo (Toni et al. 2009; Klinger, Rickert & Hasenauer 2018, pyabc) draws parameters from
their priors, simulates, and keeps the draws whose simulation lies within a shrinking distance of the
record; the kept draws of the last generation approximate the posterior. Here:

* the parameters are config keys (``scenario.actors.russia.outside_option.optimism``) with priors
  (``configs/calibrate/<name>.yaml``);
* one simulation is one sweep run (:func:`sim.runs.sweep.execute_run`: the same model building, seeding and
  score columns as a sweep); its distance is :func:`sim.runs.scoring.combined_distance` (trajectory MAE in
  0-100 points, outcome class, end round), and its rows compute no reference solution (:func:`sweep_context`);
* a particle is simulated ``replicates`` times, as one block (:func:`sim.runs.sweep.execute_block`: the rows
  of one run at a time, computed together); each run's seed is a child of the master seed keyed by the
  particle's parameter values and the replicate (:func:`simulation_seed`), stored with its summary
  statistics in the history; the distance is the mean over the replicates;
* the history is pyabc's SQLite database ``abc.db`` in the results folder: re-running on the folder loads
  it (``ABCSMC.load``) and continues with the next generation.

pyabc's own draws (proposals) use numpy's global generator, seeded at every generation from the master seed
and the generation (:func:`generation_seed`): a calibration is the same history every time, killed and
resumed at any generation or not, and with any number of workers: pyabc's single-core loop always decides,
in this process; workers only compute ahead the simulations it is going to ask for
(:mod:`sim.runs.calibration_sampler`, which also makes pyabc's draws without its per-call overhead).
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from sim.domain.errors import ConfigError
from sim.runs.design import column_name
from sim.runs.scoring import DEFAULT_WEIGHTS, combined_distance

PRIORS = ("uniform", "loguniform")
SUMMARY = ("distance", "agreement", "rounds", "mae", "outcome_match", "end_round_error")


@dataclass(frozen=True)
class Prior:
    """One calibrated config key with its prior: uniform or log-uniform on [low, high]."""

    key: str
    kind: str
    low: float
    high: float

    @property
    def column(self) -> str:
        """snake_case column name (as in a sweep's runs table)."""
        return column_name(self.key)

    def rv(self) -> Any:
        """pyabc's random variable of the prior (its density at a point computed without scipy's overhead:
        :func:`sim.runs.calibration_sampler.random_variable`, the same values)."""
        from sim.runs.calibration_sampler import random_variable

        if self.kind == "loguniform":
            return random_variable("loguniform", self.low, self.high)
        return random_variable("uniform", self.low, self.high - self.low)


@dataclass(frozen=True)
class CalibrationSpec:
    """A calibration (``configs/calibrate/<name>.yaml``, key ``calibrate``)."""

    name: str
    parameters: tuple[Prior, ...]
    seed: int = 0
    population: int = 100
    generations: int = 4
    min_epsilon: float = 0.0
    max_simulations: int = 0
    weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    predictive: int = 30
    replicates: int = 1
    epsilons: tuple[float, ...] = ()  # a fixed threshold per generation; () = pyabc's adaptive median
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "seed": self.seed, "population": self.population,
                "generations": self.generations, "min_epsilon": self.min_epsilon,
                "max_simulations": self.max_simulations, "distance": dict(self.weights),
                "predictive": self.predictive, "replicates": self.replicates, "epsilons": list(self.epsilons),
                "parameters": {p.key: {"prior": p.kind, "low": p.low, "high": p.high} for p in self.parameters}}

    def identity(self, base: Mapping[str, Any]) -> str:
        """Hash of what makes a history: priors, seed, population size, distance and the base config (not
        the stopping rules, so a finished calibration can be extended by more generations)."""
        data = {k: v for k, v in self.to_dict().items() if k not in ("generations", "max_simulations",
                                                                     "min_epsilon", "predictive", "epsilons")}
        text = json.dumps({"spec": data, "base": base}, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def spec_from_config(node: Mapping[str, Any], source: str) -> CalibrationSpec:
    """Validate a ``calibrate`` node (plain dict); errors name the file and key."""
    data = dict(node or {})
    raw = data.get("parameters") or {}
    priors = []
    for key, entry in raw.items():
        where = f"calibrate.parameters.{key}"
        if entry is None:  # left out: 'calibrate.parameters={strategy.exponent:null}' drops one from the command line
            continue
        if not isinstance(entry, Mapping):
            raise ConfigError(source, where, "give {prior: uniform|loguniform, low: <number>, high: <number>}")
        extra = set(entry) - {"prior", "low", "high"}
        if extra:
            raise ConfigError(source, f"{where}.{sorted(extra)[0]}", "unknown key; allowed: prior, low, high")
        kind = str(entry.get("prior", "uniform"))
        if kind not in PRIORS:
            raise ConfigError(source, f"{where}.prior", f"unknown prior {kind!r}; allowed: {', '.join(PRIORS)}")
        try:
            low, high = float(entry["low"]), float(entry["high"])
        except (KeyError, TypeError, ValueError):
            raise ConfigError(source, where, "give numbers low and high") from None
        if not low < high:
            raise ConfigError(source, where, f"low ({low:g}) must be below high ({high:g})")
        if kind == "loguniform" and low <= 0:
            raise ConfigError(source, f"{where}.low", f"{low:g}; a log-uniform prior needs low > 0")
        priors.append(Prior(str(key), kind, low, high))
    if not priors:
        raise ConfigError(source, "calibrate.parameters", "give at least one parameter: config key -> {prior, low, high}")
    weights = {**DEFAULT_WEIGHTS, **(data.get("distance") or {})}
    for name, value in weights.items():
        if name not in DEFAULT_WEIGHTS:
            raise ConfigError(source, f"calibrate.distance.{name}", f"unknown term; allowed: {', '.join(DEFAULT_WEIGHTS)}")
        if not float(value) >= 0:
            raise ConfigError(source, f"calibrate.distance.{name}", f"{value}; must be >= 0")
    for key, least in (("population", 2), ("generations", 1), ("predictive", 0), ("max_simulations", 0),
                       ("replicates", 1)):
        if int(data.get(key, least)) < least:
            raise ConfigError(source, f"calibrate.{key}", f"{data[key]}; must be >= {least}")
    epsilons = tuple(float(e) for e in (data.get("epsilons") or ()))
    if epsilons:
        if any(not e > 0 for e in epsilons) or any(b >= a for a, b in zip(epsilons, epsilons[1:])):
            raise ConfigError(source, "calibrate.epsilons", f"{list(epsilons)}; give decreasing thresholds > 0")
        if int(data.get("generations", 4)) > len(epsilons):
            raise ConfigError(source, "calibrate.generations", f"{data.get('generations')}; at most one generation "
                                                                f"per threshold in calibrate.epsilons ({len(epsilons)})")
    return CalibrationSpec(
        name=str(data.get("name") or "calibration"), parameters=tuple(priors), seed=int(data.get("seed", 0)),
        population=int(data.get("population", 100)), generations=int(data.get("generations", 4)),
        min_epsilon=float(data.get("min_epsilon", 0.0)), max_simulations=int(data.get("max_simulations", 0)),
        weights={k: float(v) for k, v in weights.items()}, predictive=int(data.get("predictive", 30)),
        replicates=int(data.get("replicates", 1)), epsilons=epsilons,
        description=str(data.get("description") or ""))


def sweep_context(spec: CalibrationSpec, base: Mapping[str, Any], folder: Path, references: Any = ()) -> Any:
    """The calibration as a sweep context: its parameters as continuous sweep parameters, no design.

    ``references``: the reference columns its runs compute (``RunSpec.references``). None by default: the
    distance reads only the score columns, and every particle is a new scenario, so a reference solution
    (the Nash point, the deal gap, ...) would be computed afresh for each and thrown away. ``"all"``: the
    full rows (the previous path, which ``python -m experiments.bench workloads`` times against)."""
    from sim.engine.metrics import check_references
    from sim.runs.design import Parameter, SweepSpec
    from sim.runs.sweep import SweepContext, design_hash

    sweep = SweepSpec(name=spec.name, parameters=tuple(Parameter(p.key, low=p.low, high=p.high)
                                                      for p in spec.parameters), seed=spec.seed)
    return SweepContext(folder=Path(folder), spec=sweep, base=dict(base), runs=pd.DataFrame(),
                        digest=design_hash(sweep, base), references=check_references(references))


def check_parameters(spec: CalibrationSpec, base: Mapping[str, Any], source: str) -> None:
    """Every parameter path must name a number in the composed config, and the scenario must build at
    both ends of every prior (so a bad path or range ends here, not in a worker).

    Raises:
        ConfigError: naming the calibration file and ``calibrate.parameters.<key>``.
    """
    from sim.domain.scenario import scenario_from_config
    from sim.runs.sweep import point_config

    context = sweep_context(spec, base, Path("."))
    for prior in spec.parameters:
        where = f"calibrate.parameters.{prior.key}"
        node: Any = base
        for part in prior.key.split("."):
            node = node.get(part) if isinstance(node, Mapping) else None
            if node is None:
                raise ConfigError(source, where, f"unknown config key (no {part!r} on this path); give the "
                                                 "dotted path of a number, e.g. scenario.actors.russia.outside_option.cost")
        if isinstance(node, bool) or not isinstance(node, (int, float)):
            raise ConfigError(source, where, f"the config value there is {node!r}, not a number")
    lows = {p.column: p.low for p in spec.parameters}
    for prior in spec.parameters:
        for value in (prior.low, prior.high):
            config = point_config(base, context.spec, {**lows, prior.column: value})
            try:
                scenario_from_config(config["scenario"])
            except ConfigError as error:
                raise ConfigError(source, f"calibrate.parameters.{prior.key}",
                                  f"{value:g} is not allowed there ({error.problem})") from None
    # One simulation in this process, so that what every simulation would share (a protocol key the
    # protocol does not have, ...) ends here in one line, not in a sampler worker.
    from sim.runs.sweep import execute_run

    execute_run(context, {"run_index": 0, "point": 0, "replicate": 0, "seed": spec.seed, **lows})


def simulation_seed(master: int, values: np.ndarray, replicate: int = 0) -> int:
    """The seed of one simulation: a child of ``SeedSequence(master)`` keyed by the parameter values' bits and
    the replicate, so the same particle under the same master seed re-runs exactly. 52 bits, so that pyabc's
    history (which stores summary statistics as floats) records it exactly."""
    words = np.ascontiguousarray(np.asarray(values, dtype=np.float64)).view(np.uint32)
    child = np.random.SeedSequence(master, spawn_key=(*(int(w) for w in words), int(replicate)))
    return int(child.generate_state(1, dtype=np.uint64)[0] >> np.uint64(12))


class Simulator:
    """pyabc's model: parameters -> summary statistics of ``spec.replicates`` sweep runs (picklable for the
    workers). The distance is the mean over the replicates of :func:`sim.runs.scoring.combined_distance`, so a
    particle's outcome term is 20 x the share of its runs that do not end as the record: a graded distance
    where one run would give only match / no match (and ABC's threshold would stall on the ties)."""

    def __init__(self, context: Any, spec: CalibrationSpec):
        self.context, self.spec = context, spec
        self.ahead: Any = None  # simulations computed ahead by workers (sim.runs.calibration_sampler.Stream)

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "ahead": None}

    def __call__(self, parameters: Mapping[str, float]) -> dict[str, float]:
        values = {p.column: float(parameters[p.column]) for p in self.spec.parameters}
        known = self.ahead.answer(values) if self.ahead is not None else None
        return self.simulate(values) if known is None else known

    def simulate(self, values: Mapping[str, float]) -> dict[str, float]:
        """The summary statistics of one particle (``values``: parameter column -> value). Its replicates run
        as one block (:func:`sim.runs.sweep.execute_block`: the rows of one run at a time, computed together)."""
        from sim.runs.sweep import execute_block

        vector = np.array(list(values.values()))
        seeds = [simulation_seed(self.spec.seed, vector, replicate) for replicate in range(self.spec.replicates)]
        rows = execute_block(self.context, [{"run_index": 0, "point": 0, "replicate": replicate, "seed": seed,
                                             **values} for replicate, seed in enumerate(seeds)])
        out: dict[str, float] = {f"seed_{replicate}": float(seed) for replicate, seed in enumerate(seeds)}
        out.update({
            "distance": float(np.mean([combined_distance(row, self.spec.weights) for row in rows])),
            "agreement": float(np.mean([row["agreement"] for row in rows])),
            "rounds": float(np.mean([row["rounds"] for row in rows])),
            "mae": float(np.mean([row["score_mae"] for row in rows])),
            "outcome_match": float(np.mean([row["score_outcome_match"] for row in rows])),
            "end_round_error": float(np.mean([row["score_end_round_error"] for row in rows])),
        })
        return out


def summary_distance(simulated: Mapping[str, float], observed: Mapping[str, float]) -> float:
    """pyabc's distance: the simulation already scored itself against the record."""
    return float(simulated["distance"])


def calibrate(folder: Path, spec: CalibrationSpec, base: Mapping[str, Any], workers: int = 1) -> Any:
    """Run (or resume) the ABC-SMC calibration whose history is ``folder/abc.db``; returns the pyabc History.

    Raises:
        ConfigError: the folder holds a different calibration.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    identity = spec.identity(base)
    stamp = folder / "calibration.json"
    database = folder / "abc.db"
    if stamp.exists() and json.loads(stamp.read_text()).get("identity") != identity:
        raise ConfigError(str(folder), "calibrate.out", "this folder holds a different calibration (priors, seed, "
                                                        "population, distance or base config differ); choose another out=")
    simulator = Simulator(sweep_context(spec, base, folder), spec)
    pool = None
    if workers > 1:  # forked before pyabc is imported: they warm up (a first simulation) while it loads
        from sim.runs.calibration_workers import Workers

        pool = Workers(simulator, workers, warm={p.column: p.low for p in spec.parameters})
    try:
        import pyabc

        from sim.runs import calibration_sampler

        prior = pyabc.Distribution(**{p.column: p.rv() for p in spec.parameters})
        # (what the model answers for a proposal it only notes: rejected, and dropped by pyabc)
        rejected = {f"seed_{r}": 0.0 for r in range(spec.replicates)}
        rejected |= {name: float("inf") if name == "distance" else 0.0 for name in SUMMARY}
        sampler = calibration_sampler.sampler(lambda t: generation_seed(spec.seed, t), workers, simulator, rejected,
                                              pool=pool)
        epsilon = pyabc.epsilon.ListEpsilon(list(spec.epsilons)) if spec.epsilons else pyabc.epsilon.MedianEpsilon()
        abc = pyabc.ABCSMC(simulator, prior, summary_distance, model_prior=calibration_sampler.model_prior(),
                           transitions=calibration_sampler.transition(), population_size=spec.population,
                           sampler=sampler, eps=epsilon)
        url = f"sqlite:///{database.resolve()}"
        existing = pyabc.History(url).id if database.exists() else None
        if existing is not None:
            history = abc.load(url, existing)
        else:
            history = abc.new(url, {"distance": 0.0})
        _write_json(stamp, {"identity": identity, "abc_id": history.id, "spec": spec.to_dict()})
        remaining = spec.generations - (history.max_t + 1)
        if existing is not None:
            print(f"resuming: {history.max_t + 1} of {spec.generations} generations already done", file=sys.stderr)
        if remaining > 0:
            with calibration_sampler.kept_open(history):
                history = abc.run(minimum_epsilon=spec.min_epsilon, max_nr_populations=remaining,
                                  max_total_nr_simulations=spec.max_simulations or np.inf)
    finally:
        if simulator.ahead is not None:
            simulator.ahead.close()
        elif pool is not None:
            pool.close()
    return history


def generation_seed(master: int, t: int) -> int:
    """The seed of numpy's global generator for pyabc's generation ``t`` (-1: its calibration sample): a
    child of ``SeedSequence(master)``, so that each generation's draws depend on the master seed and the
    generations stored before it only, not on where a run started or was resumed."""
    return int(np.random.SeedSequence(master, spawn_key=(2, t + 1)).generate_state(1)[0])


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    from sim.runs.files import write_json

    write_json(path, data)


def posterior_table(history: Any, spec: CalibrationSpec) -> pd.DataFrame:
    """The last generation's particles: parameter columns (snake_case), weight (sums to 1), distance, the
    summary statistics (means over the particle's replicates) and the replicates' seeds (seed_0, ...)."""
    frame = history.get_population_extended(t="last")
    out = pd.DataFrame({p.column: frame[f"par_{p.column}"].to_numpy(dtype=float) for p in spec.parameters})
    out.insert(0, "generation", int(history.max_t))
    out["weight"] = frame["w"].to_numpy(dtype=float) / frame["w"].sum()
    for name in SUMMARY:
        out[name] = frame[f"sumstat_{name}"].to_numpy(dtype=float)
    for replicate in range(spec.replicates):  # the runs' seeds (52-bit, stored exactly as floats)
        out[f"seed_{replicate}"] = frame[f"sumstat_seed_{replicate}"].to_numpy(dtype=float).astype("int64")
    return out


def posterior_summary(posterior: pd.DataFrame, spec: CalibrationSpec, level: float = 0.9) -> pd.DataFrame:
    """Per parameter: weighted mean, sd and the central ``level`` interval of the posterior."""
    rows = []
    weights = posterior["weight"].to_numpy()
    for prior in spec.parameters:
        values = posterior[prior.column].to_numpy()
        mean = float(np.sum(weights * values))
        low, high = weighted_quantiles(values, weights, [(1 - level) / 2, (1 + level) / 2])
        rows.append({"parameter": prior.key, "prior": f"{prior.kind}[{prior.low:g}, {prior.high:g}]", "mean": mean,
                     "sd": float(np.sqrt(np.sum(weights * (values - mean) ** 2))), "low": low, "high": high})
    return pd.DataFrame(rows)


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, quantiles: list[float]) -> list[float]:
    """Quantiles of a weighted sample (inverse of the weighted empirical distribution, midpoint rule)."""
    order = np.argsort(values)
    values, weights = np.asarray(values)[order], np.asarray(weights, float)[order]
    cumulative = (np.cumsum(weights) - 0.5 * weights) / weights.sum()
    return [float(np.interp(q, cumulative, values)) for q in quantiles]


def predictive_runs(posterior: pd.DataFrame, spec: CalibrationSpec, base: Mapping[str, Any],
                    relocated: Mapping[str, str] | None = None, workers: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Posterior-predictive check: ``spec.predictive`` particles drawn by weight, each simulated with a fresh
    seed (children of the master seed) and its rounds recorded. Returns (runs, rounds), both with a ``draw``
    column; runs carry the parameter values and the score columns. ``relocated``: where a file the config
    names is read from now (reproduce: the folder's copies). ``workers`` > 1: the draws are run on that many
    processes forked from this one (the same tables: each draw is its own run, put back in order)."""
    if spec.predictive == 0 or posterior.empty:
        return pd.DataFrame(), pd.DataFrame()
    draw_seed, run_seed = np.random.SeedSequence(spec.seed, spawn_key=(1,)).spawn(2)
    picks = np.random.default_rng(draw_seed).choice(len(posterior), size=spec.predictive,
                                                    p=posterior["weight"].to_numpy())
    seeds = [int(s.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)) for s in run_seed.spawn(spec.predictive)]
    draws = [({p.column: float(posterior[p.column].iloc[index]) for p in spec.parameters}, seed)
             for index, seed in zip(picks, seeds)]
    job = _Predictive(spec, dict(base), dict(relocated) if relocated is not None else None)
    if workers > 1 and len(draws) > 1:
        import multiprocessing
        import os
        from concurrent.futures import ProcessPoolExecutor

        from sim.runs.lifeline import die_with

        # (its workers die with the calibration, however it ends: no orphans after kill -9)
        with ProcessPoolExecutor(min(workers, len(draws)), mp_context=multiprocessing.get_context("fork"),
                                 initializer=die_with, initargs=(os.getpid(),)) as pool:
            results = list(pool.map(job, draws, chunksize=max(1, len(draws) // (4 * workers))))
    else:
        results = [job(draw) for draw in draws]
    runs = [result.runs.assign(draw=draw, **values) for draw, ((values, _), result) in enumerate(zip(draws, results))]
    rounds = [result.rounds.assign(draw=draw) for draw, result in enumerate(results)]
    return pd.concat(runs, ignore_index=True), pd.concat(rounds, ignore_index=True)


@dataclass(frozen=True)
class _Predictive:
    """One posterior-predictive run: (parameter values, seed) -> its result (runs and rounds tables)."""

    spec: CalibrationSpec
    base: dict[str, Any]
    relocated: dict[str, str] | None

    def __call__(self, draw: tuple[dict[str, float], int]) -> Any:
        from omegaconf import OmegaConf

        from sim.runs.runner import run_config
        from sim.runs.sweep import point_config

        values, seed = draw
        config = point_config(self.base, sweep_context(self.spec, self.base, Path(".")).spec, values)
        config.update(seed=seed, record={**dict(config.get("record") or {}), "rounds": True, "events": False})
        result = run_config(OmegaConf.create(config), relocated=self.relocated)
        return _Tables(result.runs, result.rounds)


@dataclass(frozen=True)
class _Tables:
    runs: pd.DataFrame
    rounds: pd.DataFrame


def populations_table(history: Any) -> pd.DataFrame:
    """One row per stored generation: t, epsilon, simulations, particles, end time."""
    table = history.get_all_populations()
    return table[table["t"] >= 0].reset_index(drop=True)
