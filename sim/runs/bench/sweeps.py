"""The sweep benchmark of docs/performance.md: the sweep against Mesa's ``batch_run`` and one Hydra job per
run, 1 vs 2 workers, the block's limit (:func:`sim.runs.batch.run_block`), peak memory, and every target of
the issue marked met or missed (:func:`bench_sweeps`). Each measurement runs in a fresh process."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from sim.runs.bench.timing import (REPO, in_fresh_process, markdown_table, median_process, peak_rss,
                                   verdict)


def compose_sweep(overrides: list[str]):
    """A shipped sweep composed with Hydra's compose API, as ``python -m experiments.sweep`` composes it,
    planned into ``folder`` (no file is written until the sweep runs): its context."""
    from omegaconf import OmegaConf

    from sim.runs.configs import base_config, compose_config
    from sim.runs.sweep import plan
    from sim.runs.sweep.command import sweep_spec

    cfg = compose_config(overrides)
    spec = sweep_spec(OmegaConf.to_container(cfg.sweep, resolve=True), "configs/sweep")
    return lambda folder: plan(Path(folder), spec, base_config(cfg))


def timed_sweep(overrides: list[str], workers: int = 1, force_pool: bool = False) -> dict:
    """A whole sweep into a temporary folder (plan, shards, runs.parquet), timed: its runs, wall seconds
    and CPU seconds per process (this one first). ``force_pool``: start the workers even where the sweep
    would judge they do not pay (:data:`sim.runs.sweep.execution.POOL_WORTH` negative). Raises if a run failed."""
    import importlib
    import os
    import tempfile

    import sim.runs.sweep.execution
    from sim.runs.sweep import aggregate, execute, pending_shards, prepare_folder

    planned = compose_sweep(overrides)
    for module in sim.runs.sweep.execution.WORKER_PRELOAD:  # imports are not the sweep's work (batch_run's are not timed either)
        importlib.import_module(module)
    if force_pool:
        sim.runs.sweep.execution.POOL_WORTH = -1e9
    cpu: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        context = prepare_folder(planned(folder))
        execute(context, pending_shards(context), workers, cpu=cpu)
        rows, failures, _ = aggregate(context)
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
    folder or shards. The rows (:func:`sim.runs.batch.block_rows`: outcome, reference distances, scores against
    the observed record, built for a whole chunk of runs at once) come after the chunk has advanced; their
    share is timed apart."""
    import sim.runs.batch
    from sim.runs.batch import run_block

    (spec, seeds), = point_groups(compose_sweep(overrides)(REPO))
    run_block(spec, seeds[:2])
    spent, rows = [0.0], sim.runs.batch.block_rows

    def timed_rows(*args):
        start = time.perf_counter()
        try:
            return rows(*args)
        finally:
            spent[0] += time.perf_counter() - start

    sim.runs.batch.block_rows = timed_rows  # this process only (a fresh one: in_fresh_process)
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


# --------------------------------------------------------------------------------------------------
# The benchmark, section by section
# --------------------------------------------------------------------------------------------------


METHOD_COLUMNS = ["method", "runs timed", "wall (s)", "runs/s", "sweep / method", "target"]


@dataclass(frozen=True)
class Sizes:
    """The benchmark's sizes: the full ones, or a tenth of them (``quick``)."""

    eu_runs: int
    big_runs: int
    eu_subset: int
    hydra_per_point: int
    comparison: list[str]  # overrides of the protocol_comparison sweep
    eu: list[str]  # overrides of the eu-only sweep on jan2022, without its replicates
    eu_sweep: list[str]  # ... with them

    @classmethod
    def of(cls, quick: bool) -> "Sizes":
        scale = 10 if quick else 1
        eu_runs, big_runs, eu_subset, hydra_per_point = 10_000 // scale, 100_000 // scale, 300 // scale, 4
        comparison = ["sweep=protocol_comparison", f"sweep.replicates={100 // scale}"]
        eu = ["sweep=memory", "scenario=jan2022", "rounds=20", "sweep.shard_size=500"]
        eu_sweep = eu + [f"sweep.replicates={eu_runs}"]
        return cls(eu_runs, big_runs, eu_subset, hydra_per_point, comparison, eu, eu_sweep)


@dataclass
class Findings:
    """The benchmark's Markdown sections so far, and its targets with their verdicts."""

    out: list[str] = field(default_factory=list)
    targets: list[list[str]] = field(default_factory=list)

    def target(self, name: str, wanted: str, measured: str, met: bool) -> str:
        self.targets.append([name, wanted, measured, verdict(met)])
        return f"{wanted}: {verdict(met)}"


def say(text: str) -> None:
    print(f"  {text}", file=sys.stderr)


