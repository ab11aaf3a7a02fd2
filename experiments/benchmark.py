"""Score every protocol and reference solution on real negotiations (docs/explanation/validation.md).

    python -m experiments.benchmark deu
    python -m experiments.benchmark deu benchmark.capability=equal
    python -m experiments.benchmark deu benchmark.proposals=10 benchmark.out=results/benchmark/quick

Prints one row per model (MAE, median error, share within 10 points, paired bootstrap interval of the MAE
minus the compromise's), the same split by procedure and by voting rule, and where the results folder is
(sim/report/benchmark.py lists its files). The same command on the same benchmark.out resumes.
Bad input: one line on stderr, exit status 2.
"""

from __future__ import annotations

import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from experiments.cli import chosen, one_line_errors, report_and_exit
from sim.domain.config import figure_settings, register_configs

register_configs()
BENCHMARKS = ("deu",)


@hydra.main(version_base="1.3", config_path="../configs", config_name="config")
@one_line_errors
def main(cfg: DictConfig) -> None:
    from sim.report.benchmark import run_benchmark
    from sim.runs.benchmark import BenchmarkSettings

    settings_cfg, source = chosen(cfg, "benchmark", "a benchmark")
    settings = BenchmarkSettings.from_mapping(settings_cfg, source)
    fmt, dpi = figure_settings(cfg)
    folder = Path(settings.out or HydraConfig.get().runtime.output_dir)
    recorded = OmegaConf.to_yaml(OmegaConf.create({"benchmark": settings_cfg}))
    report = run_benchmark(settings, folder, recorded, fmt, dpi)
    print(report.text)
    print(f"\nresults: {report.folder}")


def cli() -> None:
    args = sys.argv[1:]
    if args and args[0] in BENCHMARKS:  # `deu` is the benchmark=deu group choice
        args[0] = f"benchmark={args[0]}"
    if {"--help", "-h"} & set(args):
        args.append("hydra/help=benchmark")  # this command's own usage (configs/hydra/help/benchmark.yaml)
    if not any(a.startswith("experiment=") for a in args):
        args.append("experiment=benchmark")  # results/benchmark/<timestamp>/
    sys.argv[1:] = args
    report_and_exit(main)


if __name__ == "__main__":
    cli()
