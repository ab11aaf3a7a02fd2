"""A finished sweep folder's figures and summary tables: :func:`plot_sweep` at the end of every sweep,
:func:`replot_sweep` for ``python -m experiments.plot`` (other heatmap axes, output, format or dpi).

Writes figures/ (heatmap of an output over two swept parameters — numbers or categories such as
protocol — outcome distributions by each categorical parameter, Sobol or Morris indices with warnings
where they are not to be trusted) and summary.csv / summary.md (outcome means with 95% intervals by
scenario and protocol or by the categorical parameters).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import pandas as pd
import pyarrow.parquet as pq
from matplotlib.figure import Figure

from sim.analysis.sensitivity import (agreement_grid, flag_morris, flag_sobol, morris_indices, seed_noise,
                                      settings_draw, sobol_indices, summary_table)
from sim.domain.config import check_figure_layout, check_figure_settings
from sim.domain.errors import ConfigError
from sim.report import plots
from sim.runs import files
from sim.runs.design import Parameter, SweepSpec, spec_from_config

#: The choices a re-plot takes (``KEY=VALUE`` on the command line).
PLOT_OPTIONS = ("plot.heatmap", "plot.output", "figures.format", "figures.dpi", "figures.width", "figures.details")


def plot_options(spec: SweepSpec, options: Mapping[str, Any], source: str = "command line") -> dict[str, Any]:
    """Check re-plot choices against the sweep: heatmap parameters, output, format, dpi.

    Returns:
        dict with heatmap (two columns or ()), output, format, dpi, width (inches or None), details.
    Raises:
        ConfigError: naming the key and what is allowed.
    """
    for key in options:
        if key not in PLOT_OPTIONS:
            raise ConfigError(source, key, f"unknown option; allowed: {', '.join(PLOT_OPTIONS)}")
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
    fmt, dpi = check_figure_settings(options.get("figures.format", "png"), options.get("figures.dpi", 150),
                                     source)
    width, details = check_figure_layout(options.get("figures.width"), options.get("figures.details", False), source)
    return {"heatmap": tuple(columns[str(h)].column for h in heatmap), "output": output, "format": fmt, "dpi": dpi,
            "width": width, "details": details}


def load_config(folder: Path) -> dict[str, Any]:
    """A results folder's resolved config.yaml as a plain dict ({} when there is none); a received folder's
    resolvers are refused, not evaluated (:func:`sim.runs.configs.load_config`)."""
    from sim.runs.configs import load_config as load

    return load(folder / "config.yaml", missing_ok=True)


def sweep_caption(spec: SweepSpec, config: Mapping[str, Any], runs: pd.DataFrame) -> str:
    """Scenario · protocol · n runs (replicates per point) · seeds: the caption of a sweep's figures."""
    keys = {p.key for p in spec.parameters}
    scenario = "scenarios swept" if "scenario" in keys else (config.get("scenario") or {}).get("name", "")
    protocol = "swept" if "protocol" in keys else (config.get("protocol") or {}).get("name", "")
    seeds = f"{spec.replicates} replicate{'s' if spec.replicates != 1 else ''} per point, seeds spawned from master seed {spec.seed}"
    return plots.caption(scenario, protocol, len(runs), seeds)


def replot_sweep(folder: str | Path, options: Mapping[str, Any] | None = None) -> list[Path]:
    """``python -m experiments.plot``: :func:`plot_sweep` on a finished sweep folder.

    Raises:
        ConfigError: the folder has no runs.parquet and design.json, or a choice is not allowed.
    """
    folder = Path(folder)
    if not (folder / "runs.parquet").exists() or not (folder / "design.json").exists():
        raise ConfigError(str(folder), "folder", "no runs.parquet and design.json; give a finished sweep folder")
    return plot_sweep(folder, options)


def plot_sweep(folder: str | Path, options: Mapping[str, Any] | None = None) -> list[Path]:
    """Write a sweep folder's figures and summary tables; returns the paths written.

    Args:
        folder: a sweep folder with runs.parquet and design.json (config.yaml, if there, names things).
        options: re-plot choices (:data:`PLOT_OPTIONS`, checked by :func:`plot_options`); the sweep's own
            heatmap and png at 150 dpi by default.

    A figure that fails is reported on stderr and skipped: the runs and the other figures stay.
    """
    folder = Path(folder)
    spec = spec_from_config(json.loads((folder / "design.json").read_text())["spec"], str(folder / "design.json"))
    chosen = plot_options(spec, options or {})
    config = load_config(folder)
    runs = _read_runs(folder, spec, chosen["output"])
    if runs.empty:
        return []
    sweep = _Plotting(folder, spec, runs, chosen, plots.Labels.from_config(config.get("scenario")),
                      sweep_caption(spec, config, runs))
    sweep.written.append(_write_summary(folder, spec, runs))
    _heatmap(sweep)
    _distributions(sweep)
    draws = settings_draw(config, spec)
    sensitivity = [line for output in [o for o in spec.outputs if o in runs] for line in _indices(sweep, output, draws)]
    if sensitivity:  # the noise share and the warnings of the indices, in the summary too
        _write_summary(folder, spec, runs, [f"## {spec.design.capitalize()} indices", "", *sensitivity])
    return sweep.written


def _read_runs(folder: Path, spec: SweepSpec, output: str) -> pd.DataFrame:
    """Only the columns the figures and tables use: memory must not grow with the number of runs."""
    available = set(pq.read_schema(folder / "runs.parquet").names)
    wanted = ["point", "scenario", "protocol", *(p.column for p in spec.parameters), *spec.outputs, output]
    columns = [c for c in dict.fromkeys(wanted) if c in available]
    return pd.read_parquet(folder / "runs.parquet", columns=columns)


