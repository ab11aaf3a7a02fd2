"""A class's games pooled: every export in a class folder (``make classroom CLASS=monday-3rd`` writes
them to ``results/classroom/monday-3rd/<timestamp>_<seat>/``) read into one set of tables for the
class debrief (``python -m experiments.debrief --class <folder>``).

Pure functions of the folders: no figures, no HTML. "History" is what happened in 2022: no agreement
on any issue, so the status quo stood on every issue (the scenarios' teacher's notes, brief §3.2); a
game's distance from history is the mean distance of its outcome from the status quo, as a share of
each issue's scale (0 = nothing changed, as in 2022).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

GAME_FILES = ("runs.parquet", "issues.parquet", "config.yaml", "manifest.json")


@dataclass
class ClassGames:
    """The pooled tables of one scenario's games in a class folder."""

    scenario: str
    games: pd.DataFrame  # one row per export: runs.parquet + folder, game, seat_utility, distance_to_history
    replicates: pd.DataFrame  # the model agents' runs saved with the exports (replicates.parquet), + folder
    issues: pd.DataFrame  # the reference table (issues.parquet of the first game)
    folders: list[Path]

    @property
    def finished(self) -> pd.DataFrame:
        return self.games[self.games["game"] == "finished"]

    def agreement_rate(self) -> float:
        """Share of the class's finished games that ended in agreement (nan with none finished)."""
        done = self.finished
        return float(done["agreement"].mean()) if len(done) else float("nan")

    def model_agreement_rate(self) -> float:
        return float(self.replicates["agreement"].mean()) if len(self.replicates) else float("nan")

    def seats(self) -> pd.DataFrame:
        """Per seat played (finished games): games, the class's mean and range of the seat's utility,
        and the model agent's mean and 10-90 % range in that seat over the pooled replicates."""
        rows = []
        for seat, part in self.finished.groupby("play_as", sort=True):
            if seat in ("", "nobody"):
                continue
            values = part["seat_utility"].to_numpy(dtype=float)
            model = self.replicates[f"utility_{seat}"].to_numpy(dtype=float) if len(self.replicates) else np.array([])
            rows.append({"seat": seat, "games": len(values), "class mean": float(values.mean()),
                         "class min": float(values.min()), "class max": float(values.max()),
                         "model mean": float(model.mean()) if model.size else np.nan,
                         "model 10%": float(np.quantile(model, 0.1)) if model.size else np.nan,
                         "model 90%": float(np.quantile(model, 0.9)) if model.size else np.nan,
                         "model runs": int(model.size)})
        return pd.DataFrame(rows, columns=["seat", "games", "class mean", "class min", "class max", "model mean",
                                           "model 10%", "model 90%", "model runs"])

    def closest_and_furthest(self, count: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The finished games closest to history and furthest from it (ties: fewer rounds first)."""
        order = self.finished.sort_values(["distance_to_history", "rounds", "folder"], kind="stable")
        return order.head(count), order.iloc[::-1].head(count)


def game_folders(root: Path) -> list[Path]:
    """Every export under ``root`` (a folder holding all of :data:`GAME_FILES`), sorted."""
    root = Path(root)
    found = {p.parent for p in root.rglob("runs.parquet") if all((p.parent / name).exists() for name in GAME_FILES)}
    return sorted(found)


def distance_to_history(row: pd.Series, issues: pd.DataFrame) -> float:
    """Mean |outcome - status quo| / scale over the issues (0 = nothing changed, as in 2022)."""
    outcome = np.array([row[f"outcome_{i}"] for i in issues["issue"]], dtype=float)
    span = (issues["upper"] - issues["lower"]).to_numpy(dtype=float)
    return float(np.mean(np.abs(outcome - issues["status_quo"].to_numpy(dtype=float)) / span))


def pool(root: Path) -> list[ClassGames]:
    """The class folder's games, one :class:`ClassGames` per scenario (most games first)."""
    by_scenario: dict[str, list[tuple[Path, pd.DataFrame, pd.DataFrame | None, pd.DataFrame]]] = {}
    for folder in game_folders(root):
        runs = pd.read_parquet(folder / "runs.parquet")
        manifest = json.loads((folder / "manifest.json").read_text())
        runs = runs.assign(folder=folder.name, game=str(manifest.get("game", runs.get("game", ["finished"])[0])))
        replicates = pd.read_parquet(folder / "replicates.parquet") if (folder / "replicates.parquet").exists() else None
        issues = pd.read_parquet(folder / "issues.parquet")
        by_scenario.setdefault(str(runs["scenario"].iloc[0]), []).append((folder, runs, replicates, issues))
    pooled = []
    for scenario, entries in sorted(by_scenario.items(), key=lambda item: (-len(item[1]), item[0])):
        issues = entries[0][3]
        games = pd.concat([runs for _, runs, _, _ in entries], ignore_index=True)
        games["seat_utility"] = [row[f"utility_{row['play_as']}"] if row.get("play_as") not in (None, "", "nobody")
                                 else np.nan for _, row in games.iterrows()]
        games["distance_to_history"] = [distance_to_history(row, issues) for _, row in games.iterrows()]
        frames = [reps.assign(folder=folder.name) for folder, _, reps, _ in entries if reps is not None]
        replicates = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        pooled.append(ClassGames(scenario, games, replicates, issues, [folder for folder, *_ in entries]))
    return pooled
