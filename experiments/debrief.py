"""Write a self-contained debrief report (HTML, figures embedded) for a results folder.

    python -m experiments.debrief results/run/2026-11-27_18-41-54
    python -m experiments.debrief --class results/classroom/monday-3rd     # the whole class, pooled

What the reports hold: :mod:`sim.report.debrief`. Exit status 2 if the folder is not a results folder (or holds
no exported games).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.report.debrief import class_report, report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path, nargs="?", help="a results folder (one game or run)")
    parser.add_argument("--class", dest="class_folder", type=Path, default=None,
                        help="a class folder (make classroom CLASS=...): pool every exported game in it")
    parser.add_argument("--out", type=Path, default=None,
                        help="report file (default <folder>/report.html, or <class folder>/class-debrief.html)")
    parser.add_argument("--replicates", type=int, default=30,
                        help="runs of the model agent in a person-played seat (default 30)")
    args = parser.parse_args(argv)
    if args.replicates < 0:
        print(f"error: command line: --replicates: {args.replicates}; must be >= 0", file=sys.stderr)
        sys.exit(2)
    if (args.folder is None) == (args.class_folder is None):
        print("error: command line: give either a results folder or --class <class folder>", file=sys.stderr)
        sys.exit(2)
    if args.class_folder is not None:
        from sim.analysis.pooling import game_folders

        if not args.class_folder.is_dir() or not game_folders(args.class_folder):
            print(f"error: {args.class_folder}: --class: no exported games in this folder (each needs "
                  "runs.parquet, issues.parquet, config.yaml, manifest.json); export from the app with "
                  "make classroom CLASS=<name>", file=sys.stderr)
            sys.exit(2)
        out = args.out or args.class_folder / "class-debrief.html"
        out.write_text(class_report(args.class_folder, replicates=args.replicates), encoding="utf-8")
        print(out)
        return
    needed = [n for n in ("runs.parquet", "issues.parquet", "config.yaml") if not (args.folder / n).exists()]
    if needed:
        print(f"error: {args.folder}: not a run folder (missing {', '.join(needed)}); give a folder written by "
              "python -m experiments.run", file=sys.stderr)
        sys.exit(2)
    out = args.out or args.folder / "report.html"
    out.write_text(report(args.folder, replicates=args.replicates), encoding="utf-8")
    print(out)


if __name__ == "__main__":
    from experiments.cli import run_command

    run_command(main)
