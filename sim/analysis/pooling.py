"""A class's games pooled: every export in a class folder (``make classroom CLASS=monday-3rd`` writes
them to ``results/classroom/monday-3rd/<timestamp>_<seat>_<tab>/``) read into one set of tables for the
class debrief (``python -m experiments.debrief --class <folder>``).

Pure functions of the folders: no figures, no HTML. "History" is what happened in 2022: no agreement
on any issue, so the status quo stood on every issue (the scenarios' teacher's notes); a game's
distance from history is the mean distance of its agreed outcome from the status quo, as a share of
each issue's scale (0 = nothing changed, as in 2022; 0 for a game without a deal, whose outcome columns
are empty when it ended in war).

What is pooled: the finished games students played. Set apart, and listed with the reason: watch-only
games (nobody in a seat: the teacher's demo on the projector), games whose actors were changed (Tune
the actors: another negotiation), games exported before their end, and second exports of a game
already pooled (the same tab's game in the same state, or, for exports without a tab id, the same
config, seat and moves). ``include_all=True`` pools the first two kinds too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

GAME_FILES = ("runs.parquet", "issues.parquet", "config.yaml", "manifest.json")


WATCH_ONLY = "watch-only game (nobody in a seat: a demo)"
CHANGED = "changed actors"
DUPLICATE = "duplicate export of"


@dataclass
class ClassGames:
    """The pooled tables of one scenario's games in a class folder."""

    scenario: str
    games: pd.DataFrame  # one row per pooled export: runs.parquet + folder, game, seat_utility, distance_to_history
    replicates: pd.DataFrame  # the model agents' runs saved with the pooled exports, each distinct run once
    issues: pd.DataFrame  # the reference table (issues.parquet of the first game)
    folders: list[Path]  # the pooled exports
    apart: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["folder", "seat", "why"]))

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
        """The finished games closest to history and furthest from it: by the outcome's kind first (no
        deal ending in war, as in 2022; then no deal without war; then an agreement), then by the
        distance of the outcome from the status quo (ties: fewer rounds first)."""
        done = self.finished.assign(likeness=[outcome_kind(row) for _, row in self.finished.iterrows()])
        keys = ["likeness", "distance_to_history", "rounds", "folder"]
        closest = done.sort_values(keys, kind="stable").head(count)
        furthest = done.sort_values(keys, ascending=[False, False, True, True], kind="stable").head(count)
        return closest, furthest


def outcome_kind(row: pd.Series) -> int:
    """How far a game's ending is from 2022's: 0 no deal and war, 1 no deal without war, 2 an agreement."""
    if bool(row["agreement"]):
        return 2
    return 0 if str(row.get("ending", "war")) == "war" else 1


def game_folders(root: Path) -> list[Path]:
    """Every export under ``root`` (a folder holding all of :data:`GAME_FILES`), sorted."""
    root = Path(root)
    found = {p.parent for p in root.rglob("runs.parquet") if all((p.parent / name).exists() for name in GAME_FILES)}
    return sorted(found)


def distance_to_history(row: pd.Series, issues: pd.DataFrame) -> float:
    """Mean |outcome - status quo| / scale over the issues (0 = nothing changed, as in 2022; 0 without
    an agreement, whose outcome is the status quo or, after a war, no outcome at all)."""
    if not bool(row["agreement"]):
        return 0.0
    outcome = np.array([row[f"outcome_{i}"] for i in issues["issue"]], dtype=float)
    span = (issues["upper"] - issues["lower"]).to_numpy(dtype=float)
    return float(np.mean(np.abs(outcome - issues["status_quo"].to_numpy(dtype=float)) / span))


def changed_actors(manifest: dict) -> list[str]:
    """The Tune-the-actors overrides of an export (``changed_actors`` in manifest.json; for older exports,
    the ``scenario.<key>=`` overrides of its command line)."""
    if "changed_actors" in manifest:
        return list(manifest["changed_actors"] or [])
    return [part for part in str(manifest.get("command", "")).split() if part.startswith("scenario.")]


