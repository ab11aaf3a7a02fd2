"""The DEU benchmark's runs: every protocol and reference solution on every DEU III issue with an observed
outcome, as one table of per-issue predictions (docs/explanation/validation.md).

Units of work are proposals. Each shard of proposals is computed in one process (``workers`` processes at
most) and written atomically to ``shards/`` of the results folder, so a killed benchmark resumes where it
stopped; a folder holding another benchmark's shards (other settings) is refused. Replicates of a protocol
run as one block of seeds (:func:`sim.runs.batch.run_block`), reading only the bundle off each model.

Models (``MODELS``): the ``eu`` protocol (standard, with replicates, and Scholz) on each issue's view; ``offers``
with the Commission as agenda setter and the proposal's consent rule (``consent=weighted``: the Council's
qualified majority of the regime or unanimity, the Parliament's consent under co-decision) on proposals whose
issues all have a reference point (no agreement: the reference point, what no law leaves); ``exchange`` on
proposals with two issues or more; and the reference solutions per issue: compromise (c·s-weighted mean),
weighted median, asymmetric Nash and Kalai-Smorodinsky with d = u(reference point) (issues with one) and
d = 0, bargaining weights c·s, and the reference point itself. Candidates of the one tuned model (the
compromise with the Commission and Parliament weighted by a factor, chosen by cross-validation in
:mod:`sim.analysis.validation`) are rows with ``family == "candidate"``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from sim.domain.cache import memo
from sim.domain.csv_import import NO_STATUS_QUO
from sim.domain.errors import ConfigError

PROTOCOL_MODELS = ("eu_standard", "eu_scholz", "offers", "exchange")
REFERENCE_MODELS = ("compromise", "weighted_median", "nash_rp", "nash_0", "ks_rp", "ks_0", "reference_point")
MODELS = PROTOCOL_MODELS + REFERENCE_MODELS
#: The factors the tuned compromise chooses among: the Commission's and Parliament's capability times this.
SUPRANATIONAL_FACTORS = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0)
SHARD = 8  # proposals per shard


@dataclass(frozen=True)
class BenchmarkSettings:
    """``configs/benchmark/deu.yaml`` (schema: :class:`sim.domain.config.BenchmarkConfig`)."""

    name: str = "deu"
    capability: str = "votes"  # votes | population | equal | gdp (sim.domain.datasets.CAPABILITIES)
    supranational: str = "largest"  # largest | council (sim.domain.datasets.SUPRANATIONAL)
    proposals: int = 0  # the first n proposals of the file; 0 = all 141
    replicates: int = 3  # seeds of the protocols that draw (eu standard); the others are deterministic
    rounds: int = 20  # round limit of every protocol run
    deadline: int = 10  # offers: rounds before breakdown
    strategy: str = "linear"  # offers: the actors' concession strategy
    seed: int = 0  # master seed: run seeds, cross-validation folds, bootstrap
    folds: int = 5  # k of the k-fold cross-validation by proposal
    bootstrap: int = 2000  # resamples of proposals for the intervals
    workers: int = 1  # processes
    models: tuple[str, ...] = ()  # () = every model
    out: str | None = None  # results folder (default: Hydra's run dir); re-run on it to resume
    progress: bool = True

    @classmethod
    def from_mapping(cls, cfg: Mapping[str, Any] | None, source: str = "configs/benchmark/deu.yaml"
                     ) -> "BenchmarkSettings":
        """Settings from a config node, checked (unknown keys, ranges, choices, model names)."""
        from sim.domain.datasets import CAPABILITIES, SUPRANATIONAL
        from sim.domain.strategies import STRATEGIES

        data = dict(cfg or {})
        allowed = [f.name for f in fields(cls)]
        for key in data:
            if key not in allowed:
                raise ConfigError(source, f"benchmark.{key}", f"unknown key; allowed: {', '.join(allowed)}")
        data["models"] = tuple(str(m) for m in (data.get("models") or ()))
        settings = cls(**data)
        if settings.name != "deu":
            raise ConfigError(source, "benchmark.name", f"{settings.name!r}; allowed: deu")
        for key, options in (("capability", CAPABILITIES), ("supranational", SUPRANATIONAL),
                             ("strategy", tuple(STRATEGIES))):
            if getattr(settings, key) not in options:
                raise ConfigError(source, f"benchmark.{key}", f"{getattr(settings, key)!r}; allowed: {', '.join(options)}")
        for key, low in (("proposals", 0), ("replicates", 1), ("rounds", 1), ("deadline", 1), ("seed", 0),
                         ("folds", 2), ("bootstrap", 10), ("workers", 1)):
            value = getattr(settings, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ConfigError(source, f"benchmark.{key}", f"{value!r}; allowed: a whole number >= {low}")
        for model in settings.models:
            if model not in MODELS:
                raise ConfigError(source, "benchmark.models", f"unknown model {model!r}; allowed: {', '.join(MODELS)}")
        return settings

    @property
    def chosen(self) -> tuple[str, ...]:
        return self.models or MODELS

    def digest(self) -> str:
        """What the predictions depend on (not the folder, workers, progress, folds or bootstrap)."""
        data = {k: v for k, v in asdict(self).items() if k not in ("out", "workers", "progress", "folds", "bootstrap")}
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


def proposal_ids(settings: BenchmarkSettings) -> list[str]:
    from sim.domain.datasets import deu3_table

    ids = list(dict.fromkeys(deu3_table()["proposal"]))
    return ids[: settings.proposals] if settings.proposals else ids


def _seeds(seed: int, index: int, count: int) -> list[int]:
    """Run seeds of issue ``index`` (its row in the file), independent of which proposals are run."""
    return [int(s) for s in np.random.SeedSequence([seed, index]).generate_state(count)]


def _bundle(spec: Any, model: Any) -> dict[str, Any]:
    """What a run gives the benchmark: the seed, the bundle on the table and whether it is an agreement."""
    outcome = model.outcome()
    return {"seed": spec.seed, "bundle": np.asarray(outcome.bundle, float), "agreement": bool(outcome.agreement)}


def proposal_predictions(pid: str, settings: BenchmarkSettings) -> list[dict[str, Any]]:
    """Every chosen model's predictions for the issues of one proposal that have an outcome."""
    from sim.domain.datasets import read_deu3
    from sim.kernels.solutions import compromise, kalai_smorodinsky, nash_solution, scenario_median
    from sim.runs.batch import run_block
    from sim.runs.spec import RunSpec

    data = read_deu3()
    index = {issue.issue: row for row, issue in enumerate(data.issues)}
    issues = [i for i in data.issues if i.proposal == pid]
    scored = {i.issue for i in issues if i.outcome is not None}
    if not scored:
        return []
    chosen = settings.chosen
    views = {v.id: v for v in _views(pid, settings.capability, settings.supranational)}
    rows: list[dict[str, Any]] = []

    def add(model: str, family: str, issue: str, predicted: float | None, replicate: int = 0,
            seed: int | None = None, parameter: float | None = None, agreement: bool | None = None) -> None:
        rows.append({"model": model, "family": family, "proposal": pid, "issue": issue, "replicate": replicate,
                     "seed": seed, "parameter": parameter, "agreement": agreement,
                     "predicted": np.nan if predicted is None else float(predicted)})

    for issue_id in [i.issue for i in issues if i.issue in scored]:
        view = views[issue_id]
        has_reference = view.issues[0].note != NO_STATUS_QUO
        weight = view.capabilities * view.saliences[:, 0]
        if "compromise" in chosen:
            add("compromise", "reference", issue_id, float(compromise(view.positions, weight[:, None])[0]))
            supranational = np.isin(view.actor_ids, ("com", "ep"))
            for factor in SUPRANATIONAL_FACTORS:
                scaled = weight * np.where(supranational, factor, 1.0)
                add("compromise_cv", "candidate", issue_id, float(compromise(view.positions, scaled[:, None])[0]),
                    parameter=factor)
        if "weighted_median" in chosen:
            add("weighted_median", "reference", issue_id, float(scenario_median(view)[0]))
        for name, solver in (("nash", nash_solution), ("ks", kalai_smorodinsky)):
            for d_name in ("rp", "0"):
                model = f"{name}_{d_name}"
                if model not in chosen or (d_name == "rp" and not has_reference):
                    continue
                if d_name == "rp":
                    d = None  # u(status quo) = u(reference point): the library's default disagreement
                else:
                    d = np.zeros(view.n_actors)
                found = solver(view, d, weight) if name == "nash" else solver(view, d)
                add(model, "reference", issue_id, None if found is None else float(found[0]))
        if "reference_point" in chosen and has_reference:
            add("reference_point", "reference", issue_id, view.status_quo[0])
        for variant in ("standard", "scholz"):
            model = f"eu_{variant}"
            if model not in chosen:
                continue
            spec = RunSpec(view, protocol="eu", params={"variant": variant}, rounds=settings.rounds,
                           record_rounds=False, record_events=False, source=data.source)
            seeds = _seeds(settings.seed, index[issue_id], settings.replicates)
            for replicate, row in enumerate(run_block(spec, seeds, _bundle)):
                add(model, "protocol", issue_id, row["bundle"][0], replicate, row["seed"])
    bundle_models = [m for m in ("offers", "exchange") if m in chosen]
    if bundle_models:
        scenario = _proposal(pid, settings.capability, settings.supranational)
        complete = all(issue.note != NO_STATUS_QUO for issue in scenario.issues)
        runs = []
        if "offers" in bundle_models and complete:
            setter = "com" if "com" in scenario.actor_ids else ""
            runs.append(("offers", scenario, {"order": "setter", "setter": setter, "consent": "weighted",
                                              "deadline": settings.deadline}))
        if "exchange" in bundle_models and scenario.n_issues >= 2:
            # exchange never uses a status quo; a missing reference point keeps its placeholder, unmarked
            plain = replace(scenario, issues=tuple(replace(issue, note="placeholder status quo (exchange does not use it)")
                                                   if issue.note == NO_STATUS_QUO else issue
                                                   for issue in scenario.issues))
            runs.append(("exchange", plain, {}))
        for model, scenario_used, params in runs:
            spec = RunSpec(scenario_used, protocol=model, params=params, rounds=settings.rounds,
                           strategy=settings.strategy, record_rounds=False, record_events=False, source=data.source)
            seeds = _seeds(settings.seed, index[issues[0].issue] + 10_000, settings.replicates)
            for replicate, row in enumerate(run_block(spec, seeds, _bundle)):
                bundle = row["bundle"]
                if model == "offers" and not row["agreement"]:
                    bundle = scenario_used.status_quo  # no law: the reference point
                for k, issue_id in enumerate(scenario_used.issue_ids):
                    if issue_id in scored:
                        add(model, "protocol", issue_id, bundle[k], replicate, row["seed"], agreement=row["agreement"])
    return rows


