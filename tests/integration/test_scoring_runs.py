"""Scoring in runs: the score columns of protocol=all runs and of sweeps, the score command, and the
columns the model computes equal to scoring its recorded rounds. (The scores themselves:
tests/unit/test_scoring.py.)"""

from __future__ import annotations

import pandas as pd
import pytest

from sim.runs import scoring

from tests.support import REPO, experiment

RECORD = REPO / "data" / "jan2022_observed.yaml"


@pytest.mark.subprocess
def test_protocol_all_writes_score_columns_and_score_prints_one_row_per_protocol(tmp_path):
    out = tmp_path / "all"
    run = experiment("run", "protocol=all", "rounds=6", "record.figures=false", f"hydra.run.dir={out}")
    assert run.returncode == 0, run.stderr
    runs = pd.read_parquet(out / "runs.parquet")
    assert {"score_mae", "score_mae_enlargement", "score_outcome", "score_outcome_match", "score_end_round_error",
            "score_mae_no_change", "score_mae_compromise", "score_mae_median", "score_skill",
            "score_outcome_class"} <= set(runs.columns)
    offers = runs.set_index("protocol").loc["offers"]
    assert offers["score_outcome"] == "breakdown:russia" and bool(offers["score_outcome_match"])
    # offers leaves the ideal points alone: the distance is that of the scenario's own positions to the record
    rounds = pd.read_parquet(out / "rounds.parquet")
    record = scoring.load_record(RECORD)
    mapping = {1: "2022-02-17", 2: "2022-02-24"}
    errors = scoring.trajectory_errors(rounds[rounds["protocol"] == "offers"], scoring.observed_table(record, mapping))
    assert offers["score_mae"] == pytest.approx(errors["error"].mean())
    assert offers["score_skill"] == 0.0  # and that is no change: offers never moves a position
    scored = experiment("score", str(out))
    assert scored.returncode == 0, scored.stderr
    lines = scored.stdout.strip().splitlines()
    assert lines[0].startswith("scored against data/jan2022_observed.yaml: 13 observed points after the scenario's date")
    assert lines[1].startswith("warning: leakage: 10 of 13 observed points equal the scenario's own inputs")
    assert lines[2].split()[:4] == ["protocol", "runs", "mae", "mae_sd"] and "skill" in lines[2].split()
    assert [line.split()[0] for line in lines[3:]] == ["eu", "offers", "exchange", "(no", "(compromise)", "(median)",
                                                       "(base", ]
    offers_line = lines[4].split()
    assert offers_line[0] == "offers" and offers_line[4] == "0.000"  # skill 0
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
    mapping = {1: "2022-02-17", 2: "2022-02-24"}
    again = scoring.run_scores(one.rounds, one.runs.iloc[0], record, mapping, one.scenario)
    assert runs["score_mae"].iloc[0] == pytest.approx(again["score_mae"])
    assert runs["score_skill"].iloc[0] == pytest.approx(again["score_skill"])


@pytest.mark.parametrize("protocol", ["eu", "offers", "exchange"])
def test_score_columns_from_the_model_equal_scoring_the_recorded_rounds(protocol):
    from sim.runs.runner import run

    observed = {"path": "data/jan2022_observed.yaml", "rounds": {1: "2022-02-17", 2: "2022-02-24"}}
    result = run("jan2022", protocol=protocol, seed=1, rounds=6)
    row = result.runs.iloc[0].to_dict()
    fast = scoring.score_columns(result.model, row, observed)
    record, mapping = scoring.observed_settings(observed)
    slow = scoring.run_scores(result.rounds, row, record, mapping, result.scenario)
    assert fast.keys() == slow.keys()
    for key in fast:
        assert fast[key] == pytest.approx(slow[key], nan_ok=True) if isinstance(fast[key], float) else fast[key] == slow[key]
    assert scoring.score_columns(result.model, row, None) == {}  # no observed record (~observed): no columns
