"""Scoring against the observed record: hand-computed distances, outcome classes, the Brier scores, the
baselines and skill (a model that never moves scores 0), the leakage check, the shipped record against the
scenarios. (The score columns of runs and sweeps:
tests/integration/test_scoring_runs.py.)"""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest

from sim.runs import scoring
from sim.domain.errors import ConfigError
from sim.runs.runner import load_scenario

from tests.support import REPO, make_scenario

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
    early = tmp_path / "early.yaml"
    early.write_text('scenario_date: "2022-01-26"\nrounds:\n  "2022-01-26":\n    russia: {enlargement: 0}\n'
                     'outcome: {agreement: false}\n')
    with pytest.raises(ConfigError, match=r"rounds\.2022-01-26: dated at or before the scenario's date"):
        scoring.load_record(early)
    rate = tmp_path / "rate.yaml"
    rate.write_text('rounds:\n  "d1":\n    russia: {enlargement: 0}\noutcome: {agreement: false, base_rate: {war: 0.5, peace: 0.5}}\n')
    with pytest.raises(ConfigError, match=r"outcome\.base_rate\.peace: unknown class"):
        scoring.load_record(rate)
    rate.write_text('rounds:\n  "d1":\n    russia: {enlargement: 0}\noutcome: {agreement: false, base_rate: {war: 0.5}}\n')
    with pytest.raises(ConfigError, match=r"outcome\.base_rate: the shares sum to 0\.5, not 1"):
        scoring.load_record(rate)


def test_the_shipped_record_holds_only_what_came_after_the_scenarios_date():
    record = scoring.load_record(RECORD)
    assert record.scenario_date == "2022-01-26"  # jan2022's inputs are the 26 Jan written replies
    assert record.dates == ["2022-02-17", "2022-02-24"] and all(d > record.scenario_date for d in record.dates)
    assert record.outcome_class == "war"
    assert dict(record.base_rate) == pytest.approx({"agreement": 1 / 3, "war": 1 / 3, "no_deal_no_war": 1 / 3})


def test_brier_score_of_the_outcome_class_against_the_base_rate():
    assert scoring.outcome_class_of(True, "agreement") == "agreement"
    assert scoring.outcome_class_of(False, "war") == "war"
    assert scoring.outcome_class_of(False, "status_quo") == "no_deal_no_war"
    assert scoring.outcome_class_of(False, "reservation") == "no_deal_no_war"
    # shares 1/4 agreement, 1/2 war, 1/4 no deal against war: 1/16 + 1/4 + 1/16
    classes = ["war", "agreement", "war", "no_deal_no_war"]
    assert scoring.brier_outcome(classes, "war") == pytest.approx(0.375)
    assert scoring.brier_outcome(["war"] * 3, "war") == 0.0
    assert scoring.brier_outcome(["agreement"], "war") == pytest.approx(2.0)  # the worst
    assert np.isnan(scoring.brier_outcome([], "war"))
    uniform = {c: 1 / 3 for c in scoring.OUTCOME_CLASSES}
    assert scoring.brier_forecast(uniform, "war") == pytest.approx(1 / 9 + 4 / 9 + 1 / 9)


def hand_record(tmp_path, rounds: dict) -> scoring.ObservedRecord:
    import yaml

    path = tmp_path / "hand.yaml"
    path.write_text(yaml.safe_dump({"scenario": "test", "scenario_date": "d0", "rounds": rounds,
                                    "outcome": {"agreement": False, "ending": "war", "date": "d2"}}))
    return scoring.load_record(path)


def test_baselines_are_scored_on_the_same_points_by_the_same_code(tmp_path):
    # Two actors, one issue: a0 at 0 (capability 3), a1 at 100 (capability 1), equal saliences:
    # compromise = 25, weighted median = 0.
    scenario = make_scenario([[0.0], [100.0]], [[1.0], [1.0]], [3.0, 1.0])
    record = hand_record(tmp_path, {"d1": {"a0": {"i0": 10.0}, "a1": {"i0": 100.0}},
                                    "d2": {"a0": {"i0": 20.0}}})
    mapping = {1: "d1", 2: "d2"}
    fast = scoring.baseline_scores(record, mapping, scenario)
    slow = scoring.baseline_scores(record, mapping, scenario, fast=False)
    assert fast == pytest.approx(slow)
    assert fast["no_change"] == pytest.approx((10 + 0 + 20) / 3)
    assert fast["compromise"] == pytest.approx((15 + 75 + 5) / 3)
    assert fast["median"] == pytest.approx((10 + 100 + 20) / 3)
    history = scoring.baseline_history(scenario, "compromise", 2)
    assert history.shape == (3, 2, 1) and history[0].ravel().tolist() == [0.0, 100.0]
    assert history[1:].ravel().tolist() == pytest.approx([25.0] * 4)
    # skill = 1 - mae / mae of no change
    assert scoring.skill(fast["no_change"], fast["no_change"]) == 0.0
    assert scoring.skill(0.0, fast["no_change"]) == 1.0
    assert scoring.skill(fast["compromise"], fast["no_change"]) == pytest.approx(1 - 95 / 30)
    assert np.isnan(scoring.skill(3.0, 0.0))  # no change already exact: nothing to add