def bench_sweeps(quick: bool = False, exchange_rows: list[dict] | None = None,
                 offers_rows: list[dict] | None = None) -> str:
    """The sweep benchmark of docs/performance.md, as Markdown: every figure measured here (each in a fresh
    process), every target of the issue marked met or missed. ``quick``: the same on a tenth of the sizes
    (for trying things; the targets are about the full sizes). ``exchange_rows`` and ``offers_rows``: those
    benchmarks' rows if they have run already (else their targets are measured here)."""
    sizes, found = Sizes.of(quick), Findings()
    total = section_throughput(sizes, found)
    eu_ours = section_eu_and_limit(sizes, found)
    section_workers(sizes, found, total, eu_ours)
    section_memory(sizes, found)
    section_other_targets(found, exchange_rows, offers_rows)
    found.out += ["\n## Targets\n", markdown_table(["target", "wanted", "measured", "verdict"], found.targets)]
    return "\n".join(found.out)


def section_throughput(sizes: Sizes, found: Findings) -> int:
    """1. protocol_comparison: 9 points x 100 replicates, the same runs and seeds for all three methods.
    Returns the number of runs."""
    comparison, hydra_per_point = sizes.comparison, sizes.hydra_per_point
    ours = in_fresh_process(timed_sweep, comparison)
    total, sweep_rate = ours["runs"], ours["runs"] / ours["seconds"]
    say(f"protocol_comparison sweep, 1 worker: {total} runs in {ours['seconds']:.2f} s")
    batch_n, batch_s = in_fresh_process(timed_batch_run, comparison)
    say(f"batch_run: {batch_n} runs in {batch_s:.2f} s")
    hydra_n, hydra_s = timed_hydra_jobs(comparison, hydra_per_point)
    say(f"one Hydra job per run: {hydra_n} runs in {hydra_s:.2f} s")
    over_batch, over_hydra = sweep_rate * batch_s / batch_n, sweep_rate * hydra_s / hydra_n
    met_batch = found.target(f"`protocol_comparison`: sweep vs Mesa `batch_run` (same {total} runs and seeds)",
                             ">= 5x", f"{over_batch:.1f}x", over_batch >= 5)
    met_hydra = found.target("`protocol_comparison`: sweep vs one Hydra job per run", ">= 50x",
                             f"{over_hydra:.0f}x", over_hydra >= 50)
    subset = f"{hydra_n} (subset: replicates 0-{hydra_per_point - 1} of each point)"
    found.out += [f"## Throughput on `sweep=protocol_comparison` ({total} runs, 20-round limit)\n",
                  markdown_table(METHOD_COLUMNS, [
                      ["our sweep, 1 worker (plan, shards, runs.parquet)", str(total), f"{ours['seconds']:.2f}",
                       f"{sweep_rate:.1f}", "", ""],
                      ["Mesa `batch_run`, 1 process", f"{batch_n} (all)", f"{batch_s:.2f}",
                       f"{batch_n / batch_s:.1f}", f"{over_batch:.1f}x", met_batch],
                      ["one Hydra job per run (`experiments.run -m`, one call per point)", subset, f"{hydra_s:.2f}",
                       f"{hydra_n / hydra_s:.2f}", f"{over_hydra:.0f}x", met_hydra]])]
    return total


