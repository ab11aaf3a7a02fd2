"""Scoring results folders against the observed record: one row per protocol, the baselines under them
(``python -m experiments.score``).

The runs table's score_* columns are used (every protocol=all run and sweep writes them); for a calibration
folder, its posterior-predictive runs. A folder written before the columns existed (or before the baseline
columns) is scored from its rounds.parquet and config.yaml (:func:`score_from_rounds`). The table's columns:
:func:`sim.runs.scoring.score_table`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import pandas as pd

from sim.domain.errors import ConfigError


def folder_scores(folder: Path, by: list[str]) -> tuple[pd.DataFrame, str, str | None]:
    """The score table of a results folder, the record it was scored against (a line saying what was
    scored) and the record's leakage warning for the folder's scenario (None when there is none)."""
    from omegaconf import OmegaConf

    from sim.domain.scenario import scenario_from_config
    from sim.runs import scoring
    from sim.runs.configs import load_config
    from sim.runs.results import load_results

    if not (folder / "runs.parquet").exists() and (folder / "predictive_runs.parquet").exists():
        config = load_config(folder / "config.yaml")
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
    cfg = OmegaConf.create(config)
    scenario = scenario_from_config(cfg.scenario)
    if "score_mae" not in runs or "score_mae_no_change" not in runs:
        runs = score_from_rounds(folder, runs, cfg, record, mapping)
    for column in by:
        if column not in runs:
            raise ConfigError(str(folder / "runs.parquet"), "--by",
                              f"no column {column!r}; allowed: {', '.join(c for c in runs.columns if not c.startswith('score_'))}")
    table = scoring.score_table(runs, record, by=by if len(by) > 1 else by[0])
    return table, describe(record, mapping), scoring.leakage(record, mapping, scenario).warning()


def describe(record, mapping) -> str:
    """What the scores are against: the record, its points and rounds, the scenario's date, the base rate."""
    from sim.runs import scoring

    points = scoring.observed_table(record, mapping)
    rounds = ", ".join(f"{r} = {d}" for r, d in sorted(mapping.items()) if d in set(points["date"]))
    after = f" after the scenario's date ({record.scenario_date})" if record.scenario_date else ""
    rate = ", ".join(f"{name.replace('_', ' ')} {share:.3f}" for name, share in record.base_rate)
    return (f"scored against {record.source}: {len(points)} observed points{after} at rounds {rounds}; "
            f"mae in points of a 0-100 scale; skill = 1 - mae / mae of no change; brier: outcome class "
            f"({record.outcome_class} observed) against the base rate ({rate})")


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
        own = rounds
        for key in ("protocol", "draw"):  # a protocol=all run; a calibration's predictive draws
            if key in rounds and key in row:
                own = own[own[key] == row[key]]
        rows.append({**row, **scoring.run_scores(own, row, record, mapping, scenario)})
    return pd.DataFrame(rows)


def format_table(table: pd.DataFrame) -> str:
    """A score table as the command prints it: three decimals, ``-`` where a column does not apply."""
    table = table.copy()
    if "runs" in table:
        table["runs"] = table["runs"].astype("Int64").astype(object).where(table["runs"].notna(), "-")
    text = table.to_string(index=False, na_rep="-", float_format=lambda v: f"{v:.3f}")
    return "\n".join(line.rstrip() for line in text.splitlines())


def score_folders(folders: Sequence[str | Path], by: Sequence[str] = ("protocol",)) -> str:
    """The score table of one or more results folders (grouped ``by`` runs-table columns; several
    folders: one table with a ``folder`` column), under a line naming the record and a leakage warning
    line when observed points equal the scenario's inputs, as the command prints it.

    Raises:
        ConfigError: a folder without an observed record or runs to score, an unknown ``by`` column.
    """
    tables = [folder_scores(Path(folder), list(by)) for folder in folders]
    table = pd.concat([t for t, _, _ in tables], ignore_index=True)
    if len(tables) > 1:
        table.insert(0, "folder", [Path(f).name for f, (t, _, _) in zip(folders, tables) for _ in range(len(t))])
    lines = list(dict.fromkeys(line for _, about, warning in tables for line in (about, warning) if line))
    return "\n".join(lines + [format_table(table)])
