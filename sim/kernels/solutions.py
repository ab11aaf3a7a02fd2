"""Reference solutions (MODEL.md §5): compromise, weighted median, Nash, Kalai–Smorodinsky, Pareto.

Compromise and median are closed forms per issue. The bundle-level solutions are programs over the
mixed domain — the levels of discrete issues, the box on continuous ones — with every switched-on red
line and package rule and values as expectations under credibility (:mod:`sim.kernels.programs`): with
ρ_i ≥ 1 every value is concave in the bundle, so the Kalai–Smorodinsky point and the Pareto check are
(mixed-integer) linear programs solved exactly by HiGHS, and the Nash product is maximised by tangent
cuts on its logarithm, then (linear utilities) Newton's method on the optimum's face
(:mod:`sim.kernels.programs.nash`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.domain.cache import memo
from sim.kernels.programs import Consent, Program, value_model
from sim.kernels.programs.best import best_values as warm_best_values
from sim.domain.scenario import Scenario
from sim.kernels.utility import disagreement_values, utilities

TOLERANCE = 1e-7
GAIN_TOLERANCE = 1e-9  # an actor whose best individually rational value is within this of d gains nothing


# --------------------------------------------------------------------------------------------------
# Per-issue closed forms
# --------------------------------------------------------------------------------------------------


def compromise(positions: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Weighted mean per issue, Σ_i w_ik x_ik / Σ_i w_ik (the compromise model with w = c·s).

    Args:
        positions: (N, K); weight: (N, K), e.g. capability[:, None] * salience.
    """
    total = weight.sum(axis=0)
    mean = np.divide((weight * positions).sum(axis=0), total,
                     out=positions.mean(axis=0), where=total > 0)
    return mean


def weighted_median(positions: np.ndarray, weight: np.ndarray, axis: int = 0) -> np.ndarray:
    """Weighted median per issue: the position that beats every other in pairwise weighted votes.

    When the cumulative weight hits exactly one half at a position, the median is the whole interval
    up to the next position and we return its midpoint (so the result is symmetric under
    reflection; two equal actors at 0 and 100 give 50). Where every weight is zero: the plain median.

    Args:
        positions: (N, K), or any shape with the actors on ``axis`` (e.g. (runs, N, K) with
            ``axis=-2``); weight: broadcastable to it.
    """
    # Actors on the last axis, one row per (leading index, issue): sorts, sums and picks along rows.
    rows = np.moveaxis(positions, axis, -1)
    shape, count = rows.shape[:-1], rows.shape[-1]
    rows = rows.reshape(-1, count)
    weights = np.moveaxis(np.broadcast_to(weight, positions.shape), axis, -1).reshape(rows.shape)
    order = np.argsort(rows, axis=1, kind="stable")
    index = np.arange(len(rows))[:, None]
    xs, ws = rows[index, order], weights[index, order]
    cumulative = np.cumsum(ws, axis=1)
    total = cumulative[:, -1]
    half = 0.5 * total
    slack = 1e-12 * np.maximum(total, 1e-300)
    first = np.argmax(cumulative >= (half - slack)[:, None], axis=1)
    row = index[:, 0]
    value = xs[row, first]
    at_half = np.abs(cumulative[row, first] - half) <= slack
    has_next = first < count - 1
    following = xs[row, np.minimum(first + 1, count - 1)]
    value = np.where(at_half & has_next, 0.5 * (value + following), value).reshape(shape)
    total = total.reshape(shape)
    if np.all(total > 0):  # the fallback only where it is needed (np.median costs more than all the rest)
        return value
    return np.where(total > 0, value, np.median(positions, axis=axis))


def scenario_compromise(scenario: Scenario) -> np.ndarray:
    """Compromise (c·s-weighted mean) of a scenario, per issue."""
    return compromise(scenario.positions, scenario.capabilities[:, None] * scenario.saliences)


def scenario_median(scenario: Scenario) -> np.ndarray:
    """c·s-weighted median of a scenario, per issue."""
    return weighted_median(scenario.positions, scenario.capabilities[:, None] * scenario.saliences)


