"""Solving a built program exactly (MODEL.md §4.2, §5): HiGHS on each level combination (warm from the
previous basis when only the levels differ), Kelley's tangent cuts for the convex losses of ρ > 1 and
for the Nash logarithms, and SLSQP for the smooth Nash product on one level combination.

Every function takes the :class:`~sim.kernels.programs.program.Program` (scenario, values, consent,
floors, rules) and the :class:`~sim.kernels.programs.builder.Goal` it maximises.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

import numpy as np

from sim.kernels.programs import highs
from sim.kernels.programs.builder import BIG_VALUE, Goal, Parts, build, cost, level_combinations, power
from sim.kernels.programs.values import Solution

if TYPE_CHECKING:  # pragma: no cover
    from sim.kernels.programs.builder import Builder
    from sim.kernels.programs.program import Program

CUT_TOLERANCE = 1e-10
NASH_TOLERANCE = 1e-10
NASH_ITERATIONS = 200  # SLSQP iterations per level combination
NASH_SCALE = 1e4


def maximise(program: "Program", goal: Goal, shortfall: bool) -> Solution | None:
    """The best bundle over every level combination (lexicographic: least shortfall first, then the
    best objective), or None when no bundle meets every constraint."""
    if "levels" not in program.structures:  # the rules and consent decide them, not the floors
        program.structures["levels"] = level_combinations(program)
    combinations = program.structures["levels"]
    if len(combinations) > 1 and goal.nash is None and np.all(program.values.rho == 1.0):
        if HOT and not REBUILD and goal.ray is None:
            return solve_hot(program, goal, shortfall, combinations)
        return solve_warm(program, goal, shortfall, combinations)
    best: tuple | None = None
    for fixed in combinations:
        found = solve(program, goal, shortfall, fixed)
        if found is None:
            continue
        if _better(found[1], found[2], best):
            best = found
    return None if best is None else best[0]


def solve_warm(program: "Program", goal: Goal, shortfall: bool, combinations: list[dict]) -> Solution | None:
    """Linear programs that differ only in the levels fixed: one model, bounds changed, re-solved
    warm from the previous basis."""
    built = built_at_floors(program, goal, shortfall, combinations[0])
    if built is None:
        return None
    b, parts = built
    costs = cost(goal, len(b.lower), parts)
    everything = np.arange(len(costs), dtype=np.int32)
    slack = parts.slack
    first = np.zeros(len(costs))
    if slack is not None:
        first[slack] = 1.0
    solver = highs.load(b, first if slack is not None else costs)
    best: tuple | None = None
    for fixed in combinations:
        for j, point in fixed.items():
            solver.changeColBounds(int(parts.z[j]), float(point), float(point))
        slack_value = 0.0
        if slack is not None:
            solver.changeColsCost(len(costs), everything, first)
            solver.changeColBounds(int(slack), 0.0, BIG_VALUE)
            solver.run()
            x = highs.optimum(solver)
            if x is None:
                continue
            slack_value = float(x[slack])
            solver.changeColBounds(int(slack), 0.0, slack_value + 1e-9)
            solver.changeColsCost(len(costs), everything, costs)
        best = run_and_keep(solver, costs, slack_value, best)
    return solution_of(program, parts, best)


def run_and_keep(solver, costs: np.ndarray, slack_value: float, best: tuple | None) -> tuple | None:
    """Run the loaded model and keep its optimum if it beats ``best`` (:func:`_better`): (x, shortfall,
    objective), or ``best`` unchanged when this one is infeasible or no better."""
    solver.run()
    x = highs.optimum(solver)
    if x is None:
        return best
    value = -float(costs @ x)
    return (x, slack_value, value) if _better(slack_value, value, best) else best


def solution_of(program: "Program", parts: Parts, best: tuple | None) -> Solution | None:
    """The kept optimum as a :class:`Solution` (its bundle cleaned), or None when nothing was feasible."""
    if best is None:
        return None
    x, slack_value, _ = best
    bundle = clean(program, np.array([x[col] for col in parts.z]), parts)
    return Solution(bundle=bundle, values=program.values(bundle), shortfall=slack_value)


#: Solve the level combinations of a linear program on kept HiGHS models, hot (:func:`solve_hot`); False (the
#: default): :func:`solve_warm`, whose answers are bitwise those of before. Not the default because a hot
#: model can end on another vertex of a near-tie: in jan2022_core (offers, seed 3, round 9) the U.S.'s two
#: optima differ only in the others' 1e-6 tie-break, by 3.5e-8 of the objective, inside HiGHS's optimality
#: tolerance, and the hot model offered the one worse for NATO and Ukraine, 15.25 points away on two issues
#: (docs/performance.md, "The hot path"; tests/integration/test_offers_hot_path.py).
HOT = False

#: Two answers of :func:`solve_hot` and :func:`solve_warm` to the same program agree to this in every
#: bundle entry, relative to the issue's span, and the rows of a run on either path in every number,
#: relative to the larger of 1 and its column's scale (a different basis path ends on the same optimal
#: vertex, up to rounding, except at a near-tie: see :data:`HOT`); documented in docs/performance.md, "Random offers", and stated by the equality
#: tests (tests/integration/test_offers_hot_path.py) and the benchmark.
HOT_TOLERANCE = 1e-8


def solve_hot(program: "Program", goal: Goal, shortfall: bool, combinations: list[dict]) -> Solution | None:
    """:func:`solve_warm`'s answer (to :data:`HOT_TOLERANCE`), with fewer and cheaper HiGHS runs.

    - The model is made once per program structure (the
      :meth:`~sim.kernels.programs.program.Program.with_floors` twins share it) and passed again with the
      floors on its floor rows, to a HiGHS instance with presolve off and devex pricing (on these small
      programs both cost less), re-solved from the previous combination's basis as the levels change.
      Every call starts from the passed model (no basis kept between calls), so an answer depends on the
      program alone, not on what was solved before.
    - With the shortfall slack: the least slack of every combination first, then the best value only for
      the combinations that can still win the lexicographic choice (:func:`_better`); one whose least
      slack exceeds the least of all by more than the 1e-9 steps of that choice can add up to never wins.
    - Without: every combination, in turn.
    """
    key = ("hot", goal.weight.tobytes(), goal.tie.tobytes(), goal.own.tobytes(), shortfall,
           np.isfinite(program.floors).tobytes())
    if key not in program.structures:
        program.structures[key] = _hot_model(program, goal, shortfall, combinations[0])
    model = program.structures[key]
    if model is None:
        return None
    lp, parts, costs, first, base, rows, actors, constants, bought = model
    row_lower = base.copy()
    row_lower[rows] = program.floors[actors] - constants - bought
    lp.row_lower_ = row_lower
    lp.col_cost_ = costs if first is None else first
    solver = highs.hot_solver()
    solver.passModel(lp)
    slack = parts.slack
    if slack is None:
        candidates = [(c, 0.0) for c in range(len(combinations))]
    else:
        candidates = []  # (combination, least slack)
        for c, fixed in enumerate(combinations):
            _fix(solver, parts, fixed)
            solver.run()
            if highs.optimal(solver):
                candidates.append((c, float(solver.getObjectiveValue())))  # the slack: its cost is 1, the others 0
        if not candidates:
            return None
        least = min(value for _, value in candidates)
        candidates = [(c, value) for c, value in candidates if value <= least + len(candidates) * 1e-9]
        solver.changeColsCost(len(costs), np.arange(len(costs), dtype=np.int32), costs)
    best: tuple | None = None
    for c, slack_value in candidates:
        _fix(solver, parts, combinations[c])
        if slack is not None:
            solver.changeColBounds(int(slack), 0.0, slack_value + 1e-9)
        best = run_and_keep(solver, costs, slack_value, best)
    return solution_of(program, parts, best)


def _fix(solver, parts: Parts, fixed: dict) -> None:
    """Pin the fixed issues at the combination's levels (and free the slack again)."""
    for j, point in fixed.items():
        solver.changeColBounds(int(parts.z[j]), float(point), float(point))
    if parts.slack is not None:
        solver.changeColBounds(int(parts.slack), 0.0, BIG_VALUE)


