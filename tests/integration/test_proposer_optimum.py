"""The offers proposer's exact optimum (MODEL.md §4.2), checked against an independent solver on random
scenarios, and agreed bundles checked Pareto-efficient among what the consenting actors accept."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.optimize import linprog

import sim
from sim.engine.model import BargainingModel
from sim.domain.scenario import scenario_from_config
from sim.kernels.solutions import pareto_check
from sim.kernels.utility import scenario_utilities


def random_scenario(seed: int):
    """3 actors, 2 issues, linear utilities; sometimes a red line, a package rule, a discrete issue."""
    rng = np.random.default_rng(seed)
    issues = {f"i{k}": {"label": f"issue {k}", "status_quo": float(rng.uniform(0, 100))} for k in range(2)}
    if rng.random() < 0.5:
        issues["i1"]["levels"] = {"low": 0.0, "mid": float(rng.uniform(20, 80)), "high": 100.0}
        issues["i1"]["status_quo"] = 0.0
    actors = {}
    for i in range(3):
        actors[f"a{i}"] = {"capability": float(rng.uniform(0.2, 1)),
                           "position": {f"i{k}": float(rng.uniform(0, 100)) for k in range(2)},
                           "salience": {f"i{k}": float(rng.uniform(0.1, 1)) for k in range(2)}}
    if rng.random() < 0.5:
        low = float(rng.uniform(0, 60))
        actors["a1"]["red_lines"] = {"i0": {"min": low, "max": low + float(rng.uniform(10, 40))}}
    if rng.random() < 0.5:
        actors["a2"]["package"] = {"issues": ["i0", "i1"], "max": float(rng.uniform(30, 80))}
    return scenario_from_config({"id": f"random{seed}", "issues": issues, "actors": actors})


def oracle_best(scenario, proposer: int, floors: np.ndarray) -> float:
    """Max of the proposer's utility s.t. every other actor's utility >= its floor and every rule, by an
    independent formulation: each continuous issue's outcome as a convex combination of breakpoints
    (scale ends, ideal points, red-line bounds), between which every utility is linear, solved by an
    interior-point method; discrete issues by enumerating their levels. -inf if infeasible."""
    n, k = scenario.n_actors, scenario.n_issues
    lower, upper = scenario.lower.copy(), scenario.upper.copy()
    red_lo, red_hi = scenario.red_line_bounds
    lower, upper = np.maximum(lower, red_lo.max(axis=0)), np.minimum(upper, red_hi.min(axis=0))
    weights, pack_lo, pack_hi = scenario.package_rows
    choices = [[p for p in issue.choices if lower[j] - 1e-9 <= p <= upper[j] + 1e-9] if issue.discrete else [None]
               for j, issue in enumerate(scenario.issues)]
    best = -np.inf
    for combo in itertools.product(*choices):
        points = []
        for j in range(k):
            if combo[j] is not None:
                points.append(np.array([combo[j]]))
                continue
            candidates = np.concatenate([[lower[j], upper[j]], scenario.positions[:, j]])
            points.append(np.unique(candidates[(candidates >= lower[j]) & (candidates <= upper[j])]))
        sizes = [len(p) for p in points]
        offsets = np.cumsum([0] + sizes)
        loss = np.zeros((n, offsets[-1]))
        level = np.zeros((k, offsets[-1]))
        for j, p in enumerate(points):
            cols = slice(offsets[j], offsets[j + 1])
            loss[:, cols] = scenario.weights[:, [j]] * np.abs(p[None, :] - scenario.positions[:, [j]]) / scenario.spans[j]
            level[j, cols] = p
        a_eq = np.zeros((k, offsets[-1]))
        for j in range(k):
            a_eq[j, offsets[j]:offsets[j + 1]] = 1.0
        others = [i for i in range(n) if i != proposer]
        a_ub = [loss[i] for i in others]  # 1 - loss_i >= floor_i
        b_ub = [1.0 - floors[i] for i in others]
        for i in range(n):
            if np.isfinite(pack_hi[i]):
                a_ub.append(weights[i] @ level)
                b_ub.append(pack_hi[i])
        result = linprog(loss[proposer], A_ub=np.array(a_ub), b_ub=np.array(b_ub), A_eq=a_eq, b_eq=np.ones(k),
                         bounds=(0, None), method="highs-ipm")
        if result.status == 0:
            best = max(best, 1.0 - result.fun)
    return best


@pytest.mark.parametrize("seed", range(60))
def test_the_proposer_reaches_its_exact_optimum(seed):
    scenario = random_scenario(seed)
    model = BargainingModel(scenario, "offers", rounds=10, rng=seed)
    rng = np.random.default_rng(1000 + seed)
    floors = rng.uniform(0.3, 0.85, scenario.n_actors)
    proposer = seed % 3
    floors[proposer] = -np.inf
    expected = oracle_best(scenario, proposer, floors)
    program = model.protocol._program(proposer, floors, 0)
    objective = np.eye(3)[proposer]
    found = program.maximise(objective, np.where(objective == 0, 1e-9, 0.0))
    if not np.isfinite(expected):
        assert found is None
        return
    assert found is not None
    values = scenario_utilities(scenario, found.bundle)
    assert values[proposer] == pytest.approx(expected, abs=1e-6)
    others = np.arange(3) != proposer
    assert np.all(values[others] >= floors[others] - 1e-7)
    assert scenario.allowed(found.bundle).all()
    # and the offer the protocol makes is that optimum
    offer = model.protocol._best_offer(proposer, floors, 0)
    assert scenario_utilities(scenario, offer)[proposer] == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("seed", range(50))
def test_agreed_bundles_are_pareto_efficient_among_what_the_consenting_actors_accept(seed):
    scenario = random_scenario(seed)
    row = sim.run(scenario, protocol="offers", seed=seed, rounds=15, record_rounds=False).runs.iloc[0]
    if not row["agreement"]:
        return
    bundle = np.array([row[f"outcome_{i}"] for i in scenario.issue_ids])
    assert scenario.allowed(bundle).all()
    check = pareto_check(scenario, bundle)
    assert check.efficient, check.distance


def test_enough_random_scenarios_reach_agreement():
    agreed = sum(bool(sim.run(random_scenario(seed), protocol="offers", seed=seed, rounds=15,
                               record_rounds=False).runs.iloc[0]["agreement"]) for seed in range(50))
    assert agreed >= 25
