"""Scenario discovery on a finished sweep: in which region of the swept parameters does an outcome happen?

    python -m experiments.discover FOLDER [outcome=agreement | outcome="COLUMN>NUMBER"] [boxes=1]
                                          [min_coverage=0.5] [parameters=[KEY,...]] [out=FOLDER]
                                          [overwrite=true] [peel_alpha=0.05] [paste_alpha=0.05]
                                          [mass_min=0.05] [figures.format=png|pdf|svg] [figures.dpi=INT]

Runs PRIM (the EMA Workbench's) on the sweep's runs table: the swept parameters against the runs of
interest, a yes/no column (agreement) or a numeric column compared with a number (>, >=, <, <=, ==, !=;
a missing value counts as no). Prints each box (its limits, coverage, density and mass) and writes into
FOLDER/discover/<outcome>/ (or out=): boxes.parquet and boxes.csv (one row per box and limit),
trajectory.parquet and trajectory.csv (every step of the peeling, the chosen one marked), manifest.json,
figures/peeling_trajectory.png and figures/box_<n>_pairs.png. An existing output folder is refused unless
overwrite=true. The chosen box balances coverage and density best (their harmonic mean is highest) among
the boxes on the trajectory that cover at least min_coverage of the runs of interest; box n+1 is looked for among the runs outside boxes 1..n. Bad input: one line, exit 2.
docs/how-to/discover.md explains how to read the numbers.

Examples:
    python -m experiments.discover results/sweeps/deal_space outcome=agreement
    python -m experiments.discover results/sweeps/deal_space outcome="bargaining_range>0" boxes=1
    python -m experiments.discover results/sweeps/rr outcome=agreement min_coverage=0.8 figures.format=pdf
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any, Mapping

import pyarrow.parquet as pq

from sim.domain.config import check_figure_settings
from sim.domain.errors import ConfigError
from sim.analysis.discovery import Discovery, discover, outcome_flags, parse_outcome, print_table, searchable

IDS = ("run_index", "point", "replicate", "seed")  # bookkeeping columns, never an outcome
OPTIONS = ("outcome", "boxes", "min_coverage", "parameters", "out", "overwrite", "peel_alpha", "paste_alpha",
           "mass_min", "figures.format", "figures.dpi")


def parse(argv: list[str]) -> tuple[Path, dict[str, Any]]:
    """FOLDER and KEY=VALUE options."""
    from experiments.cli import folder_and_options

    return folder_and_options(argv, __doc__, OPTIONS, ("outcome",))


def _number(options: Mapping[str, Any], key: str, default: float, low: float, high: float, text: str) -> float:
    value = options.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low < value <= high:
        raise ConfigError("command line", key, f"{value!r}; allowed: {text}")
    return float(value)


def check_options(folder: Path, spec, options: Mapping[str, Any]) -> dict[str, Any]:
    """Check the options against the sweep; returns them with defaults filled in."""
    outcome = parse_outcome(options.get("outcome", "agreement"))
    boxes = options.get("boxes", 1)
    if isinstance(boxes, bool) or not isinstance(boxes, int) or not 1 <= boxes <= 10:
        raise ConfigError("command line", "boxes", f"{boxes!r}; allowed: a whole number from 1 to 10")
    by_name = {p.key: p for p in spec.parameters} | {p.column: p for p in spec.parameters}
    chosen = options.get("parameters") or [p.key for p in spec.parameters]
    if isinstance(chosen, str):
        chosen = [chosen]
    for name in chosen:
        if str(name) not in by_name:
            raise ConfigError("command line", "parameters", f"{name!r} is not a swept parameter of {folder}; "
                                                            f"allowed: {', '.join(p.key for p in spec.parameters)}")
    fmt, dpi = check_figure_settings(options.get("figures.format", "png"), options.get("figures.dpi", 150))
    overwrite = options.get("overwrite", False)
    if not isinstance(overwrite, bool):
        raise ConfigError("command line", "overwrite", f"{overwrite!r}; allowed: true or false")
    return {
        "outcome": outcome, "boxes": boxes, "format": fmt, "dpi": dpi, "overwrite": overwrite,
        "parameters": list(dict.fromkeys(by_name[str(n)].column for n in chosen)),
        "min_coverage": _number(options, "min_coverage", 0.5, 0.0, 1.0, "a share in (0, 1]"),
        "peel_alpha": _number(options, "peel_alpha", 0.05, 0.0, 0.5, "a share in (0, 0.5]"),
        "paste_alpha": _number(options, "paste_alpha", 0.05, 0.0, 0.5, "a share in (0, 0.5]"),
        "mass_min": _number(options, "mass_min", 0.05, 0.0, 0.99, "a share in (0, 0.99]"),
        "out": Path(options["out"]) if options.get("out") else folder / "discover" / outcome.slug,
    }


def sweep_spec(folder: Path):
    """The sweep recorded in ``folder/design.json`` (ConfigError if the folder is not a finished sweep)."""
    from sim.runs.design import spec_from_config

    if not folder.exists():
        raise ConfigError(str(folder), "folder", "no such folder; give a finished sweep folder")
    if not folder.is_dir():
        raise ConfigError(str(folder), "folder", "not a folder; give a finished sweep folder")
    if not (folder / "runs.parquet").exists() or not (folder / "design.json").exists():
        raise ConfigError(str(folder), "folder", "not a sweep folder (needs runs.parquet and design.json, "
                                                 "written by python -m experiments.sweep)")
    try:
        return spec_from_config(json.loads((folder / "design.json").read_text())["spec"], str(folder / "design.json"))
    except (ValueError, KeyError) as error:
        raise ConfigError(str(folder / "design.json"), "spec", f"not a sweep design ({error})") from None


def run(folder: str | Path, options: Mapping[str, Any] | None = None) -> tuple[Discovery, Path, list[Path]]:
    """Discover boxes in a sweep folder and write them; returns the discovery, the output folder and the
    paths written."""
    from sim.report import plots
    from sim.runs.results import load_results, manifest, write_json

    from experiments.plot import _load_config, sweep_caption

    started = time.time()
    folder = Path(folder)
    spec = sweep_spec(folder)
    chosen = check_options(folder, spec, options or {})
    outcome, out = chosen["outcome"], chosen["out"]
    runs_path = folder / "runs.parquet"
    schema = pq.read_schema(runs_path)
    available = schema.names
    missing = [c for c in chosen["parameters"] if c not in available]
    if missing:
        raise ConfigError(str(runs_path), missing[0], "a swept parameter with no column in the runs table")
    if outcome.column not in available:
        import pyarrow as pa

        usable = [f.name for f in schema if (pa.types.is_boolean(f.type) or pa.types.is_integer(f.type)
                                             or pa.types.is_floating(f.type)) and f.name not in IDS + tuple(chosen["parameters"])]
        raise ConfigError(str(runs_path), outcome.column, "no such column in this sweep's runs table; allowed "
                                                          "(yes/no or numeric): " + ", ".join(usable))
    if out.exists() and any(out.iterdir()) and not chosen["overwrite"]:
        raise ConfigError(str(out), "out", "exists already; give out=<another folder> or overwrite=true")
    runs = load_results(folder, tables=("runs",),
                        columns={"runs": list(dict.fromkeys(chosen["parameters"] + [outcome.column]))}).runs
    flags = outcome_flags(runs, outcome, str(runs_path))
    parameters, constant = searchable(runs, chosen["parameters"])
    for column in constant:
        print(f"note: {column} takes one value in every run; left out of the search", file=sys.stderr)
    if not parameters:
        raise ConfigError("command line", "parameters", "every chosen parameter is constant over the sweep")
    x = runs[parameters]
    result = discover(x, flags, outcome, boxes=chosen["boxes"], min_coverage=chosen["min_coverage"],
                      peel_alpha=chosen["peel_alpha"], paste_alpha=chosen["paste_alpha"], mass_min=chosen["mass_min"])

    by_column = {p.column: p for p in spec.parameters}
    config = _load_config(folder)
    labels = plots.Labels.from_config(config.get("scenario"))
    names = {c: labels.parameter(by_column[c].key) for c in parameters}
    caption = sweep_caption(spec, config, runs)
    name = labels.output(outcome.column).split(" (")[0]  # "bargaining range", without its explanation
    what = name if outcome.op is None else f"{name} {outcome.op} {outcome.threshold:g}"

    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")  # the folder appears whole or not at all
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    table = result.table()
    table.insert(int(table.columns.get_loc("parameter")) + 1, "key", [by_column[c].key for c in table["parameter"]])
    table.to_parquet(tmp / "boxes.parquet", index=False)
    table.to_csv(tmp / "boxes.csv", index=False)
    if result.boxes:
        trajectory = result.trajectories()
        trajectory.to_parquet(tmp / "trajectory.parquet", index=False)
        trajectory.to_csv(tmp / "trajectory.csv", index=False)
        figures = [plots.save(plots.peeling_figure(trajectory, base_rate=result.base_rate, outcome=what,
                                                   caption=caption),
                              tmp / "figures" / "peeling_trajectory", chosen["dpi"], chosen["format"])]
        categories = {c: list(v) for c, v in result.categories.items()}
        for box in result.boxes:
            s = box.stats
            title = (f"Box {box.number}: coverage {s['coverage']:.2f}, density {s['density']:.2f}, "
                     f"mass {s['mass']:.2f} (runs with {what} in orange)")
            figures.append(plots.save(plots.box_pairs_figure(x, flags, box.limits, names=names, outcome=what,
                                                             categories=categories, title=title, caption=caption),
                                      tmp / "figures" / f"box_{box.number}_pairs", chosen["dpi"], chosen["format"]))
    write_json(tmp / "manifest.json", manifest(
        spec.seed, started, True, sweep_folder=str(folder), outcome=outcome.text, runs=result.runs,
        runs_of_interest=result.cases, parameters=[by_column[c].key for c in parameters],
        prim={k: chosen[k] for k in ("boxes", "min_coverage", "peel_alpha", "paste_alpha", "mass_min")},
        prim_package=f"ema-workbench {_version('ema-workbench')}"))
    if out.exists():
        shutil.rmtree(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, out)
    print(print_table(result, key=lambda c: by_column[c].key))
    return result, out, sorted(p for p in out.rglob("*") if p.is_file())


def _version(package: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def main(argv: list[str] | None = None) -> None:
    try:
        folder, options = parse(sys.argv[1:] if argv is None else argv)
        _, out, written = run(folder, options)
        print(f"results: {out}")
        for path in written:
            print(f"  {path}")
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    from experiments.cli import run_command

    run_command(main)
