"""Self-contained debrief reports (HTML, figures embedded) for a results folder or a class folder
(``python -m experiments.debrief``; the classroom app's export calls :func:`report`).

The report holds: the timeline of offers and responses (or the positions by round), the outcome beside
the compromise and Nash solutions and the status quo, what happened in reality (the scenario's
teacher's note, ``classroom.what_happened``, for classroom scenarios) and, when a person played a seat
in the classroom app (``play_as`` in runs.parquet), that person's utility beside the model agent's in
the same seat over ``--replicates`` runs of the same config (seeds spawned from the session's seed,
with belief noise when the protocol has none, so that the runs differ). A game exported before its
end is labelled "in progress at round N" and not compared.

``--class <folder>`` pools every game exported into a class folder (``make classroom CLASS=<name>``):
the class's outcomes per issue and the seats' utilities beside the model agents' runs, the reference
solutions and 2022, the agreement rates, and the games closest to and furthest from what happened.

Either report opens without network access and prints on A4: no scripts, no external files.
"""

from __future__ import annotations

import base64
import html
import io
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
from omegaconf import OmegaConf

from sim.report import plots

STYLE = """
body { font-family: Georgia, serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
h1, h2 { font-family: Helvetica, Arial, sans-serif; }
h2 { margin-top: 1.4rem; }
table { border-collapse: collapse; margin: 0.6rem 0; font-size: 0.9rem; }
th, td { border: 1px solid #bbb; padding: 0.2rem 0.45rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
img { max-width: 100%; border: 1px solid #ddd; }
.note { background: #f6f3ea; padding: 0.6rem 1rem; border-left: 4px solid #b59b5c; }
.small { font-size: 0.85rem; color: #444; }
@page { size: A4; margin: 12mm; }
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 9.5pt; line-height: 1.25; }
  h1 { font-size: 15pt; margin: 0 0 4pt; } h2 { font-size: 11.5pt; margin: 8pt 0 3pt; break-after: avoid; }
  p { margin: 3pt 0; } table { font-size: 8pt; margin: 3pt 0; break-inside: avoid; }
  th, td { padding: 1pt 3pt; } img { max-height: 88mm; break-inside: avoid; border: none; }
  .note { padding: 4pt 6pt; } .pagebreak { break-before: page; }
}
"""
REPLICATE_NOISE = 0.05  # belief noise for the model agent's replicates when the game's protocol has none


def embed(figure, dpi: int = 100, width: str = "") -> str:
    """A figure as an inline PNG (``width``: its CSS width on the page, e.g. "60%")."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    style = f' style="width:{width}"' if width else ""
    return f'<img alt="figure"{style} src="data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}">'


def table_html(frame: pd.DataFrame, classes: str = "") -> str:
    return frame.to_html(index=False, float_format=lambda v: f"{v:.2f}", border=0, escape=True,
                         classes=classes or None)


def cause_text(row) -> str:
    """A run's result in words: agreement, "in progress at round N", or the breakdown cause."""
    from sim.report.wording import cause_in_words

    if str(row.get("game", "finished")) == "in progress":
        return str(row["breakdown_cause"])
    if bool(row["agreement"]):
        return "agreement"
    cause = str(row["breakdown_cause"])
    return f"no agreement: {cause_in_words(cause)} ({cause})"


def replicate_settings(cfg) -> dict:
    """Protocol settings for the model agent's replicates: the game's own, with belief noise
    ``REPLICATE_NOISE`` when the game's protocol has no randomness (round-robin order, no noise), so
    that the replicates differ (they would all repeat one run)."""
    protocol = cfg.protocol
    noise = float(protocol.get("belief_noise", 0.0) or 0.0)
    order = str(protocol.get("order", ""))
    if "belief_noise" in protocol and noise == 0.0 and order != "recognition":
        noise = REPLICATE_NOISE
    return {"belief_noise": noise, "order": order}


