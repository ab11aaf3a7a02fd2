"""Random offers on the hot path (``sim.kernels.programs.solvers.solve_hot``: one model per program
structure, presolve off, the combinations that cannot win skipped; an option, not the default: see
``solvers.HOT`` and the near-tie below) agree with the previous path to the
stated tolerance (docs/performance.md, "Random offers"): every run ends the same way (agreement, ending,
rounds, cause, the Pareto verdict and every other column that is not a float, bit for bit), and every float
column is within ``solvers.HOT_TOLERANCE`` (1e-8) times its scale (bundles on their 0-100 scales: 1e-6;
values: 1e-8). The rows are compared by :func:`sim.runs.bench.workloads.compare_offers_rows`, as the
benchmark compares them."""

from __future__ import annotations

from unittest import mock

import numpy as np
import pandas as pd
import pytest

import sim
from sim.domain.cache import clear_all
from sim.kernels.programs import Goal, Program, solvers
from sim.kernels.programs.builder import level_combinations
from sim.runs.bench.workloads import compare_offers_rows, offers_path

NOISY = {"order": "recognition", "belief_noise": 0.1}
MECHANISMS = [  # points of sweep=mechanisms: none of the four, red lines alone, credibility, power shift, all
    {"rules.red_lines": False, "rules.package": False},
    {"rules.package": False},
    {"rules.red_lines": False, "rules.package": False, "rules.credibility": True},
    {"rules.red_lines": False, "rules.package": False, "rules.power_shift": True},
    {"rules.credibility": True, "rules.power_shift": True},
]


def rows(path: str, rules: dict, params: dict, seeds) -> list[dict]:
    clear_all()  # each path solves its own programs (the answers are memoised by content)
    scenario = sim.load_scenario("jan2022", rules)
    with offers_path(path):
        results = [sim.run(scenario, "offers", protocol_params=params, seed=s, rounds=20) for s in seeds]
    return [row for result in results for row in result.runs.to_dict("records")]


def assert_within_tolerance(rules: dict, params: dict, seeds) -> dict:
    found = compare_offers_rows(rows("previous", rules, params, seeds), rows("hot", rules, params, seeds))
    assert found["compared"] == len(seeds)
    assert not found["exact_columns"], found  # same ending, agreement, rounds, cause for every run
    assert found["within"], found  # every number within HOT_TOLERANCE of its column's scale
    return found


@pytest.mark.parametrize("rules", MECHANISMS)
def test_mechanisms_runs_within_the_tolerance_of_the_previous_path(rules):
    assert_within_tolerance(rules, NOISY, range(5))


def test_round_robin_runs_without_noise_within_the_tolerance():
    """The shipped defaults: exact beliefs, so every offer sits on believed-and-true floors."""
    for rules in ({}, MECHANISMS[0], MECHANISMS[1]):
        assert_within_tolerance(rules, {}, range(1))


def test_the_paths_differ_at_all_somewhere():
    """The tolerance is not idle: on these runs the hot path's last digits move (or the test above would
    prove nothing about the tolerance it states)."""
    found = compare_offers_rows(rows("previous", MECHANISMS[0], NOISY, range(8)),
                                rows("hot", MECHANISMS[0], NOISY, range(8)))
    assert found["within"] and found["differ"] > 0
    assert max(found["columns"].values()) < solvers.HOT_TOLERANCE  # far inside it: ~1e-10 of a 0-100 scale


def test_a_wrong_hot_path_fails_the_comparison():
    """A deliberately wrong change must be caught: every answer's bundle moved by 1e-5 on one issue (1e-7 of
    its 0-100 scale, ten times the tolerance)."""
    original = solvers.solve_hot

    def wrong(program, goal, shortfall, combinations):
        answer = original(program, goal, shortfall, combinations)
        if answer is not None:
            answer.bundle[1] += 1e-5
        return answer

    with mock.patch.object(solvers, "solve_hot", wrong):
        found = compare_offers_rows(rows("previous", MECHANISMS[0], NOISY, range(3)),
                                    rows("hot", MECHANISMS[0], NOISY, range(3)))
    assert not found["within"]


