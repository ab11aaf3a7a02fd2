"""The offers protocol (MODEL.md §4.2): closed forms, consent rules, walk-out, properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, strategies as st

import sim
from sim.engine.model import BargainingModel
from sim.domain.scenario import scenario_from_config
from sim.kernels.solutions import bargaining_range
from sim.kernels.utility import scenario_utilities
from tests.support import make_scenario, scenarios


@pytest.mark.parametrize("deltas, share", [((0.9, 0.9), 0.52632), ((0.9, 0.8), 0.71429),
                                           ((0.8, 0.9), 0.35714)])
def test_rubinstein_split(deltas, share):
    pie = sim.load_scenario("pie_two", {"actors.a.discount_factor": deltas[0],
                                        "actors.b.discount_factor": deltas[1]})
    row = sim.run(pie, "offers", seed=0, rounds=10).runs.iloc[0]
    assert row["agreement"] and row["rounds"] == 1  # accepted at once
    assert round(row["outcome_share_a"] / 100, 5) == share
    assert row["outcome_share_a"] + row["outcome_share_b"] == pytest.approx(100.0)


def pie(n: int, delta: float):
    names = "abcdefg"[:n]
    return scenario_from_config({
        "id": f"pie{n}", "budget": {"issues": [f"s_{c}" for c in names], "total": 100},
        "issues": {f"s_{c}": {"label": c, "status_quo": 0} for c in names},
        "actors": {c: {"capability": 1.0, "discount_factor": delta, "strategy": "equilibrium",
                       "position": {f"s_{o}": 100 if o == c else 0 for o in names},
                       "salience": {f"s_{o}": 1.0 if o == c else 0.0 for o in names}} for c in names},
    })


@pytest.mark.parametrize("n, delta, expected", [(3, 1.0, [0, 1 / 3, 2 / 3]),
                                                 (5, 0.9, [0, 0, 0.18, 0.18, 0.64])])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_baron_ferejohn_majority_division(n, delta, expected, seed):
    result = sim.run(pie(n, delta), "offers", protocol_params={"consent": "majority",
                                                                "order": "recognition"},
                     seed=seed, rounds=5)
    row = result.runs.iloc[0]
    shares = sorted(row[f"outcome_s_{c}"] / 100 for c in "abcdefg"[:n])
    assert row["agreement"] and row["rounds"] == 1
    np.testing.assert_allclose(shares, expected, atol=1e-9)
    proposer = result.events.iloc[0]["proposer"]
    assert row[f"outcome_s_{proposer}"] / 100 == pytest.approx(max(expected))


def test_pie_majority_config_gives_baron_ferejohn():
    row = sim.run("pie_majority", "offers", protocol_params={"consent": "majority", "order": "recognition"},
                  seed=4).runs.iloc[0]
    shares = sorted(row[f"outcome_share_{c}"] for c in "abcde")
    np.testing.assert_allclose(shares, [0, 0, 18, 18, 64], atol=1e-7)


def test_equilibrium_outside_a_pie_is_a_config_error():
    with pytest.raises(sim.ConfigError, match="divide-the-pie"):
        BargainingModel(sim.load_scenario("ec_emissions"), "offers", strategy="equilibrium", rng=0)


def two_issue(**extra):
    return make_scenario([[0, 0], [100, 100]], [[1.0, 0.2], [0.2, 1.0]], [1, 1], status_quo=[50, 50],
                         **extra)


def test_linkage_trade_each_gets_its_important_issue():
    # a cares about issue 0, b about issue 1: the agreed bundle gives each its salient issue.
    row = sim.run(two_issue(), "offers", seed=0, rounds=30).runs.iloc[0]
    assert row["agreement"]
    assert row["outcome_i0"] < 25 and row["outcome_i1"] > 75


def test_two_hardliners_at_opposite_ends_never_agree():
    s = two_issue(strategy=["hardliner", "hardliner"])
    row = sim.run(s, "offers", seed=0, rounds=25, protocol_params={"walkout": False}).runs.iloc[0]
    assert not row["agreement"] and row["breakdown_cause"] == "deadline"


def test_veto_rule_needs_veto_holders_only_for_changed_issues():
    s = make_scenario([[0, 0], [100, 100], [50, 100]], [[1, 1], [1, 1], [1, 1]], [1, 1, 1],
                      status_quo=[50, 50], veto=[[], [], ["i0"]])
    model = BargainingModel(s, "offers", {"consent": "veto", "principals": ["a0", "a1"]}, rng=0)
    needed = model.protocol.consent.needed(np.array([[50.0, 80.0], [60.0, 80.0]]))
    assert needed[:, 0].tolist() == [True, True, False]  # issue 0 at its status quo
    assert needed[:, 1].tolist() == [True, True, True]


def test_russia_walks_out_when_war_looks_better_than_any_deal():
    # without the documented rules, so that over-optimism alone (the information mechanism) is at work
    s = sim.load_scenario("jan2022_no_red_lines", {"actors.russia.outside_option.optimism": 4.0,
                                                   "actors.russia.outside_option.cost": 0.0})
    result = sim.run(s, "offers", seed=1, rounds=50)
    row = result.runs.iloc[0]
    # Over-optimism makes war worth more to Russia than any bundle the others would accept, so it
    # leaves at once. The others' fallback is the status quo: leaving would gain them nothing.
    assert not row["agreement"] and row["rounds"] == 1
    assert row["breakdown_cause"] == "walkout:russia (outside_option:russia)"
    walkouts = result.events[result.events["kind"] == "walkout"]
    assert list(walkouts["actor"]) == ["russia"]
    assert (walkouts["outside_option"] > walkouts["expected"]).all()


def test_zero_noise_round_robin_is_deterministic_whatever_the_seed():
    s = sim.load_scenario("jan2022_core")
    a = sim.run(s, "offers", seed=1, rounds=30)
    b = sim.run(s, "offers", seed=987654, rounds=30)
    assert a.runs.drop(columns="seed").equals(b.runs.drop(columns="seed"))
    assert a.events.equals(b.events)


def test_belief_noise_is_drawn_from_the_run_seed():
    s = sim.load_scenario("jan2022_core")
    params = {"belief_noise": 0.2}
    a = sim.run(s, "offers", seed=5, rounds=30, protocol_params=params)
    b = sim.run(s, "offers", seed=5, rounds=30, protocol_params=params)
    assert a.events.equals(b.events)


consent_rules = st.sampled_from([{"consent": "unanimity"}, {"consent": "majority"},
                                 {"consent": "veto", "principals": ["a0"]}])
strategy_names = st.sampled_from(["boulware", "linear", "conceder", "hardliner"])


@given(scenarios(max_actors=4, max_issues=3), consent_rules, strategy_names, st.integers(0, 1000))
def test_agreements_are_individually_rational_and_inside_the_range(scenario, rule, strategy, seed):
    result = sim.run(scenario, "offers", seed=seed, rounds=15, protocol_params=rule, strategy=strategy)
    row = result.runs.iloc[0]
    if not row["agreement"]:
        return
    bundle = np.array([row[f"outcome_{i}"] for i in scenario.issue_ids])
    values = scenario_utilities(scenario, bundle)
    last = result.events[result.events["kind"] == "offer"].iloc[-1]
    consenting = np.array([last[f"response_{a}"] in ("accept", "proposer") for a in scenario.actor_ids])
    d = result.model.disagreement
    assert np.all(values[consenting] >= d[consenting] - 1e-9)  # individually rational
    if rule["consent"] == "unanimity":  # everyone consented: the bundle is in everyone's range
        assert consenting.all() and np.all(values >= d - 1e-9)


@given(scenarios(max_actors=4, max_issues=3), st.integers(0, 3), st.floats(0.5, 3.0))
def test_raising_optimism_never_enlarges_the_range(scenario, who, factor):
    who = who % scenario.n_actors
    others = [a for a in scenario.actor_ids if a != scenario.actor_ids[who]]

    def with_optimism(value):
        from dataclasses import replace

        from sim.domain.scenario import OutsideOption

        actors = list(scenario.actors)
        actors[who] = replace(actors[who], outside_option=OutsideOption(
            kind="war", optimism=value, cost=0.05, opponents=tuple(others)))
        return replace(scenario, actors=tuple(actors))

    low = bargaining_range(with_optimism(1.0))
    high = bargaining_range(with_optimism(1.0 + factor))
    assert high <= low + 1e-12


def test_the_agenda_setter_proposes_every_round_and_only_then_is_in_the_row():
    scenario = make_scenario([[0.0], [100.0], [40.0]], [[1.0]] * 3, [1.0] * 3, status_quo=[50.0])
    run = sim.run(scenario, "offers", seed=0, rounds=6, protocol_params={"order": "setter", "setter": "a1"})
    offers = run.events[run.events["kind"] == "offer"]
    assert len(offers) >= 2 and (offers["response_a1"] == "proposer").all()  # a1 each round, not in turn
    assert run.runs.iloc[0]["protocol_setter"] == "a1"
    plain = sim.run(scenario, "offers", seed=0, rounds=6)  # round robin: the setter does nothing, no column
    assert "protocol_setter" not in plain.runs.columns and "protocol_order" in plain.runs.columns
    with pytest.raises(sim.ConfigError, match="protocol.setter"):
        sim.run(scenario, "offers", seed=0, protocol_params={"order": "setter", "setter": "zz"})