def _hot_model(program: "Program", goal: Goal, shortfall: bool, fixed: dict) -> tuple | None:
    """A structure's model for :func:`solve_hot`: (HiGHS model, parts, costs, the slack's costs or None,
    the rows' lower bounds, the floor rows, their actors, their constants, BIG_VALUE where a consent binary
    relaxes the floor); None when infeasible on its face."""
    built = build(program, goal, shortfall, {}, fixed)
    if built is None:
        return None
    b, parts = built
    costs = cost(goal, len(b.lower), parts)
    first = None
    if parts.slack is not None:
        first = np.zeros(len(costs))
        first[parts.slack] = 1.0
    lp = highs.model(b, costs)
    rows = np.array([row for row, _, _, _ in parts.floor_rows], dtype=np.int64)
    actors = np.array([i for _, i, _, _ in parts.floor_rows], dtype=np.int64)
    constants = np.array([const for _, _, const, _ in parts.floor_rows], dtype=float)
    bought = np.array([BIG_VALUE if flag else 0.0 for _, _, _, flag in parts.floor_rows])
    return lp, parts, costs, first, np.asarray(b.row_lo, dtype=float), rows, actors, constants, bought


#: Build each program afresh instead of reusing a twin's rows (:func:`built_at_floors`): the previous path,
#: kept for the benchmark (``python -m experiments.bench workloads``).
REBUILD = False


