"""Calibrate parameters to the observed record by ABC-SMC (pyabc), resumably (docs/how-to/calibrate.md).

    python -m experiments.calibrate calibrate=jan2022_resolve
    python -m experiments.calibrate calibrate=jan2022_resolve sweep.workers=1 calibrate.out=results/calibrate/r
    python -m experiments.calibrate calibrate=jan2022_resolve calibrate.out=results/calibrate/r   # resume

The folder gets abc.db (pyabc's history: re-run on the folder to continue it), calibration.json,
posterior.parquet (the last generation's particles, weights, distances, seeds), posterior_summary.parquet,
populations.parquet, predictive_runs.parquet and predictive_rounds.parquet (posterior-predictive runs),
figures/posterior_marginals.png, figures/posterior_pairs.png, figures/predictive_check.png, config.yaml
and manifest.json (completed last). Bad input: one line on stderr, exit status 2.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from experiments.cli import chosen, one_line_errors, report_and_exit, user_file
from sim.domain.errors import ConfigError
from sim.domain.config import register_configs

register_configs()


def base_config(cfg: DictConfig) -> dict:
    """The composed config every simulation starts from (without Hydra's, the sweep's and the calibration's own
    settings)."""
    data = OmegaConf.to_container(cfg, resolve=True)
    for key in ("hydra", "sweep", "figures", "calibrate"):
        data.pop(key, None)
    return data


@hydra.main(version_base="1.3", config_path="../configs", config_name="config")
@one_line_errors
def main(cfg: DictConfig) -> None:
    from sim.report import plots
    from sim.runs import calibration, scoring
    from sim.domain.config import figure_settings
    from sim.runs.results import manifest, write_json, write_parquet
    from sim.domain.scenario import scenario_from_config

    settings, source = chosen(cfg, "calibrate", "a calibration")
    spec = calibration.spec_from_config(settings, source)
    observed = scoring.observed_settings(cfg.get("observed"))
    if observed is None:
        raise ConfigError(source, "observed", "a calibration needs an observed record; e.g. observed=jan2022")
    record, mapping = observed
    scenario = scenario_from_config(cfg.scenario, source=user_file("scenario"))
    scoring.check_record(record, scenario)
    if not mapping:
        raise ConfigError("configs/observed", "observed.rounds", "map at least one model round to a date of the record")
    base = base_config(cfg)
    calibration.check_parameters(spec, base, source)
    fmt, dpi = figure_settings(cfg)
    workers = int(cfg.sweep.workers) if cfg.get("sweep") is not None else 1
    if workers < 1:
        raise ConfigError(source, "sweep.workers", f"{workers}; must be >= 1")
    folder = Path(settings.get("out") or HydraConfig.get().runtime.output_dir)
    from sim.runs.sweep import SweepLock

    with SweepLock(folder, what="calibration"):  # two calibrations never write one history
        folder.mkdir(parents=True, exist_ok=True)
        started = time.time()
        recorded = {k: v for k, v in OmegaConf.to_container(cfg, resolve=True).items() if k != "hydra"}
        (folder / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
        extra = dict(calibration=spec.to_dict(), workers=workers, config=recorded)
        write_json(folder / "manifest.json", manifest(spec.seed, started, False, **extra))

        history = calibration.calibrate(folder, spec, base, workers)
        posterior = calibration.posterior_table(history, spec)
        summary = calibration.posterior_summary(posterior, spec)
        populations = calibration.populations_table(history)
        write_parquet(posterior, folder / "posterior.parquet")
        write_parquet(summary, folder / "posterior_summary.parquet")
        write_parquet(populations, folder / "populations.parquet")
        runs, rounds = calibration.predictive_runs(posterior, spec, base)
        labels = plots.Labels.from_scenario(scenario)
        priors = [(p.key, p.column, p.low, p.high, p.kind) for p in spec.parameters]
        caption = plots.caption(scenario.name or scenario.id, str(cfg.protocol.name),
                                seeds=f"{len(posterior)} posterior particles · master seed {spec.seed}")
        figures = [
            plots.save(plots.posterior_marginals_figure(posterior, priors, labels=labels, caption=caption),
                       folder / "figures" / "posterior_marginals", dpi, fmt),
            plots.save(plots.posterior_pairs_figure(posterior, priors, labels=labels, caption=caption),
                       folder / "figures" / "posterior_pairs", dpi, fmt),
        ]
        if not runs.empty:
            write_parquet(runs, folder / "predictive_runs.parquet")
            write_parquet(rounds, folder / "predictive_rounds.parquet")
            observed_points = scoring.observed_table(record, mapping)
            issues = [i for i in scenario.issue_ids if i in set(observed_points["issue"])]
            figures.append(plots.save(plots.predictive_figure(
                rounds, observed_points, issues, max(mapping), labels=labels,
                caption=f"{caption}\nposterior predictive: {len(runs)} draws; dots: observed record ({record.source})"),
                folder / "figures" / "predictive_check", dpi, fmt))
        simulations = int(populations["samples"].sum())
        write_json(folder / "manifest.json", manifest(spec.seed, started, True, abc_id=history.id,
                                                       generations=int(history.max_t + 1), simulations=simulations,
                                                       **extra))
        print(f"calibration {spec.name}: {history.max_t + 1} generations, {simulations} simulations, "
              f"final epsilon {populations['epsilon'].iloc[-1]:.3g}")
        print(summary.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        if not runs.empty:
            print("\nposterior predictive vs the record (sim/scoring.py):")
            table = scoring.score_table(runs, record.agreement)
            print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        print(f"\nresults: {folder}")
        for figure in figures:
            print(f"  {figure}")


def cli() -> None:
    if {"--help", "-h"} & set(sys.argv[1:]):
        sys.argv.append("hydra/help=calibrate")  # this command's own usage (configs/hydra/help/calibrate.yaml)
    report_and_exit(main)


if __name__ == "__main__":
    cli()
