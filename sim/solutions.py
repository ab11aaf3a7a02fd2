"""Reference solutions (MODEL.md §5): compromise, weighted median, Nash, Kalai–Smorodinsky, Pareto.

Compromise and median are closed forms per issue. The bundle-level solutions solve convex programs:
with ρ_i ≥ 1 every u_i is concave in the bundle, so the Nash product, the Kalai–Smorodinsky point and
the Pareto check are concave maximisations. We solve them exactly in the epigraph form
``t_ik >= |z_k − x_ik|`` (smooth, linear constraints) with SLSQP, starting from the best of a
quasi-random sample, so kinks of the linear (ρ = 1) utilities do not trouble the optimiser.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.optimize import minimize
from scipy.stats import qmc

from sim.scenario import Scenario
from sim.utility import disagreement_values, utilities

TOLERANCE = 1e-7


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


def weighted_median(positions: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Weighted median per issue: the position that beats every other in pairwise weighted votes.

    When the cumulative weight hits exactly one half at a position, the median is the whole interval
    up to the next position and we return its midpoint (so the result is symmetric under
    reflection; two equal actors at 0 and 100 give 50).

    Args:
        positions: (N, K) (or (N, M, K): any leading actor axis 0); weight: same shape.
    """
    order = np.argsort(positions, axis=0, kind="stable")
    xs = np.take_along_axis(positions, order, axis=0)
    ws = np.take_along_axis(np.broadcast_to(weight, positions.shape), order, axis=0)
    cumulative = np.cumsum(ws, axis=0)
    total = cumulative[-1]
    half = 0.5 * total
    slack = 1e-12 * np.maximum(total, 1e-300)
    first = np.argmax(cumulative >= half - slack, axis=0)
    value = np.take_along_axis(xs, first[None], axis=0)[0]
    at_half = np.abs(np.take_along_axis(cumulative, first[None], axis=0)[0] - half) <= slack
    has_next = first < positions.shape[0] - 1
    following = np.take_along_axis(xs, np.minimum(first + 1, positions.shape[0] - 1)[None], axis=0)[0]
    value = np.where(at_half & has_next, 0.5 * (value + following), value)
    return np.where(total > 0, value, np.median(positions, axis=0))


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
# Convex programs over the bundle (epigraph form)
# --------------------------------------------------------------------------------------------------


@dataclass
class _Epigraph:
    """Variables v = [z (K), t (N·K)] with t_ik >= |z_k − x_ik|; u_i = 1 − Σ_k w_ik (t_ik/span_k)^ρ_i."""

    scenario: Scenario

    def __post_init__(self) -> None:
        s = self.scenario
        self.n, self.k = s.n_actors, s.n_issues
        self.x, self.w, self.rho, self.span = s.positions, s.weights, s.risk_exponents, s.spans

    def split(self, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return v[: self.k], v[self.k:].reshape(self.n, self.k)

    def start(self, z: np.ndarray) -> np.ndarray:
        return np.concatenate([z, (np.abs(z[None, :] - self.x) + 1e-9).ravel()])

    def utility(self, v: np.ndarray) -> np.ndarray:
        _, t = self.split(v)
        return 1.0 - (self.w * (np.maximum(t, 0) / self.span) ** self.rho[:, None]).sum(axis=1)

    def utility_jacobian(self, v: np.ndarray) -> np.ndarray:
        """d u_i / d v, shape (N, K + N·K)."""
        _, t = self.split(v)
        scaled = np.maximum(t, 0) / self.span
        grad_t = -self.w * self.rho[:, None] * scaled ** (self.rho[:, None] - 1.0) / self.span
        jac = np.zeros((self.n, self.k + self.n * self.k))
        for i in range(self.n):
            jac[i, self.k + i * self.k: self.k + (i + 1) * self.k] = grad_t[i]
        return jac

    def constraints(self) -> list[dict]:
        """t_ik − (z_k − x_ik) >= 0 and t_ik + (z_k − x_ik) >= 0, plus the budget equality."""
        n, k = self.n, self.k
        eye_z = np.tile(np.eye(k), (n, 1))  # (N·K, K)
        eye_t = np.eye(n * k)
        a_plus = np.hstack([-eye_z, eye_t])
        a_minus = np.hstack([eye_z, eye_t])
        b = self.x.ravel()
        cons = [
            {"type": "ineq", "fun": lambda v: a_plus @ v + b, "jac": lambda v: a_plus},
            {"type": "ineq", "fun": lambda v: a_minus @ v - b, "jac": lambda v: a_minus},
        ]
        s = self.scenario
        if s.budget_issues:
            row = np.zeros(k + n * k)
            row[[s.issue_ids.index(i) for i in s.budget_issues]] = 1.0
            cons.append({"type": "eq", "fun": lambda v: row @ v - s.budget_total,
                         "jac": lambda v: row[None, :]})
        return cons

    def bounds(self) -> list[tuple[float, float]]:
        s = self.scenario
        return list(zip(s.lower, s.upper)) + [(0.0, float(span)) for span in np.tile(self.span, self.n)]


def _candidates(scenario: Scenario) -> np.ndarray:
    """Start points: the fixed sample plus ideal points, status quo, compromise and frontier points."""
    extra = [scenario.positions, scenario.status_quo[None], scenario_compromise(scenario)[None]]
    sample = sample_bundles(scenario, 2048)
    if not scenario.budget_issues:
        extra.append(pareto_frontier(scenario, 256))
        return np.concatenate([sample] + extra)
    return sample


def nash_solution(scenario: Scenario, disagreement: np.ndarray | None = None,
                  alpha: np.ndarray | None = None) -> np.ndarray | None:
    """Asymmetric Nash bargaining solution: argmax Π_i (u_i(z) − d_i)^{α_i} (MODEL.md §5).

    Args:
        disagreement: d (N,), default :func:`sim.utility.disagreement_values`.
        alpha: bargaining weights (N,), default the capabilities.

    Returns:
        The bundle (K,), or None when no bundle gives every actor more than d_i (empty range).
    """
    d = disagreement_values(scenario) if disagreement is None else np.asarray(disagreement, float)
    alpha = scenario.capabilities if alpha is None else np.asarray(alpha, float)
    return _nash_cached(_key(scenario), tuple(d), tuple(alpha))


def _key(scenario: Scenario) -> "_ScenarioKey":
    return _ScenarioKey(scenario)


class _ScenarioKey:
    """Hashable wrapper so solutions are computed once per scenario (sweeps repeat scenarios)."""

    def __init__(self, scenario: Scenario):
        self.scenario = scenario
        self.digest = hash((
            scenario.positions.tobytes(), scenario.saliences.tobytes(), scenario.capabilities.tobytes(),
            scenario.risk_exponents.tobytes(), scenario.lower.tobytes(), scenario.upper.tobytes(),
            scenario.status_quo.tobytes(), scenario.budget_issues, scenario.budget_total,
            tuple(i.levels for i in scenario.issues),
        ))

    def __hash__(self) -> int:
        return self.digest

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _ScenarioKey) and self.digest == other.digest


