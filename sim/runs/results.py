"""The results folder (DESIGN.md "Results layout"): claim, write atomically, manifest, read back."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

import pandas as pd

from sim.domain.config import REPO_ROOT
from sim.domain.errors import ConfigError
from sim.runs import files

if TYPE_CHECKING:  # pragma: no cover
    from sim.runs.result import RunResult

PACKAGES = ("mesa", "numpy", "pandas", "scipy", "matplotlib", "hydra-core", "omegaconf", "pyarrow")


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
    """Write JSON atomically (temp file + rename; :mod:`sim.runs.files`)."""
    files.write_json(path, data)


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write a Parquet table atomically (temp file + rename; :mod:`sim.runs.files`)."""
    files.write_parquet(frame, path)


def write_run(result: "RunResult", folder: Path, cfg: Any = None,
              figures: Callable[[Path], Any] | None = None, **manifest_extra: Any) -> Path:
    """Write a run's folder: config.yaml, manifest.json (completed last; ``manifest_extra`` added to
    it), runs/rounds/events/issues Parquet tables; ``figures(folder)``, if given, draws the figures
    before the manifest says completed (:func:`sim.report.run_report.write_run`)."""
    from omegaconf import OmegaConf

    started = time.time()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    seed = result.runs["seed"].iloc[0]
    seed = None if seed is None or pd.isna(seed) else int(seed)
    protocols = [str(p) for p in dict.fromkeys(result.runs["protocol"])]
    extra = {"scenario": result.scenario.id, "protocol": protocols[0] if len(protocols) == 1 else "all",
             "protocols": protocols, "config_hash": result.runs["config_hash"].iloc[0], **manifest_extra}
    if cfg is not None:  # the config as run, so that reproduce can tell which keys were edited since
        extra["config"] = {k: v for k, v in OmegaConf.to_container(cfg, resolve=True).items() if k != "hydra"}
    write_json(folder / "manifest.json", manifest(seed, started, False, **extra))
    if cfg is not None:
        files.write_text(folder / "config.yaml", OmegaConf.to_yaml(cfg, resolve=True))
    write_parquet(result.runs, folder / "runs.parquet")
    write_parquet(result.issues, folder / "issues.parquet")
    if not result.rounds.empty:
        write_parquet(result.rounds, folder / "rounds.parquet")
    write_parquet(result.events, folder / "events.parquet")
    if result.parts:
        write_parquet(result.runs, folder / "comparison.parquet")
    if figures:
        figures(folder)
    write_json(folder / "manifest.json", manifest(seed, started, True, **extra))
    return folder


def file_digest(path: Path) -> str:
    """sha256 of a file's bytes, or of a folder's files (names and bytes, in sorted order)."""
    import hashlib

    digest = hashlib.sha256()
    path = Path(path)
    if path.is_dir():
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            digest.update(str(file.relative_to(path)).encode() + b"\0" + file.read_bytes() + b"\0")
    else:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def copy_inputs(folder: Path, inputs: Mapping[str, str] | None) -> dict[str, dict[str, str]]:
    """Copy the user's input files (``scenario``: a YAML or CSV file or a folder of CSVs; ``observed``: the
    record) into ``folder/inputs/<group>/`` and return what the manifest records of each: the path the
    config names, the copy (relative to the folder) and its sha256. ``reproduce`` runs from the copy."""
    import shutil

    out: dict[str, dict[str, str]] = {}
    for group, original in (inputs or {}).items():
        source = Path(original)
        if not source.exists():
            continue
        target = Path(folder) / "inputs" / group / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        else:
            files.write_bytes(target, source.read_bytes())
        out[group] = {"path": str(original), "copy": str(target.relative_to(folder)), "sha256": file_digest(source)}
    return out


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
    from sim.runs.configs import load_config

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
    config = load_config(folder / "config.yaml", missing_ok=True)
    return Results(folder=folder, tables=frames, manifest=manifest, config=config)
