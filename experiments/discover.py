"""Scenario discovery on a finished sweep: in which region of the swept parameters does an outcome happen?

    python -m experiments.discover FOLDER [outcome=agreement | outcome="COLUMN>NUMBER"] [boxes=1]
                                          [min_coverage=0.5] [parameters=[KEY,...]] [out=FOLDER]
                                          [overwrite=true] [peel_alpha=0.05] [paste_alpha=0.05]
                                          [mass_min=0.05] [figures.format=png|pdf|svg] [figures.dpi=INT]
                                          [figures.width=single|double|INCHES] [figures.details=true]

Runs PRIM (the EMA Workbench's) on the sweep's runs table: the swept parameters against the runs of
interest, a yes/no column (agreement) or a numeric column compared with a number (>, >=, <, <=, ==, !=;
a missing value counts as no). Prints each box (its limits, coverage, density and mass) and writes into
FOLDER/discover/<outcome>/ (or out=): boxes.parquet and boxes.csv (one row per box and limit),
trajectory.parquet and trajectory.csv (every step of the peeling, the chosen one marked), manifest.json,
figures/peeling_trajectory.png and figures/box_<n>_pairs.png. An existing output folder is refused unless
overwrite=true. The chosen box balances coverage and density best (their harmonic mean is highest) among
the boxes on the trajectory that cover at least min_coverage of the runs of interest; box n+1 is looked for among the runs outside boxes 1..n. Bad input: one line, exit 2.
docs/how-to/discover.md explains how to read the numbers.

Examples:
    python -m experiments.discover results/sweeps/deal_space outcome=agreement
    python -m experiments.discover results/sweeps/deal_space outcome="bargaining_range>0" boxes=1
    python -m experiments.discover results/sweeps/rr outcome=agreement min_coverage=0.8 figures.format=pdf
"""

from __future__ import annotations

import sys

from experiments.cli import folder_and_options
from sim.domain.errors import ConfigError
from sim.report.discover_report import DISCOVER_OPTIONS, discover_folder


def main(argv: list[str] | None = None) -> None:
    try:
        argv = sys.argv[1:] if argv is None else argv
        folder, options = folder_and_options(argv, __doc__, DISCOVER_OPTIONS, ("outcome",))
        _, out, written = discover_folder(folder, options)
        print(f"results: {out}")
        for path in written:
            print(f"  {path}")
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    from experiments.cli import run_command

    run_command(main)