def built_at_floors(program: "Program", goal: Goal, shortfall: bool,
                    fixed: dict | None, copy_bounds: bool = False) -> tuple["Builder", Parts] | None:
    """:func:`build` of a linear program (ρ = 1, no cuts) at ``fixed`` levels (None: none fixed), reusing the
    rows and columns built for a :meth:`~sim.kernels.programs.program.Program.with_floors` twin at other
    floors (the same scenario, values, consent and rules): only the floor rows' bounds are set anew, as
    :func:`build` sets them, so HiGHS is passed the same arrays. ``copy_bounds``: the caller changes the
    column bounds it gets (:func:`solve`), so they are copied."""
    if REBUILD or goal.ray is not None or goal.nash is not None:
        return build(program, goal, shortfall, {}, fixed)
    key = (goal.weight.tobytes(), goal.tie.tobytes(), goal.own.tobytes(), shortfall,
           None if fixed is None else tuple(fixed.items()), np.isfinite(program.floors).tobytes())
    fresh = key not in program.structures
    if fresh:
        program.structures[key] = build(program, goal, shortfall, {}, fixed)
    built = program.structures[key]
    if built is None:  # infeasible on its face: the rules and levels, not the floors, decide that
        return None
    b, parts = built
    twin = b if fresh and not copy_bounds else copy.copy(b) if fresh else b.at_floors(program.floors, parts)
    if copy_bounds:
        twin.lower, twin.upper = list(b.lower), list(b.upper)
    return twin, parts


def solve(program: "Program", goal: Goal, shortfall: bool,
          fixed: dict | None) -> tuple[Solution, float, float] | None:
    """(solution, shortfall, objective) of one (mixed-integer) linear program, cuts included."""
    cuts: dict = {}
    linear = goal.ray is None and goal.nash is None and bool(np.all(program.values.rho == 1.0))
    for _ in range(200):
        # A linear program needs no cuts (one pass): its rows are built once per structure and re-bounded at
        # these floors (the same arrays, :func:`built_at_floors`), with its own copy of the column bounds.
        built = built_at_floors(program, goal, shortfall, fixed, copy_bounds=True) if linear else \
            build(program, goal, shortfall, cuts, fixed)
        if built is None:
            return None
        b, parts = built
        x = None
        slack_value = 0.0
        if shortfall:
            costs = np.zeros(len(b.lower))
            costs[parts.slack] = 1.0
            x = highs.solve(b, costs)
            if x is None:
                return None
            slack_value = float(x[parts.slack])
            b.upper[parts.slack] = slack_value + 1e-9
        costs = cost(goal, len(b.lower), parts)
        x = highs.solve(b, costs)
        if x is None:
            return None
        nash_cut = _add_nash_cuts(goal, x, parts, cuts)
        if not _add_cuts(program, x, cuts) and not nash_cut:
            break
    bundle = clean(program, np.array([x[col] for col in parts.z]), parts)
    return Solution(bundle=bundle, values=program.values(bundle), shortfall=slack_value), slack_value, -float(costs @ x)