def _views(pid: str, capability: str, supranational: str) -> tuple:
    """The per-issue views of a proposal."""
    return _views_by_proposal(capability, supranational).get(pid, ())


@memo(maxsize=4)
def _views_by_proposal(capability: str, supranational: str) -> dict[str, tuple]:
    """Every proposal's per-issue views, built once per process and setting."""
    from sim.domain.datasets import deu3_issues, read_deu3

    proposal_of = {i.issue: i.proposal for i in read_deu3().issues}
    grouped: dict[str, list] = {}
    for view in deu3_issues(capability=capability, supranational=supranational):
        grouped.setdefault(proposal_of[view.id], []).append(view)
    return {p: tuple(v) for p, v in grouped.items()}


def _proposal(pid: str, capability: str, supranational: str):
    return _proposals(capability, supranational)[pid]


@memo(maxsize=4)
def _proposals(capability: str, supranational: str) -> dict[str, Any]:
    """Every proposal's scenario (its issues as one bundle), built once per process and setting."""
    from sim.domain.datasets import deu3

    return {s.id: s for s in deu3(capability=capability, supranational=supranational)}


def _shard(pids: Sequence[str], settings: BenchmarkSettings) -> pd.DataFrame:
    rows = [row for pid in pids for row in proposal_predictions(pid, settings)]
    return pd.DataFrame(rows, columns=["model", "family", "proposal", "issue", "replicate", "seed", "parameter",
                                       "agreement", "predicted"])


