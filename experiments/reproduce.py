"""Re-run a results folder from its saved config and seeds and check the numbers are identical.

    python -m experiments.reproduce results/sweeps/rr --sample 20   # 20 random runs of a sweep
    python -m experiments.reproduce results/run/2026-11-27_18-41-39  # a single run
    python -m experiments.reproduce results/classroom/monday-3rd/2026-12-03_09-12-00_ukraine

The first line says whether config.yaml changed since the run (and which keys); then, per table,
how many rows were compared and the first rows that differ (column: saved, now); the last line the
verdict. Exit status 0 identical, 1 any difference, 2 if the folder is not a results folder. A
classroom game in which a person played a seat cannot be re-run (the person's moves are not a
config): the command says so and checks the model agents' runs the export compared the person with
(replicates.parquet) instead.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd
from omegaconf import OmegaConf

from sim.runs.design import spec_from_config
from sim.runs.sweep import execute_run, plan

SHOWN_ROWS = 5  # first differing rows printed per table
SHOWN_COLUMNS = 4  # differing columns printed per row


def same(a, b) -> bool:
    missing = lambda v: v is None or (isinstance(v, float) and math.isnan(v))  # noqa: E731
    if missing(a) or missing(b):
        return missing(a) and missing(b)
    return a == b


def compare(saved: dict, now: dict) -> list[tuple[str, object, object]]:
    """(column, saved, now) for every column whose value differs."""
    return [(key, saved.get(key), now.get(key)) for key in sorted(set(saved) | set(now))
            if not same(_plain(saved.get(key)), _plain(now.get(key)))]


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(_flatten(value, f"{prefix}{key}."))
        return out
    return {prefix[:-1]: data}


def config_line(folder: Path) -> str:
    """Whether config.yaml differs from the config recorded in manifest.json when the run was made."""
    manifest = json.loads((folder / "manifest.json").read_text()) if (folder / "manifest.json").exists() else {}
    now = OmegaConf.to_container(OmegaConf.load(folder / "config.yaml"), resolve=True)
    now.pop("hydra", None)
    recorded = manifest.get("config")
    if recorded is None:
        if "config_hash" in manifest:
            from sim.runs.spec import config_hash

            if config_hash(now) == manifest["config_hash"]:
                return "config.yaml: unchanged since the run (same config hash as the manifest)"
            return "config.yaml: CHANGED since the run (config hash differs; this manifest does not list the keys)"
        return "config.yaml: not checked (this manifest predates the config record)"
    saved, current = _flatten(recorded), _flatten(now)
    changed = [key for key in sorted(set(saved) | set(current)) if not same(saved.get(key), current.get(key))]
    if not changed:
        return "config.yaml: unchanged since the run"
    shown = "; ".join(f"{k} (saved {saved.get(k)!r}, now {current.get(k)!r})" for k in changed[:SHOWN_COLUMNS])
    more = f"; and {len(changed) - SHOWN_COLUMNS} more" if len(changed) > SHOWN_COLUMNS else ""
    return f"config.yaml: CHANGED since the run: {len(changed)} key{'s' if len(changed) != 1 else ''}: {shown}{more}"


class TableCheck:
    """Rows compared in one table and the differing ones (row label, [(column, saved, now)])."""

    def __init__(self, name: str):
        self.name, self.compared, self.differing = name, 0, []

    def add(self, label: Any, diff: list) -> None:
        self.compared += 1
        if diff:
            self.differing.append((label, diff))

    def lines(self) -> list[str]:
        rows = f"{self.compared} row{'s' if self.compared != 1 else ''}"
        if self.differing and self.differing[0][0] == "shape":
            _, ((_, saved, now),) = self.differing[0]
            return [f"{self.name}: shape differs: saved {saved[0]} rows × {saved[1]} columns, "
                    f"now {now[0]} × {now[1]}"]
        if not self.differing:
            return [f"{self.name}: {rows}, identical"]
        out = [f"{self.name}: {len(self.differing)} of {self.compared} rows differ"]
        for label, diff in self.differing[:SHOWN_ROWS]:
            cells = "; ".join(f"{c}: saved {a!r}, now {b!r}" for c, a, b in diff[:SHOWN_COLUMNS])
            more = f"; and {len(diff) - SHOWN_COLUMNS} more columns" if len(diff) > SHOWN_COLUMNS else ""
            out.append(f"  {label}: {cells}{more}")
        if len(self.differing) > SHOWN_ROWS:
            out.append(f"  ... and {len(self.differing) - SHOWN_ROWS} more rows")
        return out


def _progress(items: list, label: str) -> Iterable:
    if len(items) <= 1 or not sys.stderr.isatty():
        return items
    from tqdm import tqdm

    return tqdm(items, desc=label, unit="run", file=sys.stderr, dynamic_ncols=True)


def reproduce_sweep(folder: Path, sample: int | None) -> list[TableCheck]:
    spec = spec_from_config(json.loads((folder / "design.json").read_text())["spec"], str(folder))
    config = OmegaConf.to_container(OmegaConf.load(folder / "config.yaml"), resolve=True)
    for key in ("sweep", "hydra", "figures"):
        config.pop(key, None)
    context = plan(folder, spec, config)
    saved = pd.read_parquet(folder / "runs.parquet")
    if sample is not None and sample < len(saved):
        saved = saved.sample(n=sample, random_state=np.random.default_rng(0))
    check = TableCheck(f"runs.parquet ({len(saved)} of {len(context.runs)} runs re-run)")
    planned = {run["run_index"]: run for run in context.runs.to_dict("records")}  # keeps int seeds exact
    for row in _progress(saved.to_dict("records"), "reproduce"):
        run = planned[row["run_index"]]
        label = f"run {row['run_index']}"
        if int(run["seed"]) != int(row["seed"]):
            check.add(label, [("seed", row["seed"], run["seed"])])
            continue
        now = execute_run(context, run)
        check.add(label, compare({k: v for k, v in row.items() if k in now}, now))
    return [check]


def _compare_table(name: str, saved: pd.DataFrame, now: pd.DataFrame, keys: list[str]) -> TableCheck:
    check = TableCheck(name)
    if list(saved.columns) != list(now.columns) or len(saved) != len(now):
        check.compared = len(saved)
        check.differing.append(("shape", [("rows × columns", saved.shape, now.shape)]))
        return check
    for index, (a, b) in enumerate(zip(saved.to_dict("records"), now.to_dict("records"))):
        label = ", ".join(f"{k} {a[k]}" for k in keys if k in a) or f"row {index}"
        check.add(label, compare(a, b))
    return check


def reproduce_run(folder: Path) -> list[TableCheck]:
    from sim.runs.runner import run_config

    result = run_config(OmegaConf.load(folder / "config.yaml"))
    checks = [_compare_table("runs.parquet", pd.read_parquet(folder / "runs.parquet"), result.runs, ["protocol"])]
    for name, now, keys in (("rounds.parquet", result.rounds, ["protocol", "round", "actor", "issue"]),
                            ("events.parquet", result.events, ["protocol", "round", "kind"])):
        if (folder / name).exists() and not (name == "events.parquet" and now.empty):
            checks.append(_compare_table(name, pd.read_parquet(folder / name), now, keys))
    return checks


def reproduce_classroom(folder: Path, seat: str) -> list[TableCheck]:
    """A game with a person in ``seat``: explain, then re-run the model agents' replicates."""
    from sim.report.debrief import model_replicates

    print(f"{folder}: a classroom game in which a person played {seat}; the person's moves are not in the "
          "config, so the game itself cannot be re-run (config.yaml re-runs it with model agents in every seat).")
    saved_path = folder / "replicates.parquet"
    if not saved_path.exists():
        print("no replicates.parquet (the game was exported unfinished or without a comparison): nothing to check")
        return []
    saved = pd.read_parquet(saved_path)
    print(f"checking the {len(saved)} runs with model agents in every seat that the report compares the person with")
    now = model_replicates(folder, pd.read_parquet(folder / "runs.parquet"), len(saved))
    return [_compare_table("replicates.parquet", saved, now, ["seed"])]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--sample", type=int, default=None, help="re-run this many random runs (sweeps)")
    args = parser.parse_args(argv)
    folder = args.folder
    if not (folder / "config.yaml").exists() or not (folder / "runs.parquet").exists():
        print(f"error: {folder}: not a results folder (needs config.yaml and runs.parquet)", file=sys.stderr)
        sys.exit(2)
    if args.sample is not None and args.sample < 1:
        print(f"error: command line: --sample: {args.sample}; allowed: a whole number >= 1", file=sys.stderr)
        sys.exit(2)
    print(config_line(folder), flush=True)
    seats = pd.read_parquet(folder / "runs.parquet").get("play_as")
    seat = str(seats.iloc[0]) if seats is not None and len(seats) else "nobody"
    if seat not in ("", "nobody", "None"):
        checks = reproduce_classroom(folder, seat)
    elif (folder / "design.json").exists():
        checks = reproduce_sweep(folder, args.sample)
    else:
        checks = reproduce_run(folder)
    for check in checks:
        print("\n".join(check.lines()))
    tables = [c for c in checks if c.differing]
    print("reproduced: identical" if not tables else
          f"not reproduced: {len(tables)} of {len(checks)} table{'s' if len(checks) != 1 else ''} differ "
          f"({', '.join(c.name.split()[0] for c in tables)})")
    sys.exit(1 if tables else 0)


if __name__ == "__main__":
    from experiments.cli import run_command

    run_command(main)
