"""Robustness within the sources' ranges: what a ``source_ranges`` sweep says about the deal gap.

    python -m experiments.sweep sweep=source_ranges sweep.workers=2 sweep.out=results/sweeps/source_ranges
    python -m experiments.robustness results/sweeps/source_ranges [--scenario jan2022] [--top 5]

Prints the share of breakdowns, the distribution of the deal gap (points on the issues' 0-100 scales),
which rules bind how often, the run closest to a deal, and the single perturbations (one input at an end
of its range, the rest as declared) that come closest (docs/explanation/why-talks-fail.md, "Robustness").
Bad input: one line on stderr, exit status 2.
"""

from __future__ import annotations

import argparse
import sys

from sim.domain.errors import ConfigError


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m experiments.robustness", description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", help="a sweep folder whose runs.parquet has deal_gap (sweep=source_ranges)")
    parser.add_argument("--scenario", help="the scenario (name or file) whose ranges were swept; default: the folder's")
    parser.add_argument("--top", type=int, default=5, help="single perturbations to list (default 5)")
    args = parser.parse_args(argv)
    from sim.analysis.robustness import robustness_report

    try:
        print(robustness_report(args.folder, args.scenario, args.top))
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    from experiments.cli import run_command

    run_command(main)
