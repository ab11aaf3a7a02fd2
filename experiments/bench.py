"""Benchmarks (a script, not a timed test). Prints tables for docs/performance.md.

    python -m experiments.bench            # all benchmarks available
    python -m experiments.bench eu         # one eu round: vectorised kernel vs the plain-Python oracle
    python -m experiments.bench protocols  # full offers / exchange / eu runs on jan2022
    python -m experiments.bench sweep      # sweeps vs Mesa batch_run and a Hydra job per run, workers,
                                           # the block's limit, peak memory, every issue target met/missed
    python -m experiments.bench sweep --quick  # the same on a tenth of the sizes (for trying things)
    python -m experiments.bench exchange   # exchange runs: jan2022_extended, and 50 actors x 20 issues
    python -m experiments.bench offers     # offers runs: the first run of a scenario, then the others

``eu``: median wall time of one round for N = 10, 50, 200 actors and K = 1, 10 issues, for the
vectorised kernel (``sim.engine.protocols.eu.eu_round``), for a full ``BargainingModel.step()`` (kernel +
Mesa + data collection + event log), and for the plain-Python reference implementation used by the
tests as an oracle (``tests/eu_oracle.py``). The oracle is run issue by issue (issues are independent
contests); where running it K times would take minutes, it is timed on one issue and multiplied by K,
and the table says so.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from sim.engine.protocols.eu import eu_round, normalise
from sim.domain.scenario import scenario_from_arrays as make_scenario
from sim.runs.spec import RunSpec

REPO = Path(__file__).resolve().parent.parent


def median_time(function, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def random_problem(n: int, k: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    positions = rng.uniform(0, 100, (n, k))
    saliences = rng.uniform(0.05, 1.0, (n, k))
    capabilities = rng.uniform(0.05, 1.0, n)
    return positions, saliences, capabilities


def random_scenario(n: int, k: int, seed: int = 1):
    """A random scenario of N actors and K issues on 0-100 scales (:func:`random_problem`)."""
    return make_scenario(*random_problem(n, k, seed))


def bench_exchange(repeats: int) -> list[dict]:
    """Full exchange runs, construction included: jan2022_extended (50-round limit, median of
    ``repeats``) and one random scenario of 50 actors x 20 issues (20 rounds; target: under 60 s)."""
    import sim

    rows = []
    cases = [("jan2022_extended", sim.load_scenario("jan2022_extended"), 50, repeats, None),
             ("random 50 x 20", random_scenario(50, 20), 20, 1, 60.0)]
    for name, scenario, rounds, count, target in cases:
        times = []
        for repeat in range(count):
            start = time.perf_counter()
            model = RunSpec(scenario, "exchange", rounds=rounds, seed=repeat, record_rounds=False,
                            record_events=False).build().run()
            times.append(time.perf_counter() - start)
        total = statistics.median(times)
        rows.append({"scenario": name, "N": scenario.n_actors, "K": scenario.n_issues, "rounds": model.round,
                     "exchanges": model.protocol.exchanges, "seconds": total,
                     "target": "" if target is None else
                     f"< {target:g} s: {'met' if total < target else 'missed'}"})
        print(f"  exchange on {name}: {total:.3f} s, {model.round} rounds, "
              f"{model.protocol.exchanges} exchanges", file=sys.stderr)
    return rows


def markdown_table(headers: list[str], rows: list[list[str]]) -> str:
    """A Markdown table (for docs/performance.md)."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def exchange_table(rows: list[dict]) -> str:
    return markdown_table(["scenario", "N", "K", "rounds run", "exchanges", "full run (s)", "target"],
                          [[r["scenario"], str(r["N"]), str(r["K"]), str(r["rounds"]), str(r["exchanges"]),
                            f"{r['seconds']:.3f}", r["target"]] for r in rows])


