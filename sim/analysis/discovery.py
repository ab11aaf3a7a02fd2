"""Scenario discovery: where in a sweep's parameter space does an outcome happen? (docs/how-to/discover.md)

PRIM, the patient rule induction method (Friedman & Fisher 1999), as the EMA Workbench implements it
(``ema_workbench.analysis.prim``; Bryant & Lempert 2010 for its use in scenario discovery). PRIM peels thin
slices off a box around the runs, each time the slice whose removal raises the share of runs of interest
most, and so traces a *peeling trajectory* from the whole space (coverage 1, density = base rate) to small,
pure boxes. Each box on the trajectory has

* **coverage**: the share of all runs of interest that lie inside the box,
* **density**: the share of the runs inside the box that are of interest,
* **mass**: the share of all runs inside the box,

and is written as limits on the parameters it restricts. This module chooses one box on the trajectory
(:func:`choose`), optionally looks for further boxes among the runs left outside it, and returns tidy tables.
Pure functions of a runs table: the CLI is ``experiments/discover.py``, the figures
``sim/report/plots/discovery.py``.
"""

from __future__ import annotations

import operator
import re
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from sim.domain.errors import ConfigError

#: Comparisons an outcome may use: ``bargaining_range>0``, ``outcome_enlargement<=25``.
OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    ">=": operator.ge, "<=": operator.le, "==": operator.eq, "!=": operator.ne, ">": operator.gt, "<": operator.lt,
}
_OUTCOME = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:(>=|<=|==|!=|>|<)\s*([-+0-9.eE]+))?\s*$")


@dataclass(frozen=True)
class Outcome:
    """The runs of interest: a yes/no column (``agreement``), or a numeric column against a threshold."""

    column: str
    op: str | None = None
    threshold: float | None = None

    @property
    def text(self) -> str:
        return self.column if self.op is None else f"{self.column}{self.op}{self.threshold:g}"

    @property
    def slug(self) -> str:
        """A folder name for the outcome: ``agreement``, ``bargaining_range_gt_0``."""
        if self.op is None:
            return self.column
        words = {">=": "ge", "<=": "le", "==": "eq", "!=": "ne", ">": "gt", "<": "lt"}
        return f"{self.column}_{words[self.op]}_{self.threshold:g}".replace("-", "m").replace(".", "p")


#: Numeric outcomes that mean one thing when named alone.
NAMED_OUTCOMES = {"deal_gap": Outcome("deal_gap", "<=", 1e-6)}


def parse_outcome(text: str, source: str = "command line") -> Outcome:
    """``agreement`` or ``<column><op><number>`` with op one of >=, <=, ==, !=, >, <; ``deal_gap`` alone is
    where the deal gap closes (``deal_gap<=1e-06``: some bundle meets every declared rule).

    Raises:
        ConfigError: anything else (names ``outcome`` and the allowed forms).
    """
    match = _OUTCOME.match(str(text))
    if not match:
        raise ConfigError(source, "outcome", f"{text!r}; allowed: a yes/no column (outcome=agreement) or a numeric "
                                             "column, a comparison and a number (outcome=\"bargaining_range>0\")")
    column, op, number = match.groups()
    if op is None:
        return NAMED_OUTCOMES.get(column, Outcome(column))
    try:
        threshold = float(number)
    except ValueError:
        raise ConfigError(source, "outcome", f"{number!r} in {text!r} is not a number") from None
    return Outcome(column, op, threshold)


