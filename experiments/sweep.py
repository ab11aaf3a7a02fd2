"""Run a parameter sweep (configs/sweep/<name>.yaml), resumably, and plot it.

    python -m experiments.sweep sweep=russia_resolve
    python -m experiments.sweep sweep=russia_resolve sweep.workers=2 sweep.out=results/sweeps/rr
    python -m experiments.sweep sweep=russia_resolve sweep.out=results/sweeps/rr     # resume / finish

On a cluster (Hydra's submitit launcher), split the shards over jobs, then aggregate:

    python -m experiments.sweep -m sweep=russia_resolve sweep.out=/scratch/rr sweep.jobs=8 \\
        'sweep.job=range(0,8)' hydra/launcher=submitit_slurm hydra.launcher.partition=...
    python -m experiments.sweep sweep=russia_resolve sweep.out=/scratch/rr

The folder gets design.json, design.parquet, shards/, runs.parquet, failures.parquet (if any run
raised), manifest.json, config.yaml and figures/. Exit status: 0 all runs done, 1 some runs failed
(one-line summary on stderr), 2 bad input.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from experiments.cli import chosen, fail, one_line_errors, report_and_exit, user_file
from sim.domain.config import CONFIG_DIR, register_configs
from sim.domain.errors import ConfigError
from sim.runs.design import shard_ranges, spec_from_config
from sim.runs.results import manifest, write_json
from sim.runs.sweep import (Interrupted, SweepLock, aggregate, check_points, elapsed, execute, pending_shards, plan, prepare_folder)

register_configs()


def base_config(cfg: DictConfig) -> dict:
    """The composed config every run starts from (without Hydra's and the sweep's own settings)."""
    data = OmegaConf.to_container(cfg, resolve=True)
    for key in ("hydra", "sweep", "figures"):  # figures: presentation only, may change on re-plot
        data.pop(key, None)
    return data


def user_config_dirs() -> list[Path]:
    """The user's config directories on Hydra's search path (``--config-dir``, ``hydra.searchpath``),
    so that a swept ``scenario: {values: [mine]}`` finds the user's file as the command line did."""
    sources = HydraConfig.get().runtime.config_sources
    return [Path(s.path) for s in sources
            if s.schema == "file" and Path(s.path).resolve() != CONFIG_DIR.resolve()]


@hydra.main(version_base="1.3", config_path="../configs", config_name="config")
@one_line_errors
def main(cfg: DictConfig) -> None:
    settings, source = chosen(cfg, "sweep", "a sweep")
    spec = spec_from_config({k: v for k, v in settings.items()
                             if k not in ("workers", "out", "jobs", "job", "progress")}, source)
    if settings["jobs"] < 1 or not 0 <= settings["job"] < settings["jobs"]:
        raise ConfigError(source, "sweep.job", f"{settings['job']}; allowed: 0 .. jobs-1 (jobs={settings['jobs']})")
    if settings["workers"] < 1:
        raise ConfigError(source, "sweep.workers", f"{settings['workers']}; must be >= 1")
    from experiments.plot import plot_options
    from sim.domain.config import figure_settings

    fmt, dpi = figure_settings(cfg)
    plot_options(spec, {"figures.format": fmt, "figures.dpi": dpi}, source)  # plot choices fail before any run
    folder = Path(settings["out"] or HydraConfig.get().runtime.output_dir)
    split = settings["jobs"] > 1
    started = time.time()
    context = plan(folder, spec, base_config(cfg), user_config_dirs(), source, user_file("scenario"))
    check_points(context)  # every design point, before any file is written
    spec = context.spec
    total_shards = len(shard_ranges(len(context.runs), spec.shard_size))
    if split:  # cluster job: its own shards only; shards are disjoint, so no lock is needed
        prepare_folder(context)
        (folder / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
        selection = [i for i in range(total_shards) if i % settings["jobs"] == settings["job"]]
        done, failed = run_with_progress(context, pending_shards(context, selection), settings, folder)
        print(f"job {settings['job']}/{settings['jobs']}: {done} runs done, {failed} failed in {folder}")
        return
    recorded = {k: v for k, v in OmegaConf.to_container(cfg, resolve=True).items() if k != "hydra"}
    about = dict(sweep=spec.to_dict(), runs_total=len(context.runs), config=recorded)
    with SweepLock(folder):
        prepare_folder(context)
        (folder / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
        pending = pending_shards(context)
        if len(pending) < total_shards:
            print(f"resuming: {total_shards - len(pending)} of {total_shards} shards already done", file=sys.stderr)
        write_json(folder / "manifest.json", manifest(spec.seed, started, False, **about))
        run_with_progress(context, pending, settings, folder)
        rows, failures = aggregate(context)
        from experiments.plot import plot_folder

        figures = plot_folder(folder, {"figures.format": fmt, "figures.dpi": dpi})
        complete = not pending_shards(context)  # completed: true only once every table and figure is written
        write_json(folder / "manifest.json", manifest(
            spec.seed, started, complete, runs_done=rows, runs_failed=failures, shards=total_shards, **about))
    print(f"sweep {spec.name}: {rows} runs in runs.parquet, {failures} failed, {elapsed(started)}")
    print(f"results: {folder}")
    for figure in figures:
        print(f"  {figure}")
    if failures:
        fail(f"{failures} of {len(context.runs)} runs raised; parameters, seeds and tracebacks "
             f"are in {folder / 'failures.parquet'}", 1)


def run_with_progress(context, shards, settings, folder: Path) -> tuple[int, int]:
    """Execute shards with a progress bar (runs done / total, rate, ETA) on stderr. Ctrl-C stops within
    moments and says how to resume."""
    total = sum(stop - start for i, (start, stop) in enumerate(shard_ranges(len(context.runs),
                                                                           context.spec.shard_size))
                if i in set(shards))
    try:
        if not settings.get("progress", True) or total == 0:
            return execute(context, shards, settings["workers"])
        from tqdm import tqdm

        with tqdm(total=total, unit="run", desc=context.spec.name, file=sys.stderr, dynamic_ncols=True) as bar:
            return execute(context, shards, settings["workers"],
                           progress=lambda count, failed: bar.update(count))
    except Interrupted:
        left = len(pending_shards(context))
        fail(f"interrupted (Ctrl-C): {left} shards left in {folder}; run the same command again to resume", 130)
        raise  # not reached


def cli() -> None:
    if {"--help", "-h"} & set(sys.argv[1:]):
        sys.argv.append("hydra/help=sweep")  # this command's own usage (configs/hydra/help/sweep.yaml)
    out = [a.partition("=")[2] for a in sys.argv[1:] if a.startswith("sweep.out=")]
    if out and out[-1] and not any(a.startswith("hydra.run.dir=") for a in sys.argv[1:]):
        sys.argv.append(f"hydra.run.dir={out[-1]}")  # nothing under results/ when the user named a folder
    report_and_exit(main)


if __name__ == "__main__":
    cli()