def bench_offers(repeats: int) -> list[dict]:
    """Offers runs (20-round limit, construction included), CPU time: the first run of a scenario in
    the process solves the proposers' programs, later runs with exact beliefs reuse the answers
    (:mod:`sim.kernels.programs` memo); with belief noise each run solves its own. Target at N = 200, K = 11:
    under 2 s per run (later runs)."""
    import sim
    from sim.kernels.programs import clear_cache

    rows = []
    cases = [("jan2022", sim.load_scenario("jan2022"), 0.0), ("jan2022_no_red_lines",
             sim.load_scenario("jan2022_no_red_lines"), 0.0),
             ("jan2022_no_red_lines", sim.load_scenario("jan2022_no_red_lines"), 0.1),
             ("random 200 x 11", random_scenario(200, 11), 0.0)]
    for name, scenario, noise in cases:
        clear_cache()
        times = []
        for repeat in range(max(repeats, 2)):
            start = time.process_time()
            model = RunSpec(scenario, "offers", {"belief_noise": noise}, rounds=20, seed=repeat,
                            record_rounds=False, record_events=False).build().run()
            times.append(time.process_time() - start)
        later = statistics.median(times[1:])
        target = f"< 2 s: {'met' if later < 2.0 else 'missed'}" if scenario.n_actors == 200 else ""
        rows.append({"scenario": name, "N": scenario.n_actors, "K": scenario.n_issues, "noise": noise,
                     "rounds": model.round, "first": times[0], "later": later, "target": target})
        print(f"  offers on {name} (noise {noise:g}): first run {times[0]:.3f} s, later runs {later:.3f} s",
              file=sys.stderr)
    return rows


def offers_table(rows: list[dict]) -> str:
    return markdown_table(["scenario", "N", "K", "belief noise", "rounds run", "first run (s CPU)",
                           "later runs (s CPU, median)", "target"],
                          [[r["scenario"], str(r["N"]), str(r["K"]), f"{r['noise']:g}", str(r["rounds"]),
                            f"{r['first']:.3f}", f"{r['later']:.3f}", r["target"]] for r in rows])


