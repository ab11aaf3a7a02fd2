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
- **scenario folder**: the content key of a scenario in a folder of 353 (:func:`sim.runs.configs._content_digest`,
  the file and its parents) against the previous key, which hashed every YAML file of the folder for every
  point of a sweep over them.

Timings alternate previous / new, and each cell is the median of ``repeats``; CPU time of this process.
"""

from __future__ import annotations

import hashlib
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

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
    ]
    rows += eu_block_rows(bench_eu_block_rows(1000 if quick else 10_000))
    print("eu block rows: done", file=sys.stderr)
    sweep, calibration = bench_sweep_workers(), bench_calibration_workers()
    print(f"workers: sweep {sweep}, calibration {calibration}", file=sys.stderr)
    rows += workers_rows(sweep, calibration)
    return markdown_table(["workload", "previous path", "this code", "ratio", "target", "verdict"], rows)


# --------------------------------------------------------------------------------------------------
# Workers that pay on real sweeps and calibrations (issue 25, point 6), and eu blocks (point 5)
# --------------------------------------------------------------------------------------------------


def timed_calibration(workers: int, population: int = 30, generations: int = 2) -> dict[str, Any]:
    """``calibrate=jan2022_resolve`` with ``population`` and ``generations`` (no predictive runs, no figures:
    :func:`sim.runs.calibration.calibrate` itself) in a temporary folder: wall seconds, CPU seconds of this
    process and of its workers, and the posterior table (to compare across worker counts)."""
    import resource

    from omegaconf import OmegaConf

    from sim.runs import calibration
    from sim.runs.configs import base_config, compose_config

    cfg = compose_config(["calibrate=jan2022_resolve", f"calibrate.population={population}",
                          f"calibrate.generations={generations}", "calibrate.predictive=0"])
    spec = calibration.spec_from_config(OmegaConf.to_container(cfg.calibrate, resolve=True), "calibrate")
    base = base_config(cfg, also=("calibrate",))
    with tempfile.TemporaryDirectory() as folder:
        start, own = time.perf_counter(), time.process_time()
        history = calibration.calibrate(Path(folder) / "out", spec, base, workers=workers)
        seconds, own = time.perf_counter() - start, time.process_time() - own
        posterior = calibration.posterior_table(history, spec)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"seconds": seconds, "cpu": own, "workers_cpu": children.ru_utime + children.ru_stime,
            "posterior": posterior}


def bench_calibration_workers(population: int = 30, generations: int = 2) -> dict[str, Any]:
    """:func:`timed_calibration` with 1 and then 2 workers, each in a fresh process; the posteriors must be
    equal, bit for bit."""
    from sim.runs.bench.timing import in_fresh_process, load_average

    load = load_average()
    one = in_fresh_process(timed_calibration, 1, population, generations)
    two = in_fresh_process(timed_calibration, 2, population, generations)
    import pandas as pd

    pd.testing.assert_frame_equal(one.pop("posterior"), two.pop("posterior"), check_exact=True)
    return {"one": one, "two": two, "load": load}


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
        [f"calibration `jan2022_resolve`, population 30, 2 generations, 2 workers against 1 (wall s; CPU s "
         f"main {calibration['one']['cpu']:.1f} / main {calibration['two']['cpu']:.1f} + workers "
         f"{calibration['two']['workers_cpu']:.1f}; load {calibration['load']}; posteriors equal)",
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
