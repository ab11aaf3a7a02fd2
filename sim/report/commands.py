"""The commands that end in figures or a debrief, whole: the runs layer does the work
(:mod:`sim.runs.sweep.command`, :mod:`sim.runs.calibration_command`, :mod:`sim.runs.reproduce`) and this
layer adds what it draws. ``experiments/<command>.py`` parses its command line and calls one function here.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping

if TYPE_CHECKING:  # pragma: no cover
    from sim.runs.calibration_command import CalibrationJob, CalibrationTables
    from sim.runs.reproduce import TableCheck

# Each command imports only what it runs (a command's --help stays quick): imports are inside the functions.


def run_command(cfg: Any, output_dir: str | Path, scenario_file: str | None = None,
                inputs: Mapping[str, str] | None = None) -> tuple[Path, str]:
    """``python -m experiments.run``: the composed config ``cfg`` run (its run specifications; several for
    ``protocol=all``), its folder written (``output_dir``, or a sibling if another run claimed it in the
    same second) with figures if ``record.figures``; returns the folder and the summary to print. A run that
    fails leaves no empty folder behind. ``inputs``: the user's files the run read (group -> path), copied
    into the folder's ``inputs/`` with their hash in the manifest (:func:`sim.runs.results.copy_inputs`)."""
    from sim.report.run_report import summary, write_run
    from sim.runs.results import claim_folder, copy_inputs
    from sim.runs.runner import run_config

    planned = Path(output_dir)
    try:
        result = run_config(cfg, source=scenario_file)
        if "observed" in (inputs or {}):  # a record the user named is checked, not silently left unscored
            from sim.runs.scoring import check_record, observed_settings

            settings = observed_settings(cfg.get("observed"))
            if settings is not None:
                check_record(settings[0], result.scenario)
    except BaseException:
        if planned.is_dir() and not any(planned.iterdir()):
            planned.rmdir()  # Hydra made it
        raise
    folder = claim_folder(planned)  # unique even for runs started in the same second
    copied = copy_inputs(folder, inputs)
    write_run(result, folder, cfg, figures=cfg.record.figures, **({"inputs": copied} if copied else {}))
    return folder, summary(result)


def sweep_command(cfg: Any, settings: Mapping[str, Any], source: str, output_dir: str | Path,
                  config_sources: Iterable[Any] = (), scenario_file: str | None = None,
                  inputs: Mapping[str, str] | None = None) -> None:
    """``python -m experiments.sweep``: the sweep ``settings`` (its ``sweep`` node, from ``source``) of the
    composed config ``cfg`` run into ``sweep.out`` (else ``output_dir``), then its figures and summary tables.

    :func:`sim.report.sweep_report.plot_options` checks the figure choices before any run and
    :func:`sim.report.sweep_report.plot_sweep` draws them.

    Raises:
        ConfigError: bad input, before any file is written where it can be.
        CommandFailed: runs raised (status 1) or Ctrl-C (130).
    """
    from sim.domain.config import figure_layout, figure_settings
    from sim.runs.configs import user_config_dirs
    from sim.report.sweep_report import plot_options, plot_sweep
    from sim.runs.sweep.command import run_sweep, sweep_spec

    spec = sweep_spec(settings, source)
    fmt, dpi = figure_settings(cfg)
    width, details = figure_layout(cfg)
    options = {"figures.format": fmt, "figures.dpi": dpi, "figures.width": width, "figures.details": details}
    plot_options(spec, options, source)  # plot choices fail before any run
    folder = Path(settings["out"] or output_dir)
    run_sweep(cfg, spec, settings, source, folder, user_config_dirs(config_sources), scenario_file,
              draw=lambda where: plot_sweep(where, options), inputs=inputs)


def calibrate_command(cfg: Any, settings: Mapping[str, Any], source: str, output_dir: str | Path,
                      scenario_file: str | None = None, inputs: Mapping[str, str] | None = None) -> None:
    """``python -m experiments.calibrate``: the calibration ``settings`` (its ``calibrate`` node, from
    ``source``) checked, run or resumed into ``calibrate.out`` (else ``output_dir``), and its figures.

    Raises:
        ConfigError: bad input, before the folder is touched.
    """
    from sim.runs.calibration_command import prepare_calibration, run_calibration

    run_calibration(prepare_calibration(cfg, settings, source, output_dir, scenario_file, inputs), calibration_figures)


def calibration_figures(job: CalibrationJob, tables: CalibrationTables) -> list[Path]:
    """figures/posterior_marginals, figures/posterior_pairs and, with predictive runs,
    figures/predictive_check (the simulated positions against the observed record)."""
    from sim.domain.config import figure_layout
    from sim.report import plots

    with plots.layout(*figure_layout(job.cfg)):
        return _calibration_figures(job, tables, plots)


def _calibration_figures(job: CalibrationJob, tables: CalibrationTables, plots: Any) -> list[Path]:
    from sim.runs import scoring

    folder, spec, posterior = job.folder / "figures", job.spec, tables.posterior
    labels = plots.Labels.from_scenario(job.scenario)
    priors = [(p.key, p.column, p.low, p.high, p.kind) for p in spec.parameters]
    caption = plots.caption(job.scenario.name or job.scenario.id, str(job.cfg.protocol.name),
                            seeds=f"{len(posterior)} posterior particles · master seed {spec.seed}")
    figures = [
        plots.save(plots.posterior_marginals_figure(posterior, priors, labels=labels, caption=caption),
                   folder / "posterior_marginals", job.dpi, job.fmt),
        plots.save(plots.posterior_pairs_figure(posterior, priors, labels=labels, caption=caption),
                   folder / "posterior_pairs", job.dpi, job.fmt),
    ]
    if not tables.runs.empty:
        observed_points = scoring.observed_table(job.record, job.mapping)
        issues = [i for i in job.scenario.issue_ids if i in set(observed_points["issue"])]
        figures.append(plots.save(plots.predictive_figure(
            tables.rounds, observed_points, issues, max(job.mapping), labels=labels,
            caption=f"{caption}\nposterior predictive: {len(tables.runs)} draws; dots: observed record "
                    f"({job.record.source})"),
            folder / "predictive_check", job.dpi, job.fmt))
    return figures


def reproduce_command(folder: Path, sample: int | None = None) -> int:
    """``python -m experiments.reproduce``: re-run a results folder (:func:`sim.runs.reproduce.reproduce`),
    a classroom game with a person in a seat by its model agents' replicates; returns the exit status."""
    from sim.runs.reproduce import reproduce

    return reproduce(Path(folder), sample, classroom=reproduce_classroom)


def reproduce_classroom(folder: Path, seat: str) -> list[TableCheck]:
    """A game with a person in ``seat``: explain, then re-run the model agents' replicates."""
    import pandas as pd

    from sim.report.debrief import model_replicates
    from sim.runs.reproduce import compare_table

    print(f"{folder}: a classroom game in which a person played {seat}; the person's moves are not in the "
          "config, so the game itself cannot be re-run (config.yaml re-runs it with model agents in every seat).")
    saved_path = folder / "replicates.parquet"
    if not saved_path.exists():
        print("no replicates.parquet (the game was exported unfinished or without a comparison): nothing to check")
        return []
    saved = pd.read_parquet(saved_path)
    print(f"checking the {len(saved)} runs with model agents in every seat that the report compares the person with")
    now = model_replicates(folder, pd.read_parquet(folder / "runs.parquet"), len(saved), cached=False)
    return [compare_table("replicates.parquet", saved, now, ["seed"])]
