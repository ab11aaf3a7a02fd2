"""Running one experiment and writing its results folder (DESIGN.md "Results layout").

Two ways in: the Python API for notebooks (:func:`load_scenario`, :func:`run`) and
:func:`run_config` for a composed Hydra config (``experiments/run.py``). Both return a
:class:`RunResult` holding the run's tidy tables; :func:`write_run` writes them out.
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from sim.config import CONFIG_DIR, REPO_ROOT, ConfigError, ScenarioConfig
from sim.metrics import reference_table
from sim.model import BargainingModel
from sim.scenario import Scenario, scenario_from_config
from sim.spec import RunSpec, specs_from_config

PACKAGES = ("mesa", "numpy", "pandas", "scipy", "matplotlib", "hydra-core", "omegaconf", "pyarrow")


@dataclass
class RunResult:
    """A finished run and its tables (pandas)."""

    scenario: Scenario
    model: BargainingModel
    runs: pd.DataFrame  # one row: MODEL.md §6
    rounds: pd.DataFrame  # round, actor, issue, position, salience, median, mean
    events: pd.DataFrame  # offers, responses, conflicts
    issues: pd.DataFrame  # per issue: scale, end texts, status quo, reference solutions
    parts: tuple["RunResult", ...] = ()  # protocol=all: one result per protocol

    @property
    def protocols(self) -> list[str]:
        return list(self.runs["protocol"])


def combine(results: list[RunResult]) -> RunResult:
    """Several protocols on one scenario and seed, as one result (tables stacked by protocol)."""
    return RunResult(
        scenario=results[0].scenario, model=results[0].model,
        runs=pd.concat([r.runs for r in results], ignore_index=True),
        rounds=pd.concat([r.rounds for r in results if not r.rounds.empty], ignore_index=True),
        events=pd.concat([r.events for r in results if not r.events.empty], ignore_index=True),
        issues=results[0].issues, parts=tuple(results),
    )


# --------------------------------------------------------------------------------------------------
# Python API
# --------------------------------------------------------------------------------------------------


def load_scenario(name: str | Path, overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Load a scenario by config name (``"jan2022"``, ``"classroom/jan2022"``) or YAML path.

    Args:
        name: a name under ``configs/scenario/`` or a path to a YAML file.
        overrides: dotted keys inside the scenario, e.g. ``{"actors.russia.capability": 0.6}``.

    Raises:
        ConfigError: unknown scenario, or an invalid value (naming the file and key).
    """
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    path = Path(name)
    if path.suffix not in (".yaml", ".yml"):
        path = CONFIG_DIR / "scenario" / f"{name}.yaml"
    if not path.exists():
        known = sorted(str(p.relative_to(CONFIG_DIR / "scenario").with_suffix(""))
                       for p in (CONFIG_DIR / "scenario").rglob("*.yaml"))
        raise ConfigError("configs/scenario", "scenario", f"unknown scenario {str(name)!r}; allowed: "
                                                          f"{', '.join(known)}")
    source = str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)
    try:
        node = OmegaConf.merge(OmegaConf.structured(ScenarioConfig), _load_with_defaults(path))
        for key, value in (overrides or {}).items():
            OmegaConf.update(node, key, value, merge=True)
    except OmegaConfBaseException as error:
        key = getattr(error, "full_key", None) or "?"
        raise ConfigError(source, f"scenario.{key}", str(error).splitlines()[0]) from None
    return scenario_from_config(node, source=source)


def _load_with_defaults(path: Path) -> Any:
    """A scenario YAML with Hydra's inheritance inside its group resolved: ``defaults: [jan2022, _self_]``
    merges ``jan2022.yaml`` from the same folder first (as ``scenario=<name>`` composes it)."""
    from omegaconf import OmegaConf

    node = OmegaConf.load(path)
    parents = node.pop("defaults", None) if hasattr(node, "pop") else None
    if not parents:
        return node
    merged = OmegaConf.create()
    own_merged = False
    for entry in parents:
        if entry == "_self_":
            merged, own_merged = OmegaConf.merge(merged, node), True
        else:
            parent = path.parent / f"{entry}.yaml"
            if not parent.exists():
                raise ConfigError(str(path), "defaults", f"no scenario {entry!r} beside this file")
            merged = OmegaConf.merge(merged, _load_with_defaults(parent))
    return merged if own_merged else OmegaConf.merge(merged, node)


