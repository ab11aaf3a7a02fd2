"""The mechanism table of docs/explanation/why-talks-fail.md, from a finished `sweep=mechanisms` folder.

    python -m experiments.sweep sweep=mechanisms sweep.workers=2 sweep.out=results/sweeps/mechanisms
    python -m experiments.mechanisms results/sweeps/mechanisms

Prints, per setting (no mechanism, each alone, all four): runs, agreement rate, the most frequent cause of
breakdown and the mean outcome of the agreements per issue, as a Markdown table.
"""

from __future__ import annotations

import argparse
import sys

from sim.domain.errors import ConfigError
from sim.report.mechanisms import mechanisms_markdown


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.mechanisms", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", help="a finished sweep=mechanisms folder")
    args = parser.parse_args(argv)
    try:
        print(mechanisms_markdown(args.folder))
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    from experiments.cli import run_command

    run_command(lambda: sys.exit(main()))
