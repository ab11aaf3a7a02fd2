"""Score a run or sweep folder against the observed record: one row per protocol, the baselines under them.

    python -m experiments.score results/run/2026-12-03_12-00-00          # a protocol=all run
    python -m experiments.score results/sweeps/smoke/<timestamp> --by protocol scenario
    python -m experiments.score results/calibrate/a results/calibrate/b   # calibrations: their predictive runs

Prints what the scores are against (the record's points after the scenario's date, the base rate), a
leakage warning when observed points equal the scenario's own inputs, and one row per protocol with, under
them, the baselines scored on the same points by the same code: (no change) = the scenario's inputs carried
forward, (compromise) and (median) = every actor at the c·s-weighted mean or median from round 1 on, and
(base rate) = the record's stated forecast of the outcome class.

Columns (sim/runs/scoring.py): runs; mae = mean absolute error of the simulated positions at the observed
(round, actor, issue) points, in points of a 0-100 scale (mae_sd: its spread over runs); skill = 1 - mae /
mae of no change (0: no better than nobody moving); outcome_match = share of runs that end as the record
does (agreement or breakdown, the ending, who broke off); agreement, war, no_deal = shares of the outcome
classes; brier = Brier score of those shares against the record's class, brier_skill = 1 - brier / the base
rate's; end_round_error = mean |rounds played - the round the record's end is mapped to|; outcome = the most
common outcome class.

The runs table's score_* columns are used (every protocol=all run and sweep writes them); for a calibration
folder (experiments.calibrate), its posterior-predictive runs. A folder written before the columns existed
is scored from its rounds.parquet and config.yaml. Several folders: one table. Bad input: one line, exit 2.
"""

from __future__ import annotations

import argparse
import sys

from sim.domain.errors import ConfigError


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m experiments.score", description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", help="results folders of experiments.run, .sweep or .calibrate")
    parser.add_argument("--by", nargs="+", default=["protocol"], help="group rows by these runs-table columns")
    args = parser.parse_args(argv)
    from sim.runs.folder_scores import score_folders

    try:
        table = score_folders(args.folders, args.by)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    print(table)


if __name__ == "__main__":
    from experiments.cli import run_command

    run_command(main)