def run(
    scenario: Scenario | str,
    protocol: str = "eu",
    seed: int | None = 0,
    rounds: int = 20,
    protocol_params: Mapping[str, Any] | None = None,
    strategy: str = "linear",
    strategy_exponent: float | None = None,
    record_rounds: bool = True,
    record_events: bool = True,
) -> RunResult:
    """Run one negotiation and return its tables (a :class:`~sim.spec.RunSpec` built from the arguments).

    Args:
        scenario: a :class:`Scenario` or the name of one (see :func:`load_scenario`).
        protocol: ``eu`` (and the others registered in :mod:`sim.protocols`).
        seed: the run's seed, a whole number >= 0 (``None`` draws OS entropy and is not reproducible).
        rounds: round limit.
        protocol_params: protocol settings, e.g. ``{"variant": "scholz"}``.
        strategy, strategy_exponent: default concession strategy (bundle protocols).
        record_rounds, record_events: keep the per-round and event tables.
    """
    if isinstance(scenario, str):
        scenario = load_scenario(scenario)
    return RunSpec(scenario, protocol=protocol, params=protocol_params, strategy=strategy,
                   strategy_exponent=strategy_exponent, rounds=rounds, seed=seed,
                   record_rounds=record_rounds, record_events=record_events).run()


def result_of(model: BargainingModel, issues: pd.DataFrame | None = None) -> RunResult:
    """The tables of a finished (or stopped) model built by a :class:`~sim.spec.RunSpec`: its outcome
    row, rounds and events as recorded, and the per-issue reference table (``issues``, if the caller
    already has it)."""
    rounds = model.rounds_table() if model.record_rounds else pd.DataFrame()
    if not rounds.empty:
        rounds.insert(0, "protocol", model.protocol.name)
    return RunResult(
        scenario=model.negotiation, model=model, runs=pd.DataFrame([model.spec.row(model)]), rounds=rounds,
        events=model.events_table() if model.record_events else pd.DataFrame(),
        issues=reference_table(model.negotiation, model.disagreement) if issues is None else issues,
    )


def run_config(cfg: Any, source: str | None = None) -> RunResult:
    """Run the experiment a composed config describes: its run specifications
    (:func:`sim.spec.specs_from_config`; several for ``protocol=all``, combined into one result).
    ``source``: the user's own scenario file, for error messages."""
    figure_settings(cfg)  # a bad figures.format ends here, before the run
    results = [spec.run() for spec in specs_from_config(cfg, source=source)]
    return results[0] if len(results) == 1 else combine(results)


# --------------------------------------------------------------------------------------------------
# Results folder
# --------------------------------------------------------------------------------------------------


