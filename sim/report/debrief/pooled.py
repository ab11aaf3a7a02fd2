"""The class debrief: every game exported into a class folder, pooled per scenario
(:mod:`sim.analysis.pooling`), beside the model agents' runs, the reference solutions and 2022."""

from __future__ import annotations

import html
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd

from sim.report.debrief.game import cause_text
from sim.report.debrief.page import embed, page, table_html
from sim.report.debrief.replicates import model_replicates
from sim.runs.configs import load_config


def _class_outcomes_figure(games, moved: pd.DataFrame):
    """Per issue that moved: the class's outcomes (dots) beside the model agents' runs (box), no deal =
    what happened in 2022 (black bar), and the compromise and Nash solutions."""
    from matplotlib.figure import Figure

    done = games.finished
    count = len(moved)
    figure = Figure(figsize=(7.5, 0.55 * count + 1.1), layout="constrained")
    ax = figure.subplots()
    rng = np.random.default_rng(0)  # jitter only: fixed so that the report is the same every time
    for row, (_, info) in enumerate(moved.iterrows()):
        y = count - 1 - row
        span = info["upper"] - info["lower"]
        scale = lambda v: (np.asarray(v, dtype=float) - info["lower"]) / span  # noqa: E731
        if len(games.replicates):
            ax.boxplot(scale(games.replicates[f"outcome_{info['issue']}"]), positions=[y - 0.18], orientation="horizontal",
                       widths=0.25, showfliers=False, patch_artist=True,
                       boxprops={"facecolor": "0.85", "edgecolor": "0.5"}, medianprops={"color": "0.3"})
        values = scale(done[f"outcome_{info['issue']}"])
        ax.scatter(values, y + 0.15 + rng.uniform(-0.08, 0.08, len(values)), s=28, color="tab:red", zorder=3,
                   label="class games" if row == 0 else None)
        ax.scatter(scale(info["status_quo"]), y, marker="|", s=400, color="black", zorder=4,
                   label="no deal = 2022" if row == 0 else None)
        for column, marker, colour in (("compromise", "^", "tab:green"), ("nash", "*", "tab:blue")):
            if np.isfinite(info[column]):
                ax.scatter(scale(info[column]), y, marker=marker, s=70, color=colour, zorder=4,
                           label=column.replace("nash", "Nash") if row == 0 else None)
    ax.set_yticks(range(count), [textwrap.shorten(str(label), 42, placeholder="…") for label in moved["label"]][::-1],
                  fontsize=8)
    ax.set_xlim(-0.03, 1.03)
    ax.set_ylim(-0.6, count - 0.4)
    ax.set_xticks([0, 0.5, 1], ["low end", "middle", "high end"])
    ax.set_title("Outcomes per issue: the class (dots), the model agents (grey box)", fontsize=10)
    figure.legend(loc="outside lower center", ncol=4, fontsize=8)
    return figure


