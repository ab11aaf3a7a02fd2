"""Build the figure gallery (docs/gallery.md, docs/figures/gallery/) from the shipped configs.

    python -m experiments.gallery            # rebuild the page and its figures in docs/
    python -m experiments.gallery --out DIR  # somewhere else (the test does this and compares)

Every figure is made by the command printed under it, as a reader would type it, so the gallery
shows what the shipped scenarios and sweeps produce and how to get each picture.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.domain.config import REPO_ROOT
from sim.report.gallery import write_gallery


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs", help="folder for gallery.md and figures/")
    args = parser.parse_args(argv)
    print(write_gallery(args.out))


if __name__ == "__main__":
    from experiments.cli import run_command

    run_command(main)