def outcome_flags(runs: pd.DataFrame, outcome: Outcome, source: str) -> np.ndarray:
    """True for the runs of interest. A missing value (e.g. an outcome column after a war) counts as not
    of interest.

    Raises:
        ConfigError: the column is missing, is not yes/no (without a threshold) or numeric (with one), or
            the outcome is the same in every run (PRIM needs runs of both kinds).
    """
    usable = [c for c in runs if pd.api.types.is_bool_dtype(runs[c]) or pd.api.types.is_numeric_dtype(runs[c])]
    if outcome.column not in runs:
        raise ConfigError(source, outcome.column, "no such column in runs.parquet; allowed (yes/no or numeric): "
                                                  + ", ".join(usable))
    values = runs[outcome.column]
    if outcome.op is None:
        known = values.dropna()
        if not (pd.api.types.is_bool_dtype(values) or known.isin([True, False]).all()):
            raise ConfigError(source, outcome.column, f"is not yes/no; give a threshold, e.g. "
                                                      f"outcome=\"{outcome.column}>0\"")
        flags = values.fillna(False).astype(bool).to_numpy()
    else:
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            hint = f" (it is yes/no: give outcome={outcome.column})" if pd.api.types.is_bool_dtype(values) else ""
            raise ConfigError(source, outcome.column, f"is not numeric; {outcome.op} needs a number column{hint}")
        flags = OPERATORS[outcome.op](values.astype(float), outcome.threshold).fillna(False).to_numpy(dtype=bool)
    if flags.all() or not flags.any():
        raise ConfigError(source, outcome.column, f"{outcome.text} is {'true' if flags.all() else 'false'} in "
                                                  f"every one of the {len(flags)} runs; PRIM needs runs of both kinds")
    return flags


@dataclass
class Box:
    """One PRIM box: its whole peeling trajectory and the step chosen on it."""

    number: int  # 1, 2, ... (box 2 is found among the runs left outside box 1)
    trajectory: pd.DataFrame  # step, coverage, density, mass, res_dim, n, k, chosen
    chosen: int  # row of ``trajectory``
    limits: pd.DataFrame  # parameter, low, high, values, qp_low, qp_high (restricted parameters only)
    inside: np.ndarray = field(repr=False)  # positions (in the runs table) of the runs inside the box

    @property
    def stats(self) -> dict[str, float]:
        row = self.trajectory.iloc[self.chosen]
        return {k: (float(row[k]) if k in ("coverage", "density", "mass") else int(row[k]))
                for k in ("coverage", "density", "mass", "res_dim", "n", "k")}


@dataclass
class Discovery:
    """The result of :func:`discover`: the boxes, the parameters searched and the base rate."""

    outcome: Outcome
    parameters: tuple[str, ...]
    runs: int
    cases: int  # runs of interest
    boxes: list[Box]
    ranges: dict[str, tuple[float, float]]  # numeric parameter -> (min, max) over the runs
    categories: dict[str, tuple[str, ...]]  # categorical parameter -> its values

    @property
    def base_rate(self) -> float:
        return self.cases / self.runs

    def table(self) -> pd.DataFrame:
        """One row per box and restricted parameter: the limits, the box's coverage, density and mass."""
        rows = []
        for box in self.boxes:
            for _, limit in box.limits.iterrows():
                low, high = self.ranges.get(limit["parameter"], (np.nan, np.nan))
                rows.append({"box": box.number, "outcome": self.outcome.text, **box.stats,
                             **limit.to_dict(), "range_low": low, "range_high": high})
        columns = ["box", "outcome", "coverage", "density", "mass", "res_dim", "n", "k", "parameter", "low", "high",
                   "values", "range_low", "range_high", "qp_low", "qp_high"]
        return pd.DataFrame(rows, columns=columns)

    def trajectories(self) -> pd.DataFrame:
        """Every box's peeling trajectory, the chosen step marked."""
        return pd.concat([b.trajectory.assign(box=b.number) for b in self.boxes], ignore_index=True)[
            ["box", "step", "coverage", "density", "mass", "res_dim", "n", "k", "chosen"]]


def choose(trajectory: pd.DataFrame, min_coverage: float = 0.5) -> int:
    """The box on the trajectory that best balances coverage and density: the highest harmonic mean of the
    two (the F1 score, density being the box's precision and coverage its recall), among the boxes that
    cover at least ``min_coverage`` of the runs of interest (the smaller box when scores tie; the first box
    if none covers that much). Peeling on past this point buys little density with much coverage and, on
    noisy runs, with limits on parameters that do not matter."""
    coverage, density = trajectory["coverage"].to_numpy(float), trajectory["density"].to_numpy(float)
    score = np.where(coverage + density > 0, 2 * coverage * density / np.maximum(coverage + density, 1e-12), 0.0)
    score[coverage < min_coverage - 1e-12] = -1.0
    if score.max() < 0:
        return 0
    return int(np.flatnonzero(score >= score.max() - 1e-12)[-1])