@lru_cache(maxsize=256)
def _nash_cached(key: _ScenarioKey, d: tuple, alpha: tuple) -> np.ndarray | None:
    scenario = key.scenario
    d_arr, alpha_arr = np.array(d), np.array(alpha)
    candidates = _candidates(scenario)
    values = utilities(candidates, scenario.positions, scenario.weights, scenario.spans,
                       scenario.risk_exponents)
    surplus = values - d_arr[:, None]
    feasible = np.all(surplus > 0, axis=0)
    if not feasible.any():
        return None
    log_product = np.where(feasible, (alpha_arr[:, None] * np.log(np.where(surplus > 0, surplus, 1.0))).sum(axis=0), -np.inf)
    z0 = candidates[int(np.argmax(log_product))]
    problem = _Epigraph(scenario)

    def objective(v: np.ndarray) -> tuple[float, np.ndarray]:
        gap = np.maximum(problem.utility(v) - d_arr, 1e-12)
        value = -(alpha_arr * np.log(gap)).sum()
        grad = -(alpha_arr / gap) @ problem.utility_jacobian(v)
        return value, grad

    constraints = problem.constraints() + [{
        "type": "ineq", "fun": lambda v: problem.utility(v) - d_arr - 1e-12,
        "jac": problem.utility_jacobian}]
    result = minimize(objective, problem.start(z0), jac=True, method="SLSQP",
                      bounds=problem.bounds(), constraints=constraints,
                      options={"maxiter": 500, "ftol": 1e-13})
    z, _ = problem.split(result.x)
    z = np.clip(z, scenario.lower, scenario.upper)
    # Keep the optimiser's answer only if it is at least as good as the best sample point.
    def score(bundle: np.ndarray) -> float:
        gap = utilities(bundle, scenario.positions, scenario.weights, scenario.spans,
                        scenario.risk_exponents) - d_arr
        return float((alpha_arr * np.log(gap)).sum()) if np.all(gap > 0) else -np.inf
    return z if score(z) >= score(z0) - 1e-12 else z0


