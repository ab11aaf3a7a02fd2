"""Re-running a results folder from its saved config and seeds, and comparing the numbers.

What ``python -m experiments.reproduce`` checks: whether config.yaml changed since the run
(:func:`config_line`), then per table how many rows were compared and the first rows that differ
(:class:`TableCheck`), then the verdict (:func:`reproduce`). A sweep folder is re-run run by run from its
design (:func:`reproduce_sweep`), a single run from its config (:func:`reproduce_run`). A classroom game in
which a person played a seat cannot be re-run (the person's moves are not a config): the caller checks the
model agents' runs the export compared the person with instead (``classroom``, the report layer's).
"""

from __future__ import annotations

import copy
import json
import math
import sys
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd

from sim.domain.errors import CommandFailed
from sim.runs.configs import base_config, load_config
from sim.runs.design import spec_from_config
from sim.runs.sweep import execute_run, plan
from sim.runs.sweep.planning import plain

SHOWN_ROWS = 5  # first differing rows printed per table
SHOWN_COLUMNS = 4  # differing columns printed per row


def same(a, b) -> bool:
    """Equal values, a missing value (None, NaN) equal only to another missing one."""
    missing = lambda v: v is None or (isinstance(v, float) and math.isnan(v))  # noqa: E731
    if missing(a) or missing(b):
        return missing(a) and missing(b)
    return a == b


def compare(saved: dict, now: dict) -> list[tuple[str, object, object]]:
    """(column, saved, now) for every column whose value differs."""
    return [(key, saved.get(key), now.get(key)) for key in sorted(set(saved) | set(now))
            if not same(plain(saved.get(key)), plain(now.get(key)))]


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
    now = load_config(folder / "config.yaml")
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
    """A sweep folder's runs (``sample`` of them at random, or all) re-run from its design, run by run (its
    own input files from the folder's copies)."""
    from dataclasses import replace

    spec = spec_from_config(json.loads((folder / "design.json").read_text())["spec"], str(folder))
    relocated, lines = input_copies(folder)
    for line in lines:
        print(line, flush=True)
    context = plan(folder, spec, base_config(load_config(folder / "config.yaml")))
    context = replace(context, relocated=tuple(sorted(relocated.items())))
    saved = pd.read_parquet(folder / "runs.parquet")
    indices = run_index_check(folder, saved, len(context.runs))
    if sample is not None and sample < len(saved):
        saved = saved.sample(n=sample, random_state=np.random.default_rng(0))
    check = TableCheck(f"runs.parquet ({len(saved)} of {len(context.runs)} runs re-run)")
    planned = {run["run_index"]: run for run in context.runs.to_dict("records")}  # keeps int seeds exact
    for row in _progress(saved.to_dict("records"), "reproduce"):
        label = f"run {row['run_index']}"
        run = planned.get(row["run_index"])
        if run is None:
            check.add(label, [("run_index", row["run_index"], "not in the design")])
            continue
        if int(run["seed"]) != int(row["seed"]):
            check.add(label, [("seed", row["seed"], run["seed"])])
            continue
        now = execute_run(context, run)
        check.add(label, compare({k: v for k, v in row.items() if k in now}, now))
    return [indices, check]


class IndexCheck(TableCheck):
    """Every run index of the design exactly once in runs.parquet or failures.parquet."""

    def __init__(self, total: int, twice: list[int], missing: list[int], outside: list[int]):
        super().__init__("runs.parquet run indices")
        self.compared = total
        for what, found in (("twice or more", twice), ("missing", missing), ("not in the design", outside)):
            if found:
                self.differing.append((what, found))

    def lines(self) -> list[str]:
        if not self.differing:
            return [f"{self.name}: each of the design's {self.compared} runs exactly once"]
        found = "; ".join(f"{len(v)} {what} ({', '.join(map(str, v[:SHOWN_ROWS]))}{', ...' if len(v) > SHOWN_ROWS else ''})"
                          for what, v in self.differing)
        return [f"{self.name}: of the design's {self.compared} runs, {found}"]


def run_index_check(folder: Path, saved: pd.DataFrame, total: int) -> IndexCheck:
    """Whether each of the design's ``total`` run indices is in runs.parquet (``saved``) or failures.parquet
    exactly once (a shard copied over another duplicates some and loses others)."""
    indices = [int(i) for i in saved["run_index"]]
    if (folder / "failures.parquet").exists():
        indices += [int(i) for i in pd.read_parquet(folder / "failures.parquet", columns=["run_index"])["run_index"]]
    counts = np.bincount([i for i in indices if 0 <= i < total], minlength=total)
    return IndexCheck(total, [int(i) for i in np.flatnonzero(counts > 1)], [int(i) for i in np.flatnonzero(counts == 0)],
                      sorted({i for i in indices if not 0 <= i < total}))


