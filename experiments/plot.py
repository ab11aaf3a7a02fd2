"""Plot a sweep folder: python -m experiments.plot <folder>

Writes figures/ (agreement heatmap, outcome distributions, Sobol or Morris indices) and
summary.csv / summary.md (outcome means with 95% intervals by scenario and protocol or by the
categorical parameters). Also run at the end of every sweep.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from sim import plots
from sim.analysis import agreement_grid, morris_indices, sobol_indices, summary_table
from sim.sweep import spec_from_config


def plot_folder(folder: str | Path) -> list[Path]:
    folder = Path(folder)
    spec = spec_from_config(json.loads((folder / "design.json").read_text())["spec"], str(folder / "design.json"))
    # Only the columns the figures and tables use: memory must not grow with the number of runs.
    available = set(pq.read_schema(folder / "runs.parquet").names)
    wanted = ["point", "scenario", "protocol", *[p.column for p in spec.parameters], *spec.outputs]
    runs = pd.read_parquet(folder / "runs.parquet", columns=[c for c in dict.fromkeys(wanted) if c in available])
    written: list[Path] = []
    if runs.empty:
        return written
    figures = folder / "figures"
    outputs = [o for o in spec.outputs if o in runs]
    if len(spec.heatmap) == 2 and "agreement" in runs:
        x, y = spec.heatmap
        written.append(plots.save(plots.heatmap_figure(agreement_grid(runs, x, y), x, y),
                                  figures / "agreement_heatmap.png"))
    categorical = [p.column for p in spec.parameters if p.values is not None]
    for column in categorical:
        written.append(plots.save(plots.distributions_figure(runs, column, outputs),
                                  figures / f"distributions_by_{column}.png"))
    for output in outputs:
        if spec.design in ("sobol", "morris") and runs[output].astype(float).std() == 0:
            print(f"note: {output} is constant over the design; no {spec.design} indices for it", file=sys.stderr)
            continue
        if spec.design == "sobol":
            indices = sobol_indices(runs, spec, output)
            indices.to_csv(folder / f"sobol_{output}.csv", index=False)
            written.append(plots.save(plots.sobol_figure(indices, output), figures / f"sobol_{output}.png"))
        elif spec.design == "morris":
            indices = morris_indices(runs, spec, output)
            indices.to_csv(folder / f"morris_{output}.csv", index=False)
            written.append(plots.save(plots.morris_figure(indices, output), figures / f"morris_{output}.png"))
    by = [c for c in ("scenario", "protocol") if c in runs] + [c for c in categorical if c not in ("scenario", "protocol")]
    summary = summary_table(runs, by, outputs)
    summary.to_csv(folder / "summary.csv", index=False)
    (folder / "summary.md").write_text(summary.to_markdown(index=False, floatfmt=".3f")
                                       if _has_tabulate() else summary.to_string(index=False))
    written.append(folder / "summary.csv")
    return written


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path)
    args = parser.parse_args(argv)
    if not (args.folder / "runs.parquet").exists():
        print(f"error: {args.folder}: no runs.parquet; is this a finished sweep folder?", file=sys.stderr)
        sys.exit(2)
    for path in plot_folder(args.folder):
        print(path)


if __name__ == "__main__":
    main()
