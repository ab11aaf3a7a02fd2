"""Re-run a results folder from its saved config and seeds and check the numbers are identical.

    python -m experiments.reproduce results/sweeps/rr --sample 20   # 20 random runs of a sweep
    python -m experiments.reproduce results/run/2026-11-27_18-41-39  # a single run
    python -m experiments.reproduce results/classroom/monday-3rd/2026-12-03_09-12-00_ukraine

Prints how many rows are identical and which differ (column, saved, now); exit status 1 on any
difference, 2 if the folder is not a results folder. A classroom game in which a person played a
seat cannot be re-run (the person's moves are not a config): the command says so and checks the
model agents' runs the export compared the person with (replicates.parquet) instead.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from omegaconf import OmegaConf

from sim.sweep import SweepContext, execute_run, run_table, spec_from_config


def same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if a is None or b is None or (isinstance(a, float) and math.isnan(a)) or (isinstance(b, float) and math.isnan(b)):
        return (a is None or (isinstance(a, float) and math.isnan(a))) and \
               (b is None or (isinstance(b, float) and math.isnan(b)))
    return a == b


def compare(saved: dict, now: dict) -> list[tuple[str, object, object]]:
    return [(key, saved.get(key), now.get(key)) for key in sorted(set(saved) | set(now))
            if not same(_plain(saved.get(key)), _plain(now.get(key)))]


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def reproduce_sweep(folder: Path, sample: int | None) -> tuple[int, list]:
    spec = spec_from_config(json.loads((folder / "design.json").read_text())["spec"], str(folder))
    config = OmegaConf.to_container(OmegaConf.load(folder / "config.yaml"), resolve=True)
    config.pop("sweep", None)
    context = SweepContext(folder=folder, spec=spec, base=config, runs=run_table(spec))
    saved = pd.read_parquet(folder / "runs.parquet")
    if sample is not None and sample < len(saved):
        saved = saved.sample(n=sample, random_state=np.random.default_rng(0))
    identical, differing = 0, []
    planned = {run["run_index"]: run for run in context.runs.to_dict("records")}  # keeps int seeds exact
    for row in saved.to_dict("records"):
        run = planned[row["run_index"]]
        if int(run["seed"]) != int(row["seed"]):
            differing.append((row["run_index"], [("seed", row["seed"], run["seed"])]))
            continue
        now = execute_run(context, run)
        diff = compare({k: v for k, v in row.items() if k in now}, now)
        if diff:
            differing.append((row["run_index"], diff))
        else:
            identical += 1
    return identical, differing


def reproduce_run(folder: Path) -> tuple[int, list]:
    from sim.runner import run_config

    cfg = OmegaConf.load(folder / "config.yaml")
    result = run_config(cfg)
    saved = pd.read_parquet(folder / "runs.parquet").to_dict("records")
    now = result.runs.to_dict("records")
    identical, differing = 0, []
    for index, (a, b) in enumerate(zip(saved, now)):
        diff = compare(a, b)
        if diff:
            differing.append((index, diff))
        else:
            identical += 1
    rounds = folder / "rounds.parquet"
    if rounds.exists() and not pd.read_parquet(rounds).equals(result.rounds):
        differing.append(("rounds.parquet", [("table", "saved", "differs")]))
    return identical, differing


def reproduce_classroom(folder: Path, seat: str) -> tuple[int, list]:
    """A game with a person in ``seat``: explain, then re-run the model agents' replicates."""
    from experiments.debrief import model_replicates

    print(f"{folder}: a classroom game in which a person played {seat}; the person's moves are not in the "
          "config, so the game itself cannot be re-run (config.yaml re-runs it with model agents in every seat).")
    saved_path = folder / "replicates.parquet"
    if not saved_path.exists():
        print("no replicates.parquet (the game was exported unfinished or without a comparison): nothing to check")
        return 0, []
    saved = pd.read_parquet(saved_path)
    print(f"checking the {len(saved)} runs with model agents in every seat that the report compares the person with")
    now = model_replicates(folder, pd.read_parquet(folder / "runs.parquet"), len(saved))
    identical, differing = 0, []
    for index, (a, b) in enumerate(zip(saved.to_dict("records"), now.to_dict("records"))):
        diff = compare(a, b)
        if diff:
            differing.append((index, diff))
        else:
            identical += 1
    return identical, differing


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--sample", type=int, default=None, help="re-run this many random runs (sweeps)")
    args = parser.parse_args(argv)
    folder = args.folder
    if not (folder / "config.yaml").exists() or not (folder / "runs.parquet").exists():
        print(f"error: {folder}: not a results folder (needs config.yaml and runs.parquet)", file=sys.stderr)
        sys.exit(2)
    seats = pd.read_parquet(folder / "runs.parquet", columns=None).get("play_as")
    seat = str(seats.iloc[0]) if seats is not None and len(seats) else "nobody"
    if seat not in ("", "nobody", "None"):
        identical, differing = reproduce_classroom(folder, seat)
    elif (folder / "design.json").exists():
        identical, differing = reproduce_sweep(folder, args.sample)
    else:
        identical, differing = reproduce_run(folder)
    for run, diff in differing[:20]:
        for column, saved, now in diff[:5]:
            print(f"  run {run}: {column}: saved {saved!r}, now {now!r}")
    print(f"{identical} identical, {len(differing)} differing")
    sys.exit(1 if differing else 0)


if __name__ == "__main__":
    main()
