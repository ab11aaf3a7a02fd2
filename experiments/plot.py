"""Plot a finished sweep folder again, with other choices:

    python -m experiments.plot FOLDER [plot.heatmap=[KEY,KEY]] [plot.output=OUTPUT]
                                      [figures.format=png|pdf|svg] [figures.dpi=INT]

Writes figures/ (heatmap of an output over two swept parameters — numbers or categories such as
protocol — outcome distributions by each categorical parameter, Sobol or Morris indices with
warnings where they are not to be trusted) and summary.csv / summary.md (outcome means with 95%
intervals by scenario and protocol or by the categorical parameters). Also run at the end of every
sweep. KEY is a swept parameter (its config key or its column name). Bad input: one line, exit 2.

Examples:
    python -m experiments.plot results/sweeps/rr
    python -m experiments.plot results/sweeps/rr plot.heatmap=[scenario.actors.russia.outside_option.cost,scenario.actors.russia.outside_option.optimism]
    python -m experiments.plot results/sweeps/protocols plot.heatmap=[protocol,scenario] figures.format=pdf
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Mapping

import pandas as pd
import pyarrow.parquet as pq

from sim.report import plots
from sim.analysis.sensitivity import agreement_grid, flag_sobol, morris_indices, sobol_indices, summary_table
from sim.domain.config import check_figure_settings
from sim.domain.errors import ConfigError
from sim.runs.design import Parameter, SweepSpec, spec_from_config

OPTIONS = ("plot.heatmap", "plot.output", "figures.format", "figures.dpi")


def plot_options(spec: SweepSpec, options: Mapping[str, Any], source: str = "command line") -> dict[str, Any]:
    """Check re-plot choices against the sweep: heatmap parameters, output, format, dpi.

    Returns:
        dict with heatmap (two columns or ()), output, format, dpi.
    Raises:
        ConfigError: naming the key and what is allowed.
    """
    for key in options:
        if key not in OPTIONS:
            raise ConfigError(source, key, f"unknown option; allowed: {', '.join(OPTIONS)}")
    columns = {p.column: p for p in spec.parameters} | {p.key: p for p in spec.parameters}
    heatmap = options.get("plot.heatmap", list(spec.heatmap))
    if isinstance(heatmap, str) or heatmap is None or len(heatmap) not in (0, 2):
        raise ConfigError(source, "plot.heatmap", f"{heatmap!r}; give two swept parameters, e.g. "
                                                  f"plot.heatmap=[{spec.parameters[0].key},...]")
    for name in heatmap:
        if str(name) not in columns:
            raise ConfigError(source, "plot.heatmap", f"{name!r} is not a swept parameter; allowed: "
                                                      f"{', '.join(p.key for p in spec.parameters)}")
    if len(heatmap) == 2 and columns[str(heatmap[0])].column == columns[str(heatmap[1])].column:
        raise ConfigError(source, "plot.heatmap", "give two different parameters")
    output = str(options.get("plot.output", "agreement"))
    if output != "agreement" and output not in spec.outputs:
        raise ConfigError(source, "plot.output", f"{output!r}; allowed: agreement, {', '.join(spec.outputs)}")
    fmt, dpi = check_figure_settings(options.get("figures.format", "png"), options.get("figures.dpi", 150), source)
    return {"heatmap": tuple(columns[str(h)].column for h in heatmap), "output": output, "format": fmt, "dpi": dpi}


def _load_config(folder: Path) -> dict[str, Any]:
    from omegaconf import OmegaConf

    path = folder / "config.yaml"
    return OmegaConf.to_container(OmegaConf.load(path), resolve=True) if path.exists() else {}


def sweep_caption(spec: SweepSpec, config: Mapping[str, Any], runs: pd.DataFrame) -> str:
    """Scenario · protocol · n runs (replicates per point) · seeds: the caption of a sweep's figures."""
    keys = {p.key for p in spec.parameters}
    scenario = "scenarios swept" if "scenario" in keys else (config.get("scenario") or {}).get("name", "")
    protocol = "swept" if "protocol" in keys else (config.get("protocol") or {}).get("name", "")
    seeds = f"{spec.replicates} replicate{'s' if spec.replicates != 1 else ''} per point, seeds spawned from master seed {spec.seed}"
    return plots.caption(scenario, protocol, len(runs), seeds)


