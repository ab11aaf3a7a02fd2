"""A whole sweep into its folder, as ``python -m experiments.sweep`` runs it.

The sweep's settings checked (:func:`sweep_spec`), its design planned and every point checked, the folder
prepared under its lock, the pending shards run with a progress bar, aggregated into ``runs.parquet``, the
figures drawn (by the caller: the report layer's ``draw``), and the manifest marked complete last
(:func:`run_sweep`). On a cluster each job runs its own shards only, without lock or aggregation.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from sim.domain.config import SWEEP_RUN_KEYS
from sim.domain.errors import CommandFailed, ConfigError
from sim.runs import files
from sim.runs.design import SweepSpec, shard_ranges, spec_from_config
from sim.runs.sweep.execution import Interrupted, elapsed, execute, lost_shards
from sim.runs.sweep.planning import SweepContext, check_points, plan
from sim.runs.sweep.store import SweepLock, aggregate, check_shards, pending_shards, prepare_folder

#: Draws a finished sweep folder's figures and returns the paths written.
Draw = Callable[[Path], Sequence[Path]]


def sweep_spec(settings: Mapping[str, Any], source: str) -> SweepSpec:
    """The design of a ``sweep`` node (its settings as plain containers), with the settings that say how
    to run it checked: ``jobs`` / ``job`` (cluster split) and ``workers``.

    Raises:
        ConfigError: naming the sweep's file and key.
    """
    spec = spec_from_config({k: v for k, v in settings.items() if k not in SWEEP_RUN_KEYS}, source)
    if settings["jobs"] < 1 or not 0 <= settings["job"] < settings["jobs"]:
        raise ConfigError(source, "sweep.job", f"{settings['job']}; allowed: 0 .. jobs-1 (jobs={settings['jobs']})")
    if settings["workers"] < 1:
        raise ConfigError(source, "sweep.workers", f"{settings['workers']}; must be >= 1")
    return spec


def run_sweep(cfg: Any, spec: SweepSpec, settings: Mapping[str, Any], source: str, folder: Path,
              config_dirs: Sequence[Path] = (), scenario_file: str | None = None,
              draw: Draw | None = None, inputs: Mapping[str, str] | None = None) -> None:
    """Run the sweep ``spec`` of the composed config ``cfg`` into ``folder`` (or, with ``sweep.jobs`` > 1,
    this job's shards of it); resumes a folder that holds the same sweep.

    Raises:
        ConfigError: a bad design point (before any file is written), a folder holding another sweep.

    ``inputs``: the user's files the sweep reads (group -> path), copied into the folder's ``inputs/`` with
    their sha256 in the manifest (:func:`sim.runs.results.copy_inputs`).
        CommandFailed: runs raised (status 1: parameters, seeds and tracebacks in failures.parquet), or
            Ctrl-C (status 130: the same command resumes).
    """
    from sim.runs.configs import base_config

    started = time.time()
    context = plan(folder, spec, base_config(cfg), config_dirs, source, scenario_file)
    check_points(context)  # every design point, before any file is written
    if settings["jobs"] > 1:
        _run_job(cfg, context, settings)
    else:
        _run_whole(cfg, context, settings, started, draw, inputs)


def _run_job(cfg: Any, context: SweepContext, settings: Mapping[str, Any]) -> None:
    """A cluster job: its own shards only; shards are disjoint, so no lock is needed."""
    from omegaconf import OmegaConf

    folder = context.folder
    total_shards = len(shard_ranges(len(context.runs), context.spec.shard_size))
    prepare_folder(context)
    files.write_text(folder / "config.yaml", OmegaConf.to_yaml(cfg, resolve=True))
    selection = [i for i in range(total_shards) if i % settings["jobs"] == settings["job"]]
    report_bad_shards(check_shards(context, selection))
    done, failed = run_with_progress(context, pending_shards(context, selection), settings, folder)
    print(f"job {settings['job']}/{settings['jobs']}: {done} runs done, {failed} failed in {folder}")


def report_bad_shards(removed: Sequence[tuple[Path, str]]) -> None:
    """One line on stderr per shard that failed its check on resume (it was removed and runs again)."""
    for path, problem in removed:
        print(f"{path}: {problem}; its runs are run again", file=sys.stderr)


def _run_whole(cfg: Any, context: SweepContext, settings: Mapping[str, Any], started: float,
               draw: Draw | None, inputs: Mapping[str, str] | None = None) -> None:
    """The whole sweep under the folder's lock: check the shards done before, run what is pending,
    aggregate (every run index exactly once), draw, complete."""
    from omegaconf import OmegaConf

    from sim.runs.results import copy_inputs, manifest, write_json

    folder, spec = context.folder, context.spec
    total_shards = len(shard_ranges(len(context.runs), spec.shard_size))
    recorded = {k: v for k, v in OmegaConf.to_container(cfg, resolve=True).items() if k != "hydra"}
    about = dict(sweep=spec.to_dict(), runs_total=len(context.runs), config=recorded)
    with SweepLock(folder):
        prepare_folder(context)
        copied = copy_inputs(folder, inputs)
        if copied:
            about["inputs"] = copied
        files.mark_incomplete(folder / "manifest.json", manifest(spec.seed, started, False, **about))
        files.write_text(folder / "config.yaml", OmegaConf.to_yaml(cfg, resolve=True))
        report_bad_shards(check_shards(context))
        pending = pending_shards(context)
        if len(pending) < total_shards:
            print(f"resuming: {total_shards - len(pending)} of {total_shards} shards already done", file=sys.stderr)
        run_with_progress(context, pending, settings, folder)
        lost = lost_shards(context)
        rows, failures, missing = aggregate(context)
        figures = list(draw(folder)) if draw is not None else []
        # completed: true only once every run index is in runs.parquet or failures.parquet exactly once, no
        # shard is pending, and every table and figure is written
        complete = not pending_shards(context) and missing == 0
        write_json(folder / "manifest.json", manifest(
            spec.seed, started, complete, runs_done=rows, runs_failed=failures, shards=total_shards, **about))
    print(f"sweep {spec.name}: {rows} runs in runs.parquet, {failures} failed, {elapsed(started)}")
    print(f"results: {folder}")
    for figure in figures:
        print(f"  {figure}")
    if lost:
        runs_lost = sum(len(range(*shard_ranges(len(context.runs), spec.shard_size)[i])) for i in lost)
        raise CommandFailed(f"{runs_lost} of {len(context.runs)} runs lost: a worker died twice running shard"
                            f"{'s' if len(lost) > 1 else ''} {', '.join(map(str, lost))} (causes in "
                            f"{folder / 'failures.parquet'}); run the same command again to run them", 1)
    if failures:
        raise CommandFailed(f"{failures} of {len(context.runs)} runs raised; parameters, seeds and tracebacks "
                            f"are in {folder / 'failures.parquet'}", 1)
    if not complete:
        raise CommandFailed(f"{missing} of {len(context.runs)} runs are in neither runs.parquet nor "
                            f"failures.parquet; run the same command again to run them", 1)


def run_with_progress(context: SweepContext, shards: Sequence[int], settings: Mapping[str, Any],
                      folder: Path) -> tuple[int, int]:
    """Execute shards with a progress bar (runs done / total, rate, ETA) on stderr. Ctrl-C stops within
    moments and says how to resume.

    Raises:
        CommandFailed: on Ctrl-C (status 130), naming the shards left.
    """
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
        raise CommandFailed(f"interrupted (Ctrl-C): {left} shards left in {folder}; run the same command "
                            "again to resume", 130) from None