def compare_table(name: str, saved: pd.DataFrame, now: pd.DataFrame, keys: list[str]) -> TableCheck:
    """Two tables row by row (rows labelled by their ``keys`` columns); a shape that differs is one finding."""
    check = TableCheck(name)
    if list(saved.columns) != list(now.columns) or len(saved) != len(now):
        check.compared = len(saved)
        check.differing.append(("shape", [("rows × columns", saved.shape, now.shape)]))
        return check
    for index, (a, b) in enumerate(zip(saved.to_dict("records"), now.to_dict("records"))):
        label = ", ".join(f"{k} {a[k]}" for k in keys if k in a) or f"row {index}"
        check.add(label, compare(a, b))
    return check


CLASSROOM_COLUMNS = ("play_as", "game")  # runs.parquet columns the classroom app's export adds


def input_copies(folder: Path) -> tuple[dict[str, str], list[str]]:
    """Where the run's own input files are read from now: the copies in ``folder/inputs/`` that the manifest
    records (:func:`sim.runs.results.copy_inputs`), each checked against its recorded sha256; returns
    (path the config names -> copy, one line per input)."""
    from sim.runs.results import file_digest

    manifest = json.loads((folder / "manifest.json").read_text()) if (folder / "manifest.json").exists() else {}
    relocated, lines = {}, []
    for group, entry in (manifest.get("inputs") or {}).items():
        copy = folder / entry["copy"]
        if not copy.exists():
            lines.append(f"{group}: {entry['copy']} is missing from the folder; reading {entry['path']}")
            continue
        relocated[entry["path"]] = str(copy)
        same_copy = file_digest(copy) == entry["sha256"]
        note = "sha256 as recorded" if same_copy else "CHANGED since the run: sha256 differs from the manifest"
        original = Path(entry["path"])
        if original.exists() and file_digest(original) != entry["sha256"]:
            note += f"; {entry['path']} has changed since the run"
        lines.append(f"{group}: from the folder's copy {entry['copy']} ({note})")
    return relocated, lines


def reproduce_run(folder: Path) -> list[TableCheck]:
    """A single run's folder re-run from its config.yaml (its own input files from the folder's copies):
    its runs, rounds and events tables."""
    from sim.runs.runner import run_config

    relocated, lines = input_copies(folder)
    for line in lines:
        print(line, flush=True)
    result = run_config(load_config(folder / "config.yaml"), relocated=relocated)
    saved = pd.read_parquet(folder / "runs.parquet")
    watched = saved.get("play_as", pd.Series(["?"])).isin(["", "nobody"]).all() and \
        saved.get("game", pd.Series(["finished"])).eq("finished").all()
    if watched and "play_as" not in result.runs:  # a finished classroom game the model agents played:
        saved = saved.drop(columns=[c for c in CLASSROOM_COLUMNS if c in saved])  # what the app adds
    checks = [compare_table("runs.parquet", saved, result.runs, ["protocol"])]
    for name, now, keys in (("rounds.parquet", result.rounds, ["protocol", "round", "actor", "issue"]),
                            ("events.parquet", result.events, ["protocol", "round", "kind"])):
        if (folder / name).exists() and not (name == "events.parquet" and now.empty):
            checks.append(compare_table(name, pd.read_parquet(folder / name), now, keys))
    return checks


def is_calibration(folder: Path) -> bool:
    """A calibration's folder (python -m experiments.calibrate): config.yaml and posterior.parquet."""
    return (folder / "config.yaml").exists() and (folder / "posterior.parquet").exists()