def bench_eu(repeats: int, oracle_budget: float) -> list[dict]:
    # The plain-Python oracle is the tests' (tests/eu_oracle.py): run this from the repository root,
    # as ``python -m experiments.bench``, which puts the root on the import path.
    from tests import eu_oracle

    rows = []
    for variant in ("standard", "scholz"):
        for n in (10, 50, 200):
            for k in (1, 10):
                positions, saliences, capabilities = random_problem(n, k)
                x, _, _ = normalise(positions)
                rng = np.random.default_rng(0)
                draws = rng.random((n, n, k))
                draws = np.triu(draws.transpose(2, 0, 1), 1)
                draws = (draws + draws.transpose(0, 2, 1)).transpose(1, 2, 0)
                kernel = median_time(lambda: eu_round(x, saliences, capabilities, variant, 1.0, 1.0,
                                                      draws), repeats)
                scenario = make_scenario(positions, saliences, capabilities)

                def model_round():
                    model = RunSpec(scenario, "eu", {"variant": variant}, rounds=1, seed=0).build()
                    start = time.perf_counter()
                    model.step()
                    return time.perf_counter() - start

                step = statistics.median(model_round() for _ in range(repeats))
                # Oracle: one issue at a time; extrapolate to K issues when it would be too slow.
                column = lambda j: ([float(v) for v in x[:, j]], [float(v) for v in saliences[:, j]],  # noqa: E731
                                    [float(v) for v in capabilities])
                issue_draws = lambda j: [[float(v) for v in row] for row in draws[:, :, j]]  # noqa: E731

                def oracle_issue(j=0):
                    xs, ss, cs = column(j)
                    eu_oracle.eu_round(xs, ss, cs, variant, 1.0, 1.0, issue_draws(j), None)

                single = median_time(oracle_issue, 1 if n >= 200 else max(1, repeats // 2))
                if single * k <= oracle_budget:
                    oracle = median_time(lambda: [oracle_issue(j) for j in range(k)], 1)
                    note = ""
                else:
                    oracle = single * k
                    note = f"one issue timed, x{k}"
                rows.append({"variant": variant, "N": n, "K": k, "kernel_ms": kernel * 1e3,
                             "model_step_ms": step * 1e3, "oracle_ms": oracle * 1e3,
                             "speedup": oracle / kernel, "note": note})
                print(f"  eu {variant:8s} N={n:3d} K={k:2d}: kernel {kernel * 1e3:9.3f} ms, "
                      f"model step {step * 1e3:9.3f} ms, oracle {oracle * 1e3:11.1f} ms "
                      f"({oracle / kernel:8.0f}x) {note}", file=sys.stderr)
    return rows


def bench_protocols(repeats: int, rounds: int = 50) -> list[dict]:
    """Full offers / exchange runs on jan2022 (construction included), and the share of that time
    spent outside the protocol's own numerical work (Mesa's step machinery, agent set-up, the data
    collector and event log)."""
    import sim
    from sim.engine.protocols import PROTOCOLS

    rows = []
    for protocol, name in (("offers", "jan2022"), ("offers", "jan2022_no_red_lines"), ("exchange", "jan2022"),
                           ("eu", "jan2022")):
        scenario = sim.load_scenario(name)
        cls = PROTOCOLS[protocol]
        inside = [0.0]
        original_step, original_init = cls.step, cls.__init__

        def timed_step(self, _step=original_step):
            start = time.perf_counter()
            _step(self)
            inside[0] += time.perf_counter() - start

        def timed_init(self, *args, _init=original_init, **kwargs):
            start = time.perf_counter()
            _init(self, *args, **kwargs)
            inside[0] += time.perf_counter() - start

        totals, shares, used = [], [], 0
        cls.step, cls.__init__ = timed_step, timed_init
        try:
            for repeat in range(repeats):
                inside[0] = 0.0
                start = time.perf_counter()
                model = RunSpec(scenario, protocol, rounds=rounds, seed=repeat).build().run()
                total = time.perf_counter() - start
                totals.append(total)
                shares.append(1.0 - inside[0] / total)
                used = model.round
        finally:
            cls.step, cls.__init__ = original_step, original_init
        total = statistics.median(totals)
        rows.append({"protocol": protocol, "scenario": name, "rounds": used, "total_ms": total * 1e3,
                     "outside_share": statistics.median(shares)})
        print(f"  {protocol} on {name}: {total * 1e3:.2f} ms for {used} rounds, "
              f"{statistics.median(shares):.0%} outside the protocol", file=sys.stderr)
    return rows


def protocol_table(rows: list[dict]) -> str:
    return markdown_table(["protocol", "scenario", "rounds run", "full run (ms)",
                           "share outside the protocol (Mesa, data collection)"],
                          [[r["protocol"], r["scenario"], str(r["rounds"]), f"{r['total_ms']:.2f}",
                            f"{r['outside_share']:.0%}"] for r in rows])


# --------------------------------------------------------------------------------------------------
# Sweeps: the sweep vs Mesa's batch_run vs one Hydra job per run, workers, the block's limit, memory
# --------------------------------------------------------------------------------------------------


def compose_sweep(overrides: list[str]):
    """A shipped sweep composed with Hydra's compose API, as ``python -m experiments.sweep`` composes it,
    planned into ``folder`` (no file is written until the sweep runs): its context."""
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from sim.runs.configs import base_config
    from sim.domain.config import CONFIG_DIR, register_configs
    from sim.runs.design import spec_from_config
    from sim.runs.sweep import plan

    register_configs()
    with initialize_config_dir(version_base="1.3", config_dir=str(CONFIG_DIR)):
        cfg = compose(config_name="config", overrides=overrides)
    settings = OmegaConf.to_container(cfg.sweep, resolve=True)
    spec = spec_from_config({k: v for k, v in settings.items() if k not in ("workers", "out", "jobs", "job",
                                                                           "progress")})
    return lambda folder: plan(Path(folder), spec, base_config(cfg))


def in_fresh_process(function, *args):
    """``function(*args)`` in a new interpreter (spawned): every measurement starts cold, as a user's
    command does, whatever ran before it in this process (the per-process caches of scenarios, reference
    solutions and the offers programs would otherwise favour whatever runs second)."""
    import importlib
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    function = getattr(importlib.import_module("experiments.bench"), function.__name__)  # not __main__'s
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


def timed_sweep(overrides: list[str], workers: int = 1, force_pool: bool = False) -> dict:
    """A whole sweep into a temporary folder (plan, shards, runs.parquet), timed: its runs, wall seconds
    and CPU seconds per process (this one first). ``force_pool``: start the workers even where the sweep
    would judge they do not pay (:data:`sim.runs.sweep.POOL_WORTH` negative). Raises if a run failed."""
    import os
    import tempfile

    import sim.runs.sweep.execution
    from sim.runs.sweep import aggregate, execute, pending_shards, prepare_folder

    import importlib

    planned = compose_sweep(overrides)
    for module in sim.runs.sweep.WORKER_PRELOAD:  # imports are not the sweep's work (batch_run's are not timed either)
        importlib.import_module(module)
    if force_pool:
        sim.runs.sweep.execution.POOL_WORTH = -1e9
    cpu: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        context = prepare_folder(planned(folder))
        execute(context, pending_shards(context), workers, cpu=cpu)
        rows, failures = aggregate(context)
        seconds = time.perf_counter() - start
    if failures or rows != len(context.runs):
        raise RuntimeError(f"sweep {context.spec.name}: {failures} of {len(context.runs)} runs failed")
    own = cpu.pop(os.getpid(), 0.0)
    return {"runs": rows, "seconds": seconds, "cpu": [own] + [cpu[pid] for pid in sorted(cpu)]}


def point_groups(context, per_point: int | None = None):
    """(point spec, seeds) of each design point: the sweep's own runs (the first ``per_point``
    replicates of each point when given)."""
    from sim.runs.sweep import point_spec

    for _, runs in context.runs.groupby("point", sort=True):
        runs = runs if per_point is None else runs.iloc[:per_point]
        first = runs.iloc[0]
        spec = point_spec(context, {column: first[column] for column in context.spec.columns})
        yield spec, [int(s) for s in runs["seed"]]


def timed_batch_run(overrides: list[str], per_point: int | None = None) -> tuple[int, float]:
    """(runs, wall seconds) of Mesa's ``batch_run`` (one process) on the sweep's runs and seeds: one call per
    design point with its seeds as ``rng``. batch_run returns the DataCollector's last step, so the model
    records its rounds (the sweep's runs need not); events are off in both."""
    from mesa.batchrunner import batch_run

    from sim.engine.model import BargainingModel

    runs, seconds = 0, 0.0
    for spec, seeds in point_groups(compose_sweep(overrides)(REPO), per_point):
        arguments = {**spec.model_arguments(), "record_rounds": True, "record_events": False}
        arguments.pop("rng")
        start = time.perf_counter()
        batch_run(BargainingModel, arguments, rng=seeds, number_processes=1, data_collection_period=-1,
                  max_steps=spec.rounds, display_progress=False)
        seconds += time.perf_counter() - start
        runs += len(seeds)
    return runs, seconds


def timed_limit(overrides: list[str]) -> tuple[int, float, float]:
    """(runs, wall seconds, of which outcome rows) of :func:`sim.runs.batch.run_block` on the one design point
    of an eu sweep, all its seeds as one block, after a two-run warm-up (the scenario's reference
    solutions, computed once per process, are not the block's cost): the floor under the sweep, without
    folder or shards. The rows (:meth:`~sim.runs.spec.RunSpec.row`: outcome, reference distances, scores against
    the observed record) are built run by run after the block has advanced; their share is timed apart."""
    from sim.runs.batch import run_block
    from sim.runs.spec import RunSpec

    (spec, seeds), = point_groups(compose_sweep(overrides)(REPO))
    run_block(spec, seeds[:2])
    spent, row = [0.0], RunSpec.row

    def timed_row(self, model):
        start = time.perf_counter()
        try:
            return row(self, model)
        finally:
            spent[0] += time.perf_counter() - start

    RunSpec.row = timed_row  # this process only (a fresh one: in_fresh_process)
    start = time.perf_counter()
    run_block(spec, seeds)
    return len(seeds), time.perf_counter() - start, spent[0]


def timed_hydra_jobs(overrides: list[str], per_point: int) -> tuple[int, float]:
    """(runs, wall seconds) of one Hydra job per run (``experiments.run -m``; its basic launcher runs the
    jobs one after another in one process per call): the first ``per_point`` runs of each design point with
    the sweep's seeds, one multirun call per point."""
    import subprocess
    import tempfile

    runs, seconds = 0, 0.0
    for spec, seeds in point_groups(compose_sweep(overrides)(REPO), per_point):
        with tempfile.TemporaryDirectory() as folder:
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "experiments.run", "-m", f"scenario={spec.scenario.id}",
                            f"protocol={spec.protocol}", f"rounds={spec.rounds}", "record.figures=false",
                            "record.events=false", "record.rounds=false", f"seed={','.join(map(str, seeds))}",
                            f"hydra.sweep.dir={folder}"], cwd=REPO, check=True, capture_output=True)
            seconds += time.perf_counter() - start
        runs += len(seeds)
    return runs, seconds