def git_commit() -> str:
    """The repository's HEAD commit (with ``-dirty`` when the work tree has changes), or ""."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True,
                              text=True, timeout=5).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=REPO_ROOT, capture_output=True, text=True, timeout=5).stdout.strip()
        return head + ("-dirty" if dirty and head else "")
    except (OSError, subprocess.SubprocessError):
        return ""


def manifest(seed: Any, started: float, completed: bool, **extra: Any) -> dict[str, Any]:
    """Provenance of a results folder: versions, commit, python, seed, times, completed flag."""
    versions = {}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "completed": completed,
        "master_seed": seed,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z") if completed else None,
        "git_commit": git_commit(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": versions,
        "command": pasteable_command(),
        **extra,
    }


def pasteable_command() -> str:
    """The command line as one can paste it again: ``python -m experiments.run key=value ...``,
    each argument shell-quoted (the interpreter path is left out: use your own python)."""
    import shlex

    argv = list(getattr(sys, "orig_argv", sys.argv))
    if len(argv) >= 3 and argv[1] == "-m":
        return "python " + shlex.join(argv[1:])
    return shlex.join(["python", *argv[1:]]) if argv and "python" in Path(argv[0]).name else shlex.join(argv)


def claim_folder(folder: Path) -> Path:
    """A results folder that no other run writes: ``folder`` itself or, if another run claimed it
    first (two runs started in the same second), ``folder_2``, ``folder_3``, ... Claimed atomically
    (an O_EXCL ``.claim`` file), so two processes never share one."""
    import os

    folder, candidate, number = Path(folder), Path(folder), 1
    while True:
        candidate.mkdir(parents=True, exist_ok=True)
        try:
            os.close(os.open(candidate / ".claim", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            return candidate
        except FileExistsError:
            number += 1
            candidate = folder.with_name(f"{folder.name}_{number}")


def write_json(path: Path, data: Mapping[str, Any]) -> None:
    """Write JSON atomically (temp file + rename)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n")
    tmp.replace(path)


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write a Parquet table atomically (temp file + rename)."""
    tmp = path.with_name(path.name + ".tmp")
    frame.to_parquet(tmp, index=False)
    tmp.replace(path)


def write_run(result: RunResult, folder: Path, cfg: Any = None, figures: bool = True,
              **manifest_extra: Any) -> Path:
    """Write a run's folder: config.yaml, manifest.json (completed last; ``manifest_extra`` added to
    it), runs/rounds/events/issues Parquet tables and figures/positions.png."""
    from omegaconf import OmegaConf

    started = time.time()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    seed = result.runs["seed"].iloc[0]
    seed = None if seed is None or pd.isna(seed) else int(seed)
    extra = {"scenario": result.scenario.id, "protocol": result.runs["protocol"].iloc[0],
             "config_hash": result.runs["config_hash"].iloc[0], **manifest_extra}
    if cfg is not None:  # the config as run, so that reproduce can tell which keys were edited since
        extra["config"] = {k: v for k, v in OmegaConf.to_container(cfg, resolve=True).items() if k != "hydra"}
    write_json(folder / "manifest.json", manifest(seed, started, False, **extra))
    if cfg is not None:
        (folder / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
    write_parquet(result.runs, folder / "runs.parquet")
    write_parquet(result.issues, folder / "issues.parquet")
    if not result.rounds.empty:
        write_parquet(result.rounds, folder / "rounds.parquet")
    write_parquet(result.events, folder / "events.parquet")
    if result.parts:
        write_parquet(result.runs, folder / "comparison.parquet")
    if figures:
        write_figures(result, folder / "figures", *figure_settings(cfg))
    write_json(folder / "manifest.json", manifest(seed, started, True, **extra))
    return folder


@dataclass
class Results:
    """A results folder read back for a notebook: its tables (pandas, with the dtypes they were
    written with), manifest.json and config.yaml as plain dicts (:func:`load_results`)."""

    folder: Path
    tables: dict[str, pd.DataFrame]
    manifest: dict[str, Any]
    config: dict[str, Any]

    def __getattr__(self, name: str) -> pd.DataFrame:  # results.runs, results.rounds, ...
        tables = self.__dict__.get("tables", {})
        if name in tables:
            return tables[name]
        raise AttributeError(f"{name!r}: this folder has no {name}.parquet; it has {', '.join(tables) or 'no tables'}")

    @property
    def completed(self) -> bool:
        return bool(self.manifest.get("completed"))


def load_results(folder: str | Path, tables: tuple[str, ...] | None = None,
                 columns: Mapping[str, list[str]] | None = None) -> Results:
    """Read a run or sweep folder (``results/...``) for analysis in a notebook.

    Args:
        folder: a folder written by ``experiments.run`` or ``experiments.sweep``.
        tables: which tables to read (default: every ``*.parquet`` at the top of the folder:
            runs, rounds, events, issues, comparison, design, failures).
        columns: per table, the columns to read (large sweeps: read only what you need).

    Returns:
        :class:`Results`; ``results.runs`` is the runs table, ``results.manifest["completed"]``
        says whether the folder was finished.

    Raises:
        ConfigError: the folder does not exist or holds no runs.parquet.
    """
    from omegaconf import OmegaConf

    folder = Path(folder)
    if not (folder / "runs.parquet").exists():
        raise ConfigError(str(folder), "folder", "no runs.parquet here; give a folder written by "
                                                 "experiments.run or experiments.sweep")
    names = tables or tuple(sorted(p.stem for p in folder.glob("*.parquet")))
    frames = {}
    for name in names:
        path = folder / f"{name}.parquet"
        if not path.exists():
            raise ConfigError(str(folder), name, f"no {name}.parquet in this folder")
        frames[name] = pd.read_parquet(path, columns=(columns or {}).get(name))
    manifest = json.loads((folder / "manifest.json").read_text()) if (folder / "manifest.json").exists() else {}
    config = (OmegaConf.to_container(OmegaConf.load(folder / "config.yaml"), resolve=True)
              if (folder / "config.yaml").exists() else {})
    return Results(folder=folder, tables=frames, manifest=manifest, config=config)


def figure_settings(cfg: Any = None) -> tuple[str, int]:
    """(format, dpi) from a config's ``figures`` node, checked (png | pdf | svg; dpi 30..1200)."""
    from sim.config import FIGURE_FORMATS

    node = (cfg.get("figures") if cfg is not None else None) or {}
    fmt, dpi = str(node.get("format", "png")), node.get("dpi", 150)
    if fmt not in FIGURE_FORMATS:
        raise ConfigError("command line", "figures.format", f"{fmt!r}; allowed: {', '.join(FIGURE_FORMATS)}")
    if not isinstance(dpi, int) or not 30 <= dpi <= 1200:
        raise ConfigError("command line", "figures.dpi", f"{dpi!r}; allowed: a whole number from 30 to 1200")
    return fmt, dpi


def run_caption(result: RunResult) -> str:
    """Scenario · protocol(s) · seed: the caption line of a run's figures."""
    seed = result.runs["seed"].iloc[0]
    seed = "seed not fixed" if seed is None or pd.isna(seed) else f"seed {int(seed)}"
    from sim.plots import caption

    return caption(result.scenario.name or result.scenario.id, ", ".join(result.protocols), None, seed)


