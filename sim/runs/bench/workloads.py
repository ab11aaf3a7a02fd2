"""The workloads researchers run, each timed side by side with the code path it replaced, in one process
(``python -m experiments.bench workloads``; docs/performance.md, "Workloads").

- **calibration**: ``calibrate=jan2022_resolve``'s simulation function (:class:`sim.runs.calibration.Simulator`)
  on fresh particles (every particle a new scenario, as in a calibration), its runs computing no reference
  solution (the default) against the full rows (``references="all"``, the previous path); the two give the
  same summary statistics, checked here.
- **scenario load**: a 25-actor scenario file loaded and checked against its schema
  (:func:`sim.runs.configs.typed`) against OmegaConf's merge into the schema (:func:`sim.runs.configs.load_merged`).
- **scenario batch**: an ``eu`` batch over one-issue scenarios of 25 actors in one folder of 353 (as the DEU
  issues would be), each loaded, checked and run three times with its rows: both of the above together.
- **random offers**: ``sweep=mechanisms``'s runs (``offers`` on ``jan2022``, recognition order, belief noise
  0.1, the 7 mechanism settings), every point's first replicates run as the sweep runs them
  (:func:`sim.runs.batch.run_block`), with the previous order of the proposer's questions and every program
  built afresh (``OffersProtocol.skip_doomed = False``, ``sim.kernels.programs.solvers.REBUILD = True``,
  ``solvers.HOT = False``: :func:`offers_path`) and with this code's; the rows are compared against the stated
  tolerance (:func:`compare_offers_rows`), and how many differ is reported.
- **scenario folder**: the content key of a scenario in a folder of 353 (:func:`sim.runs.configs._content_digest`,
  the file and its parents) against the previous key, which hashed every YAML file of the folder for every
  point of a sweep over them.

Timings alternate previous / new, and each cell is the median of ``repeats``; CPU time of this process.
"""

from __future__ import annotations

import contextlib
import hashlib
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from sim.runs.bench.timing import markdown_table, verdict


