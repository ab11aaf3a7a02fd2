"""Scoring predictions against observed outcomes (the DEU benchmark, docs/explanation/validation.md).

Errors are absolute differences on the 0-100 scale, one per model and issue (a model with replicates is
scored on its mean prediction). Per model: n issues, mean absolute error (MAE), median absolute error,
share of issues within 10 points, and a paired bootstrap 95 % interval of its MAE minus the baseline's
(the compromise), resampling *proposals* with replacement (issues of one proposal are not independent)
over the issues both models predict. A tuned model is scored out of fold only: its parameter is chosen
on the other folds' proposals (:func:`cross_validate`), folds seeded and recorded (:func:`proposal_folds`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

WITHIN = 10.0  # points: "within 10"
BASELINE = "compromise"


def issue_errors(predictions: pd.DataFrame) -> pd.DataFrame:
    """One row per (model, issue): the mean prediction over replicates, the observed outcome, the error,
    and the issue's proposal, procedure and rules. Rows without an outcome or a prediction are dropped."""
    keys = ["model", "family", "proposal", "issue", "procedure", "rule", "proposal_rule", "regime"]
    keys += ["parameter"] if "parameter" in predictions else []  # candidates of a tuned model: one row each
    frame = predictions.dropna(subset=["outcome", "predicted"])
    table = frame.groupby(keys, as_index=False, sort=False, dropna=False).agg(predicted=("predicted", "mean"),
                                                                 outcome=("outcome", "first"),
                                                                 replicates=("predicted", "size"))
    table["error"] = (table["predicted"] - table["outcome"]).abs()
    return table


def proposal_folds(proposals: list[str], k: int, seed: int) -> dict[str, int]:
    """Proposal -> fold (0..k-1): a seeded random permutation dealt round-robin, so folds differ in size
    by at most one proposal and no proposal is ever split."""
    order = np.random.default_rng(seed).permutation(len(proposals))
    return {proposals[i]: int(position % k) for position, i in enumerate(order)}


def cross_validate(candidates: pd.DataFrame, folds: dict[str, int]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Out-of-fold predictions of a tuned model: for each fold, the parameter with the least MAE on the
    other folds' issues, applied to this fold's issues.

    Args:
        candidates: issue_errors rows of one model with a ``parameter`` column (one row per parameter and
            issue).
        folds: :func:`proposal_folds`.

    Returns:
        (out-of-fold rows, one per issue; the choice per fold: fold, parameter, training MAE, proposals).
    """
    frame = candidates.assign(fold=candidates["proposal"].map(folds))
    out, chosen = [], []
    for fold in sorted(set(folds.values())):
        train = frame[frame["fold"] != fold]
        mae = train.groupby("parameter")["error"].mean()
        best = float(mae.idxmin())
        test = frame[(frame["fold"] == fold) & (frame["parameter"] == best)]
        out.append(test)
        chosen.append({"fold": fold, "parameter": best, "training_mae": float(mae.min()),
                       "proposals": int(sum(1 for f in folds.values() if f == fold)),
                       "test_issues": int(len(test))})
    return pd.concat(out, ignore_index=True).drop(columns=["fold"]), pd.DataFrame(chosen)


def paired_bootstrap(errors: pd.DataFrame, model: str, baseline: str = BASELINE, resamples: int = 2000,
                     seed: int = 0) -> tuple[float, float, float, int]:
    """(MAE difference, low, high, issues): the model's MAE minus the baseline's on the issues both
    predict, and its 95 % percentile interval over ``resamples`` resamples of proposals."""
    mine = errors[errors["model"] == model].set_index("issue")
    base = errors[errors["model"] == baseline].set_index("issue")
    common = mine.index.intersection(base.index)
    if len(common) == 0:
        return np.nan, np.nan, np.nan, 0
    difference = mine.loc[common, "error"] - base.loc[common, "error"]
    proposals = mine.loc[common, "proposal"]
    grouped = pd.DataFrame({"proposal": proposals.values, "d": difference.values}).groupby("proposal", sort=True)
    sums, counts = grouped["d"].sum().to_numpy(), grouped["d"].size().to_numpy()
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(len(sums), np.full(len(sums), 1.0 / len(sums)), size=resamples)  # (B, P)
    totals, sizes = draws @ sums, draws @ counts
    means = totals / np.maximum(sizes, 1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(difference.mean()), float(low), float(high), int(len(common))


def score_table(errors: pd.DataFrame, resamples: int = 2000, seed: int = 0, baseline: str = BASELINE,
                order: list[str] | None = None) -> pd.DataFrame:
    """One row per model: n, proposals, mae, median, within10, and the paired bootstrap interval of
    mae - baseline mae (diff, low, high) on the issues both predict."""
    rows = []
    models = order or list(dict.fromkeys(errors["model"]))
    for model in models:
        own = errors[errors["model"] == model]
        if own.empty:
            continue
        diff, low, high, common = paired_bootstrap(errors, model, baseline, resamples, seed)
        rows.append({"model": model, "n": int(len(own)), "proposals": int(own["proposal"].nunique()),
                     "mae": float(own["error"].mean()), "median": float(own["error"].median()),
                     "within10": float((own["error"] <= WITHIN).mean()),
                     "diff": diff, "low": low, "high": high, "paired_n": common})
    return pd.DataFrame(rows)


def split_table(errors: pd.DataFrame, by: str, resamples: int = 2000, seed: int = 0,
                order: list[str] | None = None) -> pd.DataFrame:
    """:func:`score_table` within each value of ``by`` (procedure, rule), the value in the first column."""
    parts = []
    for value, group in errors.groupby(by, sort=True):
        table = score_table(group, resamples, seed, order=order)
        table.insert(0, by, value)
        parts.append(table)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def format_table(table: pd.DataFrame) -> str:
    """The printed (and documented) form of a score table: fixed decimals, one line per row."""
    text = table.copy()
    if {"model", "diff", "low", "high"} <= set(text.columns):  # the baseline's difference to itself is no result
        text.loc[text["model"] == BASELINE, ["diff", "low", "high"]] = np.nan
    for column in ("mae", "median", "diff", "low", "high"):
        if column in text:
            text[column] = text[column].map(lambda v: "" if pd.isna(v) else f"{v:.1f}")
    if "within10" in text:
        text["within10"] = text["within10"].map(lambda v: f"{v:.2f}")
    if {"low", "high"} <= set(text.columns):
        text["interval"] = [("" if not lo else f"[{lo}, {hi}]") for lo, hi in zip(text["low"], text["high"])]
        text = text.drop(columns=["low", "high"])
    return text.to_string(index=False)
