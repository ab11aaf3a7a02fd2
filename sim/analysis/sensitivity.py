"""Analysis of a sweep's runs table: agreement grids, summaries, Sobol and Morris indices (SALib)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import pandas as pd

from sim.analysis.stats import binomial_interval
from sim.runs.design import SweepSpec, salib_problem


def agreement_grid(runs: pd.DataFrame, x: str, y: str, output: str = "agreement") -> pd.DataFrame:
    """Mean of ``output`` and the number of runs per (x, y) cell, long format."""
    values = runs[output].astype(float)
    return (runs.assign(_value=values).groupby([y, x])["_value"].agg(["mean", "count"])
            .rename(columns={"count": "n"}).reset_index())


def summary_table(runs: pd.DataFrame, by: list[str], outputs: list[str]) -> pd.DataFrame:
    """Mean and a 95% interval of each output by group: Wilson's interval for yes/no outputs, the
    normal approximation of the mean for the others."""
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
            if group[output].dtype == bool:  # a proportion: Wilson interval, inside [0, 1] also at 0 and 1
                low, high = (float(v) for v in binomial_interval(values.sum(), len(values)))
            row[f"{output}_mean"] = mean
            row[f"{output}_low"] = low
            row[f"{output}_high"] = high
        rows.append(row)
    return pd.DataFrame(rows)


def point_means(runs: pd.DataFrame, output: str) -> pd.Series:
    """The mean of ``output`` over each design point's replicates, in point order: what Sobol and Morris
    analyse (one value per point; with seed noise, the mean of R replicates carries 1/R of its variance)."""
    return runs.sort_values("point").groupby("point")[output].apply(lambda v: v.astype(float).mean())


def settings_draw(config: Mapping[str, Any] | None, spec: SweepSpec) -> bool:
    """Whether the sweep's runs may draw random numbers, so that a run's seed may change its output: the
    protocol says so (``Protocol.may_draw``) at its configured settings or at either end of a swept
    protocol setting, or the sweep varies the perturbation (noise drawn per run).

    Args:
        config: the sweep folder's resolved config (its ``protocol`` node names the protocol and its settings).
    """
    from sim.engine.protocols.registry import PROTOCOLS, build_params

    if any(p.key == "perturbation" for p in spec.parameters):
        return True
    node = dict((config or {}).get("protocol") or {})
    name = node.pop("name", None)
    if name not in PROTOCOLS:
        return True  # not known: the seed may matter
    swept = [p for p in spec.parameters if p.key.startswith("protocol.")]
    variants = [node] + [{**node, p.key.split(".", 1)[1]: value} for p in swept
                         for value in ([p.low, p.high] if p.values is None else list(p.values))]
    try:
        return any(PROTOCOLS[name].may_draw(build_params(name, variant)) for variant in variants)
    except Exception:  # noqa: BLE001 - settings this version cannot read: assume the seed may matter
        return True


@dataclass(frozen=True)
class SeedNoise:
    """How much of an output's variance over a sweep is seed noise (:func:`seed_noise`).

    Attributes:
        replicates: runs per design point (their mean is analysed).
        draws: the settings may draw random numbers (:func:`settings_draw`).
        run_share: within-point variance over the total variance of single runs (NaN with one replicate).
        analysed_share: the share of the variance of the point means that is seed noise, within-point
            variance / R over the variance of the means (NaN with one replicate; at most 1).
        needed: replicates that would bring ``analysed_share`` to 0.2 (0 when it is there already or
            there is no signal to measure).
    """

    replicates: int
    draws: bool
    run_share: float
    analysed_share: float
    needed: int

    def notes(self) -> list[str]:
        """Warnings, one line each: noise dominates, or it cannot be measured."""
        if self.replicates == 1 and self.draws:
            return ["the protocol draws random numbers and each design point has one run: seed noise cannot "
                    "be told from the parameters' effects and inflates every total index; run "
                    "sweep.replicates=8 or more (the indices then use each point's mean)"]
        if self.replicates > 1 and self.analysed_share >= 0.5:
            more = (f"about sweep.replicates={self.needed} would bring it to 20%" if self.needed
                    else "the parameters explain no variance beyond it")
            return [f"seed noise dominates: {self.analysed_share:.0%} of the variance of the point means "
                    f"({self.run_share:.0%} of single runs') is noise, so the indices measure noise; {more}"]
        return []

    def line(self) -> str:
        """The noise share in words, for the summary."""
        if self.replicates == 1:
            return ("seed noise not measured (one run per point; the settings "
                    + ("draw random numbers)" if self.draws else "draw no random numbers)"))
        return (f"seed noise: {self.run_share:.0%} of single runs' variance, {self.analysed_share:.0%} of the "
                f"variance of the point means ({self.replicates} replicates averaged per point)")


def seed_noise(runs: pd.DataFrame, spec: SweepSpec, output: str, draws: bool = True) -> SeedNoise:
    """The share of ``output``'s variance that is seed noise: the mean over design points of the variance
    between a point's replicates (which differ only in their seeds), over the variance of all runs; and
    what is left of it in the point means the indices are computed from (1/R of it).

    Args:
        draws: the runs' settings may draw random numbers (:func:`settings_draw`); only reported.
    """
    values = runs.assign(_y=runs[output].astype(float))
    replicates = int(values.groupby("point")["_y"].size().min()) if len(values) else 0
    if replicates < 2:
        return SeedNoise(max(replicates, 1), draws, float("nan"), float("nan"), 0)
    total = float(values["_y"].var(ddof=1))
    within = float(values.groupby("point")["_y"].var(ddof=1).mean())
    means = float(point_means(values, "_y").var(ddof=1))
    if not total > 0:
        return SeedNoise(replicates, draws, 0.0, 0.0, 0)
    noise = within / replicates
    analysed = min(noise / means, 1.0) if means > 0 else 1.0
    signal = means - noise
    needed = 0 if analysed <= 0.2 or signal <= 0 else int(math.ceil(4 * within / signal))
    return SeedNoise(replicates, draws, min(within / total, 1.0), analysed, needed)


def sobol_indices(runs: pd.DataFrame, spec: SweepSpec, output: str) -> pd.DataFrame:
    """First-order and total Sobol indices with 95% confidence (SALib, Saltelli design, no 2nd order), of
    each design point's mean over its replicates (:func:`point_means`)."""
    from SALib.analyze import sobol

    ordered = point_means(runs, output)
    result = sobol.analyze(salib_problem(spec), ordered.to_numpy(), calc_second_order=False,
                           seed=spec.seed, print_to_console=False)
    return pd.DataFrame({"parameter": [p.column for p in spec.parameters], "S1": result["S1"],
                         "S1_conf": result["S1_conf"], "ST": result["ST"], "ST_conf": result["ST_conf"]})