def game_setting(row: pd.Series) -> str:
    """A game's config and seed (``config_hash`` leaves the seed out): games with the same setting have
    the same model agents' runs."""
    return f"{row.get('config_hash')}:{row.get('seed')}"


def fingerprint(folder: Path, runs: pd.DataFrame, manifest: dict) -> tuple:
    """What makes two exports one game in one state: the tab (``session``) and, within it or for exports
    without one, the config, the seat, how far the game went and its moves (events.parquet)."""
    events = folder / "events.parquet"
    moves = int(pd.util.hash_pandas_object(pd.read_parquet(events), index=False).sum()) if events.exists() else 0
    row = runs.iloc[0]
    return (str(manifest.get("session", "")), game_setting(row), str(row.get("play_as")),
            str(manifest.get("game", "")), int(row["rounds"]), moves)


def pool(root: Path, include_all: bool = False) -> list[ClassGames]:
    """The class folder's games, one :class:`ClassGames` per scenario (most games first); see the module's
    note for what is set apart (``include_all``: pool watch-only games and changed actors too)."""
    by_scenario: dict[str, list[tuple[Path, pd.DataFrame, pd.DataFrame | None, pd.DataFrame]]] = {}
    apart: dict[str, list[dict]] = {}
    seen: dict[tuple, str] = {}
    for folder in game_folders(root):
        runs = pd.read_parquet(folder / "runs.parquet")
        manifest = json.loads((folder / "manifest.json").read_text())
        runs = runs.assign(folder=folder.name, game=str(manifest.get("game", runs.get("game", ["finished"])[0])))
        scenario = str(runs["scenario"].iloc[0])
        seat = str(runs["play_as"].iloc[0]) if "play_as" in runs else "nobody"
        key = fingerprint(folder, runs, manifest)
        changed = changed_actors(manifest)
        why = ""
        if key in seen:
            why = f"{DUPLICATE} {seen[key]}"
        elif seat in ("", "nobody", "None") and not include_all:
            why = WATCH_ONLY
        elif changed and not include_all:
            why = f"{CHANGED}: {' '.join(changed)}"
        seen.setdefault(key, folder.name)
        if why:
            apart.setdefault(scenario, []).append({"folder": folder.name, "seat": seat, "why": why})
            continue
        replicates = pd.read_parquet(folder / "replicates.parquet") if (folder / "replicates.parquet").exists() else None
        issues = pd.read_parquet(folder / "issues.parquet")
        by_scenario.setdefault(scenario, []).append((folder, runs, replicates, issues))
    pooled = []
    for scenario, entries in sorted(by_scenario.items(), key=lambda item: (-len(item[1]), item[0])):
        issues = entries[0][3]
        games = pd.concat([runs for _, runs, _, _ in entries], ignore_index=True)
        games["seat_utility"] = [row[f"utility_{row['play_as']}"] if row.get("play_as") not in (None, "", "nobody")
                                 else np.nan for _, row in games.iterrows()]
        games["distance_to_history"] = [distance_to_history(row, issues) for _, row in games.iterrows()]
        frames = [reps.assign(folder=folder.name, game_config=game_setting(runs.iloc[0]))
                  for folder, runs, reps, _ in entries if reps is not None]
        replicates = distinct_runs(pd.concat(frames, ignore_index=True)) if frames else pd.DataFrame()
        rows = pd.DataFrame(apart.pop(scenario, []), columns=["folder", "seat", "why"])
        pooled.append(ClassGames(scenario, games, replicates, issues, [folder for folder, *_ in entries], rows))
    for scenario, rows in sorted(apart.items()):  # a scenario none of whose games is pooled
        pooled.append(ClassGames(scenario, pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), [],
                                 pd.DataFrame(rows, columns=["folder", "seat", "why"])))
    return pooled


def distinct_runs(replicates: pd.DataFrame) -> pd.DataFrame:
    """The model agents' runs, each once: games with the same config (two seats of one seed) saved the
    same runs, which pooled as they are would count them twice."""
    return replicates.drop_duplicates(subset=["game_config", "replicate"], keep="first").reset_index(drop=True)
