"""Write a self-contained debrief report (HTML, figures embedded) for a results folder.

    python -m experiments.debrief results/run/2026-11-27_18-41-54

The report holds: the timeline of offers and responses (or the positions by round), the outcome beside
the compromise and Nash solutions and the status quo, what happened in reality (the scenario's
teacher's note, ``classroom.what_happened``, for classroom scenarios) and, when a person played a seat
in the classroom app (``play_as`` in runs.parquet), that person's utility beside the model agent's in
the same seat over ``--replicates`` runs of the same config (seeds spawned from the session's seed). It opens without network
access: no scripts, no external files. Exit status 2 if the folder is not a results folder.
"""

from __future__ import annotations

import argparse
import base64
import html
import io
import sys
from pathlib import Path

import pandas as pd
from omegaconf import OmegaConf

from sim import plots

STYLE = """
body { font-family: Georgia, serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
h1, h2 { font-family: Helvetica, Arial, sans-serif; }
table { border-collapse: collapse; margin: 1rem 0; font-size: 0.9rem; }
th, td { border: 1px solid #bbb; padding: 0.25rem 0.5rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
img { max-width: 100%; border: 1px solid #ddd; }
.note { background: #f6f3ea; padding: 0.75rem 1rem; border-left: 4px solid #b59b5c; }
"""