def previous_folder_digest(path: Path) -> str:
    """The content key of ``load_group`` before: the file and every YAML file beside it."""
    digest = hashlib.sha256(path.read_bytes() + b"\0")
    for file in sorted(path.parent.glob("*.yaml")):
        digest.update(file.name.encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()


def _cpu(function) -> float:
    start = time.process_time()
    function()
    return time.process_time() - start


def bench_calibration(particles: int = 30, repeats: int = 3) -> dict[str, Any]:
    """Simulations per CPU second of jan2022_resolve's simulation function, without and with references."""
    from sim.runs import calibration
    from sim.runs.configs import base_config, compose_config

    cfg = compose_config(["calibrate=jan2022_resolve"])
    from omegaconf import OmegaConf

    spec = calibration.spec_from_config(OmegaConf.to_container(cfg.calibrate, resolve=True), "calibrate")
    base = base_config(cfg, also=("calibrate",))
    simulators = {name: calibration.Simulator(calibration.sweep_context(spec, base, Path("."), references=refs), spec)
                  for name, refs in (("new", ()), ("previous", "all"))}
    rng = np.random.default_rng(2022)

    def draw() -> list[dict[str, float]]:  # fresh particles: every one a new scenario, as in a calibration
        return [{p.column: float(np.exp(rng.uniform(np.log(p.low), np.log(p.high))) if p.kind == "loguniform"
                                 else rng.uniform(p.low, p.high)) for p in spec.parameters} for _ in range(particles)]

    for simulator in simulators.values():
        simulator(draw()[0])  # imports and per-process set-up out of the timings
    times: dict[str, list[float]] = {"previous": [], "new": []}
    for _ in range(repeats):
        batch = draw()
        outputs = {}
        for name in ("previous", "new"):
            outputs[name] = []
            times[name].append(_cpu(lambda: outputs[name].extend(simulators[name](p) for p in batch)))
        if outputs["previous"] != outputs["new"]:
            raise AssertionError("the calibration's summary statistics differ without the references")
    runs = particles * spec.replicates
    return {name: runs / statistics.median(t) for name, t in times.items()} | {"runs": runs}


def bench_scenario_folder(files: int = 353, asked: int = 60, repeats: int = 3) -> dict[str, Any]:
    """Seconds per point of the scenario content key in a folder of ``files`` scenarios, previous and new
    (``asked`` of them keyed, as a sweep's points key theirs)."""
    from sim.runs import configs

    text = configs.group_file("scenario", "jan2022").read_text()
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for index in range(files):
            path = Path(folder) / f"s{index:03d}.yaml"
            path.write_text(text.replace("id: jan2022", f"id: s{index:03d}", 1))
            paths.append(path)
        chosen = paths[:: max(1, files // asked)][:asked]
        times: dict[str, list[float]] = {"previous": [], "new": []}
        for _ in range(repeats):
            times["previous"].append(_cpu(lambda: [previous_folder_digest(p) for p in chosen]))
            times["new"].append(_cpu(lambda: [configs._content_digest(p) for p in chosen]))
    return {name: statistics.median(t) / len(chosen) for name, t in times.items()} | {"files": files}


def scenario_yaml(actors: int = 25, issues: int = 11, seed: int = 1) -> str:
    """A scenario file of ``actors`` x ``issues`` as a user writes one: positions, saliences, capabilities,
    an outside option and red lines for some (numbers from :func:`sim.runs.bench.timing.random_problem`)."""
    import yaml

    from sim.runs.bench.timing import random_problem

    positions, saliences, capabilities = random_problem(actors, issues, seed)
    ids = [f"i{k}" for k in range(issues)]
    data = {"id": f"random_{actors}x{issues}", "name": "random", "issues": {
        i: {"label": i, "status_quo": 50, "low": "none", "high": "all"} for i in ids}, "actors": {}}
    for a in range(actors):
        actor = {"name": f"actor {a}", "capability": round(float(capabilities[a]), 3),
                 "position": {i: round(float(positions[a, k]), 1) for k, i in enumerate(ids)},
                 "salience": {i: round(float(saliences[a, k]), 2) for k, i in enumerate(ids)}}
        if a % 5 == 0:
            actor["red_lines"] = {ids[0]: {"min": 10}}
            actor["outside_option"] = {"kind": "reservation", "value": 0.3}
        data["actors"][f"a{a:02d}"] = actor
    return yaml.safe_dump(data, sort_keys=False)


def bench_scenario_load(repeats: int = 5) -> dict[str, Any]:
    """CPU seconds to load and check a 25-actor, 11-issue scenario file: merged into its schema by OmegaConf
    (previous) and by :func:`sim.runs.configs.typed` (new); the two give the same containers, checked here."""
    from sim.runs import configs

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "random.yaml"
        path.write_text(scenario_yaml())
        new = configs._load("scenario", path, True, str(path), None)
        if new != configs.load_merged("scenario", path, True, str(path), None):
            raise AssertionError("the scenario's containers differ from OmegaConf's")
        times: dict[str, list[float]] = {"previous": [], "new": []}
        for _ in range(repeats):
            times["previous"].append(_cpu(lambda: configs.load_merged("scenario", path, True, str(path), None)))
            times["new"].append(_cpu(lambda: configs._load("scenario", path, True, str(path), None)))
    return {name: statistics.median(t) for name, t in times.items()}


def bench_scenario_batch(files: int = 353, asked: int = 40, replicates: int = 3) -> dict[str, Any]:
    """Seconds of CPU per scenario of an ``eu`` batch over one-issue scenarios of 25 actors, all in one folder
    of ``files`` (as the DEU issues would be): each scenario loaded from its file and checked, then run
    ``replicates`` times as a block with its full outcome rows. Previous: the folder-wide content key and
    OmegaConf's merge into the schema; new: this code. ``asked`` scenarios of the folder are timed, both paths
    on the same ones, alternately, with every cache emptied before each path; the rows must be equal."""
    from unittest import mock

    from sim.domain.cache import clear_all
    from sim.domain.scenario import scenario_from_config
    from sim.runs import configs
    from sim.runs.batch import run_block
    from sim.runs.spec import RunSpec

    def batch(paths: list[Path]) -> list[dict[str, Any]]:
        rows = []
        for path in paths:
            scenario = scenario_from_config(configs.load_group("scenario", path), source=str(path))
            spec = RunSpec(scenario, "eu", rounds=20, seed=0, record_rounds=False, record_events=False)
            rows.extend(run_block(spec, list(range(replicates))))
        return rows

    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for index in range(files):
            path = Path(folder) / f"issue{index:03d}.yaml"
            path.write_text(scenario_yaml(25, 1, seed=index).replace("random_25x1", f"issue{index:03d}"))
            paths.append(path)
        chosen = paths[:: max(1, files // asked)][:asked]
        out: dict[str, Any] = {}
        rows: dict[str, list] = {}
        for name in ("previous", "new"):
            clear_all()
            if name == "previous":
                with mock.patch.object(configs, "_content_digest", previous_folder_digest), \
                        mock.patch.object(configs, "_load", configs.load_merged):
                    out[name] = _cpu(lambda: rows.setdefault(name, batch(chosen))) / len(chosen)
            else:
                out[name] = _cpu(lambda: rows.setdefault(name, batch(chosen))) / len(chosen)
        if rows["previous"] != rows["new"]:
            raise AssertionError("the batch's rows differ")
    return out | {"files": files, "asked": len(chosen)}


def bench_offers_mechanisms(per_point: int = 20, repeats: int = 3) -> dict[str, Any]:
    """Runs per CPU second of ``sweep=mechanisms`` at one worker: the first ``per_point`` replicates of each
    of its 7 points, run block by block as the sweep runs them, on the previous path and on this code,
    alternately, every cache emptied before each timing (so each path pays its scenarios' first solves). The
    two paths' rows are compared (:func:`compare_offers_rows`): same endings, numbers within
    :data:`sim.kernels.programs.solvers.HOT_TOLERANCE` of their column's scale; the result says how many
    runs differ at all and by how much, and ``within`` whether all are within the tolerance."""
    from sim.domain.cache import clear_all
    from sim.runs.batch import run_block
    from sim.runs.bench.sweeps import compose_sweep, point_groups

    with tempfile.TemporaryDirectory() as folder:
        groups = list(point_groups(compose_sweep(["sweep=mechanisms"])(folder), per_point))
    run_block(groups[0][0], groups[0][1][:1])  # imports and per-process set-up out of the timings
    runs = sum(len(seeds) for _, seeds in groups)
    times: dict[str, list[float]] = {"previous": [], "new": []}
    rows: dict[str, list] = {}
    for _ in range(repeats):
        for name in ("previous", "new"):
            with offers_path(name):
                clear_all()
                rows[name] = []
                times[name].append(_cpu(lambda: [rows[name].extend(run_block(spec, seeds))
                                                 for spec, seeds in groups]))
    return ({name: runs / statistics.median(t) for name, t in times.items()} | {"runs": runs}
            | compare_offers_rows(rows["previous"], rows["new"]))


@contextlib.contextmanager
def offers_path(name: str) -> Iterator[None]:
    """The random-offers code path ``name`` for the duration of a ``with``: "previous" (before issue 25's
    offers work: the acceptable bundle asked first, every program built afresh, each level combination
    solved in turn by :func:`~sim.kernels.programs.solvers.solve_warm`), "warm" (the doomed question skipped
    and programs re-bounded, still bitwise the previous answers), "hot" (the hot models of
    :func:`~sim.kernels.programs.solvers.solve_hot`: answers to a tolerance, not the default) or "new" (this
    code's default: ``solvers.HOT``)."""
    from unittest import mock

    from sim.engine.protocols.offers import OffersProtocol
    from sim.kernels.programs import solvers

    skip, rebuild, hot = {"previous": (False, True, False), "warm": (True, False, False),
                          "new": (True, False, solvers.HOT), "hot": (True, False, True)}[name]
    with mock.patch.object(OffersProtocol, "skip_doomed", skip), mock.patch.object(solvers, "REBUILD", rebuild), \
            mock.patch.object(solvers, "HOT", hot):
        yield


def compare_offers_rows(previous: list[dict], new: list[dict], tolerance: float | None = None) -> dict[str, Any]:
    """Two paths' outcome rows of the same runs, compared: every column that is not a float (agreement,
    ending, rounds, causes, the Pareto verdict, ...) must be equal, and every float column within
    ``tolerance`` (default :data:`~sim.kernels.programs.solvers.HOT_TOLERANCE`) times its scale (the larger of
    1 and its largest magnitude in ``previous``: bundles on their 0-100 scales, values within [-2, 1]), NaN
    where NaN. Returns the runs, how many differ at all, the float columns that differ with their largest
    difference, the columns (not floats) that differ, and ``within``."""
    import pandas as pd

    from sim.kernels.programs.solvers import HOT_TOLERANCE

    tolerance = HOT_TOLERANCE if tolerance is None else tolerance
    a, b = pd.DataFrame(previous), pd.DataFrame(new)
    if list(a.columns) != list(b.columns) or len(a) != len(b):
        return {"compared": len(a), "differ": len(a), "columns": {}, "exact_columns": ["(the columns or runs)"],
                "within": False}
    differ = np.zeros(len(a), dtype=bool)
    largest: dict[str, float] = {}
    exact: list[str] = []
    within = True
    for column in a.columns:
        x, y = a[column], b[column]
        if x.dtype.kind == "f":
            xv, yv = x.to_numpy(float), y.to_numpy(float)
            same = (xv == yv) | (np.isnan(xv) & np.isnan(yv))  # infinities equal to themselves
            with np.errstate(invalid="ignore"):
                gap = np.where(same, 0.0, np.abs(xv - yv))
            gap = np.where(np.isnan(gap), np.inf, gap)
            changed = gap > 0
            if changed.any():
                differ |= changed
                largest[column] = float(gap.max())
                scale = max(1.0, float(np.nanmax(np.abs(xv))) if np.isfinite(xv).any() else 1.0)
                within &= bool(gap.max() <= tolerance * scale)
        else:
            changed = ~((x == y) | (x.isna() & y.isna())).to_numpy(bool)
            if changed.any():
                differ |= changed
                exact.append(column)
                within = False
    return {"compared": len(a), "differ": int(differ.sum()), "columns": largest, "exact_columns": exact,
            "within": within}


def offers_highs_share(per_point: int = 20) -> dict[str, dict[str, float]]:
    """Where the mechanisms workload's CPU goes, per path: runs per CPU second, HiGHS runs (``Highs.run``
    calls) and the share of the CPU inside them, every cache emptied first (docs/performance.md, "Random
    offers")."""
    from unittest import mock

    import highspy

    from sim.domain.cache import clear_all
    from sim.runs.batch import run_block
    from sim.runs.bench.sweeps import compose_sweep, point_groups

    with tempfile.TemporaryDirectory() as folder:
        groups = list(point_groups(compose_sweep(["sweep=mechanisms"])(folder), per_point))
    run_block(groups[0][0], groups[0][1][:1])
    solve = highspy.Highs.run
    counted = {"calls": 0, "cpu": 0.0}

    def run(self):
        start = time.process_time()
        try:
            return solve(self)
        finally:
            counted["calls"] += 1
            counted["cpu"] += time.process_time() - start

    out = {}
    with mock.patch.object(highspy.Highs, "run", run):
        for name in ("previous", "new"):
            with offers_path(name):
                clear_all()
                counted.update(calls=0, cpu=0.0)
                seconds = _cpu(lambda: [run_block(spec, seeds) for spec, seeds in groups])
            runs = sum(len(seeds) for _, seeds in groups)
            out[name] = {"runs_per_s": runs / seconds, "highs_runs_per_run": counted["calls"] / runs,
                         "highs_share": counted["cpu"] / seconds}
    return out


def offers_path_dependence(per_point: int = 3) -> dict[str, float]:
    """Why the level combinations are solved warm, in order, each time: the proposer's and walk-out programs
    of the mechanisms workload's first ``per_point`` runs per point, answered as
    :func:`sim.kernels.programs.solvers.solve_warm` answers them, and again with every level combination
    solved from a fresh model (what pruning combinations or sharing one model across runs would amount to).
    Returns how many answers differ at all and the largest difference in a bundle."""
    import numpy as np

    from sim.kernels.programs import builder, highs, solvers
    from sim.runs.batch import run_block
    from sim.runs.bench.sweeps import compose_sweep, point_groups

    with tempfile.TemporaryDirectory() as folder:
        groups = list(point_groups(compose_sweep(["sweep=mechanisms"])(folder), per_point))
    asked = []
    warm = solvers.solve_warm

    def recording(program, goal, shortfall, combinations):
        answer = warm(program, goal, shortfall, combinations)
        asked.append((program, goal, shortfall, combinations, answer))
        return answer

    from unittest import mock

    with mock.patch.object(solvers, "solve_warm", recording), offers_path("warm"):
        for spec, seeds in groups:
            run_block(spec, seeds)

    def fresh(program, goal, shortfall, combinations):
        best = None
        for fixed in combinations:
            b, parts = builder.build(program, goal, shortfall, {}, fixed)
            costs = builder.cost(goal, len(b.lower), parts)
            slack_value = 0.0
            if shortfall:
                first = np.zeros(len(costs))
                first[parts.slack] = 1.0
                x = highs.solve(b, first)
                if x is None:
                    continue
                slack_value = float(x[parts.slack])
                b.upper[parts.slack] = slack_value + 1e-9
            x = highs.solve(b, costs)
            if x is None:
                continue
            if solvers._better(slack_value, -float(costs @ x), best):
                best = (x, slack_value, -float(costs @ x), parts)
        if best is None:
            return None
        bundle = solvers.clean(program, np.array([best[0][col] for col in best[3].z]), best[3])
        return bundle

    differ, largest = 0, 0.0
    for program, goal, shortfall, combinations, answer in asked:
        bundle = fresh(program, goal, shortfall, combinations)
        if (answer is None) != (bundle is None):
            differ += 1
            largest = float("inf")
        elif answer is not None and not np.array_equal(answer.bundle, bundle):
            differ += 1
            largest = max(largest, float(np.max(np.abs(answer.bundle - bundle))))
    return {"programs": len(asked), "differ": differ, "largest_bundle_difference": largest}


def bench_workloads(quick: bool = False) -> str:
    """The workloads' table: previous and new path, ratio, target met or missed."""
    import sys

    calibration = bench_calibration(10 if quick else 30)
    print(f"calibration: {calibration}", file=sys.stderr)
    folder = bench_scenario_folder(asked=10 if quick else 60)
    print(f"scenario folder: {folder}", file=sys.stderr)
    load = bench_scenario_load()
    print(f"scenario load: {load}", file=sys.stderr)
    batch = bench_scenario_batch(asked=8 if quick else 40)
    print(f"scenario batch: {batch}", file=sys.stderr)
    offers = bench_offers_mechanisms(3 if quick else 20, 1 if quick else 3)
    print(f"random offers: {offers}", file=sys.stderr)
    rows = [
        ["calibration `jan2022_resolve`, simulation function (runs per CPU s)",
         f"{calibration['previous']:.1f}", f"{calibration['new']:.1f}",
         f"{calibration['new'] / calibration['previous']:.2f}x", ">= 2x (the command in half the time)",
         verdict(calibration["new"] >= 2 * calibration["previous"])],
        [f"scenario content key in a folder of {folder['files']} (ms of CPU per point)",
         f"{folder['previous'] * 1000:.2f}", f"{folder['new'] * 1000:.3f}",
         f"{folder['previous'] / folder['new']:.0f}x", "(part of: 353-scenario batch >= 2x)", "-"],
        ["a 25-actor, 11-issue scenario file loaded and checked (ms of CPU)", f"{load['previous'] * 1000:.1f}",
         f"{load['new'] * 1000:.1f}", f"{load['previous'] / load['new']:.0f}x", "< 15 ms", verdict(load["new"] < 0.015)],
        [f"`eu` batch of one-issue, 25-actor scenarios in a folder of {batch['files']} ({batch['asked']} timed; "
         "load, 3 runs, rows: ms of CPU per scenario)", f"{batch['previous'] * 1000:.0f}", f"{batch['new'] * 1000:.0f}",
         f"{batch['previous'] / batch['new']:.2f}x", ">= 2x", verdict(batch["previous"] >= 2 * batch["new"])],
        [f"random offers `sweep=mechanisms`, 1 worker ({offers['runs']} runs: 7 points; runs per CPU s; rows: "
         f"{offers['differ']} differ from the previous path's, "
         f"{'all within' if offers['within'] else 'NOT all within'} the stated tolerance)",
         f"{offers['previous']:.1f}", f"{offers['new']:.1f}", f"{offers['new'] / offers['previous']:.2f}x",
         ">= 3x, rows within tolerance",
         verdict(offers["new"] >= 3 * offers["previous"] and offers["within"])],
    ]
    rows += eu_block_rows(bench_eu_block_rows(1000 if quick else 10_000))
    print("eu block rows: done", file=sys.stderr)
    sweep, calibration = bench_sweep_workers(), bench_calibration_workers()
    print(f"workers: sweep {sweep}, calibration {calibration}", file=sys.stderr)
    rows += workers_rows(sweep, calibration)
    return (markdown_table(["workload", "previous path", "this code", "ratio", "target", "verdict"], rows)
            + "\n\n" + scale_table(quick))


# --------------------------------------------------------------------------------------------------
# Scale: the Nash reference at large N, one run of each protocol as N grows, a perturbation sweep
# --------------------------------------------------------------------------------------------------


def _previous_nash():
    """The Nash reference's previous path for linear utilities: SLSQP on the dense matrix per level
    combination (:func:`sim.kernels.programs.solvers.nash_smooth`, still the path for ρ > 1)."""
    from unittest import mock

    from sim.kernels.programs import nash, solvers

    return mock.patch.object(nash, "nash_exact", solvers.nash_smooth)


def bench_nash(sizes: tuple[int, ...] = (10, 30, 100), issues: int = 11,
               previous_up_to: int = 100) -> list[dict]:
    """CPU seconds of the Nash reference (:func:`sim.kernels.solutions.nash_solution`, the u* programs
    included, every cache emptied first) on random scenarios of N actors x ``issues`` with d = 0 (every
    actor gains: the hard case), previous path and new; the bundles must agree to 1e-3 of the scale."""
    from sim.domain.cache import clear_all
    from sim.kernels.solutions import nash_solution
    from sim.runs.bench.timing import random_scenario

    out = []
    for n in sizes:
        scenario = random_scenario(n, issues, 1)
        d = np.zeros(n)
        row: dict[str, Any] = {"actors": n}
        bundles = {}
        names = ("previous", "new") if n <= previous_up_to else ("new",)
        for name in names:
            clear_all()
            if name == "previous":
                with _previous_nash():
                    row[name] = _cpu(lambda: bundles.setdefault(name, nash_solution(scenario, d)))
            else:
                row[name] = _cpu(lambda: bundles.setdefault(name, nash_solution(scenario, d)))
        if "previous" in bundles:
            row["difference"] = float(np.abs(bundles["previous"] - bundles["new"]).max())
            if row["difference"] > 1e-3:
                raise AssertionError(f"the Nash points differ by {row['difference']} at N={n}")
        out.append(row)
    return out


def bench_nash_own_outside(sizes: tuple[int, ...] = (10, 30, 100), issues: int = 11) -> list[dict]:
    """CPU seconds of the best values u* alone and of the whole Nash reference (u* included, every cache
    emptied first) on :func:`scenario_yaml`'s N-actor scenarios with d = each actor's own outside option
    (most actors gain nothing there: the no-gain test is the u* programs), previous path (one cold program
    per actor, ``solutions.COLD_BEST``) and new (one model re-solved warm); the u* must agree to 1e-12 and
    the Nash points bitwise (the no-gain actors are the same)."""
    from unittest import mock

    from sim.domain.cache import clear_all
    from sim.domain.scenario import scenario_from_config
    from sim.kernels import solutions
    from sim.kernels.utility import disagreement_values
    from sim.runs import configs

    out = []
    with tempfile.TemporaryDirectory() as folder:
        for n in sizes:
            path = Path(folder) / f"random{n}.yaml"
            path.write_text(scenario_yaml(n, issues))
            scenario = scenario_from_config(configs.load_group("scenario", path), source=str(path))
            d = disagreement_values(scenario)
            row: dict[str, Any] = {"actors": n}
            found: dict[str, Any] = {}
            for name, cold in (("previous", True), ("new", False)):
                with mock.patch.object(solutions, "COLD_BEST", cold):
                    clear_all()
                    row[f"{name}_best"] = _cpu(lambda: found.setdefault(f"{name}_best",
                                                                        solutions.best_values(scenario, d)))
                    clear_all()
                    row[name] = _cpu(lambda: found.setdefault(name, solutions.nash_solution(scenario, d)))
            clear_all()
            old, new = found["previous_best"], found["new_best"]
            row["no_gain"] = int(np.sum(new <= d + solutions.GAIN_TOLERANCE))
            row["difference"] = float(np.abs(old - new).max()) if np.all(np.isfinite(old)) else 0.0
            if not np.array_equal(np.isfinite(old), np.isfinite(new)) or row["difference"] > 1e-12:
                raise AssertionError(f"the best values differ by {row['difference']} at N={n}")
            if (found["previous"] is None) != (found["new"] is None) or (
                    found["new"] is not None and not np.array_equal(found["previous"], found["new"])):
                raise AssertionError(f"the Nash points differ at N={n}")
            out.append(row)
    return out


def best_values_differences(big: tuple[int, ...] = (1, 2)) -> dict[str, Any]:
    """The largest difference between the best values u* of the warm model and of the cold programs
    (``solutions.COLD_BEST``): the shipped scenarios with d = their own outside options, the status quo's
    values and 0; :func:`random_scenario` of 3-10 actors; :func:`scenario_yaml` of 5-50 actors (own, status
    quo, 0); and 100 actors (own, 0) for each seed in ``big``. Also counts the cases that are not bitwise
    equal and those where the feasibility or the no-gain actors differ (none may)."""
    from unittest import mock

    import sim
    from sim.domain.cache import clear_all
    from sim.domain.scenario import scenario_from_config
    from sim.kernels import solutions
    from sim.kernels.utility import disagreement_values, status_quo_values
    from sim.runs import configs
    from sim.runs.bench.timing import random_scenario

    def from_yaml(n: int, seed: int):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "random.yaml"
            path.write_text(scenario_yaml(n, 11, seed))
            return scenario_from_config(configs.load_group("scenario", path), source=str(path))

    cases = []
    for name in ("ec_emissions", "jan2022", "jan2022_core", "jan2022_extended", "jan2022_no_red_lines",
                 "pie_majority", "pie_two", "classroom/arms_control_first", "classroom/deadline_pressure",
                 "classroom/jan2022", "classroom/neutral_ukraine", "classroom/united_vs_divided_west",
                 "classroom/warmup_two_by_two"):
        s = sim.load_scenario(name)
        cases += [(name, s, d) for d in (disagreement_values(s), status_quo_values(s), np.zeros(s.n_actors))]
    for seed in range(8):
        s = random_scenario(3 + seed, 2 + seed % 4, seed)
        cases += [(f"random {seed}", s, d) for d in (disagreement_values(s), status_quo_values(s),
                                                     np.full(s.n_actors, 0.2))]
    for n, seed in ((5, 1), (10, 2), (25, 3), (30, 4), (50, 5)):
        s = from_yaml(n, seed)
        cases += [(f"scenario_yaml {n}", s, d)
                  for d in (disagreement_values(s), status_quo_values(s), np.zeros(n))]
    for seed in big:
        s = from_yaml(100, seed)
        cases += [(f"scenario_yaml 100 seed {seed}", s, d) for d in (disagreement_values(s), np.zeros(100))]
    out: dict[str, Any] = {"cases": len(cases), "largest": 0.0, "where": "", "not_bitwise": 0, "flips": 0}
    for name, s, d in cases:
        found = {}
        for cold in (True, False):
            clear_all()
            with mock.patch.object(solutions, "COLD_BEST", cold):
                found[cold] = solutions.best_values(s, d)
        clear_all()
        old, new = found[True], found[False]
        finite = np.isfinite(old)
        if not np.array_equal(finite, np.isfinite(new)) or not np.array_equal(
                old <= d + solutions.GAIN_TOLERANCE, new <= d + solutions.GAIN_TOLERANCE):
            out["flips"] += 1
        out["not_bitwise"] += int(not np.array_equal(old, new))
        difference = float(np.abs(old[finite] - new[finite]).max()) if finite.any() else 0.0
        if difference > out["largest"]:
            out["largest"], out["where"] = difference, name
    return out


def nash_own_outside_rows(own: list[dict]) -> list[list[str]]:
    """The rows of :func:`bench_nash_own_outside` in the scale table (target: under 3 s at 100 actors)."""
    rows = []
    for row in own:
        met = row["new"] < 3.0 if row["actors"] == 100 else None
        rows.append([f"Nash reference, {row['actors']} actors x 11 issues, d = own outside options "
                     f"({row['no_gain']} gain nothing; CPU s, the u* programs alone in brackets; "
                     f"max u* difference {row['difference']:.1e})",
                     f"{row['previous']:.2f} ({row['previous_best']:.2f})",
                     f"{row['new']:.2f} ({row['new_best']:.2f})", f"{row['previous'] / row['new']:.1f}x",
                     "< 3 s" if row["actors"] == 100 else "-", "-" if met is None else verdict(met)])
    return rows


def bench_protocol_scaling(sizes: tuple[int, ...] = (4, 10, 30, 100), issues: int = 11,
                           stop_after: float = 30.0) -> list[dict]:
    """CPU seconds of one run (20-round limit, every reference column) of ``eu``, ``offers`` and ``exchange``
    on :func:`scenario_yaml`'s N-actor scenarios, caches emptied first; a protocol's N stops growing once a
    run takes over ``stop_after`` seconds (a run is cut at 5x that: reported as over)."""
    import signal

    from sim.domain.cache import clear_all
    from sim.domain.scenario import scenario_from_config
    from sim.runs import configs
    from sim.runs.batch import run_block
    from sim.runs.spec import RunSpec

    class Cut(Exception):
        pass

    def cut(*_):
        raise Cut

    out = []
    with tempfile.TemporaryDirectory() as folder:
        scenarios = {}
        for n in sizes:
            path = Path(folder) / f"random{n}.yaml"
            path.write_text(scenario_yaml(n, issues))
            scenarios[n] = scenario_from_config(configs.load_group("scenario", path), source=str(path))
        for protocol in ("eu", "offers", "exchange"):
            for n in sizes:
                clear_all()
                spec = RunSpec(scenarios[n], protocol, rounds=20, seed=0, record_rounds=False,
                               record_events=False)
                previous = signal.signal(signal.SIGALRM, cut)
                signal.alarm(int(5 * stop_after))
                start = time.process_time()
                try:
                    run_block(spec, [0])
                    seconds, over = time.process_time() - start, False
                except Cut:
                    seconds, over = time.process_time() - start, True
                finally:
                    signal.alarm(0)
                    signal.signal(signal.SIGALRM, previous)
                out.append({"protocol": protocol, "actors": n, "seconds": seconds, "cut": over})
                if over or seconds > stop_after:
                    break
    return out


def bench_perturbation(replicates: int = 8) -> dict[str, Any]:
    """Runs per CPU second of ``sweep=perturbation`` (``eu`` on jan2022 with every input perturbed: every run
    a new scenario, so its reference solutions are computed anew), one worker, previous Nash path and new."""
    from sim.domain.cache import clear_all
    from sim.runs.bench.sweeps import timed_sweep

    overrides = ["sweep=perturbation", f"sweep.replicates={replicates}"]
    out: dict[str, Any] = {}
    for name in ("previous", "new"):
        clear_all()
        if name == "previous":
            with _previous_nash():
                found = timed_sweep(overrides)
        else:
            found = timed_sweep(overrides)
        out[name] = found["runs"] / sum(found["cpu"])
        out["runs"] = found["runs"]
    return out


def scale_table(quick: bool = False) -> str:
    """The scale workloads' table: the Nash reference against SLSQP, protocols against N, the perturbation sweep."""
    import sys

    from sim.runs.bench.timing import load_average

    print(f"load average before the scale workloads: {load_average()}", file=sys.stderr)
    nash = bench_nash(previous_up_to=30 if quick else 100)
    print(f"nash: {nash}", file=sys.stderr)
    own = bench_nash_own_outside()
    print(f"nash, own outside options: {own}", file=sys.stderr)
    scaling = bench_protocol_scaling(stop_after=10.0 if quick else 30.0)
    print(f"protocols: {scaling}", file=sys.stderr)
    sweep = bench_perturbation(4 if quick else 8)
    print(f"perturbation: {sweep}", file=sys.stderr)
    rows = []
    for row in nash:
        previous = row.get("previous")
        met = row["new"] < 3.0 if row["actors"] == 100 else None
        rows.append([f"Nash reference, {row['actors']} actors x 11 issues, d = 0 (CPU s; max bundle difference "
                     f"{row.get('difference', float('nan')):.1e})",
                     "-" if previous is None else f"{previous:.2f}", f"{row['new']:.2f}",
                     "-" if previous is None else f"{previous / row['new']:.0f}x",
                     "< 3 s" if row["actors"] == 100 else "-", "-" if met is None else verdict(met)])
    rows += nash_own_outside_rows(own)
    for protocol in ("eu", "offers", "exchange"):
        found = [r for r in scaling if r["protocol"] == protocol]
        cells = ", ".join(f"N={r['actors']}: {'over ' if r['cut'] else ''}{r['seconds']:.2f}" for r in found)
        over = [r["actors"] for r in found if r["cut"] or r["seconds"] > 10.0]
        rows.append([f"one `{protocol}` run, N actors x 11 issues, 20 rounds, every reference (CPU s)", "-", cells,
                     "-", "say where over 10 s", f"over 10 s from N={over[0]}" if over
                     else f"under 10 s up to N={found[-1]['actors']}"])
    rows.append([f"`sweep=perturbation` ({sweep['runs']} runs, 1 worker: runs per CPU s)", f"{sweep['previous']:.2f}",
                 f"{sweep['new']:.2f}", f"{sweep['new'] / sweep['previous']:.2f}x", "-", "-"])
    return markdown_table(["workload", "previous path", "this code", "ratio", "target", "verdict"], rows)


# --------------------------------------------------------------------------------------------------
# Workers that pay on real sweeps and calibrations (issue 25, point 6), and eu blocks (point 5)
# --------------------------------------------------------------------------------------------------


def timed_calibration(workers: int, population: int | None = None, generations: int | None = None) -> dict[str, Any]:
    """``calibrate=jan2022_resolve`` as shipped (or with ``population`` and ``generations``), without predictive
    runs or figures (:func:`sim.runs.calibration.calibrate` itself), in a temporary folder: wall seconds, CPU
    seconds of this process and of its workers, and the posterior and populations (to compare across worker
    counts)."""
    import resource

    from omegaconf import OmegaConf

    from sim.runs import calibration
    from sim.runs.configs import base_config, compose_config

    overrides = ["calibrate=jan2022_resolve", "calibrate.predictive=0"]
    overrides += [f"calibrate.population={population}"] if population else []
    overrides += [f"calibrate.generations={generations}"] if generations else []
    cfg = compose_config(overrides)
    spec = calibration.spec_from_config(OmegaConf.to_container(cfg.calibrate, resolve=True), "calibrate")
    base = base_config(cfg, also=("calibrate",))
    with tempfile.TemporaryDirectory() as folder:
        start, own = time.perf_counter(), time.process_time()
        history = calibration.calibrate(Path(folder) / "out", spec, base, workers=workers)
        seconds, own = time.perf_counter() - start, time.process_time() - own
        posterior = calibration.posterior_table(history, spec)
        populations = calibration.populations_table(history)[["t", "epsilon", "samples", "particles"]]
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"seconds": seconds, "cpu": own, "workers_cpu": children.ru_utime + children.ru_stime,
            "simulations": int(populations["samples"].sum()) + spec.population, "population": spec.population,
            "generations": len(populations), "posterior": posterior, "populations": populations}


def bench_calibration_workers(population: int | None = None, generations: int | None = None,
                              repeats: int = 3) -> dict[str, Any]:
    """:func:`timed_calibration` with 1 and then 2 workers, each in a fresh process, ``repeats`` times in turn;
    the run of median wall time of each (one run of 2 workers against one of 1 varies by 10-15 % on a shared
    2-core machine). Every run's posterior and populations must be those of the first, bit for bit."""
    import pandas as pd

    from sim.runs.bench.timing import in_fresh_process, load_average

    load = load_average()
    runs: dict[str, list[dict[str, Any]]] = {"one": [], "two": []}
    first = None
    for _ in range(repeats):
        for name, workers in (("one", 1), ("two", 2)):
            result = in_fresh_process(timed_calibration, workers, population, generations)
            tables = (result.pop("posterior"), result.pop("populations"))
            if first is None:
                first = tables
            for mine, theirs in zip(tables, first):
                pd.testing.assert_frame_equal(mine, theirs, check_exact=True)
            runs[name].append(result)
    median = {name: sorted(results, key=lambda r: r["seconds"])[len(results) // 2] for name, results in runs.items()}
    return median | {"load": load, "repeats": repeats,
                     "walls": {name: [round(r["seconds"], 1) for r in results] for name, results in runs.items()}}


def bench_sweep_workers(overrides: tuple[str, ...] = ("sweep=mechanisms",)) -> dict[str, Any]:
    """A whole sweep (plan, shards, runs.parquet: :func:`sim.runs.bench.sweeps.timed_sweep`) with 1 and then 2
    workers, each in a fresh process: wall and CPU seconds per process."""
    from sim.runs.bench.sweeps import timed_sweep
    from sim.runs.bench.timing import in_fresh_process, load_average

    load = load_average()
    one = in_fresh_process(timed_sweep, list(overrides), 1)
    two = in_fresh_process(timed_sweep, list(overrides), 2)
    return {"one": one, "two": two, "load": load}


def workers_rows(sweep: dict[str, Any], calibration: dict[str, Any]) -> list[list[str]]:
    """The workers' rows of the workloads table (1 worker is the previous path, 2 this one)."""
    def cpu(result: dict[str, Any]) -> str:
        return "; ".join(f"{s:.1f}" for s in result["cpu"])

    over_sweep = sweep["one"]["seconds"] / sweep["two"]["seconds"]
    over_calibration = calibration["one"]["seconds"] / calibration["two"]["seconds"]
    return [
        [f"`sweep=mechanisms`, 2 workers against 1 (wall s; CPU s per process: {cpu(sweep['one'])} / "
         f"{cpu(sweep['two'])}; load {sweep['load']})", f"{sweep['one']['seconds']:.1f}",
         f"{sweep['two']['seconds']:.1f}", f"{over_sweep:.2f}x", ">= 1.7x", verdict(over_sweep >= 1.7)],
        [f"calibration `jan2022_resolve`, population {calibration['one']['population']}, "
         f"{calibration['one']['generations']} generations, {calibration['one']['simulations']} simulations, "
         f"2 workers against 1 (median wall s of {calibration['repeats']} in turn: "
         f"{'/'.join(map(str, calibration['walls']['one']))} against "
         f"{'/'.join(map(str, calibration['walls']['two']))}; CPU s main {calibration['one']['cpu']:.1f} / main "
         f"{calibration['two']['cpu']:.1f} + workers {calibration['two']['workers_cpu']:.1f}; load "
         f"{calibration['load']}; histories equal)",
         f"{calibration['one']['seconds']:.1f}", f"{calibration['two']['seconds']:.1f}", f"{over_calibration:.2f}x",
         ">= 1.8x", verdict(over_calibration >= 1.8)],
    ]


def bench_eu_block_rows(runs: int = 10_000) -> dict[str, Any]:
    """CPU seconds of the outcome rows of one ``eu`` block of ``runs`` runs (the sweep benchmark's eu design:
    jan2022, 20-round limit, scored against the record): built for the whole block
    (:func:`sim.runs.batch.block_rows`, this code) against read off one restored model run by run
    (:meth:`sim.runs.spec.RunSpec.row`, the previous path), on the same advanced chunks; the rows must be equal."""
    from sim.runs.batch import CHUNK, block_rows
    from sim.runs.bench.sweeps import Sizes, compose_sweep, point_groups
    from sim.runs.bench.timing import REPO

    sizes = Sizes.of(False)
    (spec, seeds), = point_groups(compose_sweep(sizes.eu + [f"sweep.replicates={runs}"])(REPO))
    from sim.runs.batch import run_block

    run_block(spec, seeds[:2])  # the scenario's reference solutions, once per process, out of the timings
    spec.with_seed(seeds[0]).row(spec.with_seed(seeds[0]).build().run())
    times = {"previous": 0.0, "new": 0.0}
    for start in range(0, len(seeds), CHUNK):
        chunk = seeds[start:start + CHUNK]
        template = spec.with_seed(chunk[0]).build()
        state = template.protocol.advance_runs([np.random.default_rng(s) for s in chunk])
        began = time.process_time()
        new = block_rows(spec, template, state, chunk)
        times["new"] += time.process_time() - began
        began = time.process_time()
        previous = []
        for index, seed in enumerate(chunk):
            template.protocol.restore(state, index)
            previous.append(spec.with_seed(seed).row(template))
        times["previous"] += time.process_time() - began
        if previous != new and not _same_rows(previous, new):
            raise AssertionError("the block's rows differ from the rows run by run")
    return times | {"runs": len(seeds)}


def _same_rows(a: list[dict], b: list[dict]) -> bool:
    """Equal rows, NaN equal to NaN (``==`` on dicts holding NaN is False)."""
    import pandas as pd

    try:
        pd.testing.assert_frame_equal(pd.DataFrame(a), pd.DataFrame(b), check_exact=True)
    except AssertionError:
        return False
    return True


def eu_block_rows(found: dict[str, Any]) -> list[list[str]]:
    return [[f"outcome rows of an `eu` block of {found['runs']} runs (jan2022, 20 rounds, scored; CPU s)",
             f"{found['previous']:.2f}", f"{found['new']:.2f}", f"{found['previous'] / found['new']:.0f}x",
             "(part of: `eu` sweep >= 20x `batch_run`)", "-"]]
