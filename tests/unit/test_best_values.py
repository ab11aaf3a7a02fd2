"""The best values u*_i (sim.kernels.programs.best: one model, warm re-solves per actor) against the N cold
programs they replaced (one build and cold solve per actor, ``solutions.COLD_BEST``).

Tolerance: the same feasibility (an empty range stays empty), the same actors with nothing to gain, and
u* equal to 1e-12. The two are not always bitwise equal: a warm simplex can stop at another vertex of the
same optimal face, or at the same vertex with other rounding, and u*_i is read from that bundle; measured
differences are at most 3.6e-15 (jan2022_core with its own outside options; 3.3e-16 at 100 actors), a
thousand times under 1e-12 and a million times under the no-gain tolerance (1e-9), so no actor can change
side.
"""

from __future__ import annotations

from unittest import mock

import numpy as np
import pytest

import sim
from sim.domain.cache import clear_all
from sim.domain.scenario import scenario_from_config
from sim.kernels import solutions
from sim.kernels.programs import highs
from sim.kernels.programs.builder import level_combinations
from sim.kernels.utility import disagreement_values, status_quo_values
from sim.runs.bench.timing import random_problem, random_scenario

SHIPPED = ["ec_emissions", "jan2022", "jan2022_core", "jan2022_extended", "jan2022_no_red_lines",
           "pie_majority", "pie_two", "classroom/united_vs_divided_west"]
TOLERANCE = 1e-12


def _both(scenario, d):
    clear_all()
    with mock.patch.object(solutions, "COLD_BEST", True):
        old = solutions.best_values(scenario, d)
    clear_all()
    new = solutions.best_values(scenario, d)
    clear_all()
    return old, new


def _agree(scenario, d):
    old, new = _both(scenario, d)
    assert np.array_equal(np.isfinite(old), np.isfinite(new))
    np.testing.assert_allclose(new[np.isfinite(new)], old[np.isfinite(old)], atol=TOLERANCE, rtol=0)
    np.testing.assert_array_equal(new <= d + solutions.GAIN_TOLERANCE, old <= d + solutions.GAIN_TOLERANCE)
    return new


def _discrete(actors: int, issues: int, seed: int):
    """Every issue but the second on levels (5 or 3 of them): more combinations than are enumerated, so the
    programs are mixed-integer; a red line and an outside option for every third actor."""
    positions, saliences, capabilities = random_problem(actors, issues, seed)
    config = {"id": f"discrete{seed}", "issues": {}, "actors": {}}
    for k in range(issues):
        issue = {"label": f"i{k}", "status_quo": 50.0, "scale": [0, 100]}
        if k != 1:
            issue["levels"] = ({"a": 0, "b": 25, "c": 50, "d": 75, "e": 100} if k % 2 == 0
                               else {"a": 0, "c": 50, "e": 100})
        config["issues"][f"i{k}"] = issue
    for a in range(actors):
        actor = {"capability": float(capabilities[a]),
                 "position": {f"i{k}": float(positions[a, k]) for k in range(issues)},
                 "salience": {f"i{k}": float(saliences[a, k]) for k in range(issues)}}
        if a % 3 == 0:
            actor["red_lines"] = {"i0": {"min": 40}}
            actor["outside_option"] = {"kind": "reservation", "value": 0.4}
        config["actors"][f"a{a}"] = actor
    return scenario_from_config(config)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_scenarios_best_values_agree_with_the_cold_programs(name):
    scenario = sim.load_scenario(name)
    for d in (disagreement_values(scenario), status_quo_values(scenario), np.zeros(scenario.n_actors)):
        _agree(scenario, d)


@pytest.mark.parametrize("seed", range(6))
def test_random_scenarios_best_values_agree_with_the_cold_programs(seed):
    scenario = random_scenario(3 + seed, 2 + seed % 4, seed)
    n = scenario.n_actors
    for d in (disagreement_values(scenario), np.full(n, 0.2), np.full(n, 0.9)):
        _agree(scenario, d)


