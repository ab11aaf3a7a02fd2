"""A calibration into its results folder, as ``python -m experiments.calibrate`` runs it.

Everything is checked before the folder is touched (:func:`prepare_calibration`: the calibration, the
observed record against the scenario, every prior's range, figure settings, workers); then, under the
folder's lock, the ABC-SMC history is run or resumed and its tables written, the figures drawn by the
caller (the report layer's ``draw``), and the manifest marked complete last (:func:`run_calibration`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import pandas as pd

from sim.domain.errors import ConfigError
from sim.runs import calibration, files, scoring


@dataclass(frozen=True)
class CalibrationJob:
    """A checked calibration: what :func:`run_calibration` and the figures need."""

    cfg: Any  # the composed config (DictConfig)
    spec: calibration.CalibrationSpec
    base: dict[str, Any]  # the config every simulation starts from (base_config)
    scenario: Any  # the base scenario (labels and captions of the figures)
    record: Any  # the observed record
    mapping: dict[int, str]  # model round -> date of the record
    folder: Path
    workers: int
    fmt: str = "png"
    dpi: int = 150
    inputs: Mapping[str, str] | None = None  # the user's files read (group -> path): copied into the folder


@dataclass(frozen=True)
class CalibrationTables:
    """What a calibration computed: pyabc's history and the tables written from it."""

    history: Any
    posterior: pd.DataFrame
    summary: pd.DataFrame
    populations: pd.DataFrame
    runs: pd.DataFrame  # posterior-predictive runs (empty when calibrate.predictive=0)
    rounds: pd.DataFrame
    diagnoses: tuple = ()  # prior against posterior per parameter (sim.runs.calibration_diagnostics)


#: Draws a calibration's figures and returns the paths written.
Draw = Callable[[CalibrationJob, CalibrationTables], Sequence[Path]]


def prepare_calibration(cfg: Any, settings: Mapping[str, Any], source: str, output_dir: str | Path,
                        scenario_file: str | None = None, inputs: Mapping[str, str] | None = None) -> CalibrationJob:
    """Check a calibration (its ``calibrate`` node as plain ``settings``, from ``source``) against the
    composed config ``cfg`` before anything is written.

    Raises:
        ConfigError: naming the file and key of the first mistake.
    """
    from sim.domain.config import figure_settings
    from sim.domain.scenario import scenario_from_config
    from sim.runs.configs import base_config

    spec = calibration.spec_from_config(settings, source)
    observed = scoring.observed_settings(cfg.get("observed"))
    if observed is None:
        raise ConfigError(source, "observed", "a calibration needs an observed record; e.g. observed=jan2022")
    record, mapping = observed
    scenario = scenario_from_config(cfg.scenario, source=scenario_file)
    scoring.check_record(record, scenario)
    if not mapping:
        raise ConfigError("configs/observed", "observed.rounds", "map at least one model round to a date of the record")
    base = base_config(cfg, also=("calibrate",))
    calibration.check_parameters(spec, base, source)
    fmt, dpi = figure_settings(cfg)
    workers = int(cfg.sweep.workers) if cfg.get("sweep") is not None else 1
    if workers < 1:
        raise ConfigError(source, "sweep.workers", f"{workers}; must be >= 1")
    folder = Path(settings.get("out") or output_dir)
    return CalibrationJob(cfg, spec, base, scenario, record, mapping, folder, workers, fmt, dpi, inputs)


