"""The debrief of one results folder: a run or a classroom game (printable: two A4 pages for a game)."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd

from sim.report import plots
from sim.report.debrief.page import embed, page, table_html
from sim.report.debrief.reading import Reading, cause_text
from sim.report.debrief.replicates import model_replicates
from sim.runs.configs import load_config


def seat_comparison(folder: Path, runs: pd.DataFrame, replicates: int, reading: Reading | None = None) -> str:
    """HTML: a person-played seat's utility beside the model agent's in that seat over the replicates
    (``replicates.parquet`` if the export wrote it, else ``replicates`` new runs); "" when nobody
    played a seat, and a note instead of a comparison when the game was not finished (``reading``: the
    words at a reading level, :class:`~sim.report.debrief.reading.Reading`)."""
    reading = reading or Reading()
    row = runs.iloc[0]
    seat = row.get("play_as") if "play_as" in runs else None
    if not isinstance(seat, str) or seat in ("", "nobody"):
        return ""
    if reading.school:
        return _school_seat(folder, runs, replicates, reading)
    if str(row.get("game", "finished")) == "in progress":
        return (f"<h2>Your seat: {html.escape(seat)}</h2><p>The game was exported {html.escape(str(row['breakdown_cause']))}: "
                "an unfinished game is not compared with the model agent. Export again when the game is over.</p>")
    model = _model_runs(folder, runs, replicates)
    if model is None:
        return ""
    human = float(row[f"utility_{seat}"])
    values = model[f"utility_{seat}"].to_numpy(dtype=float)
    d = float(row[f"disagreement_{seat}"])
    noise = float(model["belief_noise"].iloc[0]) if "belief_noise" in model else float("nan")
    table = pd.DataFrame([
        {"who": f"you, playing {seat}", "runs": 1, "agreement": "yes" if row["agreement"] else "no",
         "mean utility": human, "min": human, "max": human},
        {"who": f"the model agent in {seat}'s seat", "runs": len(values),
         "agreement": f"{model['agreement'].mean():.0%}", "mean utility": float(values.mean()),
         "min": float(values.min()), "max": float(values.max())},
    ])
    better = float((values < human - 1e-9).mean())
    verdict = ("better than" if human > values.mean() + 1e-9 else "worse than" if human < values.mean() - 1e-9
               else "the same as")
    spread = (f"The model agent's {len(values)} runs differ by the other parties' belief errors "
              f"(belief noise {noise:g}; seeds in replicates.parquet)." if np.ptp(values) > 1e-12 else
              f"All {len(values)} runs of the model agent give the same result.")
    parts = [f"<h2>Your seat: {html.escape(seat)} played by a person, against the model agent</h2>",
             f"<p>Your utility {human:.3f} is {verdict} the model agent's average {values.mean():.3f} in the "
             f"same seat (outside option {d:.3f}); you did better than {better:.0%} of its runs. "
             f"{html.escape(spread)}</p>", table_html(table, "seat-comparison")]
    if np.ptp(values) > 1e-12:  # a one-value histogram says nothing
        parts.append(embed(plots.replicate_figure(values, human, d, seat), width="60%"))
    return "".join(parts)


def _model_runs(folder: Path, runs: pd.DataFrame, replicates: int) -> pd.DataFrame | None:
    """The model agents' runs the seat is compared with: the export's ``replicates.parquet``, else
    ``replicates`` new runs (None: neither)."""
    saved = folder / "replicates.parquet"
    if saved.exists():
        return pd.read_parquet(saved)
    return model_replicates(folder, runs, replicates) if replicates > 0 else None


def _school_seat(folder: Path, runs: pd.DataFrame, replicates: int, reading: Reading) -> str:
    """:func:`seat_comparison` in short sentences, the seat by name."""
    row = runs.iloc[0]
    seat = str(row["play_as"])
    name = html.escape(reading.actor(seat))
    if str(row.get("game", "finished")) == "in progress":
        return (f"<h2>Your seat: {name}</h2><p>You exported the game before its end. An unfinished game is not "
                "compared with the model agent. Export again when the game is over.</p>")
    model = _model_runs(folder, runs, replicates)
    if model is None:
        return ""
    human = float(row[f"utility_{seat}"])
    values = model[f"utility_{seat}"].to_numpy(dtype=float)
    d = float(row[f"disagreement_{seat}"])
    owner = reading.actor(seat) + ("'" if reading.actor(seat).endswith("s") else "'s")
    table = pd.DataFrame([
        {"who": f"you, playing {reading.actor(seat)}", "games": 1, "agreement": "yes" if row["agreement"] else "no",
         "mean utility": human, "lowest": human, "highest": human},
        {"who": f"the model agent in {owner} seat", "games": len(values),
         "agreement": f"{model['agreement'].mean():.0%} of games", "mean utility": float(values.mean()),
         "lowest": float(values.min()), "highest": float(values.max())},
    ])
    verdict = ("more than" if human > values.mean() + 1e-9 else "less than" if human < values.mean() - 1e-9
               else "the same as")
    spread = ("Its games differ because the other parties guess each other's wishes with small belief errors."
              if np.ptp(values) > 1e-12 else f"All its {len(values)} games end the same way.")
    parts = [f"<h2>Your seat: {name}. You against the model agent</h2>",
             f"<p>You got a utility of {human:.2f}. That is {verdict} the model agent got in your seat: "
             f"{values.mean():.2f} on average, over {len(values)} games. No deal was worth {d:.2f} to you. "
             f"You did better than the model agent in {(values < human - 1e-9).mean():.0%} of its games. "
             f"{html.escape(spread)}</p>", table_html(table, "seat-comparison")]
    if np.ptp(values) > 1e-12:
        parts.append(embed(plots.replicate_figure(values, human, d, reading.actor(seat)), width="60%"))
    return "".join(parts)


def _moved(frame: pd.DataFrame, issues: pd.DataFrame, column) -> pd.DataFrame:
    """The issues whose values changed in ``frame`` (a flat line carries no information)."""
    keep = [issue for issue in issues["issue"] if np.ptp(column(frame, issue)) > 1e-9]
    return issues[issues["issue"].isin(keep)]


def report(folder: Path, replicates: int = 30, level: str = "university") -> str:
    """The HTML text of the debrief of one results folder (printable: two A4 pages for a classroom game),
    at reading ``level`` (school: :mod:`~sim.report.debrief.reading`; university: ids and codes as they are)."""
    runs = pd.read_parquet(folder / "runs.parquet")
    issues = pd.read_parquet(folder / "issues.parquet")
    events = pd.read_parquet(folder / "events.parquet") if (folder / "events.parquet").exists() else pd.DataFrame()
    rounds = pd.read_parquet(folder / "rounds.parquet") if (folder / "rounds.parquet").exists() else pd.DataFrame()
    config = load_config(folder / "config.yaml")
    scenario = config.get("scenario", {})
    note = scenario.get("classroom") or {}
    reading = Reading.of(scenario, level)
    parts = [f"<h1>Debrief: {html.escape(str(scenario.get('name') or scenario.get('id')))}</h1>",
             f"<p class='small'>{_about(scenario, reading)}</p>"]
    parts.append(_result(runs, reading))
    parts += _outcome(runs, issues, reading)
    parts += _offers(events, issues, reading)
    walkouts = events[events["kind"] == "walkout"] if "kind" in events else pd.DataFrame()
    if not walkouts.empty:
        walkouts = walkouts[["round", "actor", "expected", "outside_option"]]
        if reading.school:
            walkouts = walkouts.rename(columns={"actor": "who left", "expected": "it expected from a deal",
                                                "outside_option": "it expected without a deal"})
        parts.append("<h2>Walk-outs</h2>" + table_html(reading.frame(walkouts)))
    parts += _positions(rounds, issues, reading)
    parts.append(seat_comparison(folder, runs, replicates, reading))
    parts.append("<h2>What happened</h2>")
    if note.get("what_happened"):
        parts.append(f'<div class="note">{reading.text(note["what_happened"])}</div>')
    elif reading.school:
        parts.append("<p>Your teacher will tell you.</p>")
    else:
        parts.append("<p>This scenario has no teacher's note (<code>classroom.what_happened</code>).</p>")
    for question in note.get("questions") or []:
        parts.append(f"<p><b>Discuss:</b> {reading.text(question)}</p>")
    parts.append(reading.glossary("".join(parts)))
    return page("Debrief", "".join(parts))


def _about(scenario: dict, reading: Reading) -> str:
    """The scenario's description (school level: who bargains over how many issues; the description
    names files and ids)."""
    if not reading.school:
        return html.escape(str(scenario.get("description", "")))
    names = list(reading.names.values())
    who = ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else "".join(names)
    return html.escape(f"{who} bargain over {len(reading.labels)} issues.")


def _result(runs: pd.DataFrame, reading: Reading) -> str:
    """Result: per protocol, agreement or the breakdown cause after so many rounds, and the seed."""
    status = []
    for _, row in runs.iterrows():
        played = int(row["rounds"])
        if str(row.get("game", "finished")) == "in progress":
            result = f"{row['breakdown_cause']} (exported before the end: {played} rounds played)"
        else:
            result = f"{reading.cause(row)} after {played} rounds"
        status.append(f"<li><b>{html.escape(reading.protocol(row['protocol']))}</b>: {html.escape(result)} "
                      f"(seed {row['seed']})</li>")
    return "<h2>Result</h2><ul>" + "".join(status) + "</ul>"


def _outcome(runs: pd.DataFrame, issues: pd.DataFrame, reading: Reading) -> list[str]:
    """The outcome per issue (of every finished run) beside no deal and the compromise and Nash
    solutions; the protocols side by side in a figure when there are several."""
    outcome = issues[["label", "status_quo", "compromise", "nash"]].rename(
        columns={"label": "issue", "status_quo": "no deal", "nash": "Nash"})
    for _, row in runs.iterrows():
        name = "outcome" if len(runs) == 1 else f"outcome ({reading.protocol(row['protocol'])})"
        if str(row.get("game", "finished")) == "in progress":
            continue
        outcome[name] = [row.get(f"outcome_{i}") for i in issues["issue"]]
    parts = ["<h2>Outcome beside no deal and the compromise and Nash solutions</h2>" + table_html(outcome)]
    if len(runs) > 1:
        parts.append(embed(plots.comparison_figure(runs, issues)))
    return parts


def _offers(events: pd.DataFrame, issues: pd.DataFrame, reading: Reading) -> list[str]:
    """The timeline of offers and answers, and the offers by round on the issues whose offers changed."""
    offers = events[events["kind"] == "offer"] if "kind" in events and "proposer" in events else pd.DataFrame()
    if offers.empty:
        return []
    columns = ["round", "proposer", "agreement"] + [c for c in offers.columns if c.startswith("response_")]
    timeline = offers[columns].rename(columns=lambda c: c.replace("response_", ""))
    if reading.school:
        timeline = timeline.rename(columns={"proposer": "who proposed", "agreement": "agreed"}).replace(
            {"proposer": "proposed", "accept": "yes", "reject": "no"})
    parts = ["<h2>Timeline of offers and answers</h2>", table_html(reading.frame(timeline))]
    moved = _moved(offers, issues, lambda f, i: f[f"offer_{i}"].to_numpy(dtype=float))
    if not moved.empty and len(offers) > 1:
        parts.append(f"<p class='small'>Offers by round on the {len(moved)} issues whose offers changed:</p>")
        parts.append(embed(plots.offers_figure(offers, moved, columns=4, labels=reading.figure_labels), dpi=70))
    return parts


def _positions(rounds: pd.DataFrame, issues: pd.DataFrame, reading: Reading) -> list[str]:
    """Per protocol, the positions by round on the issues that moved (none for a flat protocol)."""
    parts = []
    if rounds.empty:
        return parts
    for protocol, part in rounds.groupby("protocol", sort=False):
        change = part.groupby(["actor", "issue"])["position"].agg(np.ptp).groupby("issue").max()
        moved = issues[issues["issue"].map(change).fillna(0.0).to_numpy() > 1e-9]
        if moved.empty:
            continue
        parts.append(f"<h2>Positions by round ({html.escape(reading.protocol(protocol))}), issues that moved</h2>")
        parts.append(embed(plots.positions_figure(part[part["issue"].isin(moved["issue"])], moved, columns=4,
                                                  labels=reading.figure_labels), dpi=70))
    return parts