def peak_rss(command: list[str]) -> tuple[float, float]:
    """(peak RSS in MiB, wall seconds) of a command in its own process (``os.wait4``: that child's own
    peak, not the largest of all children so far)."""
    import os
    import subprocess

    start = time.perf_counter()
    child = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    error = child.stderr.read().decode(errors="replace").strip().splitlines()
    child.stderr.close()
    if os.waitstatus_to_exitcode(status):
        raise RuntimeError(f"{' '.join(command)} failed: {error[-1:]}")
    return usage.ru_maxrss / 1024, seconds  # Linux: KiB


def median_process(code: list[str], repeats: int = 3, inner: bool = False) -> float:
    """Median wall seconds of a fresh ``python`` process running ``code`` (or, ``inner``, of the seconds the
    process prints last)."""
    import subprocess

    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        done = subprocess.run([sys.executable, *code], cwd=REPO, check=True, capture_output=True, text=True)
        times.append(float(done.stdout.split()[-1]) if inner else time.perf_counter() - start)
    return statistics.median(times)


METHOD_COLUMNS = ["method", "runs timed", "wall (s)", "runs/s", "sweep / method", "target"]


def verdict(met: bool) -> str:
    return "met" if met else "**missed**"


def bench_sweeps(quick: bool = False, exchange_rows: list[dict] | None = None,
                 offers_rows: list[dict] | None = None) -> str:
    """The sweep benchmark of docs/performance.md, as Markdown: every figure measured here (each in a fresh
    process), every target of the issue marked met or missed. ``quick``: the same on a tenth of the sizes
    (for trying things; the targets are about the full sizes)."""
    import tempfile

    scale = 10 if quick else 1
    eu_runs, big_runs, eu_subset, hydra_per_point = 10_000 // scale, 100_000 // scale, 300 // scale, 4
    comparison = ["sweep=protocol_comparison", f"sweep.replicates={100 // scale}"]
    eu = ["sweep=memory", "scenario=jan2022", "rounds=20", "sweep.shard_size=500"]
    eu_sweep = eu + [f"sweep.replicates={eu_runs}"]
    out, targets = [], []

    def say(text: str) -> None:
        print(f"  {text}", file=sys.stderr)

    def target(name: str, wanted: str, measured: str, met: bool) -> str:
        targets.append([name, wanted, measured, verdict(met)])
        return f"{wanted}: {verdict(met)}"

    # 1. protocol_comparison: 9 points x 100 replicates, the same runs and seeds for all three methods.
    ours = in_fresh_process(timed_sweep, comparison)
    total, sweep_rate = ours["runs"], ours["runs"] / ours["seconds"]
    say(f"protocol_comparison sweep, 1 worker: {total} runs in {ours['seconds']:.2f} s")
    batch_n, batch_s = in_fresh_process(timed_batch_run, comparison)
    say(f"batch_run: {batch_n} runs in {batch_s:.2f} s")
    hydra_n, hydra_s = timed_hydra_jobs(comparison, hydra_per_point)
    say(f"one Hydra job per run: {hydra_n} runs in {hydra_s:.2f} s")
    over_batch, over_hydra = sweep_rate * batch_s / batch_n, sweep_rate * hydra_s / hydra_n
    met_batch = target(f"`protocol_comparison`: sweep vs Mesa `batch_run` (same {total} runs and seeds)",
                       ">= 5x", f"{over_batch:.1f}x", over_batch >= 5)
    met_hydra = target("`protocol_comparison`: sweep vs one Hydra job per run", ">= 50x",
                       f"{over_hydra:.0f}x", over_hydra >= 50)
    subset = f"{hydra_n} (subset: replicates 0-{hydra_per_point - 1} of each point)"
    out += [f"## Throughput on `sweep=protocol_comparison` ({total} runs, 20-round limit)\n",
            markdown_table(METHOD_COLUMNS, [
                ["our sweep, 1 worker (plan, shards, runs.parquet)", str(total), f"{ours['seconds']:.2f}",
                 f"{sweep_rate:.1f}", "", ""],
                ["Mesa `batch_run`, 1 process", f"{batch_n} (all)", f"{batch_s:.2f}",
                 f"{batch_n / batch_s:.1f}", f"{over_batch:.1f}x", met_batch],
                ["one Hydra job per run (`experiments.run -m`, one call per point)", subset, f"{hydra_s:.2f}",
                 f"{hydra_n / hydra_s:.2f}", f"{over_hydra:.0f}x", met_hydra]])]

    # 2 and 4. eu only on jan2022: the sweep, batch_run on a subset of its seeds, and the block's limit.
    ours = eu_ours = in_fresh_process(timed_sweep, eu_sweep)
    eu_rate = ours["runs"] / ours["seconds"]
    say(f"eu sweep: {ours['runs']} runs in {ours['seconds']:.2f} s")
    eu_batch_n, eu_batch_s = in_fresh_process(timed_batch_run, eu_sweep, eu_subset)
    say(f"eu batch_run: {eu_batch_n} runs in {eu_batch_s:.2f} s")
    block_n, block_s, rows_s = in_fresh_process(timed_limit, eu_sweep)
    say(f"limit (run_block): {block_n} runs in {block_s:.2f} s, of which rows {rows_s:.2f} s")
    eu_over = eu_rate * eu_batch_s / eu_batch_n
    kernel_s = block_s - rows_s
    met_eu = target(f"`eu` sweep of {eu_runs} runs on `jan2022` vs `batch_run`", ">= 20x", f"{eu_over:.1f}x",
                    eu_over >= 20)
    out += [f"\n## `eu` only on `jan2022` ({eu_runs} runs, 20-round limit, shards of 500) and the limit\n",
            markdown_table(METHOD_COLUMNS, [
                ["our sweep, 1 worker", str(ours["runs"]), f"{ours['seconds']:.2f}", f"{eu_rate:.1f}", "",
                 ""],
                ["Mesa `batch_run`, 1 process", f"{eu_batch_n} (subset: the sweep's first seeds)",
                 f"{eu_batch_s:.2f}", f"{eu_batch_n / eu_batch_s:.1f}", f"{eu_over:.1f}x", met_eu],
                [f"**limit**: `sim.runs.batch.run_block`, one block of {block_n} runs (warm)", str(block_n),
                 f"{block_s:.2f}", f"{block_n / block_s:.1f}", f"{eu_rate * block_s / block_n:.2f}x",
                 "the floor: no folder, no shards, no start-up"],
                [f"the same block without its outcome rows (kernel on the runs axis, restore; rows "
                 f"{rows_s:.2f} s = {rows_s / block_s:.0%})", str(block_n), f"{kernel_s:.2f}",
                 f"{block_n / kernel_s:.1f}", f"{eu_rate * kernel_s / block_n:.2f}x", ""]])]

    # 3. 1 vs 2 workers on protocol_comparison; the pool starts only when the probe says it pays, so also
    # once with the pool forced.
    rows, walls = [], {}
    for label, workers, force in (("1", 1, False), ("2", 2, False), ("2, pool forced", 2, True)):
        result = in_fresh_process(timed_sweep, comparison, workers, force)
        walls[label] = result["seconds"]
        cpu = [f"main {result['cpu'][0]:.2f}"] + [f"worker {s:.2f}" for s in result["cpu"][1:]]
        rows.append([label, f"{walls[label]:.2f}", f"{total / walls[label]:.1f}",
                     f"{walls['1'] / walls[label]:.2f}x", "; ".join(cpu)])
        say(f"workers {label}: {walls[label]:.2f} s, CPU {'; '.join(cpu)}")
    # The same on a sweep whose runs outweigh the per-process start: eu only, the design of section 2.
    two = in_fresh_process(timed_sweep, eu_sweep, 2)
    cpu = [f"main {two['cpu'][0]:.2f}"] + [f"worker {s:.2f}" for s in two["cpu"][1:]]
    rows.append([f"2 (`eu` only, {eu_runs} runs: 1 worker took {eu_ours['seconds']:.2f} s)", f"{two['seconds']:.2f}",
                 f"{two['runs'] / two['seconds']:.1f}", f"{eu_ours['seconds'] / two['seconds']:.2f}x", "; ".join(cpu)])
    say(f"eu sweep, 2 workers: {two['seconds']:.2f} s, CPU {'; '.join(cpu)}")
    natural, forced = walls["1"] / walls["2"], walls["1"] / walls["2, pool forced"]
    wanted = target("2 workers vs 1 on `protocol_comparison` (pool when it pays; forced in brackets)",
                    ">= 1.6x", f"{natural:.2f}x ({forced:.2f}x)", natural >= 1.6)
    out += [f"\n## 1 vs 2 workers on `protocol_comparison` ({total} runs)\n",
            markdown_table(["workers", "wall (s)", "runs/s", "1 worker / this",
                            "CPU seconds on shards, per process"], rows),
            f"\nTarget (on a quiet machine) {wanted}: {natural:.2f}x as the sweep decides, "
            f"{forced:.2f}x with the pool forced."]

    # 5. Peak memory: the whole command (sweep, aggregation, figures), each size in its own process.
    memory = {}
    for count in (eu_runs, big_runs):
        with tempfile.TemporaryDirectory() as folder:
            memory[count] = peak_rss([sys.executable, "-m", "experiments.sweep", *eu,
                                      f"sweep.replicates={count}", f"sweep.out={folder}/sweep",
                                      "sweep.progress=false"])
        say(f"memory: {count} runs, peak RSS {memory[count][0]:.1f} MiB in {memory[count][1]:.1f} s")
    growth = memory[big_runs][0] / memory[eu_runs][0]
    wanted = target(f"peak memory of an `eu` sweep, {big_runs} vs {eu_runs} runs", "<= 1.2x",
                    f"{growth:.2f}x", growth <= 1.2)
    out += ["\n## Peak memory of an `eu` sweep on `jan2022` (`python -m experiments.sweep`, its own "
            "process)\n",
            markdown_table(["runs", "peak RSS (MiB)", "wall (s), figures included", "runs/s"],
                           [[str(n), f"{m:.1f}", f"{s:.1f}", f"{n / s:.1f}"]
                            for n, (m, s) in memory.items()]),
            f"\nRatio {growth:.2f}x; target {wanted}."]

    # 6. The issue's other targets.
    exchange_rows = exchange_rows if exchange_rows is not None else bench_exchange(1)
    offers_rows = offers_rows if offers_rows is not None else bench_offers(2)
    big = next(r for r in exchange_rows if r["N"] == 50)
    target("`exchange`, 50 actors x 20 issues, 20 rounds (one run, wall)", "< 60 s",
           f"{big['seconds']:.1f} s", big["seconds"] < 60)
    n200 = next(r for r in offers_rows if r["N"] == 200)
    target("`offers` at N = 200, K = 11 (CPU per run after the scenario's first)", "< 2 s",
           f"{n200['later']:.2f} s (first run {n200['first']:.2f} s)", n200["later"] < 2)
    imported = median_process(["-c", "import time; t = time.perf_counter(); import sim; "
                               "print(time.perf_counter() - t)"], inner=True)
    target("`import sim` (fresh process, median of 3)", "< 0.5 s", f"{imported:.3f} s", imported < 0.5)
    helped = median_process(["-m", "experiments.run", "--help"])
    target("`python -m experiments.run --help` (wall, fresh process, median of 3)", "< 1 s",
           f"{helped:.2f} s", helped < 1)
    out += ["\n## Targets\n", markdown_table(["target", "wanted", "measured", "verdict"], targets)]
    return "\n".join(out)


