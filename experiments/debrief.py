"""Write a self-contained debrief report (HTML, figures embedded) for a results folder.

    python -m experiments.debrief results/run/2026-11-27_18-41-54
    python -m experiments.debrief --class results/classroom/monday-3rd     # the whole class, pooled
    python -m experiments.debrief --class results/classroom/monday-3rd level=school   # for 16-year-olds

What the reports hold: :mod:`sim.report.debrief`. Exit status 2 if the folder is not a results folder (or holds
no exported games).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.domain.errors import ConfigError
from sim.report.debrief import write_debrief


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path, nargs="?", help="a results folder (one game or run)")
    parser.add_argument("--class", dest="class_folder", type=Path, default=None,
                        help="a class folder (make classroom CLASS=...): pool every exported game in it")
    parser.add_argument("--out", type=Path, default=None,
                        help="report file (default <folder>/report.html, or <class folder>/class-debrief.html)")
    parser.add_argument("--replicates", type=int, default=None,
                        help="model agents' runs: in a person-played seat (default 30), or for --class per "
                             "distinct game setting (default: the runs the exports saved)")
    parser.add_argument("--all-games", action="store_true",
                        help="--class: pool watch-only games and games with changed actors too")
    parser.add_argument("--level", default="university",
                        help="reading level: university (default) or school (short sentences, names, no codes); "
                             "level=school works too")
    argv = [f"--level={a[6:]}" if a.startswith("level=") else a for a in (sys.argv[1:] if argv is None else argv)]
    args = parser.parse_args(argv)
    try:
        print(write_debrief(args.folder, args.class_folder, args.out, args.replicates, args.all_games,
                            args.level))
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    from experiments.cli import run_command

    run_command(main)
