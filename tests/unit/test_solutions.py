"""Utilities (MODEL.md §2–3) and reference solutions (§5): closed forms, invariants, efficiency."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given

from sim.kernels.solutions import (bargaining_range, compromise, kalai_smorodinsky, nash_solution, pareto_check, pareto_frontier, sample_bundles, scenario_compromise, scenario_median, weighted_median)
from sim.kernels.utility import disagreement_values, scenario_utilities, utilities, war_values, war_win_probability
from tests.support import make_scenario, scenarios


def test_ec_emissions_compromise_and_median(ec):
    assert scenario_compromise(ec)[0] == pytest.approx(7.389955686853767, rel=1e-12)
    assert scenario_median(ec)[0] == 7.0


def test_weighted_median_ties_take_the_midpoint():
    assert weighted_median(np.array([[0.0], [100.0]]), np.ones((2, 1)))[0] == 50.0
    assert weighted_median(np.array([[0.0], [10.0], [100.0]]), np.array([[1.0], [1.0], [3.0]]))[0] == 100.0


@given(scenarios(risk=True))
def test_utilities_in_unit_interval_and_one_at_ideal(scenario):
    sample = sample_bundles(scenario, 256)
    values = scenario_utilities(scenario, sample)
    assert values.shape == (scenario.n_actors, 256)
    assert np.all(values >= -1e-12) and np.all(values <= 1 + 1e-12)
    at_ideal = utilities(scenario.positions, scenario.positions, scenario.weights, scenario.spans,
                         scenario.risk_exponents)
    np.testing.assert_allclose(np.diag(at_ideal), 1.0)


def test_utility_formula_by_hand():
    s = make_scenario([[0, 100], [100, 0]], [[1, 0.25], [0.5, 0.5]], [1, 1], risk=[1, 2])
    z = np.array([20.0, 50.0])
    u = scenario_utilities(s, z)
    assert u[0] == pytest.approx(1 - (0.8 * 0.2 + 0.2 * 0.5))
    assert u[1] == pytest.approx(1 - (0.5 * 0.8 ** 2 + 0.5 * 0.5 ** 2))


def test_disagreement_kinds_and_war_lottery():
    s = make_scenario(
        [[0], [100], [80]], [[1], [1], [1]], [0.5, 1.0, 0.5], status_quo=[40],
        bloc=["east", "west", "west"],
        outside_option=[{"kind": "war", "optimism": 1.2, "cost": 0.05},
                        {"kind": "reservation", "value": 0.3}, {"kind": "status_quo"}],
    )
    d = disagreement_values(s)
    p = min(1.0, 1.2 * 0.5 / (0.5 + 1.5))
    opposing = (1.0 * 100 + 0.5 * 80) / 1.5  # capability-weighted mean of the other bloc
    assert war_win_probability(s, 0) == pytest.approx(p)
    war = p * 1 + (1 - p) * (1 - opposing / 100) - 0.05
    assert war_values(s)[0] == pytest.approx(war) and np.isnan(war_values(s)[1:]).all()
    # 0.297 is below the status quo's 0.6: a war the actor would not start is no outside option
    assert war < 1 - 40 / 100 and d[0] == pytest.approx(1 - 40 / 100)
    assert d[1] == 0.3 and d[2] == pytest.approx(1 - 40 / 100)
    assert war_win_probability(s, 0, optimism=100.0) == 1.0  # perceived p is capped


def test_symmetric_two_actor_linear_case_gives_the_midpoint():
    s = make_scenario([[0], [100]], [[1], [1]], [1, 1],
                      outside_option=[{"kind": "reservation", "value": 0.0}] * 2)
    assert nash_solution(s)[0] == pytest.approx(50.0, abs=1e-5)
    assert kalai_smorodinsky(s)[0] == pytest.approx(50.0, abs=1e-5)


def test_nash_with_distant_disagreement_approaches_the_compromise():
    rng = np.random.default_rng(4)
    positions = rng.uniform(0, 100, (4, 3))
    saliences = rng.uniform(0.1, 1.0, (4, 3))
    saliences /= saliences.sum(axis=1, keepdims=True)  # equal totals: w = s, so Nash -> c·s mean
    s = make_scenario(positions, saliences, [1.0, 0.4, 0.7, 0.2], risk=[2, 2, 2, 2])
    target = compromise(s.positions, s.capabilities[:, None] * s.saliences)
    gaps = [np.abs(nash_solution(s, np.full(4, -d)) - target).max() for d in (1.0, 10.0, 1000.0)]
    assert gaps[0] > gaps[1] > gaps[2] and gaps[2] < 0.05


def test_empty_range_has_no_nash_point():
    s = make_scenario([[0], [100]], [[1], [1]], [1, 1],
                      outside_option=[{"kind": "reservation", "value": 0.6}] * 2)  # u1 + u2 = 1 < 1.2
    assert nash_solution(s) is None and kalai_smorodinsky(s) is None
    assert bargaining_range(s) == 0.0


def test_a_range_of_one_point_where_nobody_gains_is_that_point():
    from sim.kernels.solutions import no_gain_actors

    s = make_scenario([[0], [100]], [[1], [1]], [1, 1], status_quo=[50])  # u1 + u2 = 1, d = 0.5 each
    assert nash_solution(s)[0] == pytest.approx(50.0) and kalai_smorodinsky(s)[0] == pytest.approx(50.0)
    assert no_gain_actors(s) == ["a0", "a1"]


@given(scenarios(max_actors=4, max_issues=3))
def test_nash_is_pareto_efficient_and_undominated(scenario):
    d = np.zeros(scenario.n_actors)
    nash = nash_solution(scenario, d)
    assert nash is not None
    assert np.all(nash >= scenario.lower - 1e-9) and np.all(nash <= scenario.upper + 1e-9)
    check = pareto_check(scenario, nash)
    assert check.efficient, check.distance
    values = scenario_utilities(scenario, sample_bundles(scenario, 2048))
    at_nash = scenario_utilities(scenario, nash)[:, None]
    dominates = np.all(values >= at_nash - 1e-9, axis=0) & np.any(values > at_nash + 1e-6, axis=0)
    assert not dominates.any()


@given(scenarios(max_actors=4, max_issues=3))
def test_inefficient_points_are_reported_with_a_dominating_bundle(scenario):
    sample = sample_bundles(scenario, 64)
    values = scenario_utilities(scenario, sample)
    for z, u in zip(sample[:8], values.T[:8]):
        check = pareto_check(scenario, z)
        if check.efficient:  # then nothing in the sample may dominate it
            dominated = np.all(values >= u[:, None] - 1e-9, axis=0) & np.any(values > u[:, None] + 1e-6, axis=0)
            assert not dominated.any()
        else:
            better = scenario_utilities(scenario, check.improvement)
            assert np.all(better >= u - 1e-7) and better.sum() > u.sum()


def test_frontier_points_are_efficient():
    s = make_scenario([[0, 100, 30], [100, 0, 70], [50, 50, 0]], [[1, .2, .5], [.3, 1, .5], [.5, .5, 1]],
                      [1, 1, 1])
    for z in pareto_frontier(s, 16)[:16]:
        assert pareto_check(s, z).efficient


def test_raising_optimism_never_enlarges_the_bargaining_range():
    shares = []
    for optimism in (0.5, 1.0, 2.0, 4.0):
        s = make_scenario([[0, 0], [100, 80]], [[1, .3], [.4, 1]], [0.6, 1.0], status_quo=[70, 90],
                          bloc=["east", "west"],
                          outside_option=[{"kind": "war", "optimism": optimism, "cost": 0.1},
                                          {"kind": "status_quo"}])
        shares.append(bargaining_range(s))
    assert all(a >= b for a, b in zip(shares, shares[1:])) and shares[0] > shares[-1]
