"""Run a parameter sweep (configs/sweep/<name>.yaml), resumably, and plot it.

    python -m experiments.sweep sweep=russia_resolve
    python -m experiments.sweep sweep=russia_resolve sweep.workers=2 sweep.out=results/sweeps/rr
    python -m experiments.sweep sweep=russia_resolve sweep.out=results/sweeps/rr     # resume / finish

On a cluster (Hydra's submitit launcher), split the shards over jobs, then aggregate:

    python -m experiments.sweep -m sweep=russia_resolve sweep.out=/scratch/rr sweep.jobs=8 \\
        'sweep.job=range(0,8)' hydra/launcher=submitit_slurm hydra.launcher.partition=...
    python -m experiments.sweep sweep=russia_resolve sweep.out=/scratch/rr

The folder gets design.json, design.parquet, shards/ (each shard with its record: rows, run indices,
checksum; checked on resume), runs.parquet, failures.parquet (if any run raised, or was lost to a worker
that died twice), manifest.json, config.yaml and figures/. Exit status: 0 all runs done, 1 some runs
failed or were lost, or a file could not be written (one line on stderr naming it; manifest.json keeps
"completed": false), 2 bad input, 130 Ctrl-C.
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
    from sim.report.commands import sweep_command

    settings, source = chosen(cfg, "sweep", "a sweep")
    runtime = HydraConfig.get().runtime
    sweep_command(cfg, settings, source, runtime.output_dir, runtime.config_sources, user_file("scenario"),
                  user_inputs())


def cli() -> None:
    if {"--help", "-h"} & set(sys.argv[1:]):
        sys.argv.append("hydra/help=sweep")  # this command's own usage (configs/hydra/help/sweep.yaml)
    out = [a.partition("=")[2] for a in sys.argv[1:] if a.startswith("sweep.out=")]
    if out and out[-1] and not any(a.startswith("hydra.run.dir=") for a in sys.argv[1:]):
        sys.argv.append(f"hydra.run.dir={out[-1]}")  # nothing under results/ when the user named a folder
    report_and_exit(main)


if __name__ == "__main__":
    cli()
