"""Scoring against the observed record: hand-computed distances, outcome classes, the Brier score, the
shipped record against the scenarios, and the score columns of protocol=all runs and sweeps."""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest

from sim.runs import scoring
from sim.domain.errors import ConfigError
from sim.runs.runner import load_scenario

from tests.support import REPO, experiment

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


def test_protocol_all_writes_score_columns_and_score_prints_one_row_per_protocol(tmp_path):
    out = tmp_path / "all"
    run = experiment("run", "protocol=all", "rounds=6", "record.figures=false", f"hydra.run.dir={out}")
    assert run.returncode == 0, run.stderr
    runs = pd.read_parquet(out / "runs.parquet")
    assert {"score_mae", "score_mae_enlargement", "score_outcome", "score_outcome_match",
            "score_end_round_error"} <= set(runs.columns)
    offers = runs.set_index("protocol").loc["offers"]
    assert offers["score_outcome"] == "breakdown:russia" and bool(offers["score_outcome_match"])
    # offers leaves the ideal points alone: the distance is that of the scenario's own positions to the record
    rounds = pd.read_parquet(out / "rounds.parquet")
    record = scoring.load_record(RECORD)
    mapping = {0: "2022-01-26", 1: "2022-02-17", 2: "2022-02-24"}
    errors = scoring.trajectory_errors(rounds[rounds["protocol"] == "offers"], scoring.observed_table(record, mapping))
    assert offers["score_mae"] == pytest.approx(errors["error"].mean())
    scored = experiment("score", str(out))
    assert scored.returncode == 0, scored.stderr
    lines = scored.stdout.strip().splitlines()
    assert lines[1].split()[:3] == ["protocol", "runs", "mae"]
    assert [line.split()[0] for line in lines[2:]] == ["eu", "offers", "exchange"]
    missing = experiment("score", str(tmp_path / "nothing"))
    assert missing.returncode == 2 and len(missing.stderr.strip().splitlines()) == 1


def test_sweep_rows_carry_score_columns_without_recorded_rounds(tmp_path):
    from tests.support.sweeps import sweep

    spec = {"name": "s", "design": "grid", "replicates": 1, "seed": 3, "shard_size": 10,
            "parameters": {"protocol": {"values": ["eu", "offers"]}}}
    runs = sweep(tmp_path / "s", spec=spec, overrides=("rounds=4",))
    assert runs["score_mae"].notna().all() and set(runs["score_outcome"]) >= {"breakdown:russia"}
    # the same numbers as scoring the recorded trajectory of the same run
    from sim.runs.runner import run

    one = run("jan2022", protocol="eu", seed=int(runs["seed"].iloc[0]), rounds=4,
              protocol_params={"name": "eu"})
    record = scoring.load_record(RECORD)
    mapping = {0: "2022-01-26", 1: "2022-02-17", 2: "2022-02-24"}
    again = scoring.run_scores(one.rounds, one.runs.iloc[0], record, mapping, one.scenario)
    assert runs["score_mae"].iloc[0] == pytest.approx(again["score_mae"])


@pytest.mark.parametrize("protocol", ["eu", "offers", "exchange"])
def test_score_columns_from_the_model_equal_scoring_the_recorded_rounds(protocol):
    from sim.runs.runner import run

    observed = {"path": "data/jan2022_observed.yaml", "rounds": {0: "2022-01-26", 1: "2022-02-17", 2: "2022-02-24"}}
    result = run("jan2022", protocol=protocol, seed=1, rounds=6)
    row = result.runs.iloc[0].to_dict()
    fast = scoring.score_columns(result.model, row, observed)
    record, mapping = scoring.observed_settings(observed)
    slow = scoring.run_scores(result.rounds, row, record, mapping, result.scenario)
    assert fast.keys() == slow.keys()
    for key in fast:
        assert fast[key] == pytest.approx(slow[key], nan_ok=True) if isinstance(fast[key], float) else fast[key] == slow[key]
    assert scoring.score_columns(result.model, row, None) == {}  # no observed record (~observed): no columns
