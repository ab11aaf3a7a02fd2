"""The deal gap in runs (issue 20): the runs table's columns, the line experiments.run prints, the figure, and
discovery's outcome=deal_gap, on jan2022 with and without the rules that open the gap."""

from __future__ import annotations

import pandas as pd
import pytest

import sim
from sim.analysis.discovery import Outcome, outcome_flags, parse_outcome
from tests.support import experiment


def test_runs_carry_the_gap_of_their_declared_inputs_under_every_protocol():
    result = sim.run("jan2022", protocol="offers", seed=3, rounds=4)
    row = result.runs.iloc[0]
    assert row["deal_gap"] == pytest.approx(165 / 2.8 - 35) and row["deal_gap_rules"] == "russia.package"
    for protocol in ("eu", "exchange"):
        assert sim.run("jan2022", protocol=protocol, seed=3, rounds=2).runs["deal_gap"].iloc[0] == pytest.approx(
            row["deal_gap"])
    open_ = sim.run("jan2022_no_red_lines", protocol="offers", seed=3, rounds=4).runs.iloc[0]
    assert open_["deal_gap"] == 0.0 and open_["deal_gap_rules"] == ""


def test_a_package_threshold_above_what_the_red_lines_force_closes_the_gap():
    scenario = sim.load_scenario("jan2022", {"actors.russia.package.max": 60})
    assert sim.run(scenario, protocol="offers", seed=3, rounds=2).runs["deal_gap"].iloc[0] == 0.0


def test_discover_reads_deal_gap_alone_as_where_the_gap_closes():
    outcome = parse_outcome("deal_gap")
    assert outcome == Outcome("deal_gap", "<=", 1e-6)
    runs = pd.DataFrame({"deal_gap": [0.0, 23.9, 1e-9, 4.0]})
    assert outcome_flags(runs, outcome, "test").tolist() == [True, False, True, False]


@pytest.mark.subprocess
def test_experiments_run_prints_the_gap_in_one_line_and_draws_it(tmp_path):
    done = experiment("run", "scenario=jan2022", "protocol=offers", "seed=3", f"hydra.run.dir={tmp_path}")
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith("deal gap")]
    assert len(lines) == 1
    assert "23.9 points" in lines[0] and "Russia's package rule 35 -> 58.9" in lines[0]
    assert (tmp_path / "figures" / "deal_gap.png").exists()
