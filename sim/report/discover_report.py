"""Scenario discovery on a finished sweep folder (``python -m experiments.discover``): the options
checked against the sweep, PRIM run on its runs table (:mod:`sim.analysis.discovery`), and the boxes,
the peeling trajectory, their figures and a manifest written into ``FOLDER/discover/<outcome>/`` (or
``out=``), whole or not at all. docs/how-to/discover.md explains how to read the numbers.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any, Mapping

import pandas as pd
import pyarrow.parquet as pq

from sim.analysis.discovery import Discovery, discover, outcome_flags, parse_outcome, print_table, searchable
from sim.domain.config import check_figure_layout, check_figure_settings
from sim.domain.errors import ConfigError, WriteError
from sim.runs.files import write_csv, write_parquet

IDS = ("run_index", "point", "replicate", "seed")  # bookkeeping columns, never an outcome
#: The options of a discovery (``KEY=VALUE`` on the command line).
DISCOVER_OPTIONS = ("outcome", "boxes", "min_coverage", "parameters", "out", "overwrite", "peel_alpha",
                    "paste_alpha", "mass_min", "figures.format", "figures.dpi", "figures.width", "figures.details")
PRIM_OPTIONS = ("boxes", "min_coverage", "peel_alpha", "paste_alpha", "mass_min")  # recorded in the manifest


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
    width, details = check_figure_layout(options.get("figures.width"), options.get("figures.details", False))
    overwrite = options.get("overwrite", False)
    if not isinstance(overwrite, bool):
        raise ConfigError("command line", "overwrite", f"{overwrite!r}; allowed: true or false")
    return {
        "outcome": outcome, "boxes": boxes, "format": fmt, "dpi": dpi, "width": width, "details": details,
        "overwrite": overwrite,
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


def discover_folder(folder: str | Path,
                    options: Mapping[str, Any] | None = None) -> tuple[Discovery, Path, list[Path]]:
    """Discover boxes in a sweep folder, write them and print them; returns the discovery, the output
    folder and the paths written.

    Raises:
        ConfigError: the folder is not a finished sweep, an option is not allowed, the output folder
            exists (without ``overwrite=true``) or every chosen parameter is constant.
    """
    from sim.runs.results import load_results

    started = time.time()
    folder = Path(folder)
    spec = sweep_spec(folder)
    chosen = check_options(folder, spec, options or {})
    outcome, out = chosen["outcome"], chosen["out"]
    _check_columns(folder / "runs.parquet", chosen)
    if out.exists() and any(out.iterdir()) and not chosen["overwrite"]:
        raise ConfigError(str(out), "out", "exists already; give out=<another folder> or overwrite=true")
    runs = load_results(folder, tables=("runs",),
                        columns={"runs": list(dict.fromkeys(chosen["parameters"] + [outcome.column]))}).runs
    flags = outcome_flags(runs, outcome, str(folder / "runs.parquet"))
    parameters, constant = searchable(runs, chosen["parameters"])
    for column in constant:
        print(f"note: {column} takes one value in every run; left out of the search", file=sys.stderr)
    if not parameters:
        raise ConfigError("command line", "parameters", "every chosen parameter is constant over the sweep")
    x = runs[parameters]
    result = discover(x, flags, outcome, **{k: chosen[k] for k in PRIM_OPTIONS})
    words = _words(folder, spec, runs, parameters, outcome)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")  # the folder appears whole or not at all
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        tmp.mkdir(parents=True)
        trajectory = _write_tables(tmp, result, words["by_column"])
        if trajectory is not None:
            _write_figures(tmp, result, trajectory, x, flags, words, chosen)
        _write_manifest(tmp, result, folder, spec, parameters, chosen, started)
        if out.exists():
            shutil.rmtree(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, out)
    except OSError as error:  # named as the file in the output folder, not in the temp folder
        if error.errno is None:
            raise
        failed = Path(str(error.filename)) if error.filename else tmp
        target = out / failed.relative_to(tmp) if failed.is_relative_to(tmp) else failed
        raise WriteError(error.errno, os.strerror(error.errno), str(target)) from error
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(print_table(result, key=lambda c: words["by_column"][c].key))
    return result, out, sorted(p for p in out.rglob("*") if p.is_file())


def _check_columns(runs_path: Path, chosen: Mapping[str, Any]) -> None:
    """Every chosen parameter and the outcome are columns of the runs table (read from its schema only)."""
    schema = pq.read_schema(runs_path)
    available = schema.names
    missing = [c for c in chosen["parameters"] if c not in available]
    if missing:
        raise ConfigError(str(runs_path), missing[0], "a swept parameter with no column in the runs table")
    outcome = chosen["outcome"]
    if outcome.column not in available:
        import pyarrow as pa

        usable = [f.name for f in schema if (pa.types.is_boolean(f.type) or pa.types.is_integer(f.type)
                                             or pa.types.is_floating(f.type)) and f.name not in IDS + tuple(chosen["parameters"])]
        raise ConfigError(str(runs_path), outcome.column, "no such column in this sweep's runs table; allowed "
                                                          "(yes/no or numeric): " + ", ".join(usable))


def _write_tables(tmp: Path, result: Discovery, by_column: Mapping[str, Any]) -> pd.DataFrame | None:
    """boxes.parquet/.csv (with each parameter's config key) and, when a box was found,
    trajectory.parquet/.csv; returns the trajectory (None without a box)."""
    table = result.table()
    keys = [by_column[c].key for c in table["parameter"]]
    table.insert(int(table.columns.get_loc("parameter")) + 1, "key", keys)
    write_parquet(table, tmp / "boxes.parquet")
    write_csv(table, tmp / "boxes.csv")
    if not result.boxes:
        return None
    trajectory = result.trajectories()
    write_parquet(trajectory, tmp / "trajectory.parquet")
    write_csv(trajectory, tmp / "trajectory.csv")
    return trajectory


def _words(folder: Path, spec, runs: pd.DataFrame, parameters: list[str], outcome) -> dict[str, Any]:
    """The names the figures and the printed table use: parameters by config key and in words, the
    outcome in words, the sweep's caption (from its config.yaml)."""
    from sim.report import plots
    from sim.report.sweep_report import load_config, sweep_caption

    by_column = {p.column: p for p in spec.parameters}
    config = load_config(folder)
    labels = plots.Labels.from_config(config.get("scenario"))
    name = labels.output(outcome.column).split(" (")[0]  # "bargaining range", without its explanation
    return {"by_column": by_column, "names": {c: labels.parameter(by_column[c].key) for c in parameters},
            "caption": sweep_caption(spec, config, runs),
            "what": name if outcome.op is None else f"{name} {outcome.op} {outcome.threshold:g}"}


def _write_figures(tmp: Path, result: Discovery, trajectory: pd.DataFrame, x: pd.DataFrame, flags,
                   words: Mapping[str, Any], chosen: Mapping[str, Any]) -> None:
    """figures/peeling_trajectory and figures/box_<n>_pairs."""
    from sim.report import plots

    with plots.layout(chosen["width"], chosen["details"]):
        _draw_figures(tmp, result, trajectory, x, flags, words, chosen)


def _draw_figures(tmp: Path, result: Discovery, trajectory: pd.DataFrame, x: pd.DataFrame, flags,
                  words: Mapping[str, Any], chosen: Mapping[str, Any]) -> None:
    from sim.report import plots

    what, caption = words["what"], words["caption"]
    plots.save(plots.peeling_figure(trajectory, base_rate=result.base_rate, outcome=what, caption=caption),
               tmp / "figures" / "peeling_trajectory", chosen["dpi"], chosen["format"])
    categories = {c: list(v) for c, v in result.categories.items()}
    for box in result.boxes:
        s = box.stats
        title = (f"Box {box.number}: coverage {s['coverage']:.2f}, density {s['density']:.2f}, "
                 f"mass {s['mass']:.2f} (runs with {what} in orange)")
        plots.save(plots.box_pairs_figure(x, flags, box.limits, names=words["names"], outcome=what,
                                          categories=categories, title=title, caption=caption),
                   tmp / "figures" / f"box_{box.number}_pairs", chosen["dpi"], chosen["format"])


def _write_manifest(tmp: Path, result: Discovery, folder: Path, spec, parameters: list[str],
                    chosen: Mapping[str, Any], started: float) -> None:
    from sim.runs.results import manifest, write_json

    by_column = {p.column: p for p in spec.parameters}
    write_json(tmp / "manifest.json", manifest(
        spec.seed, started, True, sweep_folder=str(folder), outcome=chosen["outcome"].text, runs=result.runs,
        runs_of_interest=result.cases, parameters=[by_column[c].key for c in parameters],
        prim={k: chosen[k] for k in PRIM_OPTIONS}, prim_package=f"ema-workbench {_version('ema-workbench')}"))


def _version(package: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None