def run_calibration(job: CalibrationJob, draw: Draw | None = None) -> None:
    """Run (or resume) the calibration into its folder, under the folder's lock (two calibrations never
    write one history), and print its summary: generations, posterior, predictive scores, files."""
    from omegaconf import OmegaConf

    from sim.runs.results import copy_inputs, manifest, write_json
    from sim.runs.sweep import SweepLock

    spec, folder = job.spec, job.folder
    with SweepLock(folder, what="calibration", key="calibrate.out"):
        folder.mkdir(parents=True, exist_ok=True)
        started = time.time()
        recorded = {k: v for k, v in OmegaConf.to_container(job.cfg, resolve=True).items() if k != "hydra"}
        files.write_text(folder / "config.yaml", OmegaConf.to_yaml(job.cfg, resolve=True))
        extra = dict(calibration=spec.to_dict(), workers=job.workers, config=recorded)
        copied = copy_inputs(folder, job.inputs)
        if copied:
            extra["inputs"] = copied
        files.mark_incomplete(folder / "manifest.json", manifest(spec.seed, started, False, **extra))
        tables = calibration_tables(job)
        figures = list(draw(job, tables)) if draw is not None else []
        simulations = int(tables.populations["samples"].sum())
        write_json(folder / "manifest.json", manifest(spec.seed, started, True, abc_id=tables.history.id,
                                                       generations=int(tables.history.max_t + 1),
                                                       simulations=simulations, **extra))
        print_summary(job, tables, simulations, figures)


def calibration_tables(job: CalibrationJob) -> CalibrationTables:
    """Run or resume the ABC-SMC history in the job's folder and write its tables: posterior.parquet,
    posterior_summary.parquet, populations.parquet, diagnostics.parquet (prior against posterior) and, with
    predictive draws, predictive_runs.parquet and predictive_rounds.parquet."""
    from sim.runs import calibration_diagnostics as diagnostics
    from sim.runs.results import write_parquet

    spec, folder = job.spec, job.folder
    try:
        history = calibration.calibrate(folder, spec, job.base, job.workers)
    except Exception as error:
        mapped = database_error(error, folder / "abc.db")
        if mapped is error:
            raise
        raise mapped from error
    posterior = calibration.posterior_table(history, spec)
    summary = calibration.posterior_summary(posterior, spec)
    populations = calibration.populations_table(history)
    write_parquet(posterior, folder / "posterior.parquet")
    write_parquet(summary, folder / "posterior_summary.parquet")
    write_parquet(populations, folder / "populations.parquet")
    diagnoses = diagnostics.diagnose(posterior, spec, job.base, float(populations["epsilon"].iloc[-1]), job.workers)
    write_parquet(diagnostics.diagnostics_table(diagnoses), folder / "diagnostics.parquet")
    runs, rounds = calibration.predictive_runs(posterior, spec, job.base, workers=job.workers)
    if not runs.empty:
        write_parquet(runs, folder / "predictive_runs.parquet")
        write_parquet(rounds, folder / "predictive_rounds.parquet")
    return CalibrationTables(history, posterior, summary, populations, runs, rounds, tuple(diagnoses))


def database_error(error: Exception, database: Path) -> Exception:
    """pyabc's SQLite history that could not be written (a full disk, a read-only folder) as the
    :class:`~sim.domain.errors.WriteError` naming ``abc.db``; any other error as it is."""
    import errno

    from sim.domain.errors import WriteError

    text = str(error).lower()
    if type(error).__name__ != "OperationalError":
        return error
    for words, number in (("disk is full", errno.ENOSPC), ("readonly", errno.EROFS),
                          ("unable to open", errno.EACCES), ("disk i/o", errno.EIO)):
        if words in text:
            return WriteError(number, f"cannot write the calibration's history ({words})", str(database))
    return error


def print_summary(job: CalibrationJob, tables: CalibrationTables, simulations: int,
                  figures: Sequence[Path]) -> None:
    """What the command prints at the end: generations, the posterior summary, the predictive scores."""
    history, populations = tables.history, tables.populations
    print(f"calibration {job.spec.name}: {history.max_t + 1} generations, {simulations} simulations, "
          f"final epsilon {populations['epsilon'].iloc[-1]:.3g}")
    print(tables.summary.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if tables.diagnoses:
        from sim.runs.calibration_diagnostics import format_diagnostics

        print("\n" + format_diagnostics(list(tables.diagnoses)))
    if not tables.runs.empty:
        from sim.runs.folder_scores import format_table

        print("\nposterior predictive vs the record (sim/runs/scoring.py; baselines on the same points):")
        print(format_table(scoring.score_table(tables.runs, job.record)))
    print(f"\nresults: {job.folder}")
    for figure in figures:
        print(f"  {figure}")
