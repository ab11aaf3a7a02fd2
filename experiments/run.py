"""Run one experiment and write its results folder.

    python -m experiments.run scenario=jan2022 protocol=eu seed=1 rounds=20
    python -m experiments.run scenario=ec_emissions protocol.variant=scholz protocol.q=1 seed=0 rounds=3
    python -m experiments.run ... hydra.run.dir=somewhere/else

Writes results/<experiment>/<timestamp>/ (config.yaml, manifest.json, runs/rounds/events/issues
.parquet, figures/positions.png) and prints a summary. Bad input: one line on stderr, exit status 2.
"""

from __future__ import annotations

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from experiments.cli import one_line_errors, report_and_exit, user_file, user_inputs
from sim.domain.config import register_configs

register_configs()


@hydra.main(version_base="1.3", config_path="../configs", config_name="config")
@one_line_errors
def main(cfg: DictConfig) -> None:
    from sim.report.commands import run_command  # Mesa and pandas load here, not for --help

    folder, text = run_command(cfg, HydraConfig.get().runtime.output_dir, user_file("scenario"), user_inputs())
    print(text)
    print(f"\nresults: {folder}")


def cli() -> None:
    report_and_exit(main)


if __name__ == "__main__":
    cli()