def _add_nash_cuts(goal: Goal, x: np.ndarray, parts: Parts, cuts: dict) -> bool:
    """Kelley's step on the Nash logarithms: a tangent where h_i overshoots log(V_i - d_i)."""
    added = False
    for i, col in parts.hypograph.items():
        const, cols, coefs = parts.expressions[i]
        surplus = const + float(np.dot(coefs, x[cols])) - float(goal.nash[1][i])
        if surplus <= 0:
            continue
        if x[col] - np.log(surplus) > NASH_TOLERANCE:
            cuts[("nash", i)].append(float(surplus))
            added = True
    return added


def _add_cuts(program: "Program", x: np.ndarray, cuts: dict) -> bool:
    """Kelley's step: add a tangent cut where the linearised loss undercuts the true loss."""
    added = False
    for (i, j), (t, loss) in cuts.get("vars", {}).items():
        span, rho = float(program.values.span[j]), float(program.values.rho[i])
        true, _ = power(x[t], span, rho)
        if true - x[loss] > CUT_TOLERANCE:
            cuts[(i, j)].append(float(x[t]))
            added = True
    cuts.pop("vars", None)
    return added


def clean(program: "Program", bundle: np.ndarray, parts: Parts) -> np.ndarray:
    """Exact points: levels where a level was chosen, the status quo where nothing changed, bounds."""
    s = program.scenario
    bundle = np.clip(bundle, s.lower, s.upper)
    for j in parts.levels:
        bundle[j] = s.issues[j].snap(bundle[j])
    near = np.abs(bundle - s.status_quo) <= 1e-7 * s.spans
    bundle[near] = s.status_quo[near]
    return bundle


def _better(shortfall: float, value: float, best: tuple | None) -> bool:
    """Lexicographic: less shortfall first, then a higher objective (best = (..., shortfall, value))."""
    if best is None:
        return True
    if shortfall < best[1] - 1e-9:
        return True
    return shortfall <= best[1] + 1e-9 and value > best[2] + 1e-12


# --------------------------------------------------------------------------------------------------
# The smooth Nash product on one level combination
# --------------------------------------------------------------------------------------------------


def nash_smooth(program: "Program", alpha: np.ndarray, d: np.ndarray, fixed: dict) -> tuple[float, Solution] | None:
    """One level combination: an interior start from two linear programs, then SLSQP on the
    log-product over the same polytope with the true floors. Returns (Σ α log surplus, solution) of
    the better of the start and SLSQP's answer, or None when no gainer can gain."""
    start = _nash_start(program, alpha, d, fixed)
    if start is None:
        return None
    n = program.scenario.n_actors
    cuts: dict = {}
    b, parts = build(program, Goal(alpha.copy(), np.zeros(n), np.zeros(n, bool)), False, cuts, fixed)
    x = _nash_slsqp(program, alpha, d, b, parts, cuts.get("vars", {}), start)
    return _nash_best(program, alpha, d, parts, (start, x))


def _nash_start(program: "Program", alpha: np.ndarray, d: np.ndarray, fixed: dict) -> np.ndarray | None:
    """An interior point: the most every gainer can gain at once (a ray program), then the weighted
    values with every gainer kept at half that gain."""
    n = program.scenario.n_actors
    gainers = alpha > 0
    reach = solve(program, Goal(np.zeros(n), np.zeros(n), np.zeros(n, bool), ray=gainers.astype(float)),
                  False, fixed)
    if reach is None:
        return None
    gain = float(np.min((reach[0].values - d)[gainers]))
    if gain <= 1e-12:
        return None
    halfway = program.with_floors(np.where(gainers, d + 0.5 * gain, program.floors))
    goal = Goal(alpha.copy(), np.zeros(n), np.zeros(n, bool))
    b, parts = build(halfway, goal, False, {}, fixed)  # feasible: the ray program was
    return highs.solve(b, cost(goal, len(b.lower), parts))