def plot_folder(folder: str | Path, options: Mapping[str, Any] | None = None) -> list[Path]:
    """Write a sweep folder's figures and summary tables; returns the paths written.

    A figure that fails is reported on stderr and skipped: the runs and the other figures stay.
    """
    folder = Path(folder)
    spec = spec_from_config(json.loads((folder / "design.json").read_text())["spec"], str(folder / "design.json"))
    chosen = plot_options(spec, options or {})
    config = _load_config(folder)
    labels = plots.Labels.from_config(config.get("scenario"))
    by_column = {p.column: p for p in spec.parameters}
    # Only the columns the figures and tables use: memory must not grow with the number of runs.
    available = set(pq.read_schema(folder / "runs.parquet").names)
    wanted = ["point", "scenario", "protocol", *by_column, *spec.outputs, chosen["output"]]
    runs = pd.read_parquet(folder / "runs.parquet", columns=[c for c in dict.fromkeys(wanted) if c in available])
    written: list[Path] = []
    if runs.empty:
        return written
    figures, fmt, dpi = folder / "figures", chosen["format"], chosen["dpi"]
    caption = sweep_caption(spec, config, runs)
    outputs = [o for o in spec.outputs if o in runs]
    categorical = [p.column for p in spec.parameters if p.values is not None]
    order = {p.column: list(p.values) for p in spec.parameters if p.values is not None}

    by = [c for c in ("scenario", "protocol") if c in runs] + [c for c in categorical if c not in ("scenario", "protocol")]
    summary = summary_table(runs, by, outputs)
    summary.to_csv(folder / "summary.csv", index=False)
    (folder / "summary.md").write_text(summary.to_markdown(index=False, floatfmt=".3f")
                                       if _has_tabulate() else summary.to_string(index=False))
    written.append(folder / "summary.csv")

    def by_key(indices: pd.DataFrame) -> pd.DataFrame:  # columns -> config keys, which Labels names
        return indices.assign(parameter=[by_column[c].key for c in indices["parameter"]])

    def attempt(name: str, make) -> None:
        try:
            written.append(plots.save(make(), figures / name, dpi, fmt))
        except Exception as error:  # noqa: BLE001 - one figure must not cost the others
            print(f"warning: {folder / 'figures' / name}: not drawn ({type(error).__name__}: {error})", file=sys.stderr)

    if len(chosen["heatmap"]) == 2 and chosen["output"] in runs:
        x, y = chosen["heatmap"]
        output = chosen["output"]
        name = "agreement_heatmap" if output == "agreement" else f"{output}_heatmap"
        attempt(name, lambda: plots.heatmap_figure(
            agreement_grid(runs, x, y, output), x, y, labels=labels, output=output,
            x_label=labels.parameter(by_column[x].key), y_label=labels.parameter(by_column[y].key),
            categories=order, caption=caption))
    for column in categorical:
        attempt(f"distributions_by_{column}", lambda column=column: plots.distributions_figure(
            runs, column, outputs, labels=labels, by_label=labels.parameter(by_column[column].key),
            order=order.get(column), caption=caption))
    for output in outputs:
        if spec.design not in ("sobol", "morris"):
            continue
        if runs[output].astype(float).std() == 0:
            print(f"note: {output} is constant over the design; no {spec.design} indices for it", file=sys.stderr)
            continue
        if spec.design == "sobol":
            indices, notes = flag_sobol(sobol_indices(runs, spec, output), runs, spec, output)
            indices.to_csv(folder / f"sobol_{output}.csv", index=False)
            for _, row in indices[indices["flag"] != ""].iterrows():
                print(f"warning: sobol {output}: {by_column[row['parameter']].key}: {row['flag']}", file=sys.stderr)
            for note in notes:
                print(f"warning: sobol {output}: {note}", file=sys.stderr)
            attempt(f"sobol_{output}", lambda indices=indices, output=output, notes=notes: plots.sobol_figure(
                by_key(indices), output, labels=labels, caption="\n".join([caption, *notes])))
        else:
            indices = morris_indices(runs, spec, output)
            indices.to_csv(folder / f"morris_{output}.csv", index=False)
            attempt(f"morris_{output}", lambda indices=indices, output=output: plots.morris_figure(
                by_key(indices), output, labels=labels, caption=caption))
    return written


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True


def parse(argv: list[str]) -> tuple[Path, dict[str, Any]]:
    """FOLDER and KEY=VALUE options."""
    from experiments.cli import folder_and_options

    return folder_and_options(argv, __doc__, None, ())


def main(argv: list[str] | None = None) -> None:
    try:
        folder, options = parse(sys.argv[1:] if argv is None else argv)
        if not (folder / "runs.parquet").exists() or not (folder / "design.json").exists():
            raise ConfigError(str(folder), "folder", "no runs.parquet and design.json; give a finished sweep folder")
        for path in plot_folder(folder, options):
            print(path)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    from experiments.cli import run_command

    run_command(main)