def _max_linear(scenario: Scenario, coefficient_u: np.ndarray, extra_var: bool,
                floor: np.ndarray, slope: np.ndarray, start: np.ndarray) -> tuple[np.ndarray, float]:
    """Maximise Σ_i coefficient_i u_i (+ s if ``extra_var``) subject to u_i >= floor_i + slope_i s.

    Returns (bundle, objective). Used for the ideal points of KS, the KS point and the Pareto check.
    With linear utilities (all ρ = 1) this is a linear program, solved exactly by HiGHS.
    """
    if np.all(scenario.risk_exponents == 1.0):
        return _max_linear_lp(scenario, coefficient_u, extra_var, floor, slope)
    problem = _Epigraph(scenario)
    size = problem.k + problem.n * problem.k

    def unpack(v: np.ndarray) -> tuple[np.ndarray, float]:
        return (v[:size], float(v[size])) if extra_var else (v, 0.0)

    def objective(v: np.ndarray) -> tuple[float, np.ndarray]:
        base, s = unpack(v)
        value = coefficient_u @ problem.utility(base) + s
        grad = coefficient_u @ problem.utility_jacobian(base)
        if extra_var:
            grad = np.append(grad, 1.0)
        return -value, -grad

    def constraint(v: np.ndarray) -> np.ndarray:
        base, s = unpack(v)
        return problem.utility(base) - floor - slope * s

    def constraint_jac(v: np.ndarray) -> np.ndarray:
        base, _ = unpack(v)
        jac = problem.utility_jacobian(base)
        return np.hstack([jac, -slope[:, None]]) if extra_var else jac

    linear = []
    for con in problem.constraints():
        fun, jac = con["fun"], con["jac"]
        if extra_var:
            linear.append({"type": con["type"], "fun": (lambda v, f=fun: f(v[:size])),
                           "jac": (lambda v, j=jac: np.hstack([np.atleast_2d(j(v[:size])),
                                                               np.zeros((np.atleast_2d(j(v[:size])).shape[0], 1))]))})
        else:
            linear.append(con)
    x0 = problem.start(start)
    bounds = problem.bounds()
    if extra_var:
        x0 = np.append(x0, 0.0)
        bounds = bounds + [(None, None)]
    result = minimize(objective, x0, jac=True, method="SLSQP", bounds=bounds,
                      constraints=linear + [{"type": "ineq", "fun": constraint, "jac": constraint_jac}],
                      options={"maxiter": 500, "ftol": 1e-13})
    base, s = unpack(result.x)
    z = np.clip(base[: problem.k], scenario.lower, scenario.upper)
    return z, (s if extra_var else float(coefficient_u @ utilities(
        z, scenario.positions, scenario.weights, scenario.spans, scenario.risk_exponents)))


