"""Calibrate parameters to the observed record by ABC-SMC (pyabc), resumably (docs/how-to/calibrate.md).

    python -m experiments.calibrate calibrate=jan2022_resolve
    python -m experiments.calibrate calibrate=jan2022_resolve sweep.workers=1 calibrate.out=results/calibrate/r
    python -m experiments.calibrate calibrate=jan2022_resolve calibrate.out=results/calibrate/r   # resume

The folder gets abc.db (pyabc's history: re-run on the folder to continue it), calibration.json,
posterior.parquet (the last generation's particles, weights, distances, seeds), posterior_summary.parquet,
populations.parquet, diagnostics.parquet (prior against posterior per parameter), predictive_runs.parquet
and predictive_rounds.parquet (posterior-predictive runs), figures/posterior_marginals.png,
figures/posterior_pairs.png, figures/predictive_check.png, config.yaml and manifest.json (completed last).
It prints the posterior, the per-parameter diagnostics (sd ratio, mass at the prior's bounds, KS from the
prior, the acceptance profile) with a warning line where the record informs a parameter only through a
threshold (located and printed) or a prior bound, or not at all, and the predictive runs' scores next to the
baselines. Shipped: calibrate=jan2022_resolve (eu: the observed positions inform it) and
calibrate=jan2022_walkout (offers: only the walk-out does). Bad input: one line on stderr, exit status 2.
"""

from __future__ import annotations

import sys

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from experiments.cli import chosen, one_line_errors, report_and_exit, user_file, user_inputs
from sim.domain.config import register_configs

register_configs()


@hydra.main(version_base="1.3", config_path="../configs", config_name="config")
@one_line_errors
def main(cfg: DictConfig) -> None:
    from sim.report.commands import calibrate_command

    settings, source = chosen(cfg, "calibrate", "a calibration")
    calibrate_command(cfg, settings, source, HydraConfig.get().runtime.output_dir, user_file("scenario"),
                      user_inputs())


def cli() -> None:
    if {"--help", "-h"} & set(sys.argv[1:]):
        sys.argv.append("hydra/help=calibrate")  # this command's own usage (configs/hydra/help/calibrate.yaml)
    report_and_exit(main)


if __name__ == "__main__":
    cli()