def model_replicates(folder: Path, runs: pd.DataFrame, replicates: int) -> pd.DataFrame:
    """The model agents in every seat over ``replicates`` runs of the folder's config, seeds spawned
    from the game's seed (``sim.runs.sweep.run_seeds``); belief noise per :func:`replicate_settings`.
    One row per run (the runs.parquet columns) plus ``replicate``, ``seed``, ``belief_noise``."""
    from sim.runs.runner import run_config
    from sim.runs.design import run_seeds

    cfg = OmegaConf.load(folder / "config.yaml")
    cfg.record.rounds, cfg.record.events = False, False
    settings = replicate_settings(cfg)
    if "belief_noise" in cfg.protocol:
        cfg.protocol.belief_noise = settings["belief_noise"]
    rows = []
    for index, seed in enumerate(run_seeds(int(runs.iloc[0]["seed"]), replicates)):
        cfg.seed = int(seed)
        row = run_config(cfg).runs.iloc[0].to_dict()
        row.update(replicate=index, seed=int(seed), belief_noise=settings["belief_noise"])
        rows.append(row)
    return pd.DataFrame(rows)


def seat_comparison(folder: Path, runs: pd.DataFrame, replicates: int) -> str:
    """HTML: a person-played seat's utility beside the model agent's in that seat over the replicates
    (``replicates.parquet`` if the export wrote it, else ``replicates`` new runs); "" when nobody
    played a seat, and a note instead of a comparison when the game was not finished."""
    row = runs.iloc[0]
    seat = row.get("play_as") if "play_as" in runs else None
    if not isinstance(seat, str) or seat in ("", "nobody"):
        return ""
    if str(row.get("game", "finished")) == "in progress":
        return (f"<h2>Your seat: {html.escape(seat)}</h2><p>The game was exported {html.escape(str(row['breakdown_cause']))}: "
                "an unfinished game is not compared with the model agent. Export again when the game is over.</p>")
    saved = folder / "replicates.parquet"
    if saved.exists():
        model = pd.read_parquet(saved)
    elif replicates > 0:
        model = model_replicates(folder, runs, replicates)
    else:
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


def _moved(frame: pd.DataFrame, issues: pd.DataFrame, column) -> pd.DataFrame:
    """The issues whose values changed in ``frame`` (a flat line carries no information)."""
    keep = [issue for issue in issues["issue"] if np.ptp(column(frame, issue)) > 1e-9]
    return issues[issues["issue"].isin(keep)]


