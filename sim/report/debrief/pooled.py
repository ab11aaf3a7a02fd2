"""The class debrief: every game exported into a class folder, pooled per scenario
(:mod:`sim.analysis.pooling`), beside the model agents' runs, the reference solutions and 2022."""

from __future__ import annotations

import html
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd

from sim.report.debrief.page import embed, page, table_html
from sim.report.debrief.reading import Reading, cause_text
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
        model = scale(games.replicates[f"outcome_{info['issue']}"]) if len(games.replicates) else np.array([])
        model = model[np.isfinite(model)]  # a run ending in war has no outcome on any issue
        if model.size:
            ax.boxplot(model, positions=[y - 0.18], orientation="horizontal",
                       widths=0.25, showfliers=False, patch_artist=True,
                       boxprops={"facecolor": "0.85", "edgecolor": "0.5"}, medianprops={"color": "0.3"})
        values = scale(done[f"outcome_{info['issue']}"])
        values = values[np.isfinite(values)]
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
    ax.set_title("Agreed outcomes per issue: the class (dots), the model agents (grey box)", fontsize=10)
    figure.legend(loc="outside lower center", ncol=4, fontsize=8)
    return figure


def _class_seats_figure(games, seats: pd.DataFrame, reading: Reading):
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
    ax.set_yticks(range(len(seats)), [reading.actor(seat) for seat in seats["seat"]][::-1], fontsize=9)
    ax.set_xlim(-0.02, 1.02)
    ax.set_xlabel("utility of the seat (1 = all it wants)", fontsize=9)
    ax.set_title("The seats' utilities: the class (dots), the model agent (grey box)", fontsize=10)
    figure.legend(loc="outside lower center", ncol=3, fontsize=8)
    return figure


def _game_rows(frame: pd.DataFrame, reading: Reading) -> pd.DataFrame:
    rows = pd.DataFrame({"game": frame["folder"], "seat": frame["play_as"],
                         "ending": frame["ending"] if "ending" in frame else np.where(frame["agreement"], "agreement", ""),
                         "result": [reading.cause(row) if reading.school else cause_text(row) for _, row in frame.iterrows()],
                         "rounds": frame["rounds"].astype(int), "seat utility": frame["seat_utility"],
                         "distance from 2022": frame["distance_to_history"]})
    return reading.frame(rows)


def class_report(root: Path, replicates: int | None = None, include_all: bool = False,
                 level: str = "university") -> str:
    """The class debrief: every game in ``root`` pooled per scenario (see :mod:`sim.analysis.pooling`;
    ``include_all`` pools watch-only games and games with changed actors too). ``replicates``: the
    model agents' runs per distinct game setting (the first ``replicates`` of those the exports saved,
    the rest run now); ``None``: the runs the exports saved, each once (30 runs of the first game when
    none were saved). ``level``: the reading level (school: :mod:`~sim.report.debrief.reading`)."""
    from sim.analysis.pooling import pool

    pooled = pool(root, include_all=include_all)
    total = sum(len(games.games) + len(games.apart) for games in pooled)
    kept = sum(len(games.finished) for games in pooled if len(games.games))
    parts = [f"<h1>Class debrief: {html.escape(Path(root).name)}</h1>"]
    if level == "school":
        parts.append(f"<p class='small'>The class exported {total} games. {kept} of them are counted here: the "
                     "finished games that students played. The others are listed apart below, with the reason. "
                     "\"Distance from 2022\" says how far a game's deal moved the issues from where they stood "
                     "in 2022: 0 = nothing changed, as in 2022, when the talks failed; 1 = every issue moved "
                     "from one end of its scale to the other.</p>")
    else:
        parts.append(f"<p class='small'>{total} exported games from <code>{html.escape(str(root))}</code>, {kept} "
                     "pooled (finished games students played; the others are listed apart below, with the reason). "
                     "Distances from 2022: the mean distance of a game's agreed outcome from the status quo, as a "
                     "share of each scale (0 = nothing changed, as in 2022, when the talks ended without "
                     "agreement).</p>")
    glossary = []
    for number, games in enumerate(pooled):
        if len(games.games):
            games.replicates = _model_runs(games, replicates)
        section = _scenario_section(games, number, level)
        parts += section
        glossary += section
    if level == "school":
        parts.append(Reading(level=level).glossary("".join(glossary)))
    return page("Class debrief", "".join(parts))


