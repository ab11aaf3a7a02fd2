"""Score a run or sweep folder against the observed record: one row per protocol.

    python -m experiments.score results/run/2026-12-03_12-00-00          # a protocol=all run
    python -m experiments.score results/sweeps/smoke/<timestamp> --by protocol scenario
    python -m experiments.score results/calibrate/a results/calibrate/b   # calibrations: their predictive runs

Columns (sim/scoring.py): runs; mae = mean absolute error of the simulated positions at the observed
(round, actor, issue) points, in points of a 0-100 scale (mae_sd: its spread over runs); outcome_match =
share of runs that end as the record does (agreement or breakdown, the ending, who broke off); agreement =
share of runs that agree; brier = Brier score of that share against the record; end_round_error = mean
|rounds played - the round the record's end is mapped to|; outcome = the most common outcome class.

The runs table's score_* columns are used (every protocol=all run and sweep writes them); for a calibration
folder (experiments.calibrate), its posterior-predictive runs. A folder written before the columns existed
is scored from its rounds.parquet and config.yaml. Several folders: one table. Bad input: one line, exit 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from sim.domain.errors import ConfigError


def folder_scores(folder: Path, by: list[str]) -> tuple[pd.DataFrame, str]:
    """The score table of a results folder and the record it was scored against."""
    from omegaconf import OmegaConf

    from sim.runs import scoring
    from sim.runs.results import load_results

    if not (folder / "runs.parquet").exists() and (folder / "predictive_runs.parquet").exists():
        config = OmegaConf.to_container(OmegaConf.load(folder / "config.yaml"), resolve=True)
        runs = pd.read_parquet(folder / "predictive_runs.parquet")
    else:
        results = load_results(folder, tables=("runs",))
        config, runs = results.config, results.runs
    settings = scoring.observed_settings(config.get("observed") or None)
    if settings is None:
        raise ConfigError(str(folder / "config.yaml"), "observed",
                          "this folder was run without an observed record (~observed): nothing to score "
                          "against; re-run with observed=jan2022 (configs/observed/)")
    record, mapping = settings
    if "score_mae" not in runs:
        runs = score_from_rounds(folder, runs, OmegaConf.create(config), record, mapping)
    for column in by:
        if column not in runs:
            raise ConfigError(str(folder / "runs.parquet"), "--by",
                              f"no column {column!r}; allowed: {', '.join(c for c in runs.columns if not c.startswith('score_'))}")
    return scoring.score_table(runs, record.agreement, by=by if len(by) > 1 else by[0]), record.source


def score_from_rounds(folder: Path, runs: pd.DataFrame, cfg, record, mapping) -> pd.DataFrame:
    """Score columns for an older run folder: from its recorded rounds table."""
    from sim.runs import scoring
    from sim.domain.scenario import scenario_from_config

    if not (folder / "rounds.parquet").exists():
        raise ConfigError(str(folder), "runs.parquet", "no score_* columns and no rounds.parquet to compute them "
                                                       "from; re-run the experiment")
    scenario = scenario_from_config(cfg.scenario)
    if not scoring.covers(record, scenario):
        raise ConfigError(record.source, "scenario", f"scenario {scenario.id!r} lacks an actor or issue the record observes")
    rounds = pd.read_parquet(folder / "rounds.parquet")
    rows = []
    for row in runs.to_dict("records"):
        own = rounds[rounds["protocol"] == row["protocol"]] if "protocol" in rounds else rounds
        rows.append({**row, **scoring.run_scores(own, row, record, mapping, scenario)})
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m experiments.score", description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", help="results folders of experiments.run, .sweep or .calibrate")
    parser.add_argument("--by", nargs="+", default=["protocol"], help="group rows by these runs-table columns")
    args = parser.parse_args(argv)
    try:
        tables = [folder_scores(Path(folder), args.by) for folder in args.folders]
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    table = pd.concat([t for t, _ in tables], ignore_index=True)
    if len(tables) > 1:
        table.insert(0, "folder", [Path(f).name for f, (t, _) in zip(args.folders, tables) for _ in range(len(t))])
    sources = ", ".join(dict.fromkeys(source for _, source in tables))
    print(f"scored against {sources} (mae in points of a 0-100 scale; brier: agreement vs the record)")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    from experiments.cli import run_command

    run_command(main)
