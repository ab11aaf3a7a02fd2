"""Scoring against the observed record: hand-computed distances, outcome classes, the Brier score, the
shipped record against the scenarios. (The score columns of runs and sweeps:
tests/integration/test_scoring_runs.py.)"""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest

from sim.runs import scoring
from sim.domain.errors import ConfigError
from sim.runs.runner import load_scenario

from tests.support import REPO

RECORD = REPO / "data" / "jan2022_observed.yaml"


def test_trajectory_distance_on_a_hand_made_trajectory():
    # Simulated: actors a, b on issues x (span 100) and y (span 50), rounds 0..2.
    sim = pd.DataFrame([
        (r, a, i, p) for r, a, i, p in [
            (0, "a", "x", 10.0), (0, "a", "y", 20.0), (0, "b", "x", 90.0), (0, "b", "y", 40.0),
            (1, "a", "x", 30.0), (1, "a", "y", 20.0), (1, "b", "x", 80.0), (1, "b", "y", 30.0),
            (2, "a", "x", 50.0), (2, "a", "y", 25.0), (2, "b", "x", 70.0), (2, "b", "y", 30.0),
        ]], columns=["round", "actor", "issue", "position"])
    observed = pd.DataFrame([
        (0, "a", "x", 0.0),    # |10 - 0| = 10 points
        (1, "b", "y", 40.0),   # |30 - 40| / 50 x 100 = 20 points
        (2, "a", "x", 50.0),   # 0
        (4, "b", "x", 40.0),   # past the run's end: b's last x (70) stands -> 30 points
        (1, "c", "x", 40.0),   # an actor the run lacks: skipped
    ], columns=["round", "actor", "issue", "position"])
    errors = scoring.trajectory_errors(sim, observed, {"x": 100.0, "y": 50.0})
    assert errors["simulated"].iloc[:4].tolist() == [10.0, 30.0, 50.0, 70.0]
    assert np.isnan(errors["simulated"].iloc[4])
    overall, per_issue = scoring.trajectory_distance(errors)
    assert overall == pytest.approx((10 + 20 + 0 + 30) / 4)
    assert per_issue.to_dict() == pytest.approx({"x": (10 + 0 + 30) / 3, "y": 20.0})


def test_outcome_classes_and_the_match_with_the_record():
    record = scoring.load_record(RECORD)
    assert (record.agreement, record.ending, record.broken_off_by) == (False, "war", ("russia",))
    cases = {
        (True, ""): ("agreement", ()),
        (False, "walkout:russia (package:russia)"): ("breakdown", ("russia",)),
        (False, "walkout:ukraine,russia"): ("breakdown", ("russia", "ukraine")),
        (False, "red_line:usa.ukraine_military"): ("breakdown", ("usa",)),
        (False, "not_converged"): ("breakdown", ()),
        (False, "deadline"): ("breakdown", ()),
    }
    for (agreement, cause), expected in cases.items():
        assert scoring.outcome_class(agreement, cause) == expected, cause
    assert scoring.outcome_matches(False, "walkout:russia (package:russia)", "war", record)
    assert not scoring.outcome_matches(False, "walkout:russia", "status_quo", record)  # no war
    assert not scoring.outcome_matches(False, "deadline", "war", record)  # nobody broke off
    assert not scoring.outcome_matches(True, "", "agreement", record)
    assert scoring.outcome_label(False, "walkout:russia (x)") == "breakdown:russia"


def test_brier_score_of_agreement_over_replicates():
    assert scoring.brier_score([1, 0, 0, 0], observed=False) == pytest.approx(0.0625)
    assert scoring.brier_score([True, True], observed=True) == 0.0
    assert np.isnan(scoring.brier_score([], observed=False))


def test_combined_distance_weights_its_terms():
    scores = {"score_mae": 2.0, "score_outcome_match": False, "score_end_round_error": 3.0}
    assert scoring.combined_distance(scores) == pytest.approx(2.0 + 20.0 + 15.0)
    assert scoring.combined_distance(scores, {"outcome": 0.0, "timing": 1.0}) == pytest.approx(5.0)
    assert scoring.combined_distance({**scores, "score_end_round_error": float("nan")}) == pytest.approx(22.0)


def test_the_shipped_record_fits_jan2022_and_is_refused_by_a_scenario_without_its_issues():
    record = scoring.load_record(RECORD)
    for name in ("jan2022", "jan2022_no_red_lines", "jan2022_extended"):
        scenario = load_scenario(name)
        scoring.check_record(record, scenario)
        assert scoring.covers(record, scenario)
    core = load_scenario("jan2022_core")
    assert not scoring.covers(record, core)
    with pytest.raises(ConfigError, match=r"jan2022_observed.yaml: rounds\.\S+: scenario 'jan2022_core' has no"):
        scoring.check_record(record, core)
    with pytest.raises(ConfigError, match=r"observed\.rounds\.7: '2022-03-01' is not a round"):
        scoring.round_map({7: "2022-03-01"}, record)


def test_a_bad_record_names_its_file_and_key(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text('rounds:\n  "2022-01-26":\n    russia: {enlargement: high}\noutcome: {agreement: false}\n')
    with pytest.raises(ConfigError, match=r"rounds\.2022-01-26\.russia\.enlargement: 'high' is not a number"):
        scoring.load_record(bad)
