"""The record's test targets for jan2022: which follow from declared inputs and which emerge from bargaining
(docs/explanation/why-talks-fail.md, "Which targets the model reproduces by itself").

    python -m experiments.targets             # 50 seeds per condition (the docs' table)
    python -m experiments.targets --seeds 20

Runs every condition of :mod:`sim.analysis.targets` (jan2022 with and without the declared rules that would
force each claim; offers with recognition order and belief noise 0.1, 12 rounds) and prints, per claim, how
often it holds with those rules and without them, and the verdict, as a Markdown table.
"""

from __future__ import annotations

import argparse
import sys

from sim.analysis.targets import SEEDS, measure, targets_markdown


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.targets", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=SEEDS, help=f"seeded runs per condition (default {SEEDS})")
    args = parser.parse_args(argv)
    if args.seeds < 1:
        print("error: --seeds: give a whole number >= 1", file=sys.stderr)
        return 2
    print(targets_markdown(measure(args.seeds), args.seeds))
    return 0


if __name__ == "__main__":
    from experiments.cli import run_command

    run_command(lambda: sys.exit(main()))
