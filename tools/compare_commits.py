"""Are two commits' results bitwise identical? Every shipped scenario under every protocol and every shipped sweep.

    .venv/bin/python tools/compare_commits.py BASE [HEAD] [--quick] [--keep DIR]

For each commit: a detached git worktree, then through the command line (the one interface both
commits share) ``experiments.run scenario=<s> protocol=<p> seed=3`` for every scenario under
``configs/scenario/`` and every protocol under ``configs/protocol/`` (rows, rounds, events, issues
tables), and ``experiments.sweep sweep=<name>`` for every file under ``configs/sweep/`` (its
``runs.parquet``, ``design.parquet`` and ``failures.parquet``). A run the command refuses (exit 2, a
protocol that cannot run a scenario) is compared by its message. Tables are compared cell by cell
(``check_exact``, dtypes included); the timing columns that only say how long a run took are left out.

With ``--keep DIR`` a commit's results are kept and reused by the next comparison with that commit.

Prints one line per case (``identical`` or what differs) and exits 1 if any case differs. ``--quick``
runs the sweeps with at most 2 replicates (the memory sweep always runs 200).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parent.parent
PYTHON = REPO / ".venv" / "bin" / "python"
#: Columns that measure wall-clock time, not results.
TIMING = ("elapsed", "seconds", "started", "finished", "wall_time")
#: Sweep overrides that keep a full sweep affordable without changing what any run computes.
SWEEP_OVERRIDES = {"memory": ["sweep.replicates=200"]}
#: Content hashes of the config and scenario text: they change when any text in them does (a teacher's note
#: included), results or not.
HASHES = ("config_hash", "spec_hash")
CONFIG_ONLY = "results identical; only the content hashes differ (the config's text changed)"
RUN_TABLES = ("runs", "rounds", "events", "issues", "comparison")
SWEEP_TABLES = ("runs", "design", "failures")


def names(worktree: Path, group: str) -> list[str]:
    root = worktree / "configs" / group
    return sorted(str(p.relative_to(root).with_suffix("")) for p in root.rglob("*.yaml"))


def cases(worktree: Path, quick: bool) -> list[tuple[str, list[str], str]]:
    """(case name, command arguments, kind) for every scenario x protocol and every sweep."""
    out = []
    protocols = names(worktree, "protocol")
    for scenario in names(worktree, "scenario"):
        extra = ["scenario.path=tests/data/ExampleActors.csv"] if scenario == "from_csv" else []
        for protocol in protocols:
            out.append((f"run {scenario} x {protocol}",
                        ["experiments.run", f"scenario={scenario}", f"protocol={protocol}", "seed=3",
                         "record.figures=false", *extra], "run"))
    for sweep in names(worktree, "sweep"):
        extra = list(SWEEP_OVERRIDES.get(sweep, []))
        if quick and sweep not in SWEEP_OVERRIDES:
            extra.append("sweep.replicates=2")
        out.append((f"sweep {sweep}", ["experiments.sweep", f"sweep={sweep}", "sweep.workers=1", *extra], "sweep"))
    return out


def execute(worktree: Path, out: Path, case: tuple[str, list[str], str]) -> tuple[str, Path, str]:
    """Run one case in ``worktree``; its results go to ``out/<case>``; returns (case, folder, message)."""
    name, args, kind = case
    folder = out / name.replace(" ", "_").replace("/", "-")
    where = [f"hydra.run.dir={folder}"] if kind == "run" else [f"sweep.out={folder}"]
    proc = subprocess.run([str(PYTHON), "-m", *args, *where], cwd=worktree, capture_output=True, text=True,
                          env={"PYTHONPATH": str(worktree), "OPENBLAS_NUM_THREADS": "1", "PATH": "/usr/bin:/bin",
                               "HOME": str(Path.home()), "MPLBACKEND": "Agg"})
    message = "" if proc.returncode == 0 else f"exit {proc.returncode}: {proc.stderr.strip().splitlines()[-1:]}"
    return name, folder, message.replace(str(worktree), "<tree>")


def collect(commit: str, keep: Path, quick: bool, jobs: int) -> dict[str, tuple[Path, str]]:
    """Check out ``commit`` in a worktree and run every case; returns case -> (folder, message)."""
    sha = subprocess.run(["git", "rev-parse", commit], cwd=REPO, capture_output=True, text=True,
                         check=True).stdout.strip()
    worktree = keep / f"tree-{sha[:12]}"
    if not worktree.exists():
        subprocess.run(["git", "worktree", "add", "--detach", "-f", str(worktree), sha], cwd=REPO, check=True,
                       capture_output=True)
    out = keep / f"results-{sha[:12]}{'-quick' if quick else ''}"
    record = out / "cases.json"
    if record.exists():  # this commit's results are already here (--keep): a commit's results never change
        return {name: (Path(folder), message) for name, (folder, message) in json.loads(record.read_text()).items()}
    out.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(jobs) as pool:
        done = list(pool.map(lambda c: execute(worktree, out, c), cases(worktree, quick)))
    record.write_text(json.dumps({name: (str(folder), message) for name, folder, message in done}, indent=1))
    return {name: (folder, message) for name, folder, message in done}


def table_diff(a: Path, b: Path, tables: tuple[str, ...]) -> str:
    """'' when every table present in either folder is identical, else what differs first."""
    for table in tables:
        pa, pb = a / f"{table}.parquet", b / f"{table}.parquet"
        if pa.exists() != pb.exists():
            return f"{table}.parquet only in {'base' if pa.exists() else 'head'}"
        if not pa.exists():
            continue
        fa, fb = pd.read_parquet(pa), pd.read_parquet(pb)
        drop = [c for c in fa.columns if c in TIMING]
        try:
            pd.testing.assert_frame_equal(fa.drop(columns=drop), fb.drop(columns=drop, errors="ignore"),
                                          check_exact=True)
        except AssertionError as error:
            hashes = [c for c in HASHES if c in fa.columns]
            try:  # the same results under another config text (a comment-like note edited) say so apart
                pd.testing.assert_frame_equal(fa.drop(columns=drop + hashes),
                                              fb.drop(columns=drop + hashes, errors="ignore"), check_exact=True)
            except AssertionError:
                return f"{table}.parquet: {' '.join(str(error).split())[:300]}"
            return f"{CONFIG_ONLY} ({table}.parquet)"
    return ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base")
    parser.add_argument("head", nargs="?", default="HEAD")
    parser.add_argument("--quick", action="store_true", help="sweeps with at most 2 replicates")
    parser.add_argument("--keep", type=Path, help="keep worktrees and results here (default: a temporary folder)")
    parser.add_argument("--jobs", type=int, default=2, help="commands run at once (default 2)")
    args = parser.parse_args(argv)
    keep = args.keep or Path(tempfile.mkdtemp(prefix="compare-"))
    keep.mkdir(parents=True, exist_ok=True)
    base = collect(args.base, keep, args.quick, args.jobs)
    head = collect(args.head, keep, args.quick, args.jobs)
    differ = texts = 0
    for name in sorted(set(base) | set(head)):
        if name not in base or name not in head:
            print(f"{name}: only in {'base' if name in base else 'head'}")
            differ += 1
            continue
        (fa, ma), (fb, mb) = base[name], head[name]
        if ma or mb:
            verdict = "identical (refused alike)" if ma == mb else f"DIFFERS: base {ma or 'ran'} | head {mb or 'ran'}"
        else:
            diff = table_diff(fa, fb, SWEEP_TABLES if name.startswith("sweep") else RUN_TABLES)
            verdict = "identical" if not diff else diff if diff.startswith(CONFIG_ONLY) else f"DIFFERS: {diff}"
        differ += verdict.startswith("DIFFERS")
        texts += verdict.startswith(CONFIG_ONLY)
        print(f"{name}: {verdict}")
    print(f"\n{len(set(base) | set(head))} cases, {differ} differ, {texts} with identical results under a changed "
          f"config text ({args.base} vs {args.head}; folders in {keep})")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