def _max_linear_lp(scenario: Scenario, coefficient_u: np.ndarray, extra_var: bool,
                   floor: np.ndarray, slope: np.ndarray) -> tuple[np.ndarray, float]:
    """:func:`_max_linear` for linear utilities as an LP over v = [z, t, (s)]:
    u_i = 1 − Σ_k (w_ik/span_k) t_ik, t_ik >= |z_k − x_ik|."""
    from scipy.optimize import linprog
    from scipy.sparse import bmat, csr_matrix, identity, kron

    n, k = scenario.n_actors, scenario.n_issues
    loss = scenario.weights / scenario.spans  # (N, K): d(1 − u_i)/d t_ik
    nk = n * k
    extra = 1 if extra_var else 0
    # objective: minimise Σ_i c_i Σ_k loss_ik t_ik − s
    cost = np.concatenate([np.zeros(k), (coefficient_u[:, None] * loss).ravel(), -np.ones(extra)])
    stack_z = kron(np.ones((n, 1)), identity(k), format="csr")  # (NK, K)
    eye_t = identity(nk, format="csr")
    zeros_s = csr_matrix((nk, extra))
    rows_t = kron(identity(n), csr_matrix(np.ones((1, k))), format="csr").multiply(
        np.repeat(loss.ravel()[None, :], n, axis=0)).tocsr()  # (N, NK): Σ_k loss_ik t_ik
    utility_rows = [csr_matrix((n, k)), rows_t] + ([csr_matrix(slope[:, None])] if extra else [])
    a_ub = bmat([[stack_z, -eye_t] + ([zeros_s] if extra else []),
                 [-stack_z, -eye_t] + ([zeros_s] if extra else []),
                 utility_rows], format="csr")
    x = scenario.positions.ravel()
    b_ub = np.concatenate([x, -x, 1.0 - floor])
    a_eq = b_eq = None
    if scenario.budget_issues:
        row = np.zeros((1, k + nk + extra))
        row[0, [scenario.issue_ids.index(i) for i in scenario.budget_issues]] = 1.0
        a_eq, b_eq = row, np.array([scenario.budget_total])
    bounds = (list(zip(scenario.lower, scenario.upper)) + [(0.0, float(v)) for v in np.tile(scenario.spans, n)]
              + [(None, None)] * extra)
    result = linprog(cost, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
    if result.status != 0:
        return scenario.status_quo.copy(), -np.inf
    z = np.clip(result.x[:k], scenario.lower, scenario.upper)
    if extra_var:
        return z, float(result.x[-1])
    return z, float(coefficient_u @ utilities(z, scenario.positions, scenario.weights, scenario.spans,
                                              scenario.risk_exponents))


def kalai_smorodinsky(scenario: Scenario, disagreement: np.ndarray | None = None) -> np.ndarray | None:
    """Kalai–Smorodinsky solution: the individually rational bundle maximising min_i
    (u_i − d_i)/(u*_i − d_i), u*_i the best i can get with everyone else at least at d (MODEL.md §5).

    Returns None when the bargaining range is empty.
    """
    d = disagreement_values(scenario) if disagreement is None else np.asarray(disagreement, float)
    return _ks_cached(_key(scenario), tuple(d))


@lru_cache(maxsize=256)
def _ks_cached(key: _ScenarioKey, d: tuple) -> np.ndarray | None:
    scenario = key.scenario
    d_arr = np.array(d)
    nash = _nash_cached(key, d, tuple(scenario.capabilities))
    if nash is None:
        return None
    n = scenario.n_actors
    best = np.empty(n)
    for i in range(n):
        coefficient = np.zeros(n)
        coefficient[i] = 1.0
        _, best[i] = _max_linear(scenario, coefficient, False, d_arr, np.zeros(n), nash)
    reach = np.maximum(best - d_arr, 1e-12)
    z, _ = _max_linear(scenario, np.zeros(n), True, d_arr, reach, nash)
    # Ties on the min can leave slack for others: push on to the frontier without hurting anyone.
    floor = utilities(z, scenario.positions, scenario.weights, scenario.spans, scenario.risk_exponents)
    z, _ = _max_linear(scenario, np.ones(n) * 1e-3, False, floor - 1e-9, np.zeros(n), z)
    return z


@dataclass(frozen=True)
class ParetoCheck:
    """Result of :func:`pareto_check`: efficient within tolerance, and the mean utility gain per
    actor that some other bundle offers without making anyone worse off (0 on the frontier)."""

    efficient: bool
    distance: float
    improvement: np.ndarray  # the dominating bundle found (equals the input when efficient)


def pareto_check(scenario: Scenario, bundle: np.ndarray, tolerance: float = 1e-6) -> ParetoCheck:
    """Is ``bundle`` Pareto-efficient? Solves max Σ_i u_i(z) s.t. u_i(z) >= u_i(bundle) ∀i."""
    bundle = np.asarray(bundle, dtype=float)
    return _pareto_cached(_key(scenario), tuple(np.round(bundle, 12)), tolerance)


@lru_cache(maxsize=4096)
def _pareto_cached(key: _ScenarioKey, bundle: tuple, tolerance: float) -> ParetoCheck:
    scenario = key.scenario
    z0 = np.array(bundle)
    floor = utilities(z0, scenario.positions, scenario.weights, scenario.spans, scenario.risk_exponents)
    n = scenario.n_actors
    z, total = _max_linear(scenario, np.ones(n), False, floor, np.zeros(n), z0)
    after = utilities(z, scenario.positions, scenario.weights, scenario.spans, scenario.risk_exponents)
    if np.any(after < floor - 1e-9):  # the optimiser left the feasible set: trust the input
        return ParetoCheck(True, 0.0, z0)
    gain = max(0.0, (total - floor.sum()) / n)
    return ParetoCheck(gain <= tolerance, gain, z if gain > tolerance else z0)


def bargaining_range(scenario: Scenario, disagreement: np.ndarray | None = None,
                     consenting: np.ndarray | None = None, count: int = 4096) -> float:
    """Share of the bundle space that every consenting actor prefers to its outside option
    (u_i(z) >= d_i), estimated on the fixed quasi-random sample of :func:`sample_bundles`
    (cached per scenario: sweeps ask for it once per run)."""
    d = disagreement_values(scenario) if disagreement is None else np.asarray(disagreement, float)
    mask = np.ones(scenario.n_actors, bool) if consenting is None else np.asarray(consenting, bool)
    return _range_cached(_key(scenario), tuple(d), tuple(mask), count)


@lru_cache(maxsize=1024)
def _range_cached(key: _ScenarioKey, d: tuple, mask: tuple, count: int) -> float:
    values = _sample_utilities(key, count)
    mask_arr = np.array(mask)
    inside = np.all(values[mask_arr] >= np.array(d)[mask_arr, None], axis=0)
    return float(inside.mean())


@lru_cache(maxsize=64)
def _sample_utilities(key: _ScenarioKey, count: int) -> np.ndarray:
    scenario = key.scenario
    return utilities(sample_bundles(scenario, count), scenario.positions, scenario.weights, scenario.spans,
                     scenario.risk_exponents)