def table(rows: list[dict]) -> str:
    head = ("| variant | N | K | vectorised kernel (ms) | model.step() (ms) | plain-Python oracle (ms) "
            "| oracle / kernel | note |")
    lines = [head, "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['variant']} | {r['N']} | {r['K']} | {r['kernel_ms']:.3f} | "
                     f"{r['model_step_ms']:.3f} | {r['oracle_ms']:.1f} | {r['speedup']:.0f}x | "
                     f"{r['note']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("which", nargs="?", default="all",
                        choices=["all", "eu", "protocols", "sweep", "exchange", "offers"])
    parser.add_argument("--repeats", type=int, default=7, help="timing repeats (median is reported)")
    parser.add_argument("--oracle-budget", type=float, default=20.0,
                        help="seconds the oracle may take per cell before extrapolating from one issue")
    parser.add_argument("--quick", action="store_true",
                        help="sweep: the same measurements on a tenth of the sizes (the targets need the "
                             "full ones)")
    args = parser.parse_args(argv)
    print(f"# Benchmarks — {time.strftime('%Y-%m-%d %H:%M %Z')}, Python {platform.python_version()}, "
          f"numpy {np.__version__}, {platform.machine()}, {os.cpu_count()} cores, timer: time.perf_counter "
          f"(resolution {time.get_clock_info('perf_counter').resolution:.0e} s), "
          f"median of {args.repeats} repeats\n")
    print(f"Load average at start: {load_average()}\n")
    exchange_rows = offers_rows = None
    if args.which in ("all", "eu"):
        print("## One `eu` round\n")
        print(table(bench_eu(args.repeats, args.oracle_budget)))
    if args.which in ("all", "protocols"):
        print("\n## Full runs (50-round limit, default protocol settings)\n")
        print(protocol_table(bench_protocols(max(args.repeats, 11))))
    if args.which in ("all", "exchange"):
        print("\n## Exchange runs (incremental candidates)\n")
        exchange_rows = bench_exchange(args.repeats)
        print(exchange_table(exchange_rows))
    if args.which in ("all", "offers"):
        print("\n## Offers runs (exact proposer; answers shared across runs by content)\n")
        offers_rows = bench_offers(args.repeats)
        print(offers_table(offers_rows))
    if args.which in ("all", "sweep"):
        print("\n# Sweeps (`sweep`)\n")
        print(bench_sweeps(args.quick, exchange_rows, offers_rows))
    print(f"\nLoad average at end: {load_average()}")


def load_average() -> str:
    """The machine's load average over 1, 5 and 15 minutes (other work on the cores skews timings)."""
    return " / ".join(f"{v:.2f}" for v in os.getloadavg()) + " (1 / 5 / 15 min)"


if __name__ == "__main__":
    from experiments.cli import run_command

    run_command(main)