def test_hot_answers_match_the_warm_answers_program_by_program():
    """The proposer's questions at many floors, both shortfall and not: the same feasibility, bundles within
    the tolerance (relative to each issue's span) and the same least slack."""
    scenario = sim.load_scenario("jan2022", {"rules.red_lines": False})
    values = sim.kernels.programs.value_model(scenario)
    consent = sim.kernels.programs.Consent("fixed", np.ones(scenario.n_actors, bool))
    rng = np.random.default_rng(0)
    compared = 0
    for p in range(scenario.n_actors):
        own = np.eye(scenario.n_actors, dtype=bool)[p]
        goal = Goal(weight=own.astype(float), tie=np.where(own, 0.0, 1e-6), own=own)
        base = Program(scenario, values, consent, np.full(scenario.n_actors, 0.5), rule_actors=own)
        combinations = level_combinations(base)
        assert len(combinations) > 1
        for _ in range(6):
            program = base.with_floors(rng.uniform(0.2, 0.9, scenario.n_actors))
            for shortfall in (False, True):
                warm = solvers.solve_warm(program, goal, shortfall, combinations)
                hot = solvers.solve_hot(program, goal, shortfall, combinations)
                assert (warm is None) == (hot is None)
                if warm is not None:
                    gap = np.abs(warm.bundle - hot.bundle) / scenario.spans
                    assert gap.max() <= solvers.HOT_TOLERANCE
                    assert abs(warm.shortfall - hot.shortfall) <= solvers.HOT_TOLERANCE
                    compared += 1
    assert compared > 20


def test_a_run_gives_the_same_row_alone_or_after_others():
    """Every call of the hot path starts from its passed model (no basis carried between calls), so a run's
    rows and events do not depend on what the process solved before: a sweep's row is the row its run gives
    alone (``python -m experiments.reproduce``, any number of workers)."""
    rules = MECHANISMS[0]
    scenario = sim.load_scenario("jan2022", rules)
    after = [sim.run(scenario, "offers", protocol_params=NOISY, seed=s, rounds=20, record_events=True)
             for s in range(4)][-1]
    clear_all()
    alone = sim.run(sim.load_scenario("jan2022", rules), "offers", protocol_params=NOISY, seed=3, rounds=20,
                    record_events=True)
    pd.testing.assert_frame_equal(after.runs, alone.runs, check_exact=True)
    pd.testing.assert_frame_equal(after.events, alone.events, check_exact=True)


SHIPPED = ["jan2022", "jan2022_core", "jan2022_extended", "jan2022_no_red_lines", "ec_emissions",
           "classroom/arms_control_first", "classroom/deadline_pressure", "classroom/neutral_ukraine",
           "classroom/united_vs_divided_west", "classroom/warmup_two_by_two"]


def events(path: str, name: str) -> list[dict]:
    clear_all()
    with offers_path(path):
        result = sim.run(sim.load_scenario(name), "offers", seed=3, rounds=20, record_events=True)
    return result.events.to_dict("records")


@pytest.mark.parametrize("name", SHIPPED)
def test_every_offer_of_a_shipped_scenario_is_the_previous_one_on_the_default_path(name):
    """Every offer made (the event log: each round's bundle, responses and values), not only the outcome row:
    the default path gives the previous path's, bit for bit."""
    found = compare_offers_rows(events("previous", name), events("new", name))
    assert found["compared"] > 0 and found["differ"] == 0, found


@pytest.mark.parametrize("name", [pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=(
    "a near-tie: in round 9 the U.S. is indifferent between inspections and drills and the others' values "
    "(the 1e-6 tie-break) tell the two vertices apart by 3.5e-8 of the objective, inside HiGHS's optimality "
    "tolerance (1e-7); the hot model offers the one worse for NATO and Ukraine, 15.25 points away")))
    if name == "jan2022_core" else name for name in SHIPPED])
def test_every_offer_of_a_shipped_scenario_within_the_tolerance_on_the_hot_path(name):
    """Why the hot path is not the default (solvers.HOT): on jan2022_core one offer differs beyond rounding."""
    found = compare_offers_rows(events("previous", name), events("hot", name))
    assert found["compared"] > 0
    assert not found["exact_columns"], found
    assert found["within"], found
