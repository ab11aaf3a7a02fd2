"""Analysis of a sweep's runs table: agreement grids, summaries, Sobol and Morris indices (SALib)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.sweep import SweepSpec, salib_problem


def agreement_grid(runs: pd.DataFrame, x: str, y: str, output: str = "agreement") -> pd.DataFrame:
    """Mean of ``output`` and the number of runs per (x, y) cell, long format."""
    values = runs[output].astype(float)
    return (runs.assign(_value=values).groupby([y, x])["_value"].agg(["mean", "count"])
            .rename(columns={"count": "n"}).reset_index())


def summary_table(runs: pd.DataFrame, by: list[str], outputs: list[str]) -> pd.DataFrame:
    """Mean and a 95% interval (normal approximation of the mean) of each output by group."""
    rows = []
    for key, group in runs.groupby(by, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        row = dict(zip(by, key))
        row["n"] = len(group)
        for output in outputs:
            if output not in group:
                continue
            values = group[output].astype(float).dropna()
            mean = values.mean() if len(values) else np.nan
            half = 1.96 * values.std(ddof=1) / np.sqrt(len(values)) if len(values) > 1 else np.nan
            low, high = mean - half, mean + half
            if group[output].dtype == bool:  # a proportion: keep the interval inside [0, 1]
                low, high = max(0.0, low), min(1.0, high)
            row[f"{output}_mean"] = mean
            row[f"{output}_low"] = low
            row[f"{output}_high"] = high
        rows.append(row)
    return pd.DataFrame(rows)


def sobol_indices(runs: pd.DataFrame, spec: SweepSpec, output: str) -> pd.DataFrame:
    """First-order and total Sobol indices with 95% confidence (SALib, Saltelli design, no 2nd order)."""
    from SALib.analyze import sobol

    ordered = runs.sort_values("point").groupby("point")[output].apply(lambda v: v.astype(float).mean())
    result = sobol.analyze(salib_problem(spec), ordered.to_numpy(), calc_second_order=False,
                           seed=spec.seed, print_to_console=False)
    return pd.DataFrame({"parameter": [p.column for p in spec.parameters], "S1": result["S1"],
                         "S1_conf": result["S1_conf"], "ST": result["ST"], "ST_conf": result["ST_conf"]})


def morris_indices(runs: pd.DataFrame, spec: SweepSpec, output: str) -> pd.DataFrame:
    """Morris elementary effects: mu*, sigma and mu*'s 95% confidence (SALib)."""
    from SALib.analyze import morris

    points = runs.sort_values("point").groupby("point")
    x = points[[p.column for p in spec.parameters]].first().to_numpy(dtype=float)
    y = points[output].apply(lambda v: v.astype(float).mean()).to_numpy()
    result = morris.analyze(salib_problem(spec), x, y, num_levels=4, seed=spec.seed, print_to_console=False)
    return pd.DataFrame({"parameter": [p.column for p in spec.parameters], "mu_star": result["mu_star"],
                         "sigma": result["sigma"], "mu_star_conf": result["mu_star_conf"]})