def reproduce_calibration(folder: Path, sample: int | None) -> list[TableCheck]:
    """A calibration's folder: what can be re-run exactly. pyabc's sampler is not re-run (a history takes
    minutes): every particle of
    the last generation (``sample`` of them, or all) is re-simulated from its recorded seeds and must give its
    recorded summary statistics and distance; and the posterior-predictive runs are re-run from the saved
    posterior and compared with predictive_runs.parquet."""
    from sim.runs import calibration

    config = load_config(folder / "config.yaml")
    manifest = json.loads((folder / "manifest.json").read_text()) if (folder / "manifest.json").exists() else {}
    relocated, lines = input_copies(folder)
    for line in lines:
        print(line, flush=True)
    spec = calibration.spec_from_config(config.get("calibrate") or {}, str(folder / "config.yaml"))
    base = base_config(config, also=("calibrate",))
    here = copy.deepcopy(base)  # the particles' simulations read the copies (their distances hold no config hash)
    for key in ("scenario", "observed"):
        if isinstance(here.get(key), dict) and str(here[key].get("path")) in relocated:
            here[key]["path"] = relocated[str(here[key]["path"])]
    workers = manifest.get("workers", "?")
    print(f"a calibration ({workers} worker{'s' if workers != 1 else ''}, master seed {spec.seed}): pyabc's "
          "sampling is not re-run here (with one worker the same command on a fresh folder gives the same "
          "history; with several, pyabc's workers draw from the operating system). Checked instead: the last "
          "generation's particles re-simulated from their recorded seeds, and the posterior-predictive runs.",
          flush=True)
    posterior = pd.read_parquet(folder / "posterior.parquet")
    rows = posterior if sample is None or sample >= len(posterior) else \
        posterior.sample(n=sample, random_state=np.random.default_rng(0))
    simulator = calibration.Simulator(calibration.sweep_context(spec, here, folder), spec)
    check = TableCheck(f"posterior.parquet ({len(rows)} of {len(posterior)} particles re-simulated)")
    for index, row in _progress(list(rows.iterrows()), "reproduce"):
        values = {p.column: float(row[p.column]) for p in spec.parameters}
        now = simulator(values)
        saved = {k: (float(row[k]) if not k.startswith("seed_") else int(row[k])) for k in now if k in row}
        now = {k: (int(v) if k.startswith("seed_") else v) for k, v in now.items() if k in saved}
        check.add(f"particle {index}", compare(saved, now))
    checks = [check]
    if (folder / "predictive_runs.parquet").exists():
        runs, _ = calibration.predictive_runs(posterior, spec, base, relocated)
        saved_runs = pd.read_parquet(folder / "predictive_runs.parquet")
        checks.append(compare_table("predictive_runs.parquet", saved_runs, runs[saved_runs.columns]
                                    if set(saved_runs.columns) <= set(runs.columns) else runs, ["draw"]))
    return checks


def check_folder(folder: Path, sample: int | None = None) -> None:
    """Raises CommandFailed (status 2) unless ``folder`` is a results folder and ``sample`` >= 1 (or None)."""
    if is_calibration(folder):
        pass
    elif not (folder / "config.yaml").exists() or not (folder / "runs.parquet").exists():
        raise CommandFailed(f"{folder}: not a results folder (needs config.yaml and runs.parquet, or a "
                            "calibration's posterior.parquet)", 2)
    if sample is not None and sample < 1:
        raise CommandFailed(f"command line: --sample: {sample}; allowed: a whole number >= 1", 2)


def reproduce(folder: Path, sample: int | None = None,
              classroom: Callable[[Path, str], list[TableCheck]] | None = None) -> int:
    """Re-run a results folder and print what :mod:`experiments.reproduce` prints; returns the exit status
    (0 identical, 1 any difference). ``classroom(folder, seat)`` checks a game in which a person played
    ``seat`` (see the module's note); without it such a folder is re-run as a single run.

    Raises:
        CommandFailed: (status 2) not a results folder, or ``sample`` < 1.
    """
    check_folder(folder, sample)
    print(config_line(folder), flush=True)
    seats = pd.read_parquet(folder / "runs.parquet").get("play_as") if (folder / "runs.parquet").exists() else None
    seat = str(seats.iloc[0]) if seats is not None and len(seats) else "nobody"
    if is_calibration(folder):
        checks = reproduce_calibration(folder, sample)
    elif seat not in ("", "nobody", "None") and classroom is not None:
        checks = classroom(folder, seat)
    elif (folder / "design.json").exists():
        checks = reproduce_sweep(folder, sample)
    else:
        checks = reproduce_run(folder)
    for check in checks:
        print("\n".join(check.lines()))
    tables = [c for c in checks if c.differing]
    print("reproduced: identical" if not tables else
          f"not reproduced: {len(tables)} of {len(checks)} table{'s' if len(checks) != 1 else ''} differ "
          f"({', '.join(c.name.split()[0] for c in tables)})")
    return 1 if tables else 0
