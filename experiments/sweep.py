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

from sim.config import CONFIG_DIR, ConfigError, one_line_errors, register_configs, report_and_exit
from sim.runner import manifest, write_json
from sim.sweep import (
    SweepLock, aggregate, check_first_point, elapsed, execute, pending_shards, prepare_folder, shard_ranges,
    spec_from_config,
)

register_configs()


def base_config(cfg: DictConfig) -> dict:
    """The composed config every run starts from (without Hydra's and the sweep's own settings)."""
    data = OmegaConf.to_container(cfg, resolve=True)
    for key in ("hydra", "sweep", "figures"):  # figures: presentation only, may change on re-plot
        data.pop(key, None)
    return data


@hydra.main(version_base="1.3", config_path="../configs", config_name="config")
@one_line_errors
def main(cfg: DictConfig) -> None:
    if cfg.sweep is None:
        names = sorted(p.stem for p in (CONFIG_DIR / "sweep").glob("*.yaml"))
        raise ConfigError("command line", "sweep", f"choose a sweep: sweep=<name>; allowed: {', '.join(names)}")
    settings = OmegaConf.to_container(cfg.sweep, resolve=True)
    source = f"configs/sweep/{settings.get('name')}.yaml"
    spec = spec_from_config({k: v for k, v in settings.items()
                             if k not in ("workers", "out", "jobs", "job", "progress")}, source)
    if settings["jobs"] < 1 or not 0 <= settings["job"] < settings["jobs"]:
        raise ConfigError(source, "sweep.job", f"{settings['job']}; allowed: 0 .. jobs-1 (jobs={settings['jobs']})")
    if settings["workers"] < 1:
        raise ConfigError(source, "sweep.workers", f"{settings['workers']}; must be >= 1")
    from experiments.plot import plot_options
    from sim.runner import figure_settings

    fmt, dpi = figure_settings(cfg)
    plot_options(spec, {"figures.format": fmt, "figures.dpi": dpi}, source)  # plot choices fail before any run
    folder = Path(settings["out"] or HydraConfig.get().runtime.output_dir)
    split = settings["jobs"] > 1
    started = time.time()
    context = prepare_folder(folder, spec, base_config(cfg))
    check_first_point(context)
    (folder / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
    if split:  # cluster job: its own shards only; shards are disjoint, so no lock is needed
        selection = [i for i in range(len(shard_ranges(len(context.runs), spec.shard_size)))
                     if i % settings["jobs"] == settings["job"]]
        done, failed = run_with_progress(context, pending_shards(context, selection), settings)
        print(f"job {settings['job']}/{settings['jobs']}: {done} runs done, {failed} failed in {folder}")
        return
    with SweepLock(folder):
        pending = pending_shards(context)
        total_shards = len(shard_ranges(len(context.runs), spec.shard_size))
        if len(pending) < total_shards:
            print(f"resuming: {total_shards - len(pending)} of {total_shards} shards already done", file=sys.stderr)
        recorded = {k: v for k, v in OmegaConf.to_container(cfg, resolve=True).items() if k != "hydra"}
        write_json(folder / "manifest.json", manifest(spec.seed, started, False, sweep=spec.to_dict(),
                                                       runs_total=len(context.runs), config=recorded))
        run_with_progress(context, pending, settings)
        rows, failures = aggregate(context)
        complete = not pending_shards(context)
        write_json(folder / "manifest.json", manifest(
            spec.seed, started, complete, sweep=spec.to_dict(), runs_total=len(context.runs),
            runs_done=rows, runs_failed=failures, shards=total_shards, config=recorded))
    from experiments.plot import plot_folder

    figures = plot_folder(folder, {"figures.format": fmt, "figures.dpi": dpi})
    print(f"sweep {spec.name}: {rows} runs in runs.parquet, {failures} failed, {elapsed(started)}")
    print(f"results: {folder}")
    for figure in figures:
        print(f"  {figure}")
    if failures:
        print(f"error: {failures} of {len(context.runs)} runs raised; parameters, seeds and tracebacks "
              f"are in {folder / 'failures.parquet'}", file=sys.stderr)
        sys.exit(1)


def run_with_progress(context, shards, settings) -> tuple[int, int]:
    """Execute shards with a progress bar (runs done / total, rate, ETA) on stderr."""
    total = sum(stop - start for i, (start, stop) in enumerate(shard_ranges(len(context.runs),
                                                                           context.spec.shard_size))
                if i in set(shards))
    if not settings.get("progress", True) or total == 0:
        return execute(context, shards, settings["workers"])
    from tqdm import tqdm

    with tqdm(total=total, unit="run", desc=context.spec.name, file=sys.stderr, dynamic_ncols=True) as bar:
        return execute(context, shards, settings["workers"],
                       progress=lambda count, failed: bar.update(count))


def cli() -> None:
    if {"--help", "-h"} & set(sys.argv[1:]):
        sys.argv.append("hydra/help=sweep")  # this command's own usage (configs/hydra/help/sweep.yaml)
    report_and_exit(main)


if __name__ == "__main__":
    cli()