def section_eu_and_limit(sizes: Sizes, found: Findings) -> dict:
    """2 and 4. eu only on jan2022: the sweep, batch_run on a subset of its seeds, and the block's limit.
    Returns the sweep's measurement (runs, seconds, cpu)."""
    eu_runs, eu_sweep = sizes.eu_runs, sizes.eu_sweep
    ours = in_fresh_process(timed_sweep, eu_sweep)
    eu_rate = ours["runs"] / ours["seconds"]
    say(f"eu sweep: {ours['runs']} runs in {ours['seconds']:.2f} s")
    eu_batch_n, eu_batch_s = in_fresh_process(timed_batch_run, eu_sweep, sizes.eu_subset)
    say(f"eu batch_run: {eu_batch_n} runs in {eu_batch_s:.2f} s")
    block_n, block_s, rows_s = in_fresh_process(timed_limit, eu_sweep)
    say(f"limit (run_block): {block_n} runs in {block_s:.2f} s, of which rows {rows_s:.2f} s")
    eu_over = eu_rate * eu_batch_s / eu_batch_n
    kernel_s = block_s - rows_s
    met_eu = found.target(f"`eu` sweep of {eu_runs} runs on `jan2022` vs `batch_run`", ">= 20x",
                          f"{eu_over:.1f}x", eu_over >= 20)
    found.out += [f"\n## `eu` only on `jan2022` ({eu_runs} runs, 20-round limit, shards of 500) and the limit\n",
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
    return ours


def section_workers(sizes: Sizes, found: Findings, total: int, eu_ours: dict) -> None:
    """3. 1 vs 2 workers on protocol_comparison; the pool starts only when the probe says it pays, so also
    once with the pool forced. Then 2 workers on the eu-only sweep of section 2 (``eu_ours``: its 1 worker)."""
    rows, walls = [], {}
    for label, count, force in (("1", 1, False), ("2", 2, False), ("2, pool forced", 2, True)):
        result = in_fresh_process(timed_sweep, sizes.comparison, count, force)
        walls[label] = result["seconds"]
        cpu = [f"main {result['cpu'][0]:.2f}"] + [f"worker {s:.2f}" for s in result["cpu"][1:]]
        rows.append([label, f"{walls[label]:.2f}", f"{total / walls[label]:.1f}",
                     f"{walls['1'] / walls[label]:.2f}x", "; ".join(cpu)])
        say(f"workers {label}: {walls[label]:.2f} s, CPU {'; '.join(cpu)}")
    # The same on a sweep whose runs outweigh the per-process start: eu only, the design of section 2.
    two = in_fresh_process(timed_sweep, sizes.eu_sweep, 2)
    cpu = [f"main {two['cpu'][0]:.2f}"] + [f"worker {s:.2f}" for s in two["cpu"][1:]]
    rows.append([f"2 (`eu` only, {sizes.eu_runs} runs: 1 worker took {eu_ours['seconds']:.2f} s)",
                 f"{two['seconds']:.2f}", f"{two['runs'] / two['seconds']:.1f}",
                 f"{eu_ours['seconds'] / two['seconds']:.2f}x", "; ".join(cpu)])
    say(f"eu sweep, 2 workers: {two['seconds']:.2f} s, CPU {'; '.join(cpu)}")
    natural, forced = walls["1"] / walls["2"], walls["1"] / walls["2, pool forced"]
    wanted = found.target("2 workers vs 1 on `protocol_comparison` (pool when it pays; forced in brackets)",
                          ">= 1.6x", f"{natural:.2f}x ({forced:.2f}x)", natural >= 1.6)
    found.out += [f"\n## 1 vs 2 workers on `protocol_comparison` ({total} runs)\n",
                  markdown_table(["workers", "wall (s)", "runs/s", "1 worker / this",
                                  "CPU seconds on shards, per process"], rows),
                  f"\nTarget (on a quiet machine) {wanted}: {natural:.2f}x as the sweep decides, "
                  f"{forced:.2f}x with the pool forced."]


def section_memory(sizes: Sizes, found: Findings) -> None:
    """5. Peak memory: the whole command (sweep, aggregation, figures), each size in its own process."""
    import tempfile

    eu_runs, big_runs = sizes.eu_runs, sizes.big_runs
    memory = {}
    for count in (eu_runs, big_runs):
        with tempfile.TemporaryDirectory() as folder:
            memory[count] = peak_rss([sys.executable, "-m", "experiments.sweep", *sizes.eu,
                                      f"sweep.replicates={count}", f"sweep.out={folder}/sweep",
                                      "sweep.progress=false"])
        say(f"memory: {count} runs, peak RSS {memory[count][0]:.1f} MiB in {memory[count][1]:.1f} s")
    growth = memory[big_runs][0] / memory[eu_runs][0]
    wanted = found.target(f"peak memory of an `eu` sweep, {big_runs} vs {eu_runs} runs", "<= 1.2x",
                          f"{growth:.2f}x", growth <= 1.2)
    found.out += ["\n## Peak memory of an `eu` sweep on `jan2022` (`python -m experiments.sweep`, its own "
                  "process)\n",
                  markdown_table(["runs", "peak RSS (MiB)", "wall (s), figures included", "runs/s"],
                                 [[str(n), f"{m:.1f}", f"{s:.1f}", f"{n / s:.1f}"]
                                  for n, (m, s) in memory.items()]),
                  f"\nRatio {growth:.2f}x; target {wanted}."]


def section_other_targets(found: Findings, exchange_rows: list[dict] | None, offers_rows: list[dict] | None) -> None:
    """6. The issue's other targets: exchange and offers at scale, ``import sim``, a command's --help."""
    from sim.runs.bench.protocols import bench_exchange, bench_offers

    exchange_rows = exchange_rows if exchange_rows is not None else bench_exchange(1)
    offers_rows = offers_rows if offers_rows is not None else bench_offers(2)
    big = next(r for r in exchange_rows if r["N"] == 50)
    found.target("`exchange`, 50 actors x 20 issues, 20 rounds (one run, wall)", "< 60 s",
                 f"{big['seconds']:.1f} s", big["seconds"] < 60)
    n200 = next(r for r in offers_rows if r["N"] == 200)
    found.target("`offers` at N = 200, K = 11 (CPU per run after the scenario's first)", "< 2 s",
                 f"{n200['later']:.2f} s (first run {n200['first']:.2f} s)", n200["later"] < 2)
    imported = median_process(["-c", "import time; t = time.perf_counter(); import sim; "
                               "print(time.perf_counter() - t)"], inner=True)
    found.target("`import sim` (fresh process, median of 3)", "< 0.5 s", f"{imported:.3f} s", imported < 0.5)
    helped = median_process(["-m", "experiments.run", "--help"])
    found.target("`python -m experiments.run --help` (wall, fresh process, median of 3)", "< 1 s",
                 f"{helped:.2f} s", helped < 1)