def report(folder: Path, replicates: int = 30) -> str:
    """The HTML text of the debrief of one results folder (printable: two A4 pages for a classroom game)."""
    runs = pd.read_parquet(folder / "runs.parquet")
    issues = pd.read_parquet(folder / "issues.parquet")
    events = pd.read_parquet(folder / "events.parquet") if (folder / "events.parquet").exists() else pd.DataFrame()
    rounds = pd.read_parquet(folder / "rounds.parquet") if (folder / "rounds.parquet").exists() else pd.DataFrame()
    config = OmegaConf.to_container(OmegaConf.load(folder / "config.yaml"), resolve=True)
    scenario = config.get("scenario", {})
    note = scenario.get("classroom") or {}
    parts = [f"<h1>Debrief: {html.escape(str(scenario.get('name') or scenario.get('id')))}</h1>",
             f"<p class='small'>{html.escape(str(scenario.get('description', '')))}</p>"]
    status = []
    for _, row in runs.iterrows():
        played = int(row["rounds"])
        if str(row.get("game", "finished")) == "in progress":
            result = f"{row['breakdown_cause']} (exported before the end: {played} rounds played)"
        else:
            result = f"{cause_text(row)} after {played} rounds"
        status.append(f"<li><b>{html.escape(str(row['protocol']))}</b>: {html.escape(result)} (seed {row['seed']})</li>")
    parts.append("<h2>Result</h2><ul>" + "".join(status) + "</ul>")
    outcome = issues[["label", "status_quo", "compromise", "nash"]].rename(
        columns={"label": "issue", "status_quo": "no deal", "nash": "Nash"})
    for _, row in runs.iterrows():
        name = "outcome" if len(runs) == 1 else f"outcome ({row['protocol']})"
        if str(row.get("game", "finished")) == "in progress":
            continue
        outcome[name] = [row.get(f"outcome_{i}") for i in issues["issue"]]
    parts.append("<h2>Outcome beside no deal and the compromise and Nash solutions</h2>" + table_html(outcome))
    if len(runs) > 1:
        parts.append(embed(plots.comparison_figure(runs, issues)))
    offers = events[events["kind"] == "offer"] if "kind" in events and "proposer" in events else pd.DataFrame()
    if not offers.empty:
        parts.append("<h2>Timeline of offers and answers</h2>")
        columns = ["round", "proposer", "agreement"] + [c for c in offers.columns if c.startswith("response_")]
        timeline = offers[columns].rename(columns=lambda c: c.replace("response_", ""))
        parts.append(table_html(timeline))
        moved = _moved(offers, issues, lambda f, i: f[f"offer_{i}"].to_numpy(dtype=float))
        if not moved.empty and len(offers) > 1:
            parts.append(f"<p class='small'>Offers by round on the {len(moved)} issues whose offers changed:</p>")
            parts.append(embed(plots.offers_figure(offers, moved, columns=4), dpi=70))
    walkouts = events[events["kind"] == "walkout"] if "kind" in events else pd.DataFrame()
    if not walkouts.empty:
        parts.append("<h2>Walk-outs</h2>" + table_html(walkouts[["round", "actor", "expected", "outside_option"]]))
    if not rounds.empty:
        for protocol, part in rounds.groupby("protocol", sort=False):
            change = part.groupby(["actor", "issue"])["position"].agg(np.ptp).groupby("issue").max()
            moved = issues[issues["issue"].map(change).fillna(0.0).to_numpy() > 1e-9]
            if moved.empty:
                continue
            parts.append(f"<h2>Positions by round ({html.escape(str(protocol))}), issues that moved</h2>")
            parts.append(embed(plots.positions_figure(part[part["issue"].isin(moved["issue"])], moved, columns=4), dpi=70))
    parts.append(seat_comparison(folder, runs, replicates))
    parts.append("<h2>What happened</h2>")
    if note.get("what_happened"):
        parts.append(f'<div class="note">{html.escape(note["what_happened"])}</div>')
    else:
        parts.append("<p>This scenario has no teacher's note (<code>classroom.what_happened</code>).</p>")
    for question in note.get("questions") or []:
        parts.append(f"<p><b>Discuss:</b> {html.escape(question)}</p>")
    return page("Debrief", "".join(parts))


def page(title: str, body: str) -> str:
    """A self-contained HTML page: inline styles, no scripts, no external files."""
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body>{body}</body></html>")


# ---- the class debrief -------------------------------------------------------------------------------
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
        config = OmegaConf.to_container(OmegaConf.load(games.folders[0] / "config.yaml"), resolve=True)
        scenario = config.get("scenario", {})
        note = scenario.get("classroom") or {}
        done, running = games.finished, games.games[games.games["game"] != "finished"]
        if number:
            parts.append("<div class='pagebreak'></div>")
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
        columns = [f"outcome_{i}" for i in games.issues["issue"]]
        every = pd.concat([done[columns], games.replicates[columns]] if len(games.replicates) else [done[columns]])
        moved = games.issues[[np.ptp(np.append(every[f"outcome_{i}"].to_numpy(dtype=float), sq)) > 1e-9
                              for i, sq in zip(games.issues["issue"], games.issues["status_quo"])]]
        parts.append("<h2>Outcomes per issue</h2>")
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
        closest, furthest = games.closest_and_furthest()
        parts.append("<h2>Closest to what happened</h2>" + table_html(_game_rows(closest), "closest"))
        parts.append("<h2>Furthest from what happened</h2>" + table_html(_game_rows(furthest), "furthest"))
        if note.get("what_happened"):
            parts.append(f"<h2>What happened</h2><div class='note'>{html.escape(note['what_happened'])}</div>")
        for question in note.get("questions") or []:
            parts.append(f"<p><b>Discuss:</b> {html.escape(question)}</p>")
    return page("Class debrief", "".join(parts))
