"""Scoring of the DEU benchmark against hand-computed values, and cross-validation folds that never split a
proposal (sim.analysis.validation)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.analysis.validation import cross_validate, issue_errors, paired_bootstrap, proposal_folds, score_table


def errors_frame() -> pd.DataFrame:
    """Three issues in two proposals (A: A1, A2; B: B1), observed 50 each; model m misses by 2, 8 and 20,
    the compromise by 4, 4 and 10."""
    rows = []
    for model, misses in (("compromise", (4, -4, 10)), ("m", (2, 8, -20))):
        for (proposal, issue), miss in zip((("A", "A1"), ("A", "A2"), ("B", "B1")), misses):
            rows.append({"model": model, "family": "x", "proposal": proposal, "issue": issue, "procedure": "COD",
                         "rule": "qmv", "proposal_rule": "qmv", "regime": "nice", "predicted": 50.0 + miss,
                         "outcome": 50.0, "replicate": 0})
    return issue_errors(pd.DataFrame(rows))


def test_mae_median_and_within_ten_by_hand():
    table = score_table(errors_frame(), resamples=4000, seed=1).set_index("model")
    assert table.loc["m", "mae"] == pytest.approx(10.0)  # (2 + 8 + 20) / 3
    assert table.loc["m", "median"] == pytest.approx(8.0)
    assert table.loc["m", "within10"] == pytest.approx(2 / 3)
    assert table.loc["compromise", "mae"] == pytest.approx(6.0)
    assert table.loc["m", "diff"] == pytest.approx(4.0)
    assert table.loc["compromise", "diff"] == pytest.approx(0.0)


def test_the_bootstrap_resamples_proposals_not_issues():
    # Per proposal the differences are A: (2-4) + (8-4) = 2 over 2 issues, B: 20-10 = 10 over 1 issue.
    # Resampling two proposals gives AA = 1, AB = 12/3 = 4, BB = 10 (probabilities 1/4, 1/2, 1/4),
    # so the 95 % interval is [1, 10]; resampling issues would give other values (e.g. A1 A1 A1 = -2).
    diff, low, high, n = paired_bootstrap(errors_frame(), "m", resamples=4000, seed=3)
    assert (diff, low, high, n) == (pytest.approx(4.0), pytest.approx(1.0), pytest.approx(10.0), 3)


def test_replicates_are_scored_on_their_mean_prediction():
    rows = [{"model": "eu", "family": "protocol", "proposal": "A", "issue": "A1", "procedure": "COD", "rule": "qmv",
             "proposal_rule": "qmv", "regime": "nice", "predicted": p, "outcome": 50.0, "replicate": r}
            for r, p in enumerate((40.0, 60.0, 56.0))]
    table = issue_errors(pd.DataFrame(rows))
    assert table["predicted"].item() == pytest.approx(52.0) and table["error"].item() == pytest.approx(2.0)
    assert table["replicates"].item() == 3


def test_the_compromise_of_d00032i1_by_hand():
    """d00032i1 (2000, EU-15, Amsterdam votes, Commission and Parliament as the largest state, 10): the
    c·s-weighted mean of the file's positions is 280400 / 5300 = 52.906; the weighted median 40; the
    reference point 0; the outcome 100."""
    from sim.runs.benchmark import BenchmarkSettings, proposal_predictions

    settings = BenchmarkSettings(models=("compromise", "weighted_median", "reference_point"))
    rows = pd.DataFrame(proposal_predictions("d00032", settings))
    first = rows[rows["issue"] == "d00032i1"].set_index("model")["predicted"]
    assert first["compromise"] == pytest.approx(280400 / 5300)
    assert first["weighted_median"] == pytest.approx(40.0)
    assert first["reference_point"] == 0.0


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_folds_never_split_a_proposal_and_are_seeded(seed):
    proposals = [f"p{i}" for i in range(23)]
    folds = proposal_folds(proposals, 5, seed)
    assert set(folds) == set(proposals) and set(folds.values()) == set(range(5))
    sizes = np.bincount(list(folds.values()))
    assert sizes.max() - sizes.min() <= 1
    assert folds == proposal_folds(proposals, 5, seed)  # the same seed, the same folds
    issues = pd.DataFrame({"proposal": [p for p in proposals for _ in range(3)],
                           "issue": [f"{p}i{j}" for p in proposals for j in range(3)]})
    assert issues.assign(fold=issues["proposal"].map(folds)).groupby("proposal")["fold"].nunique().max() == 1


def test_cross_validation_scores_each_fold_with_the_parameter_chosen_on_the_others():
    # parameter 1 is best on proposals p0..p2, parameter 2 on p3: the fold holding p3 is predicted with 1
    rows = []
    for proposal, best in (("p0", 1), ("p1", 1), ("p2", 1), ("p3", 2)):
        for parameter in (1, 2):
            rows.append({"model": "c", "proposal": proposal, "issue": proposal + "i1", "parameter": parameter,
                         "error": 1.0 if parameter == best else 5.0})
    folds = {"p0": 0, "p1": 1, "p2": 2, "p3": 3}
    out, chosen = cross_validate(pd.DataFrame(rows), folds)
    assert list(chosen["parameter"]) == [1, 1, 1, 1]
    assert out.set_index("proposal").loc["p3", "error"] == 5.0  # out of fold: its own best is not used
    assert len(out) == 4 and set(out["proposal"]) == set(folds)