def test_a_model_that_never_moves_scores_skill_zero_and_one_that_moves_right_scores_above():
    from sim.runs.runner import run

    record = scoring.load_record(RECORD)
    observed = {"path": str(RECORD), "rounds": {1: "2022-02-17", 2: "2022-02-24"}}
    # offers keeps every ideal point where the scenario puts it (Russia walks out at once): no change
    result = run("jan2022", protocol="offers", seed=3, rounds=6)
    row = scoring.score_columns(result.model, result.runs.iloc[0].to_dict(), observed)
    assert row["score_mae"] == row["score_mae_no_change"] > 0
    assert row["score_skill"] == 0.0
    # the same positions moved onto the record where it moved (Russia's build-up and Minsk) beat no change
    scenario = result.scenario
    history = scoring.baseline_history(scenario, "no_change", 2).copy()
    r, d, m = scenario.actor_ids.index("russia"), scenario.issue_ids.index("deescalation"), scenario.issue_ids.index("minsk")
    history[1:, r, d] = 0.0
    history[2, r, m] = 0.0
    mapping = {1: "2022-02-17", 2: "2022-02-24"}
    mae, _ = scoring.trajectory_distance(scoring.trajectory_errors(
        scoring.history_table(history, scenario), scoring.observed_table(record, mapping)))
    assert mae == 0.0 and scoring.skill(mae, row["score_mae_no_change"]) == 1.0


def test_leakage_counts_observed_points_equal_to_the_inputs(tmp_path):
    record = scoring.load_record(RECORD)
    jan2022 = load_scenario("jan2022")
    found = scoring.leakage(record, {1: "2022-02-17", 2: "2022-02-24"}, jan2022)
    assert (found.points, found.at_round_zero) == (13, 0)
    # what differs from the inputs: Russia's de-escalation (5 -> 0, twice) and Minsk (10 -> 0 on 24 Feb)
    assert found.equal_inputs == 10
    line = found.warning()
    assert line.startswith("warning: leakage: 10 of 13 observed points equal the scenario's own inputs")
    assert "\n" not in line
    # mapped to round 0, the scenario's own date, every point is an input
    zero = scoring.leakage(record, {0: "2022-02-17"}, jan2022)
    assert zero.at_round_zero == 10 and "mapped to round 0" in zero.warning()
    # a record of moves only: no warning
    scenario = make_scenario([[0.0], [100.0]], [[1.0], [1.0]], [3.0, 1.0])
    moves = hand_record(tmp_path, {"d1": {"a0": {"i0": 10.0}}})
    assert scoring.leakage(moves, {1: "d1"}, scenario).warning() is None


def test_the_score_table_puts_the_baselines_and_the_base_rate_under_the_protocols():
    record = scoring.load_record(RECORD)
    runs = pd.DataFrame({
        "protocol": ["a", "a", "b"], "agreement": [False, False, True], "ending": ["war", "status_quo", "agreement"],
        "score_mae": [2.0, 4.0, 1.0], "score_mae_no_change": [2.0] * 3, "score_mae_compromise": [8.0] * 3,
        "score_mae_median": [6.0] * 3, "score_outcome_match": [True, False, False],
        "score_end_round_error": [1.0, 0.0, 2.0], "score_outcome": ["breakdown:russia", "breakdown", "agreement"],
        "score_outcome_class": ["war", "no_deal_no_war", "agreement"]})
    table = scoring.score_table(runs, record).set_index("protocol")
    assert table.loc["a", "skill"] == pytest.approx(1 - 3 / 2) and table.loc["b", "skill"] == pytest.approx(0.5)
    assert table.loc["a", "brier"] == pytest.approx(0.25 + 0.25) and table.loc["b", "brier"] == pytest.approx(2.0)
    assert table.loc["a", "brier_skill"] == pytest.approx(1 - 0.5 / (2 / 3))
    assert table.loc["(no change)", "skill"] == 0.0 and table.loc["(compromise)", "skill"] == pytest.approx(-3.0)
    assert table.loc["(median)", "mae"] == 6.0
    assert table.loc["(base rate)", "brier"] == pytest.approx(2 / 3) and table.loc["(base rate)", "war"] == pytest.approx(1 / 3)