def _write_summary(folder: Path, spec: SweepSpec, runs: pd.DataFrame, extra: list[str] = ()) -> Path:
    """summary.csv and summary.md: the outputs by scenario and protocol, then by the categorical
    parameters; ``extra`` lines (Markdown) end summary.md."""
    categorical = [p.column for p in spec.parameters if p.values is not None]
    by = ([c for c in ("scenario", "protocol") if c in runs]
          + [c for c in categorical if c not in ("scenario", "protocol")])
    summary = summary_table(runs, by, [o for o in spec.outputs if o in runs])
    files.write_csv(summary, folder / "summary.csv")
    table = summary.to_markdown(index=False, floatfmt=".3f") if _has_tabulate() else summary.to_string(index=False)
    files.write_text(folder / "summary.md", "\n".join([table, *([""] + list(extra) if extra else [])]) + "\n")
    return folder / "summary.csv"


@dataclass
class _Plotting:
    """What every figure of one sweep needs, and the paths written so far."""

    folder: Path
    spec: SweepSpec
    runs: pd.DataFrame
    chosen: dict[str, Any]
    labels: plots.Labels
    caption: str
    written: list[Path] = field(default_factory=list)

    @property
    def by_column(self) -> dict[str, Parameter]:
        return {p.column: p for p in self.spec.parameters}

    @property
    def order(self) -> dict[str, list]:
        """Categorical parameter column -> its values in the design's order."""
        return {p.column: list(p.values) for p in self.spec.parameters if p.values is not None}

    def attempt(self, name: str, make: Callable[[], Figure]) -> None:
        """Draw and save one figure; one that cannot be drawn is a warning, not the end of the others. One
        that cannot be written (a full disk, no permission) ends the command: its OSError names the file."""
        try:
            with plots.layout(self.chosen["width"], self.chosen["details"]):
                figure = make()
            self.written.append(plots.save(figure, self.folder / "figures" / name, self.chosen["dpi"],
                                           self.chosen["format"]))
        except OSError as error:
            if error.errno is not None:
                raise
            self._warn(name, error)
        except Exception as error:  # noqa: BLE001 - one figure must not cost the others
            self._warn(name, error)

    def _warn(self, name: str, error: Exception) -> None:
        print(f"warning: {self.folder / 'figures' / name}: not drawn ({type(error).__name__}: {error})",
              file=sys.stderr)

    def by_key(self, indices: pd.DataFrame) -> pd.DataFrame:
        """Index tables name parameters by column; figures by config key, which Labels names."""
        return indices.assign(parameter=[self.by_column[c].key for c in indices["parameter"]])


def _heatmap(sweep: _Plotting) -> None:
    """The chosen output over the two heatmap parameters, if two are chosen."""
    runs, chosen, labels, by_column = sweep.runs, sweep.chosen, sweep.labels, sweep.by_column
    if len(chosen["heatmap"]) != 2 or chosen["output"] not in runs:
        return
    x, y = chosen["heatmap"]
    output = chosen["output"]
    name = "agreement_heatmap" if output == "agreement" else f"{output}_heatmap"
    sweep.attempt(name, lambda: plots.heatmap_figure(
        agreement_grid(runs, x, y, output), x, y, labels=labels, output=output,
        x_label=labels.parameter(by_column[x].key), y_label=labels.parameter(by_column[y].key),
        categories=sweep.order, caption=sweep.caption))


def _distributions(sweep: _Plotting) -> None:
    """The outputs by the values of each categorical parameter."""
    outputs = [o for o in sweep.spec.outputs if o in sweep.runs]
    order, labels = sweep.order, sweep.labels
    for column in [p.column for p in sweep.spec.parameters if p.values is not None]:
        sweep.attempt(f"distributions_by_{column}", lambda column=column: plots.distributions_figure(
            sweep.runs, column, outputs, labels=labels,
            by_label=labels.parameter(sweep.by_column[column].key), order=order.get(column),
            caption=sweep.caption))


def _indices(sweep: _Plotting, output: str, draws: bool) -> list[str]:
    """Sobol or Morris indices of one output (a sobol or morris design) of each point's mean over its
    replicates: a table and a figure, with the share of seed noise and warnings where they are not to be
    trusted (stderr, one line each); returns the lines for the summary."""
    spec, runs, folder = sweep.spec, sweep.runs, sweep.folder
    if spec.design not in ("sobol", "morris"):
        return []
    if runs[output].astype(float).std() == 0:
        print(f"note: {output} is constant over the design; no {spec.design} indices for it", file=sys.stderr)
        return [f"- {output}: constant over the design; no indices"]
    noise = seed_noise(runs, spec, output, draws)
    if spec.design == "morris":
        indices, notes = flag_morris(morris_indices(runs, spec, output))
    else:
        indices, notes = flag_sobol(sobol_indices(runs, spec, output), runs, spec, output)
    notes = noise.notes() + notes
    files.write_csv(indices, folder / f"{spec.design}_{output}.csv")
    print(f"note: {spec.design} {output}: {noise.line()}", file=sys.stderr)
    for _, row in indices[indices["flag"] != ""].iterrows():
        key = sweep.by_column[row["parameter"]].key
        print(f"warning: {spec.design} {output}: {key}: {row['flag']}", file=sys.stderr)
    for note in notes:
        print(f"warning: {spec.design} {output}: {note}", file=sys.stderr)
    figure = plots.sobol_figure if spec.design == "sobol" else plots.morris_figure
    sweep.attempt(f"{spec.design}_{output}", lambda: figure(
        sweep.by_key(indices), output, labels=sweep.labels, caption="\n".join([sweep.caption, noise.line(), *notes])))
    return [f"- {output}: {noise.line()}", *(f"  - warning: {note}" for note in notes)]


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True