def _work(args: tuple) -> tuple[int, int, float]:
    """One shard: (index, proposals, CPU seconds it took)."""
    import time

    index, pids, settings, path = args
    from sim.runs.results import write_parquet

    started = time.process_time()
    frame = _shard(pids, settings)
    write_parquet(frame, Path(path))
    return index, len(pids), time.process_time() - started


def predictions(settings: BenchmarkSettings, folder: Path,
                progress: Callable[[int], None] | None = None) -> pd.DataFrame:
    """Per-issue predictions of every chosen model (rows of ``_shard``), computed shard by shard into
    ``folder/shards`` (resumed when the shards are there), with the observed outcome and the issue's facts.
    ``frame.attrs["worker_cpu"]``: CPU seconds spent in worker processes (0 when none ran)."""
    from sim.domain.datasets import deu3_table

    folder = Path(folder)
    stamp = folder / "benchmark.json"
    if stamp.exists() and json.loads(stamp.read_text()).get("digest") != settings.digest():
        raise ConfigError(str(folder), "benchmark.out", "this folder holds a benchmark with other settings; "
                                                        "choose another benchmark.out= folder")
    folder.mkdir(parents=True, exist_ok=True)
    stamp.write_text(json.dumps({"digest": settings.digest(), "settings": asdict(settings)}, indent=2, default=str))
    pids = proposal_ids(settings)
    shards = [(i, pids[start:start + SHARD], settings, str(folder / "shards" / f"shard-{i:04d}.parquet"))
              for i, start in enumerate(range(0, len(pids), SHARD))]
    (folder / "shards").mkdir(exist_ok=True)
    pending = [s for s in shards if not Path(s[3]).exists()]
    if progress:
        progress(sum(len(s[1]) for s in shards if Path(s[3]).exists()))
    worker_cpu = 0.0
    if settings.workers > 1 and len(pending) > 2:  # a pool (its start costs a second or two) for more than 16 proposals
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["sim.runs.benchmark", "sim.runs.batch", "sim.engine.model",
                                        "sim.kernels.solutions", "sim.domain.datasets"])
        with ProcessPoolExecutor(max_workers=settings.workers, mp_context=context) as pool:
            futures = [pool.submit(_work, s) for s in pending]
            for future in as_completed(futures):
                _, count, seconds = future.result()
                worker_cpu += seconds
                if progress:
                    progress(count)
    else:
        for shard in pending:
            _, count, _ = _work(shard)
            if progress:
                progress(count)
    frame = pd.concat([pd.read_parquet(s[3]) for s in shards], ignore_index=True)
    table = deu3_table()
    frame = frame.merge(table[["issue", "procedure", "rule", "proposal_rule", "regime", "reference", "outcome"]],
                        on="issue", how="left")
    frame["error"] = (frame["predicted"] - frame["outcome"]).abs()
    frame.attrs["worker_cpu"] = worker_cpu
    return frame