def _model_runs(games, replicates: int | None) -> pd.DataFrame:
    """The model agents' runs the class is compared with: per distinct game setting (config) of the
    finished games, ``replicates`` runs (see :func:`class_report`)."""
    saved = games.replicates
    if replicates is None:
        if len(saved) or not len(games.finished):
            return saved
        replicates = 30
    from sim.analysis.pooling import game_setting

    frames = []
    settings = games.finished.assign(setting=[game_setting(row) for _, row in games.finished.iterrows()])
    for config, part in settings.groupby("setting", sort=False):
        have = saved[saved["game_config"] == config] if len(saved) else saved
        if len(have) >= replicates:
            frames.append(have[have["replicate"] < replicates])
        elif replicates > 0:
            folder = next(f for f in games.folders if f.name == part["folder"].iloc[0])
            runs = pd.read_parquet(folder / "runs.parquet")
            frames.append(model_replicates(folder, runs, replicates).assign(folder=folder.name, game_config=config))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _scenario_section(games, number: int, level: str = "university") -> list[str]:
    """One scenario's games (a new page after the first): agreement rates, the seats against the model
    agent, the outcomes per issue, the games closest to and furthest from what happened."""
    parts = ["<div class='pagebreak'></div>"] if number else []
    config = load_config(games.folders[0] / "config.yaml") if games.folders else {}
    scenario = config.get("scenario", {})
    reading = Reading.of(scenario, level)
    if not len(games.games):
        title = scenario.get("name") if reading.school and scenario.get("name") else games.scenario
        parts.append(f"<h2>{html.escape(str(title))}</h2><p>No game of this scenario is pooled.</p>")
        return parts + _apart(games, reading)
    note = scenario.get("classroom") or {}
    done, running = games.finished, games.games[games.games["game"] != "finished"]
    parts.append(f"<h2>{html.escape(str(scenario.get('name') or games.scenario))}</h2>")
    rate, model_rate = games.agreement_rate(), games.model_agreement_rate()
    summary = pd.DataFrame([
        {"who": "the class (finished games)", "games": len(done),
         "agreement rate": "–" if np.isnan(rate) else f"{rate:.0%}"},
        {"who": "the model agents in every seat" + (" (the computer)" if reading.school else " (distinct runs)"),
         "games": len(games.replicates),
         "agreement rate": "–" if np.isnan(model_rate) else f"{model_rate:.0%}"},
        {"who": "history (2022)", "games": 1, "agreement rate": "0%"},
    ])
    parts.append(table_html(summary, "agreement"))
    if len(running):
        unfinished = reading.frame(running[["folder"]].rename(columns={"folder": "game"}))["game"]
        parts.append(f"<p class='small'>Not pooled (exported before the end): "
                     f"{html.escape(', '.join(unfinished))}.</p>")
    parts += _apart(games, reading)
    seats = games.seats()
    if not seats.empty:
        parts.append("<h2>The seats: the class against the model agent</h2>" + table_html(reading.frame(seats), "seats"))
        parts.append(embed(_class_seats_figure(games, seats, reading), alt="The seats' utilities"))
    parts += _class_outcomes(games)
    closest, furthest = games.closest_and_furthest()
    parts.append("<h2>Closest to what happened</h2><p class='small'>Ranked by the ending first (no deal and war, "
                 "as in 2022; then no deal without war; then an agreement), then by the distance of the agreed "
                 "outcome from the status quo.</p>" + table_html(_game_rows(closest, reading), "closest"))
    parts.append("<h2>Furthest from what happened</h2>" + table_html(_game_rows(furthest, reading), "furthest"))
    if note.get("what_happened"):
        parts.append(f"<h2>What happened</h2><div class='note'>{reading.text(note['what_happened'])}</div>")
    for question in note.get("questions") or []:
        parts.append(f"<p><b>Discuss:</b> {reading.text(question)}</p>")
    return parts


def _apart(games, reading: Reading | None = None) -> list[str]:
    """The exports set apart from the class's figures, each with the reason."""
    if not len(games.apart):
        return []
    reading = reading or Reading()
    apart = games.apart
    if reading.school:  # the reasons without overrides or folder names
        from sim.analysis.pooling import CHANGED, DUPLICATE, WATCH_ONLY

        apart = apart.assign(why=[
            "nobody played a seat: the computer played every seat" if why == WATCH_ONLY
            else "the actors were changed (Tune the actors)" if why.startswith(CHANGED)
            else "the same game, exported again" if why.startswith(DUPLICATE) else why for why in apart["why"]])
    table = reading.frame(apart.rename(columns={"folder": "game", "why": "not pooled: why"}))
    return ["<p class='small'>Listed apart, not in the class's figures:</p>" + table_html(table, "apart")]


def moved_issues(games) -> pd.DataFrame:
    """The issues some game or model run moved off the status quo. Runs without an agreement have no
    outcome to count (after a war their outcome columns are empty, NaN): only agreed outcomes count."""
    done = games.finished
    columns = [f"outcome_{i}" for i in games.issues["issue"]]
    every = pd.concat([done[columns], games.replicates[columns]] if len(games.replicates) else [done[columns]])
    keep = []
    for issue, status_quo in zip(games.issues["issue"], games.issues["status_quo"]):
        values = every[f"outcome_{issue}"].to_numpy(dtype=float)
        values = values[np.isfinite(values)]
        keep.append(bool(values.size) and float(np.max(np.abs(values - status_quo))) > 1e-9)
    return games.issues[keep]


def _class_outcomes(games) -> list[str]:
    """Outcomes per issue: the issues no game or model run moved off the status quo named, the others
    in a figure, and the class's and the model agents' mean agreed outcome beside the reference solutions."""
    done = games.finished
    moved = moved_issues(games)
    parts = ["<h2>Outcomes per issue</h2>"]
    if len(moved) < len(games.issues):
        still = games.issues.loc[~games.issues["issue"].isin(moved["issue"]), "label"]
        parts.append(f"<p class='small'>No agreement of a game or model run moved these off the status quo "
                     f"(games and runs that ended without a deal, in war or not, have no outcome here): "
                     f"{html.escape('; '.join(still))}.</p>")
    if not moved.empty and len(done):
        parts.append(embed(_class_outcomes_figure(games, moved), alt="Agreed outcomes per issue"))
    table = games.issues[["label", "status_quo", "compromise", "nash"]].rename(
        columns={"label": "issue", "status_quo": "no deal (2022)", "nash": "Nash"})
    table["class mean (deals)"] = [done[f"outcome_{i}"].mean() for i in games.issues["issue"]]
    if len(games.replicates):
        table["model mean (deals)"] = [games.replicates[f"outcome_{i}"].mean() for i in games.issues["issue"]]
    parts.append(table_html(table, "outcomes"))
    return parts