def morris_indices(runs: pd.DataFrame, spec: SweepSpec, output: str) -> pd.DataFrame:
    """Morris elementary effects: mu*, sigma and mu*'s 95% confidence (SALib), of each design point's mean
    over its replicates (:func:`point_means`)."""
    from SALib.analyze import morris

    points = runs.sort_values("point").groupby("point")
    x = points[[p.column for p in spec.parameters]].first().to_numpy(dtype=float)
    y = point_means(runs, output).to_numpy()
    result = morris.analyze(salib_problem(spec), x, y, num_levels=4, seed=spec.seed, print_to_console=False)
    return pd.DataFrame({"parameter": [p.column for p in spec.parameters], "mu_star": result["mu_star"],
                         "sigma": result["sigma"], "mu_star_conf": result["mu_star_conf"]})


def flag_morris(indices: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Mark Morris indices whose 95% interval of mu* is wider than mu* itself (column ``flag``); the note
    says how many."""
    flags = ["interval wider than the index" if row["mu_star_conf"] > abs(row["mu_star"]) else ""
             for _, row in indices.iterrows()]
    wide = sum(bool(f) for f in flags)
    notes = [f"the intervals of {wide} of {len(flags)} indices are wider than the indices"] if wide else []
    return indices.assign(flag=flags), notes


def flag_sobol(indices: pd.DataFrame, runs: pd.DataFrame, spec: SweepSpec, output: str) -> tuple[pd.DataFrame, list[str]]:
    """Mark Sobol indices a reader should not trust, and say how many runs would be needed.

    Flags per parameter (column ``flag``): the 95% interval of S1 or ST is wider than the index
    itself; S1 < 0 beyond its interval; ST > 1 beyond its interval. Notes for the whole output: it
    barely varies (fewer than 5% of runs differ from the most common value). The needed base sample
    N' = N · (widest interval / target)², target 0.1 (Saltelli's estimators' error falls as 1/√N).

    Returns:
        (indices with a ``flag`` column, notes for the figure caption and the console)
    """
    flags = []
    for _, row in indices.iterrows():
        problems = []
        if row["S1_conf"] > abs(row["S1"]) or row["ST_conf"] > abs(row["ST"]):
            problems.append("interval wider than the index")
        if row["S1"] + row["S1_conf"] < 0:
            problems.append("S1 < 0 beyond its interval")
        if row["ST"] - row["ST_conf"] > 1:
            problems.append("ST > 1 beyond its interval")
        flags.append("; ".join(problems))
    flagged = indices.assign(flag=flags)
    notes = []
    wide = sum("interval wider" in f for f in flags)
    if wide:
        notes.append(f"the intervals of {wide} of {len(flags)} parameters are wider than their indices")
    values = runs[output].astype(float)
    common = values.round(9).value_counts(normalize=True).iloc[0] if len(values) else 1.0
    if common > 0.95:
        notes.append(f"the output barely varies: {common:.0%} of runs give the same value")
    widest = float(np.nanmax(indices[["S1_conf", "ST_conf"]].to_numpy())) if len(indices) else 0.0
    if any(flags) and widest > 0.1:
        needed = int(math.ceil(spec.samples * (widest / 0.1) ** 2))
        needed = 2 ** int(math.ceil(math.log2(needed)))  # Saltelli sampling wants a power of two
        notes.append(f"intervals up to ±{widest:.2f} with N = {spec.samples}; about N = {needed} "
                     f"({needed * (len(spec.parameters) + 2) * spec.replicates:,} runs) would bring them to ±0.1")
    return flagged, notes


def utility_space(scenario, disagreement: np.ndarray, outcomes: dict[str, np.ndarray] | None = None,
                  samples: int = 1024) -> pd.DataFrame:
    """Points of the utility space of every actor, for :func:`sim.report.plots.utility_space_figure`: a
    fixed quasi-random sample of bundles, each pair's own Pareto frontier (``pair`` = "a|b"), the
    Nash and Kalai–Smorodinsky points, the no-deal point and the given outcomes (MODEL.md §5).
    Columns: kind, label, pair, u_<actor> for every actor."""
    from sim.kernels.solutions import (kalai_smorodinsky, nash_solution, pareto_frontier, sample_bundles, weighted_sum_optima)
    from sim.kernels.utility import scenario_utilities

    ids = scenario.actor_ids
    frames = []

    def add(kind: str, label: str, bundles: np.ndarray, pair: str | None = None) -> None:
        values = scenario_utilities(scenario, np.atleast_2d(bundles))
        frame = pd.DataFrame(values.T, columns=[f"u_{a}" for a in ids])
        frame.insert(0, "pair", pair)
        frame.insert(0, "label", label)
        frame.insert(0, "kind", kind)
        frames.append(frame)

    add("sample", "", sample_bundles(scenario, samples))
    if scenario.budget_issues or scenario.n_actors > 5:
        add("frontier", "", pareto_frontier(scenario))
    else:
        grid = np.linspace(0.0, 1.0, 61)
        for i, a in enumerate(ids):
            for j in range(i + 1, len(ids)):
                lambdas = np.zeros((len(grid), scenario.n_actors))
                lambdas[:, i], lambdas[:, j] = grid + 1e-9, 1.0 - grid + 1e-9
                add("frontier", "", scenario.snap(weighted_sum_optima(scenario, lambdas)), f"{a}|{ids[j]}")
    for kind, label, point in (("nash", "Nash", nash_solution(scenario, disagreement)),
                               ("kalai_smorodinsky", "KS", kalai_smorodinsky(scenario, disagreement))):
        if point is not None:
            add(kind, label, point)
    no_deal = pd.DataFrame([np.asarray(disagreement, float)], columns=[f"u_{a}" for a in ids])
    no_deal.insert(0, "pair", None)
    no_deal.insert(0, "label", "d")
    no_deal.insert(0, "kind", "disagreement")
    frames.append(no_deal)
    for label, bundle in (outcomes or {}).items():
        add("outcome", label, bundle)
    return pd.concat(frames, ignore_index=True)