def _class_seats_figure(games, seats: pd.DataFrame):
    """Per seat: the class's utilities (dots) beside the model agent's in that seat (grey box)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7.5, 0.6 * len(seats) + 1.0), layout="constrained")
    ax = figure.subplots()
    done = games.finished
    for row, seat in enumerate(seats["seat"]):
        y = len(seats) - 1 - row
        if len(games.replicates):
            ax.boxplot(games.replicates[f"utility_{seat}"].to_numpy(dtype=float), positions=[y - 0.15], orientation="horizontal",
                       widths=0.25, showfliers=False, patch_artist=True,
                       boxprops={"facecolor": "0.85", "edgecolor": "0.5"}, medianprops={"color": "0.3"})
        values = done.loc[done["play_as"] == seat, "seat_utility"].to_numpy(dtype=float)
        ax.scatter(values, np.full(len(values), y + 0.18), s=30, color="tab:red", zorder=3,
                   label="class" if row == 0 else None)
        d = float(done.loc[done["play_as"] == seat, f"disagreement_{seat}"].iloc[0])
        ax.scatter([d], [y], marker="|", s=300, color="black", zorder=4, label="no deal" if row == 0 else None)
    ax.set_yticks(range(len(seats)), list(seats["seat"])[::-1], fontsize=9)
    ax.set_xlim(-0.02, 1.02)
    ax.set_xlabel("utility of the seat (1 = all it wants)", fontsize=9)
    ax.set_title("The seats' utilities: the class (dots), the model agent (grey box)", fontsize=10)
    figure.legend(loc="outside lower center", ncol=3, fontsize=8)
    return figure


def _game_rows(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"game": frame["folder"], "seat": frame["play_as"],
                         "result": [cause_text(row) for _, row in frame.iterrows()],
                         "rounds": frame["rounds"].astype(int), "seat utility": frame["seat_utility"],
                         "distance from 2022": frame["distance_to_history"]})


def class_report(root: Path, replicates: int = 30) -> str:
    """The class debrief: every game in ``root`` pooled per scenario (see :mod:`sim.analysis.pooling`)."""
    from sim.analysis.pooling import pool

    pooled = pool(root)
    total = sum(len(games.games) for games in pooled)
    parts = [f"<h1>Class debrief: {html.escape(Path(root).name)}</h1>",
             f"<p class='small'>{total} exported games from <code>{html.escape(str(root))}</code>. Distances "
             "from 2022: the mean distance of a game's outcome from the status quo, as a share of each scale "
             "(0 = nothing changed, as in 2022, when the talks ended without agreement).</p>"]
    for number, games in enumerate(pooled):
        if len(games.replicates) == 0 and replicates > 0:
            first = games.folders[0]
            games.replicates = model_replicates(first, pd.read_parquet(first / "runs.parquet"), replicates)
        parts += _scenario_section(games, number)
    return page("Class debrief", "".join(parts))


def _scenario_section(games, number: int) -> list[str]:
    """One scenario's games (a new page after the first): agreement rates, the seats against the model
    agent, the outcomes per issue, the games closest to and furthest from what happened."""
    config = load_config(games.folders[0] / "config.yaml")
    scenario = config.get("scenario", {})
    note = scenario.get("classroom") or {}
    done, running = games.finished, games.games[games.games["game"] != "finished"]
    parts = ["<div class='pagebreak'></div>"] if number else []
    parts.append(f"<h2>{html.escape(str(scenario.get('name') or games.scenario))}</h2>")
    rate, model_rate = games.agreement_rate(), games.model_agreement_rate()
    summary = pd.DataFrame([
        {"who": "the class (finished games)", "games": len(done),
         "agreement rate": "–" if np.isnan(rate) else f"{rate:.0%}"},
        {"who": "the model agents in every seat", "games": len(games.replicates),
         "agreement rate": "–" if np.isnan(model_rate) else f"{model_rate:.0%}"},
        {"who": "history (2022)", "games": 1, "agreement rate": "0%"},
    ])
    parts.append(table_html(summary, "agreement"))
    if len(running):
        parts.append(f"<p class='small'>Not pooled (exported before the end): "
                     f"{html.escape(', '.join(running['folder']))}.</p>")
    seats = games.seats()
    if not seats.empty:
        parts.append("<h2>The seats: the class against the model agent</h2>" + table_html(seats, "seats"))
        parts.append(embed(_class_seats_figure(games, seats)))
    parts += _class_outcomes(games)
    closest, furthest = games.closest_and_furthest()
    parts.append("<h2>Closest to what happened</h2>" + table_html(_game_rows(closest), "closest"))
    parts.append("<h2>Furthest from what happened</h2>" + table_html(_game_rows(furthest), "furthest"))
    if note.get("what_happened"):
        parts.append(f"<h2>What happened</h2><div class='note'>{html.escape(note['what_happened'])}</div>")
    for question in note.get("questions") or []:
        parts.append(f"<p><b>Discuss:</b> {html.escape(question)}</p>")
    return parts


def _class_outcomes(games) -> list[str]:
    """Outcomes per issue: the issues every game and model run left at the status quo named, the others
    in a figure, and the class's and the model agents' mean outcome beside the reference solutions."""
    done = games.finished
    columns = [f"outcome_{i}" for i in games.issues["issue"]]
    every = pd.concat([done[columns], games.replicates[columns]] if len(games.replicates) else [done[columns]])
    moved = games.issues[[np.ptp(np.append(every[f"outcome_{i}"].to_numpy(dtype=float), sq)) > 1e-9
                          for i, sq in zip(games.issues["issue"], games.issues["status_quo"])]]
    parts = ["<h2>Outcomes per issue</h2>"]
    if len(moved) < len(games.issues):
        still = games.issues.loc[~games.issues["issue"].isin(moved["issue"]), "label"]
        parts.append(f"<p class='small'>Every game and model run left these at the status quo: "
                     f"{html.escape('; '.join(still))}.</p>")
    if not moved.empty and len(done):
        parts.append(embed(_class_outcomes_figure(games, moved)))
    table = games.issues[["label", "status_quo", "compromise", "nash"]].rename(
        columns={"label": "issue", "status_quo": "no deal (2022)", "nash": "Nash"})
    table["class mean"] = [done[f"outcome_{i}"].mean() for i in games.issues["issue"]]
    if len(games.replicates):
        table["model mean"] = [games.replicates[f"outcome_{i}"].mean() for i in games.issues["issue"]]
    parts.append(table_html(table, "outcomes"))
    return parts