# --------------------------------------------------------------------------------------------------
# Samples of the bundle space
# --------------------------------------------------------------------------------------------------


def sobol(dimensions: int, count: int, seed: int) -> np.ndarray:
    """``count`` scrambled Sobol points in [0, 1)^d (drawn as a power of two, then truncated)."""
    from scipy.stats import qmc  # scipy.stats costs about a second to import: only when sampling

    power = max(0, int(np.ceil(np.log2(max(count, 1)))))
    return qmc.Sobol(d=dimensions, scramble=True, seed=seed).random_base2(power)[:count]


def sample_bundles(scenario: Scenario, count: int = 4096, seed: int = 12345) -> np.ndarray:
    """A fixed scrambled-Sobol sample of the bundle space, shape (count, K), snapped to levels.

    The seed is fixed on purpose: the bargaining-range share must not vary between replicates.
    With a budget (divisible pie) the budget issues are drawn uniformly from the simplex.
    """
    k_count = scenario.n_issues
    points = sobol(k_count, count, seed)
    bundles = scenario.lower + points * scenario.spans
    if scenario.budget_issues:
        bundles = _project_budget(scenario, bundles, points)
    return scenario.snap(bundles)


def _project_budget(scenario: Scenario, bundles: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Map unit-cube points to the budget simplex (sorted-spacings method, uniform on the simplex)."""
    columns = [scenario.issue_ids.index(i) for i in scenario.budget_issues]
    m = len(columns)
    if m == 1:
        bundles[:, columns[0]] = scenario.budget_total
        return bundles
    cuts = np.sort(points[:, columns[:-1]], axis=1)
    edges = np.concatenate([np.zeros((len(points), 1)), cuts, np.ones((len(points), 1))], axis=1)
    shares = np.diff(edges, axis=1)
    bundles[:, columns] = shares * scenario.budget_total
    return bundles


def pareto_mask(values: np.ndarray, tolerance: float = 1e-12) -> np.ndarray:
    """Boolean (M,): which columns of utilities (N, M) no other column dominates."""
    n, m = values.shape
    keep = np.ones(m, dtype=bool)
    order = np.argsort(-values.sum(axis=0))
    pts = values.T[order]
    survivors: list[int] = []
    for position, point in enumerate(pts):
        if survivors:
            others = pts[survivors]
            dominated = np.all(others >= point - tolerance, axis=1) & np.any(others > point + tolerance, axis=1)
            if dominated.any():
                keep[order[position]] = False
                continue
        survivors.append(position)
    return keep


def weighted_sum_optima(scenario: Scenario, lambdas: np.ndarray) -> np.ndarray:
    """Bundles maximising Σ_i λ_i u_i for each row of ``lambdas`` (M, N) → (M, K).

    Per issue this is a 1-D problem: the weighted median of ideal points (ρ = 1), the weighted mean
    (ρ = 2), or a golden-section search (other ρ ≥ 1), all vectorised over M. With concave utilities
    these maximisers trace the whole Pareto frontier. Budget scenarios are not separable; use
    :func:`pareto_frontier`, which samples instead.
    """
    x, w, rho = scenario.positions, scenario.weights, scenario.risk_exponents
    weight = lambdas[:, :, None] * w[None, :, :] / (scenario.spans ** rho[:, None])[None]  # (M, N, K)
    weight = np.swapaxes(weight, 0, 1)  # (N, M, K)
    positions = np.broadcast_to(x[:, None, :], weight.shape)
    if np.all(rho == 1.0):
        return weighted_median(positions, weight)
    if np.all(rho == 2.0):
        return compromise(positions, weight)
    low = np.broadcast_to(scenario.lower, weight.shape[1:]).copy()
    high = np.broadcast_to(scenario.upper, weight.shape[1:]).copy()

    def loss(z: np.ndarray) -> np.ndarray:
        return (weight * np.abs(z[None] - positions) ** rho[:, None, None]).sum(axis=0)

    golden = (np.sqrt(5.0) - 1.0) / 2.0
    for _ in range(80):
        a = high - golden * (high - low)
        b = low + golden * (high - low)
        left = loss(a) < loss(b)
        high = np.where(left, b, high)
        low = np.where(left, low, a)
    best = 0.5 * (low + high)
    # ρ < 1 makes the loss concave between ideal points: compare with the ideal points themselves.
    candidates = np.concatenate([best[None], np.broadcast_to(x[:, None, :], (len(x),) + best.shape)])
    scores = np.stack([loss(c) for c in candidates])
    return np.take_along_axis(candidates, scores.argmin(axis=0)[None], axis=0)[0]


def pareto_frontier(scenario: Scenario, count: int = 512, seed: int = 7) -> np.ndarray:
    """Bundles on (or, with a budget, sampled near) the Pareto frontier, shape (M, K).

    Without a budget: weighted-sum maximisers for quasi-random weights on the simplex, plus each
    actor's ideal point (exact frontier points for concave utilities). With a budget: the
    non-dominated members of a quasi-random sample of the feasible set.
    """
    if scenario.budget_issues:
        sample = sample_bundles(scenario, count=max(count, 1024), seed=seed)
        values = utilities(sample, scenario.positions, scenario.weights, scenario.spans,
                           scenario.risk_exponents)
        return sample[pareto_mask(values)]
    n = scenario.n_actors
    raw = sobol(n, count, seed)
    lambdas = -np.log(np.clip(raw, 1e-12, 1.0))  # exponential spacings → uniform on the simplex
    lambdas /= lambdas.sum(axis=1, keepdims=True)
    lambdas = np.concatenate([lambdas, np.eye(n) + 1e-6])
    return scenario.snap(weighted_sum_optima(scenario, lambdas))


# --------------------------------------------------------------------------------------------------
# Programs over the mixed domain (sim.kernels.programs): Nash, Kalai–Smorodinsky, Pareto check, range
# --------------------------------------------------------------------------------------------------


def _program(scenario: Scenario, floors: np.ndarray, ignore_rules: np.ndarray | None = None) -> Program:
    """Every actor's consent, at ``floors``, with every switched-on rule (reference solutions)."""
    return Program(scenario, value_model(scenario), Consent("fixed", np.ones(scenario.n_actors, bool)),
                   floors, ignore_rules=ignore_rules)


def best_values(scenario: Scenario, disagreement: np.ndarray) -> np.ndarray:
    """u*_i: the most each actor can get while every other keeps at least its d and every rule
    holds (the ideal point of Kalai–Smorodinsky); -inf for all when no bundle satisfies everyone."""
    return np.array(_best_cached(scenario, tuple(disagreement)))


#: Solve the N best-value programs one by one, each built and solved cold (:func:`_best_cold`): the previous
#: path, kept for the benchmark (``python -m experiments.bench workloads``) and the equality tests.
COLD_BEST = False


# Memoised by content: the scenario's digest and the numbers asked about (sweeps repeat scenarios).
@memo(256, key=lambda scenario, d: (scenario.digest, d))
def _best_cached(scenario: Scenario, d: tuple) -> tuple:
    d_arr = np.array(d)
    if COLD_BEST or not np.all(scenario.risk_exponents == 1.0):  # ρ > 1: cuts change the rows per actor
        return _best_cold(scenario, d_arr)
    # One model with every floor; per actor its value as the objective and its own floor row relaxed,
    # re-solved warm (sim.kernels.programs.best).
    best = warm_best_values(_program(scenario, d_arr))
    return tuple([-np.inf] * scenario.n_actors) if best is None else tuple(best)


def _best_cold(scenario: Scenario, d_arr: np.ndarray) -> tuple:
    """u* by one program per actor, each built and solved cold."""
    best = []
    for i in range(scenario.n_actors):
        floors = d_arr.copy()
        floors[i] = -np.inf
        objective = np.zeros(scenario.n_actors)
        objective[i] = 1.0
        solution = _program(scenario, floors).maximise(objective)
        if solution is None:
            return tuple([-np.inf] * scenario.n_actors)
        best.append(float(solution.values[i]))
    return tuple(best)


def no_gain_actors(scenario: Scenario, disagreement: np.ndarray | None = None) -> list[str]:
    """Actors whose best individually rational bundle gives no more than their outside option (an
    ideal point at the status quo, say): the Nash product leaves them out (they keep d_i)."""
    d = disagreement_values(scenario) if disagreement is None else np.asarray(disagreement, float)
    best = best_values(scenario, d)
    if not np.all(np.isfinite(best)):
        return []
    return [a for a, b, v in zip(scenario.actor_ids, best, d) if b <= v + GAIN_TOLERANCE]


def nash_solution(scenario: Scenario, disagreement: np.ndarray | None = None,
                  alpha: np.ndarray | None = None) -> np.ndarray | None:
    """Asymmetric Nash bargaining solution: argmax Π_i (u_i(z) − d_i)^{α_i} (MODEL.md §5), over the
    mixed domain (levels of discrete issues), with every switched-on red line and package rule and
    values as expectations under credibility. Actors with nothing to gain (:func:`no_gain_actors`)
    are kept at their d_i and left out of the product, so the solution exists whatever the status quo.

    Args:
        disagreement: d (N,), default :func:`sim.kernels.utility.disagreement_values`.
        alpha: bargaining weights (N,), default the capabilities.

    Returns:
        The bundle (K,), or None when no bundle gives every actor at least d_i (empty range).
    """
    d = disagreement_values(scenario) if disagreement is None else np.asarray(disagreement, float)
    alpha = scenario.capabilities if alpha is None else np.asarray(alpha, float)
    return _nash_cached(scenario, tuple(d), tuple(alpha))


@memo(256, key=lambda scenario, d, alpha: (scenario.digest, d, alpha))
def _nash_cached(scenario: Scenario, d: tuple, alpha: tuple) -> np.ndarray | None:
    d_arr, alpha_arr = np.array(d), np.array(alpha)
    best = best_values(scenario, d_arr)
    if not np.all(np.isfinite(best)):
        return None
    gains = np.where(best > d_arr + GAIN_TOLERANCE, alpha_arr, 0.0)
    program = _program(scenario, d_arr)
    if not gains.any():  # nobody can gain: any individually rational bundle; the status quo if it is one
        solution = program.maximise(np.zeros(scenario.n_actors))
        return None if solution is None else solution.bundle
    solution = program.maximise_nash(gains, d_arr)
    return None if solution is None else solution.bundle


def kalai_smorodinsky(scenario: Scenario, disagreement: np.ndarray | None = None) -> np.ndarray | None:
    """Kalai–Smorodinsky solution: the individually rational bundle maximising min_i
    (u_i − d_i)/(u*_i − d_i), u*_i the best i can get with everyone else at least at d (MODEL.md §5),
    over the mixed domain with every switched-on rule; then pushed on to the Pareto frontier.

    Returns None when the bargaining range is empty.
    """
    d = disagreement_values(scenario) if disagreement is None else np.asarray(disagreement, float)
    return _ks_cached(scenario, tuple(d))


@memo(256, key=lambda scenario, d: (scenario.digest, d))
def _ks_cached(scenario: Scenario, d: tuple) -> np.ndarray | None:
    d_arr = np.array(d)
    best = best_values(scenario, d_arr)
    if not np.all(np.isfinite(best)):
        return None
    reach = np.maximum(best - d_arr, 1e-12)
    found = _program(scenario, d_arr).maximise_ray(reach)
    if found is None:
        return None
    solution, _ = found
    # Ties on the min can leave slack for others: push on to the frontier without hurting anyone.
    floor = solution.values - 1e-9
    pushed = _program(scenario, floor).maximise(np.ones(scenario.n_actors))
    return solution.bundle if pushed is None else pushed.bundle


@dataclass(frozen=True)
class ParetoCheck:
    """Result of :func:`pareto_check`: efficient within tolerance, and the mean utility gain per
    actor that some other bundle offers without making anyone worse off (0 on the frontier)."""

    efficient: bool
    distance: float
    improvement: np.ndarray  # the dominating bundle found (equals the input when efficient)


def pareto_check(scenario: Scenario, bundle: np.ndarray, tolerance: float = 1e-6) -> ParetoCheck:
    """Is ``bundle`` Pareto-efficient? Solves max Σ_i V_i(z) s.t. V_i(z) >= V_i(bundle) ∀i over the
    mixed domain, among the bundles every actor accepts whose rules ``bundle`` itself respects."""
    bundle = np.asarray(bundle, dtype=float)
    return _pareto_cached(scenario, tuple(np.round(bundle, 12)), tolerance)


@memo(4096, key=lambda scenario, bundle, tolerance: (scenario.digest, bundle, tolerance))
def _pareto_cached(scenario: Scenario, bundle: tuple, tolerance: float) -> ParetoCheck:
    z0 = np.array(bundle)
    values = value_model(scenario)
    floor = values(z0)
    n = scenario.n_actors
    respected = scenario.allowed(z0)
    solution = _program(scenario, floor - 1e-12, ignore_rules=~respected).maximise(np.ones(n))
    if solution is None:  # off the domain (e.g. between the levels of a discrete issue): no verdict
        return ParetoCheck(True, 0.0, z0)
    gain = max(0.0, float((solution.values - floor).sum()) / n)
    return ParetoCheck(gain <= tolerance, gain, solution.bundle if gain > tolerance else z0)


def bargaining_range(scenario: Scenario, disagreement: np.ndarray | None = None,
                     consenting: np.ndarray | None = None, count: int = 4096) -> float:
    """Share of the bundle space (its discrete levels, the box on continuous issues) that every
    consenting actor prefers to its outside option (V_i(z) >= d_i) and that breaks none of their
    switched-on rules, estimated on the fixed quasi-random sample of :func:`sample_bundles`
    (cached per scenario: sweeps ask for it once per run). See :func:`bargaining_range_empty` for
    the exact emptiness test."""
    d = disagreement_values(scenario) if disagreement is None else np.asarray(disagreement, float)
    mask = np.ones(scenario.n_actors, bool) if consenting is None else np.asarray(consenting, bool)
    return _range_cached(scenario, tuple(d), tuple(mask), count)


#: How far below its outside option an actor's best value u*_i may be read and the range still count as
#: not empty: HiGHS's primal feasibility tolerance (1e-7), on values of scale 1.
RANGE_TOLERANCE = 1e-7


def bargaining_range_empty(scenario: Scenario, disagreement: np.ndarray | None = None) -> bool:
    """Exactly: is there no bundle that every actor prefers (weakly) to its outside option, within
    every switched-on rule? (A program, not the sample.)

    u*_i (:func:`best_values`) is the most actor i can get with every *other* actor at least at its d and
    every rule kept; its own floor is not in its program. So the range is empty when no such bundle exists
    (u* = -inf) and also when one does but gives i less than d_i: with u1 + u2 = 1 and d = (0.7, 0.7) each
    u*_i is 0.3. Some bundle gives everyone at least d exactly when every u*_i >= d_i."""
    d = disagreement_values(scenario) if disagreement is None else np.asarray(disagreement, float)
    best = best_values(scenario, d)
    return not (np.all(np.isfinite(best)) and np.all(best >= d - RANGE_TOLERANCE))


@memo(1024, key=lambda scenario, d, mask, count: (scenario.digest, d, mask, count))
def _range_cached(scenario: Scenario, d: tuple, mask: tuple, count: int) -> float:
    values, allowed = _sample_values(scenario, count)
    mask_arr = np.array(mask)
    inside = np.all((values >= np.array(d)[:, None]) & allowed, axis=0, where=mask_arr[:, None])
    return float(inside.mean())


@memo(64, key=lambda scenario, count: (scenario.digest, count))
def _sample_values(scenario: Scenario, count: int) -> tuple[np.ndarray, np.ndarray]:
    sample = sample_bundles(scenario, count)
    return value_model(scenario)(sample), scenario.allowed(sample)