def embed(figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    return f'<img alt="figure" src="data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}">'


def table_html(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, float_format=lambda v: f"{v:.2f}", border=0, escape=True)


def seat_comparison(folder: Path, runs: pd.DataFrame, replicates: int) -> str:
    """HTML: a human-played seat's utility beside the model agent's in that seat over ``replicates``
    runs of the same config ("" when nobody played a seat)."""
    import numpy as np

    from sim.runner import run_config
    from sim.sweep import run_seeds

    row = runs.iloc[0]
    seat = row.get("play_as") if "play_as" in runs else None
    if not isinstance(seat, str) or seat in ("", "nobody") or replicates <= 0:
        return ""
    cfg = OmegaConf.load(folder / "config.yaml")
    cfg.record.rounds, cfg.record.events = False, False
    session_seed = int(row["seed"])
    seeds = [session_seed, *[int(s) for s in run_seeds(session_seed, replicates - 1)]]
    rows = []
    for seed in seeds:
        cfg.seed = seed
        rows.append(run_config(cfg).runs.iloc[0])
    model = pd.DataFrame(rows)
    human = float(row[f"utility_{seat}"])
    values = model[f"utility_{seat}"].to_numpy(dtype=float)
    d = float(row[f"disagreement_{seat}"])
    table = pd.DataFrame([
        {"who": f"you, playing {seat}", "runs": 1, "agreement": "yes" if row["agreement"] else "no",
         "mean utility": human, "min": human, "max": human},
        {"who": f"the model agent in {seat}'s seat (same seed {session_seed})", "runs": 1,
         "agreement": "yes" if model["agreement"].iloc[0] else "no", "mean utility": values[0],
         "min": values[0], "max": values[0]},
        {"who": "the model agent, all replicates", "runs": len(values),
         "agreement": f"{model['agreement'].mean():.0%}", "mean utility": float(values.mean()),
         "min": float(values.min()), "max": float(values.max())},
    ])
    if np.ptp(values) < 1e-12:
        spread = ("With these settings the protocol has no randomness (no belief noise, fixed proposal order): "
                  f"all {len(values)} replicates give the model agent the same result.")
    else:
        better = float((values < human - 1e-9).mean())
        spread = f"You did better than the model agent in {better:.0%} of {len(values)} replicates."
    verdict = ("better than" if human > values.mean() + 1e-9 else "worse than" if human < values.mean() - 1e-9
               else "the same as")
    figure = plots.replicate_figure(values, human, d, seat)
    return (f"<h2>Your seat: {html.escape(seat)} played by a person, against the model agent</h2>"
            f"<p>Your utility {human:.3f} is {verdict} the model agent's average {values.mean():.3f} in the "
            f"same seat (outside option {d:.3f}). {html.escape(spread)}</p>" + table_html(table) + embed(figure))


def report(folder: Path, replicates: int = 30) -> str:
    """The HTML text of the debrief of one results folder."""
    runs = pd.read_parquet(folder / "runs.parquet")
    issues = pd.read_parquet(folder / "issues.parquet")
    events = pd.read_parquet(folder / "events.parquet") if (folder / "events.parquet").exists() else pd.DataFrame()
    rounds = pd.read_parquet(folder / "rounds.parquet") if (folder / "rounds.parquet").exists() else pd.DataFrame()
    config = OmegaConf.to_container(OmegaConf.load(folder / "config.yaml"), resolve=True)
    scenario = config.get("scenario", {})
    note = scenario.get("classroom") or {}
    parts = [f"<h1>Debrief: {html.escape(str(scenario.get('name') or scenario.get('id')))}</h1>",
             f"<p>{html.escape(str(scenario.get('description', '')))}</p>"]
    status = []
    for _, row in runs.iterrows():
        result = "agreement" if row["agreement"] else f"no agreement ({row['breakdown_cause']})"
        status.append(f"<li><b>{html.escape(str(row['protocol']))}</b>: {html.escape(result)} after "
                      f"{int(row['rounds'])} rounds (seed {row['seed']})</li>")
    parts.append("<h2>Result</h2><ul>" + "".join(status) + "</ul>")
    outcome = issues[["issue", "label", "status_quo", "compromise", "median", "nash"]].copy()
    for _, row in runs.iterrows():
        outcome[f"outcome ({row['protocol']})"] = [row.get(f"outcome_{i}") for i in outcome["issue"]]
    parts.append("<h2>Outcome beside the status quo, compromise and Nash solutions</h2>" + table_html(outcome))
    parts.append(embed(plots.comparison_figure(runs, issues)))
    offers = events[events["kind"] == "offer"] if "kind" in events and "proposer" in events else pd.DataFrame()
    if not offers.empty:
        parts.append("<h2>Timeline of offers and responses</h2>")
        columns = ["round", "proposer", "agreement"] + [c for c in offers.columns if c.startswith("response_")]
        parts.append(table_html(offers[columns]))
        parts.append(embed(plots.offers_figure(offers, issues)))
    walkouts = events[events["kind"] == "walkout"] if "kind" in events else pd.DataFrame()
    if not walkouts.empty:
        parts.append("<h2>Walk-outs</h2>" + table_html(walkouts[["round", "actor", "expected", "outside_option"]]))
    if not rounds.empty:
        for protocol, part in rounds.groupby("protocol", sort=False):
            parts.append(f"<h2>Positions by round ({html.escape(str(protocol))})</h2>")
            parts.append(embed(plots.positions_figure(part, issues)))
    parts.append(seat_comparison(folder, runs, replicates))
    parts.append("<h2>What happened</h2>")
    if note.get("what_happened"):
        parts.append(f'<div class="note">{html.escape(note["what_happened"])}</div>')
    else:
        parts.append("<p>This scenario has no teacher's note (<code>classroom.what_happened</code>); see "
                     "<code>shared/domain/jan2022-brief.md</code> §3.2 for the record.</p>")
    for question in note.get("questions") or []:
        parts.append(f"<p><b>Discuss:</b> {html.escape(question)}</p>")
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Debrief</title>"
            f"<style>{STYLE}</style></head><body>{''.join(parts)}</body></html>")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--out", type=Path, default=None, help="report file (default <folder>/report.html)")
    parser.add_argument("--replicates", type=int, default=30,
                        help="runs of the model agent in a person-played seat (default 30)")
    args = parser.parse_args(argv)
    needed = [n for n in ("runs.parquet", "issues.parquet", "config.yaml") if not (args.folder / n).exists()]
    if needed:
        print(f"error: {args.folder}: not a run folder (missing {', '.join(needed)}); give a folder written by "
              "python -m experiments.run", file=sys.stderr)
        sys.exit(2)
    out = args.out or args.folder / "report.html"
    if args.replicates < 0:
        print(f"error: command line: --replicates: {args.replicates}; must be >= 0", file=sys.stderr)
        sys.exit(2)
    out.write_text(report(args.folder, replicates=args.replicates), encoding="utf-8")
    print(out)


if __name__ == "__main__":
    main()