@pytest.mark.parametrize("actors, issues, seed", [(6, 5, 2), (5, 3, 4)])
def test_level_combinations_and_mixed_integer_programs_agree_with_the_cold_programs(actors, issues, seed):
    scenario = _discrete(actors, issues, seed)
    d = disagreement_values(scenario)
    combinations = level_combinations(solutions._program(scenario, d))
    assert (combinations == [None]) == (issues == 5)  # 5 issues: branch and bound; 3: enumerated levels
    for floors in (d, status_quo_values(scenario), np.full(actors, 0.95)):
        _agree(scenario, floors)


def test_an_empty_range_stays_empty():
    """Nobody can be kept at 0.99 while another actor moves: every u* is -inf, both ways."""
    scenario = random_scenario(5, 3, 1)
    new = _agree(scenario, np.full(5, 0.99))
    assert np.all(np.isneginf(new))
    assert solutions.bargaining_range_empty(scenario, np.full(5, 0.99))


def test_each_actor_is_free_of_its_own_floor_only():
    """u1 + u2 = 1 and both floors at 0.7: no bundle keeps both, yet each actor's own program (the other at
    0.7) has an answer, 0.3; the warm path relaxes only the actor's own floor row, as the cold one leaves it
    out."""
    from tests.support import make_scenario

    scenario = make_scenario([[0], [100]], [[1], [1]], [1, 1], status_quo=[50])
    d = np.array([0.7, 0.7])
    np.testing.assert_allclose(_agree(scenario, d), [0.3, 0.3], atol=1e-12)
    d = np.array([0.7, 0.2])  # both floors met by some bundle: 0.8 and 0.3
    np.testing.assert_allclose(_agree(scenario, d), [0.8, 0.3], atol=1e-12)


def test_the_range_is_empty_when_an_actors_best_falls_short_of_its_own_outside_option():
    """u1 + u2 = 1: the range {u >= d} is empty exactly when d1 + d2 > 1, although each actor's best value (the
    other kept at its d) is finite there; Nash and Kalai-Smorodinsky, which need a bundle in the range, agree."""
    from tests.support import make_scenario

    scenario = make_scenario([[0], [100]], [[1], [1]], [1, 1], status_quo=[50])
    for d, empty in (((0.7, 0.7), True), ((0.7, 0.31), True), ((0.7, 0.3), False), ((0.5, 0.5), False),
                     ((0.7, 0.2), False), ((0.0, 0.0), False)):
        d = np.array(d)
        assert np.all(np.isfinite(solutions.best_values(scenario, d)))
        assert solutions.bargaining_range_empty(scenario, d) is empty, d
        assert (solutions.nash_solution(scenario, d) is None) is empty, d
        assert (solutions.kalai_smorodinsky(scenario, d) is None) is empty, d


def test_the_program_is_passed_to_highs_once_for_every_actor():
    """The point of the warm path: one model for all N actors (the cold path passes one per actor)."""
    scenario = random_scenario(12, 4, 3)
    d = disagreement_values(scenario)
    calls = []
    real = highs.load

    def counting(b, cost):
        calls.append(len(b.lower))
        return real(b, cost)

    clear_all()
    with mock.patch.object(highs, "load", counting):
        solutions.best_values(scenario, d)
        assert len(calls) == 1
        clear_all()
        with mock.patch.object(solutions, "COLD_BEST", True):
            solutions.best_values(scenario, d)
    assert len(calls) == 1 + scenario.n_actors
    clear_all()


def test_risk_exponents_above_one_keep_the_cold_programs():
    """ρ > 1: the tangent cuts change the rows per actor, so each actor's program is solved on its own."""
    from tests.support import make_scenario

    scenario = make_scenario([[0, 100], [100, 0], [40, 60]], [[1, .25], [.5, .5], [.3, 1]], [1, 1, 1],
                             risk=[1, 2, 1])
    d = disagreement_values(scenario)
    old, new = _both(scenario, d)
    np.testing.assert_array_equal(new, old)
    assert np.all(new >= d - 1e-9)