def write_figures(result: RunResult, folder: Path, fmt: str = "png", dpi: int = 150) -> list[Path]:
    """positions (protocols that move positions), offers (protocols whose rounds are offers),
    utility_space (every actor), comparison (protocol=all),
    as ``fmt`` files; returns their paths."""
    from sim import plots
    from sim.analysis import utility_space

    labels = plots.Labels.from_scenario(result.scenario)
    written = []
    parts = result.parts or (result,)
    bundle_offers = []  # the offers of the protocols whose rounds are whole-bundle offers
    for part in parts:
        protocol = part.runs["protocol"].iloc[0]
        suffix = "" if len(parts) == 1 else f"_{protocol}"
        caption = run_caption(part)
        if not part.model.protocol.makes_offers and not part.rounds.empty:  # positions move: draw them
            written.append(plots.save(plots.positions_figure(part.rounds, part.issues, labels=labels, caption=caption),
                                      folder / f"positions{suffix}", dpi, fmt))
        if part.model.protocol.makes_offers and not part.events.empty and (part.events["kind"] == "offer").any():
            bundle_offers.append(part.events[part.events["kind"] == "offer"])
            written.append(plots.save(plots.offers_figure(part.events, part.issues, labels=labels, caption=caption),
                                      folder / f"offers{suffix}", dpi, fmt))
    scenario = result.scenario
    outcomes = {row["protocol"]: np.array([row[f"outcome_{i}"] for i in scenario.issue_ids])
                for _, row in result.runs.iterrows()}
    space = utility_space(scenario, result.model.disagreement, outcomes)
    offers = pd.concat(bundle_offers, ignore_index=True) if bundle_offers else None
    written.append(plots.save(plots.utility_space_figure(space, offers, labels=labels, caption=run_caption(result)),
                              folder / "utility_space", dpi, fmt))
    if result.parts:
        written.append(plots.save(plots.comparison_figure(result.runs, result.issues, caption=run_caption(result)),
                                  folder / "comparison", dpi, fmt))
    return written


def summary(result: RunResult) -> str:
    if result.parts:
        return comparison_summary(result)
    return single_summary(result)


def comparison_summary(result: RunResult) -> str:
    """Outcome per issue by protocol, with agreement or breakdown cause per protocol."""
    table = result.issues[["issue", "status_quo", "compromise", "median", "nash"]].copy()
    lines = [f"{result.scenario.name} | seed {result.runs['seed'].iloc[0]} | protocols compared"]
    for _, row in result.runs.iterrows():
        table[row["protocol"]] = [row[f"outcome_{i}"] for i in table["issue"]]
        status = "agreement" if row["agreement"] else f"no agreement ({row['ending']}): {row['breakdown_cause']}"
        lines.append(f"  {row['protocol']:9s} {status} after {row['rounds']} rounds; "
                     f"bargaining range {row['bargaining_range']:.3f}")
    return "\n".join(lines) + "\n" + table.to_string(index=False, float_format=lambda v: f"{v:8.2f}")


def single_summary(result: RunResult) -> str:
    """A short text table: per issue status quo, reference solutions and the outcome."""
    row = result.runs.iloc[0]
    table = result.issues[["issue", "status_quo", "compromise", "median", "nash"]].copy()
    table["outcome"] = [row[f"outcome_{i}"] for i in table["issue"]]
    if not row["agreement"]:  # what was on the table (the forecast or the last offer); the outcome is the fallback
        table["on_the_table"] = [row.get(f"bundle_{i}", float("nan")) for i in table["issue"]]
    if not result.rounds.empty:
        start = result.rounds[result.rounds["round"] == 0].groupby("issue", sort=False)["median"].first()
        table.insert(4, "median_at_start", table["issue"].map(start))
    status = "agreement" if row["agreement"] else f"no agreement, {row['ending']} ({row['breakdown_cause']})"
    if row.get("ending") == "war":
        fighters = ", ".join(a.name for a in result.scenario.actors if a.outside_option.kind == "war")
        status += (f"\neach actor gets its outside option; for {fighters} that is war, so there is no outcome "
                   "per issue (NaN): docs/explanation/why-talks-fail.md")
    if row.get("red_lines_crossed"):
        status += f"\nred lines crossed by the bundle on the table: {row['red_lines_crossed'].replace(',', ', ')}"
    head = (f"{result.scenario.name} | protocol {row['protocol']} | seed {row['seed']} | "
            f"{row['rounds']} rounds | {status}")
    return head + "\n" + table.to_string(index=False, float_format=lambda v: f"{v:8.2f}")
