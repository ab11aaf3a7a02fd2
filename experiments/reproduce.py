"""Re-run a results folder from its saved config and seeds and check the numbers are identical.

    python -m experiments.reproduce results/sweeps/rr --sample 20   # 20 random runs of a sweep
    python -m experiments.reproduce results/run/2026-11-27_18-41-39  # a single run
    python -m experiments.reproduce results/classroom/monday-3rd/2026-12-03_09-12-00_ukraine

The first line says whether config.yaml changed since the run (and which keys); then, per table,
how many rows were compared and the first rows that differ (column: saved, now); the last line the
verdict. Exit status 0 identical, 1 any difference, 2 if the folder is not a results folder. A
classroom game in which a person played a seat cannot be re-run (the person's moves are not a
config): the command says so and checks the model agents' runs the export compared the person with
(replicates.parquet) instead.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--sample", type=int, default=None, help="re-run this many random runs (sweeps)")
    args = parser.parse_args(argv)
    from sim.report.commands import reproduce_command

    sys.exit(reproduce_command(args.folder, args.sample))


if __name__ == "__main__":
    from experiments.cli import run_command

    run_command(main)
