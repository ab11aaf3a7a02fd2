"""The mechanism table of docs/explanation/why-talks-fail.md, from a finished ``sweep=mechanisms`` folder
(``python -m experiments.mechanisms``): per setting of the ``scenario.rules.*`` switches (no mechanism,
each alone, all four), the runs, the agreement rate, the most frequent cause of breakdown and the mean
outcome of the agreements per issue, as a Markdown table.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.report.errors import FolderError

RULES = ("red_lines", "package", "credibility", "power_shift")


def mechanisms_markdown(folder: str | Path) -> str:
    """The mechanism table of a sweep folder's runs, as a Markdown pipe table.

    Raises:
        FolderError: the folder has no runs table, or its runs do not vary the ``scenario.rules`` switches.
    """
    path = Path(folder) / "runs.parquet"
    if not path.exists():
        raise FolderError(path, "no runs table; run the mechanisms sweep into this folder first")
    runs = pd.read_parquet(path)
    missing = [f"scenario_rules_{rule}" for rule in RULES if f"scenario_rules_{rule}" not in runs]
    if missing:
        raise FolderError(path, f"columns {', '.join(missing)} missing; allowed: a sweep=mechanisms folder")
    issues = [c.removeprefix("outcome_") for c in runs.columns if c.startswith("outcome_")]
    return markdown(mechanism_table(runs, issues))


def mechanism_table(runs: pd.DataFrame, issues: list[str]) -> pd.DataFrame:
    """One row per setting of the ``scenario.rules.*`` switches (columns ``scenario_rules_<rule>``)."""
    flags = [f"scenario_rules_{rule}" for rule in RULES]
    rows = []
    for key, group in runs.groupby(flags, sort=False):
        on = [rule.replace("_", " ") for rule, flag in zip(RULES, key) if flag]
        label = "none" if not on else "all four" if len(on) == len(RULES) else " + ".join(on)
        agreed = group[group["agreement"].astype(bool)]
        causes = group.loc[~group["agreement"].astype(bool), "breakdown_cause"]
        row = {"mechanisms on": label, "runs": len(group), "agreement": f"{len(agreed) / len(group):.0%}",
               "most frequent cause": (f"{causes.mode().iloc[0]} ({(causes == causes.mode().iloc[0]).mean():.0%})"
                                       if len(causes) else "")}
        for issue in issues:
            row[issue] = f"{agreed[f'outcome_{issue}'].mean():.0f}" if len(agreed) else "–"
        rows.append(row)
    return pd.DataFrame(rows)


def markdown(table: pd.DataFrame) -> str:
    """A pipe table (no dependency on tabulate)."""
    lines = ["| " + " | ".join(map(str, table.columns)) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in table.itertuples(index=False)]
    return "\n".join(lines)