def _nash_slsqp(program: "Program", alpha: np.ndarray, d: np.ndarray, b: "Builder", parts: Parts,
                epigraph: dict, start: np.ndarray) -> np.ndarray:
    """SLSQP from ``start`` on the smooth concave log-product over the epigraph polytope (with ρ > 1
    the true convex losses of the epigraph variables); the other actors kept at their floors."""
    from scipy.optimize import minimize

    gainers = alpha > 0
    dense = b.matrix().toarray()
    lo, hi = np.array(b.row_lo), np.array(b.row_hi)
    a_ineq = np.vstack([dense[np.isfinite(lo)], -dense[np.isfinite(hi)]])
    b_ineq = np.concatenate([lo[np.isfinite(lo)], -hi[np.isfinite(hi)]])
    v = program.values

    def objective(x: np.ndarray) -> tuple[float, np.ndarray]:
        value, grad = 0.0, np.zeros_like(x)
        for i in np.flatnonzero(gainers):
            level, slope = _actor_value(v, parts, epigraph, i, x)
            surplus = max(level - float(d[i]), 1e-300)
            value -= alpha[i] * np.log(surplus)
            grad -= alpha[i] * slope / surplus
        # SLSQP stops on an absolute change of the objective; near the optimum that change is
        # quadratic in the step, so scale it up to pin the bundle down to ~1e-8 of the scale.
        return NASH_SCALE * value, NASH_SCALE * grad

    floors = program.floors
    kept = [i for i in np.flatnonzero(~gainers & np.isfinite(floors)) if v.rho[i] != 1.0]
    constraints = [{"type": "ineq", "fun": lambda x: a_ineq @ x - b_ineq, "jac": lambda x: a_ineq}]
    constraints += [{"type": "ineq", "fun": (lambda x, i=i: _actor_value(v, parts, epigraph, i, x)[0] - floors[i]),
                     "jac": (lambda x, i=i: _actor_value(v, parts, epigraph, i, x)[1])} for i in kept]
    result = minimize(objective, start, jac=True, method="SLSQP", constraints=constraints,
                      bounds=list(zip(b.lower, b.upper)),
                      options={"maxiter": NASH_ITERATIONS, "ftol": 1e-12})
    return result.x


def _actor_value(v, parts: Parts, epigraph: dict, i: int, x: np.ndarray) -> tuple[float, np.ndarray]:
    """V_i and its gradient: affine for ρ = 1; for ρ > 1 the true (t/span)^ρ on the epigraph t."""
    grad = np.zeros_like(x)
    if v.rho[i] == 1.0:
        const, cols, coefs = parts.expressions[i]
        grad[cols] = coefs
        return const + float(np.dot(coefs, x[cols])), grad
    value = 1.0 - float(v.offset[i])
    for j in np.flatnonzero(v.weight[i] > 0):
        t = epigraph[(i, j)][0]
        scaled = max(x[t], 0.0) / v.span[j]
        value -= v.weight[i, j] * scaled ** v.rho[i]
        grad[t] = -v.weight[i, j] * v.rho[i] * scaled ** (v.rho[i] - 1.0) / v.span[j]
    return value, grad


def _nash_best(program: "Program", alpha: np.ndarray, d: np.ndarray, parts: Parts,
               candidates: tuple[np.ndarray, ...]) -> tuple[float, Solution] | None:
    """The candidate with the highest Σ α log surplus among those that give every gainer a surplus,
    keep every floor and break no rule."""
    gainers = alpha > 0
    scored = []
    for x in candidates:
        bundle = clean(program, np.array([x[col] for col in parts.z]), parts)
        values = program.values(bundle)
        surplus = (values - d)[gainers]
        floor = np.where(np.isfinite(program.floors), program.floors, -np.inf)
        if np.all(surplus > 0) and np.all(values >= floor - 1e-9) and program.scenario.allowed(bundle).all():
            scored.append((float(alpha[gainers] @ np.log(surplus)), Solution(bundle, values)))
    return max(scored, key=lambda item: item[0]) if scored else None