def _prim_module():
    """``ema_workbench.analysis.prim``, imported quietly (the workbench warns about optional parallel
    back-ends it does not need here)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="ipyparallel not installed", category=UserWarning)
        from ema_workbench.analysis import prim

    return prim


def discover(x: pd.DataFrame, flags: np.ndarray, outcome: Outcome, *, boxes: int = 1, min_coverage: float = 0.5,
             peel_alpha: float = 0.05, paste_alpha: float = 0.05, mass_min: float = 0.05) -> Discovery:
    """Run PRIM on the parameter table ``x`` (one column per swept parameter) against ``flags``.

    Args:
        x: one row per run; numeric columns are ranges, the others categories (e.g. protocol).
        flags: True for the runs of interest (:func:`outcome_flags`).
        boxes: the most boxes to look for; box k+1 is searched among the runs outside boxes 1..k (its
            coverage is still a share of all runs of interest, its density one of the runs inside it), and
            the search stops early when no box is denser than those remaining runs' base rate.
        min_coverage: the rule of :func:`choose`.
        peel_alpha, paste_alpha, mass_min: PRIM's share peeled (pasted) per step and smallest box mass.
    """
    prim = _prim_module()
    parameters = tuple(str(c) for c in x.columns)
    # the workbench drops a column named "scenario" (its own convention); internal names avoid that
    internal = {c: f"p{i}" for i, c in enumerate(parameters)}
    frame = x.rename(columns=internal).reset_index(drop=True)
    for column in frame:
        if pd.api.types.is_bool_dtype(frame[column]) or not pd.api.types.is_numeric_dtype(frame[column]):
            frame[column] = frame[column].astype(str)
        elif pd.api.types.is_integer_dtype(frame[column]):
            frame[column] = frame[column].astype("int64")
        else:
            frame[column] = frame[column].astype("float64")
    flags = np.asarray(flags, dtype=bool)
    with warnings.catch_warnings():  # the workbench's own use of pandas API that pandas 4 drops (inplace=)
        warnings.filterwarnings("ignore", message="The inplace keyword", category=DeprecationWarning)
        engine = prim.Prim(frame, flags.astype(int), peel_alpha=peel_alpha, paste_alpha=paste_alpha,
                           mass_min=mass_min)
        found: list[Box] = []
        for number in range(1, boxes + 1):
            remaining = np.setdiff1d(np.arange(len(flags)), np.concatenate([b.inside for b in found])) \
                if found else np.arange(len(flags))
            if not flags[remaining].any() or flags[remaining].all():
                break
            box = engine.find_box()
            if box is None:
                break
            trajectory = box.peeling_trajectory[["coverage", "density", "mass", "res_dim", "n", "k"]].copy()
            trajectory.insert(0, "step", np.arange(len(trajectory)))
            # chosen on the runs still to explain; reported (coverage) as a share of all runs of interest
            step = choose(trajectory.assign(coverage=trajectory["k"] / flags[remaining].sum()), min_coverage)
            if trajectory.loc[step, "density"] <= flags[remaining].mean() + 1e-12:
                break  # nothing denser than what is left: no box worth reporting
            box.select(step)
            trajectory["chosen"] = trajectory["step"] == step
            found.append(Box(number, trajectory.reset_index(drop=True), step,
                             _limits(box, step, engine.box_init, internal), np.asarray(box.yi, dtype=int)))
    numeric = [c for c in parameters if pd.api.types.is_numeric_dtype(frame[internal[c]])]
    ranges = {c: (float(x[c].min()), float(x[c].max())) for c in numeric}
    categories = {c: tuple(sorted(map(str, x[c].unique()))) for c in parameters if c not in numeric}
    return Discovery(outcome, parameters, len(flags), int(flags.sum()), found, ranges, categories)


def _limits(box: Any, step: int, box_init: pd.DataFrame, internal: dict[str, str]) -> pd.DataFrame:
    """The restricted parameters of box ``step``: numeric low/high or the allowed categories, and the
    quasi-p-values of each limit (Bryant & Lempert 2010; NaN where that side is not restricted)."""
    from ema_workbench.analysis import scenario_discovery_util as sdutil

    by_internal = {v: k for k, v in internal.items()}
    lims = box.box_lims[step]
    restricted = sdutil._determine_restricted_dims(lims, box_init)
    rows = []
    for name in restricted:
        low, high = lims[name].iloc[0], lims[name].iloc[1]
        qp = [np.nan if q is None or q < 0 else float(q) for q in box.p_values[step].get(name, [np.nan, np.nan])]
        categorical = isinstance(low, (set, frozenset))
        rows.append({"parameter": by_internal[name],
                     "low": np.nan if categorical else float(low), "high": np.nan if categorical else float(high),
                     "values": ", ".join(sorted(map(str, low))) if categorical else "",
                     "qp_low": qp[0], "qp_high": qp[1] if len(qp) > 1 else np.nan})
    return pd.DataFrame(rows, columns=["parameter", "low", "high", "values", "qp_low", "qp_high"])


def in_box(x: pd.DataFrame, limits: pd.DataFrame) -> np.ndarray:
    """True for the rows of ``x`` inside a box given by its limits table (as :attr:`Box.limits`)."""
    inside = np.ones(len(x), dtype=bool)
    for _, limit in limits.iterrows():
        column = x[limit["parameter"]]
        if limit["values"]:
            inside &= column.astype(str).isin(limit["values"].split(", ")).to_numpy()
        else:
            inside &= ((column >= limit["low"]) & (column <= limit["high"])).to_numpy()
    return inside


def print_table(discovery: Discovery, key: Callable[[str], str] = str) -> str:
    """The boxes as readable text: per box, its coverage, density and mass, then one line per limit (a side
    the box leaves open as –; the limit's quasi-p-value, the larger of its two sides, flagged when above
    0.05: such a limit may be noise)."""
    lines = [f"PRIM on {discovery.runs:,} runs: {discovery.cases:,} with {discovery.outcome.text} "
             f"(base rate {discovery.base_rate:.3f}); parameters searched: {len(discovery.parameters)}"]
    if not discovery.boxes:
        lines.append("no box is denser than the base rate")
    for box in discovery.boxes:
        s = box.stats
        lines.append(f"box {box.number}: coverage {s['coverage']:.3f}  density {s['density']:.3f}  mass "
                     f"{s['mass']:.3f}  ({s['k']:,} of the {s['n']:,} runs inside are of interest; "
                     f"{s['res_dim']} limit{'s' if s['res_dim'] != 1 else ''}, step {box.chosen} of "
                     f"{len(box.trajectory) - 1})")
        width = max([len(key(p)) for p in box.limits["parameter"]] + [9])
        lines.append(f"  {'parameter':<{width}}  {'low':>9}  {'high':>9}  {'sweep range':>21}  qp-value")
        for _, limit in box.limits.iterrows():
            sides = [q for q in (limit["qp_low"], limit["qp_high"]) if not np.isnan(q)]
            qp = max(sides) if sides else np.nan
            if limit["values"]:
                bounds = f"{'in {' + limit['values'] + '}':>20}"
                span = f"of {{{', '.join(discovery.categories[limit['parameter']])}}}"
            else:
                low, high = discovery.ranges[limit["parameter"]]
                shown = [f"{v:>9.4g}" if not np.isnan(q) else f"{'–':>9}"
                         for v, q in ((limit["low"], limit["qp_low"]), (limit["high"], limit["qp_high"]))]
                bounds = "  ".join(shown)
                span = f"{low:.4g} .. {high:.4g}"
            flag = "  (weak: may be noise)" if qp > 0.05 else ""
            lines.append(f"  {key(limit['parameter']):<{width}}  {bounds}  {span:>21}  {qp:.1e}{flag}")
    return "\n".join(lines)


def searchable(x: pd.DataFrame, columns: Sequence[str]) -> tuple[list[str], list[str]]:
    """(parameters PRIM can use, parameters dropped because they take one value in every run)."""
    keep = [c for c in columns if x[c].nunique(dropna=False) > 1]
    return keep, [c for c in columns if c not in keep]
