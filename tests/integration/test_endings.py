"""Endings that follow preferences (issue 20, part 2; docs/explanation/why-talks-fail.md, "Endings"): a
breakdown ends in war only when an actor that holds a war option values the war above the status quo in the
round talks ended; otherwise no deal and no war. Closed forms on a two-actor scenario whose war value is
computed by hand, then seeds under every protocol, then jan2022."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sim
from sim.domain.scenario import scenario_from_config
from sim.engine.metrics import ending, ending_reason
from sim.kernels.utility import disagreement_values, status_quo_values, war_preferred, war_values
from sim.runs.runner import run
from tests.support import experiment

PROTOCOLS = ("eu", "offers", "exchange")
SEEDS = range(6)
EPSILON = 1e-3


def by_hand(optimism: float, cost: float) -> float:
    """A's war value in :func:`two_actors`, by hand (docs/explanation/model.md §3):
    p = min(1, optimism · c_A / (c_A + c_B)) = min(1, 0.3 · optimism); A's utility of B's ideal (100, 60) with
    weights (2/3, 1/3) is 1 - (2/3 · 1 + 1/3 · 0.6) = 2/15; w = p · 1 + (1 - p) · 2/15 - cost."""
    p = min(1.0, optimism * 0.6 / (0.6 + 1.4))
    return p + (1 - p) * 2 / 15 - cost


#: A's utility of the status quo (50, 50): 1 - (2/3 · 0.5 + 1/3 · 0.5).
A_STATUS_QUO = 0.5


def two_actors(optimism: float, cost: float, b_war: bool = False) -> sim.Scenario:
    """A (ideal (0, 0), saliences 1 and 0.5, capability 0.6) holds a war option against B (ideal (100, 60),
    capability 1.4), whose fallback is the status quo (50, 50), or with ``b_war`` a war against A (optimism 1,
    cost 0.3). Their red lines on x (A: at most 40, B: at least 60) leave no bundle both accept, so every run
    breaks down: what it ends in is the question."""
    b_option = {"outside_option": {"kind": "war", "optimism": 1.0, "cost": 0.3, "opponents": ["a"]}} if b_war else {}
    return scenario_from_config({
        "id": "two_actors", "issues": {"x": {"label": "x", "status_quo": 50}, "y": {"label": "y", "status_quo": 50}},
        "actors": {
            "a": {"capability": 0.6, "position": {"x": 0, "y": 0}, "salience": {"x": 1, "y": 0.5},
                  "outside_option": {"kind": "war", "optimism": optimism, "cost": cost, "opponents": ["b"]},
                  "red_lines": {"x": {"max": 40}}},
            "b": {"capability": 1.4, "position": {"x": 100, "y": 60}, "salience": {"x": 0.5, "y": 1},
                  "red_lines": {"x": {"min": 60}}, **b_option},
        },
    })


#: (optimism, cost) just above and just below A's status quo: optimism 2 gives p = 0.6, w = 0.65333 - cost;
#: optimism 4 gives p = min(1, 1.2) = 1 (capped), w = 1 - cost.
CASES = {
    "above, p = 0.6": (2.0, 0.6 + 0.4 * 2 / 15 - A_STATUS_QUO - EPSILON),
    "below, p = 0.6": (2.0, 0.6 + 0.4 * 2 / 15 - A_STATUS_QUO + EPSILON),
    "above, p capped at 1": (4.0, 1.0 - A_STATUS_QUO - EPSILON),
    "below, p capped at 1": (4.0, 1.0 - A_STATUS_QUO + EPSILON),
}


@pytest.mark.parametrize("case", CASES)
def test_the_war_value_and_the_outside_option_in_closed_form(case):
    optimism, cost = CASES[case]
    scenario = two_actors(optimism, cost)
    war = by_hand(optimism, cost)
    fights = case.startswith("above")
    assert war == pytest.approx(A_STATUS_QUO + (EPSILON if fights else -EPSILON), abs=1e-12)
    assert status_quo_values(scenario)[0] == pytest.approx(A_STATUS_QUO, abs=1e-12)
    assert war_values(scenario)[0] == pytest.approx(war, abs=1e-12) and np.isnan(war_values(scenario)[1])
    assert list(war_preferred(scenario)) == [fights, False]
    # a war A would not start is no outside option: d_A = max(w_A, u_A(sq))
    assert disagreement_values(scenario)[0] == pytest.approx(max(war, A_STATUS_QUO), abs=1e-12)
    assert ending(scenario, False) == ("war" if fights else "status_quo")
    assert ending(scenario, True) == "agreement" and ending_reason(scenario, True) == ""
    words = ending_reason(scenario, False)
    assert words == (f"{'war' if fights else 'no war'}: a's war value {war:.3f} is "
                     f"{'above' if fights else 'below'} its status quo 0.500")


#: B's war against A by hand: p = 1.4 / 2 = 0.7, B's utility of A's ideal (0, 0) with weights (1/3, 2/3) is
#: 1 - (1/3 + 2/3 · 0.6) = 4/15, so w = 0.7 + 0.3 · 4/15 - 0.3 = 0.48, below B's status quo
#: 1 - (1/3 · 0.5 + 2/3 · 0.1) = 0.76667: B would not start it.
B_WAR, B_STATUS_QUO = 0.7 + 0.3 * 4 / 15 - 0.3, 1 - (0.5 / 3 + 2 * 0.1 / 3)


@pytest.mark.parametrize("case", CASES)
def test_a_war_holder_that_would_not_start_the_war_fights_it_when_attacked(case):
    optimism, cost = CASES[case]
    scenario = two_actors(optimism, cost, b_war=True)
    fights = case.startswith("above")
    assert war_values(scenario)[1] == pytest.approx(B_WAR, abs=1e-12) and B_WAR < B_STATUS_QUO
    assert list(war_preferred(scenario)) == [fights, False]
    # when A starts the war, B is in it whatever it prefers: its outside option is its war value
    assert disagreement_values(scenario)[1] == pytest.approx(B_WAR if fights else B_STATUS_QUO, abs=1e-12)
    row = run(scenario, protocol="offers", seed=0, rounds=6).runs.iloc[0]
    assert row["ending"] == ("war" if fights else "status_quo")
    assert row["utility_b"] == pytest.approx(B_WAR if fights else B_STATUS_QUO, abs=1e-12)
    assert row["ending_reason"].endswith("but it fights the war a starts" if fights else
                                         f"b's war value {B_WAR:.3f} is below its status quo {B_STATUS_QUO:.3f}")


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("case", CASES)
def test_every_protocol_ends_in_war_only_when_the_war_is_worth_starting(protocol, case):
    optimism, cost = CASES[case]
    scenario = two_actors(optimism, cost)
    war, fights = by_hand(optimism, cost), case.startswith("above")
    params = {"offers": {"order": "recognition", "belief_noise": 0.1}, "eu": {"variant": "standard"}}.get(protocol)
    for seed in SEEDS:
        row = run(scenario, protocol=protocol, seed=seed, rounds=6, protocol_params=params,
                  record_rounds=False).runs.iloc[0]
        assert not row["agreement"]
        assert row["war_value_a"] == pytest.approx(war, abs=1e-12) and "war_value_b" not in row
        if fights:
            assert row["ending"] == "war" and row["ending_reason"].startswith("war: a's war value")
            assert np.isnan([row["outcome_x"], row["outcome_y"]]).all()
            assert row["utility_a"] == pytest.approx(war, abs=1e-12)
        else:
            assert row["ending"] == "status_quo" and row["ending_reason"].startswith("no war: a's war value")
            assert (row["outcome_x"], row["outcome_y"]) == (50, 50)  # the status quo, not NaN
            assert row["utility_a"] == pytest.approx(A_STATUS_QUO, abs=1e-12)
        assert row["disagreement_a"] == pytest.approx(max(war, A_STATUS_QUO), abs=1e-12)
        assert row["utility_b"] == pytest.approx(status_quo_values(scenario)[1], abs=1e-12)
        if protocol == "offers":  # the walk-out test: only a war worth starting is worth walking out to
            assert row["breakdown_cause"].startswith("walkout:a") == fights
            assert row["rounds"] == (1 if fights else 6)


# ---- jan2022 ------------------------------------------------------------------------------------------

RESOLVE = {"actors.russia.outside_option.optimism": 1.0, "actors.russia.outside_option.cost": 0.3}


def test_jan2022_as_shipped_russia_values_war_above_the_status_quo():
    scenario = sim.load_scenario("jan2022")
    russia = scenario.actor_ids.index("russia")
    war, status_quo = war_values(scenario)[russia], status_quo_values(scenario)[russia]
    print(f"jan2022: Russia's war value {war:.4f}, its status quo {status_quo:.4f}")
    assert war > status_quo and war_preferred(scenario)[russia]
    assert (round(war, 4), round(status_quo, 4)) == (0.3993, 0.3831)
    assert disagreement_values(scenario)[russia] == war


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_jan2022_ends_in_war_as_shipped_and_in_no_war_when_war_costs_more_than_it_can_win(protocol):
    shipped, resolve = sim.load_scenario("jan2022"), sim.load_scenario("jan2022", RESOLVE)
    russia = shipped.actor_ids.index("russia")
    war = war_values(resolve)[russia]
    assert war == pytest.approx(0.1993, abs=1e-4) and war < status_quo_values(resolve)[russia]
    params = {"offers": {"order": "recognition", "belief_noise": 0.1}}.get(protocol)
    for seed in range(3):
        row = run(shipped, protocol=protocol, seed=seed, rounds=4, protocol_params=params,
                  record_rounds=False).runs.iloc[0]
        assert (row["agreement"], row["ending"]) == (False, "war")
        assert row["utility_russia"] == pytest.approx(war_values(shipped)[russia])
        row = run(resolve, protocol=protocol, seed=seed, rounds=4, protocol_params=params,
                  record_rounds=False).runs.iloc[0]
        assert (row["agreement"], row["ending"]) == (False, "status_quo")
        assert not row["breakdown_cause"].startswith("walkout")
        assert row["ending_reason"] == "no war: Russia's war value 0.199 is below its status quo 0.383"
        assert [row[f"outcome_{i}"] for i in resolve.issue_ids] == list(resolve.status_quo)
        assert row["utility_russia"] == pytest.approx(status_quo_values(resolve)[russia])
        assert row["war_value_russia"] == pytest.approx(war)


@pytest.mark.subprocess
def test_the_acceptance_command_ends_in_no_deal_and_no_war_and_says_why(tmp_path):
    done = experiment("run", "scenario=jan2022", "protocol=offers", "seed=3",
                      *(f"scenario.{key}={value:g}" for key, value in RESOLVE.items()),
                      "record.figures=false", f"hydra.run.dir={tmp_path}")
    assert done.returncode == 0, done.stderr
    assert "no agreement, status_quo (deadline)" in done.stdout
    assert "no war: Russia's war value 0.199 is below its status quo 0.383" in done.stdout
    row = pd.read_parquet(tmp_path / "runs.parquet").iloc[0]
    assert (row["agreement"], row["ending"], row["outcome_enlargement"]) == (False, "status_quo", 75)
