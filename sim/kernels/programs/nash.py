"""The Nash product on one level combination with linear utilities (ρ = 1), at any number of actors:
tangent cuts on the logarithms in one warm HiGHS linear program (Kelley's method) to get near the
optimum, then Newton's method on the face of the polytope the optimum lies on, with sparse linear
algebra (an active-set method: the constraints that stop a step join the face, those whose
multipliers have the wrong sign leave it) until the Karush–Kuhn–Tucker conditions hold.

The program is ``max Σ_i α_i log s_i(x)`` over the epigraph polytope of
:func:`sim.kernels.programs.builder.build`, ``s_i = V_i(x) − d_i`` affine. The objective is flat on the
0–100 scale (a bundle 1e-5 off the optimum loses about 1e-15 of it), so the answer is settled by the
gradient (Newton steps, quadratically convergent, to below 1e-8 of a unit), not by comparing objective values.

Replaces SLSQP on the dense constraint matrix (:func:`sim.kernels.programs.solvers.nash_smooth`, kept for
ρ > 1), whose cost grew as N^2.6: about 65 s of CPU at 100 actors and 11 issues against 0.3 s here
(``python -m experiments.bench workloads``; docs/performance.md, "Workloads").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import highspy
import numpy as np
from scipy.sparse import bmat, csr_matrix, diags, identity
from scipy.sparse.linalg import spsolve

from sim.kernels.programs import highs
from sim.kernels.programs.builder import Goal, build, cost
from sim.kernels.programs.values import Solution

if TYPE_CHECKING:  # pragma: no cover
    from sim.kernels.programs.builder import Builder, Parts
    from sim.kernels.programs.program import Program

KELLEY_GAP = 1e-6  # stop the cuts once the linear program's bound is this close to the true objective
KELLEY_ROUNDS = 30  # ... or after this many rounds of cuts: Newton's method finishes from wherever they stop
NEWTON_ITERATIONS = 400
STEP_TOLERANCE = 1e-8  # a Newton step this small (in the issues' units): at the face's optimum to about that
ACTIVE = 1e-9  # a row or bound within this of its limit is on the face
MULTIPLIER_TOLERANCE = 1e-12


def nash_exact(program: "Program", alpha: np.ndarray, d: np.ndarray,
               fixed: dict | None) -> tuple[float, Solution] | None:
    """(Σ α log surplus, solution) of the Nash product on one level combination, or None when the
    gainers cannot all gain. Every actor's utility must be linear (ρ = 1)."""
    from sim.kernels.programs.solvers import clean

    found = _cuts(program, alpha, d, fixed)
    if found is None:
        return None
    b, parts, x = found
    gainers = np.flatnonzero(alpha > 0)
    polished = _newton(b, parts, x, alpha, d, gainers)
    floor = np.where(np.isfinite(program.floors), program.floors, -np.inf)
    scored = []
    for candidate in (polished, x):  # Newton's point first: on a flat objective a tie goes to it
        bundle = clean(program, np.array([candidate[col] for col in parts.z]), parts)
        values = program.values(bundle)
        surplus = (values - d)[gainers]
        if np.all(surplus > 0) and np.all(values >= floor - 1e-9) and program.scenario.allowed(bundle).all():
            scored.append((float(alpha[gainers] @ np.log(surplus)), Solution(bundle, values)))
    if not scored:
        return None
    best = scored[0]
    for item in scored[1:]:
        if item[0] > best[0] + 1e-12:
            best = item
    return best


def _cuts(program: "Program", alpha: np.ndarray, d: np.ndarray,
          fixed: dict | None) -> tuple["Builder", "Parts", np.ndarray] | None:
    """Kelley's method on h_i <= log(s_i): one model in HiGHS, cuts added as rows, re-solved warm."""
    n = program.scenario.n_actors
    goal = Goal(np.zeros(n), np.zeros(n), np.zeros(n, bool), nash=(alpha, d))
    built = build(program, goal, False, {}, fixed)
    if built is None:
        return None
    b, parts = built
    gainers = np.flatnonzero(alpha > 0)
    expressions = [parts.expressions[i] for i in gainers]
    hypograph = np.array([parts.hypograph[i] for i in gainers])
    solver = highs.load(b, cost(goal, len(b.lower), parts))
    x = None
    for _ in range(KELLEY_ROUNDS):
        solver.run()
        x = highs.optimum(solver)
        if x is None:
            return None
        surplus = np.array([const + float(np.dot(coefs, x[cols])) - d[i]
                            for (const, cols, coefs), i in zip(expressions, gainers)])
        bound = float(alpha[gainers] @ x[hypograph])
        if np.all(surplus > 0) and bound - float(alpha[gainers] @ np.log(surplus)) < KELLEY_GAP:
            break
        starts, index, values, upper = [], [], [], []
        for k, i in enumerate(gainers):
            const, cols, coefs = expressions[k]
            p = surplus[k]
            if p > 0 and x[hypograph[k]] - np.log(p) > 1e-12:  # the row _nash_rows writes, at p
                starts.append(len(index))
                index += [int(hypograph[k])] + list(cols)
                values += [1.0] + [-c / p for c in coefs]
                upper.append(float(np.log(p) - 1.0 + (const - d[i]) / p))
        if not upper:
            break
        count = len(upper)
        solver.addRows(count, np.full(count, -highspy.kHighsInf), np.array(upper), len(index),
                       np.array(starts, np.int32), np.array(index, np.int32), np.array(values))
    return b, parts, x


def _newton(b: "Builder", parts: "Parts", x: np.ndarray, alpha: np.ndarray, d: np.ndarray,
            gainers: np.ndarray) -> np.ndarray:
    """Newton's method on the face of the original polytope (no hypograph columns, no cut rows) from
    ``x``, with a primal active set; returns the point reached (``x`` with its columns replaced)."""
    hypograph = set(parts.hypograph.values())
    keep = np.array([c for c in range(len(b.lower)) if c not in hypograph])
    position = np.full(len(b.lower), -1)
    position[keep] = np.arange(len(keep))
    plain = np.array([not hypograph.intersection(cols) for cols in b.cols])
    matrix = b.matrix()[plain][:, keep].tocsr()
    row_lo, row_hi = np.array(b.row_lo)[plain], np.array(b.row_hi)[plain]
    col_lo, col_hi = np.array(b.lower)[keep], np.array(b.upper)[keep]
    size, a = len(keep), alpha[gainers]
    rows, cols, coefs, constant = [], [], [], np.empty(len(gainers))
    for k, i in enumerate(gainers):  # surplus s = constant + E y
        const, columns, coefficients = parts.expressions[i]
        rows += [k] * len(columns)
        cols += list(position[columns])
        coefs += list(coefficients)
        constant[k] = const - d[i]
    surplus_rows = csr_matrix((coefs, (rows, cols)), shape=(len(gainers), size))
    y = x[keep].copy()
    # the face: -1 at the lower limit, +1 at the upper, 0 an equality, 2 off the face
    row_side = _sides(matrix @ y, row_lo, row_hi)
    col_side = _sides(y, col_lo, col_hi)
    unit = identity(size, format="csr")

    def objective(s: np.ndarray) -> float:
        return float(a @ np.log(s))

    for _ in range(NEWTON_ITERATIONS):
        s = constant + surplus_rows @ y
        gradient = surplus_rows.T @ (a / s)
        on_rows, on_cols = np.flatnonzero(row_side != 2), np.flatnonzero(col_side != 2)
        face = bmat([[matrix[on_rows]], [unit[on_cols]]]).tocsr()
        hessian = surplus_rows.T @ diags(a / s ** 2) @ surplus_rows + 1e-10 * unit
        system = bmat([[hessian, face.T], [face, -1e-12 * identity(face.shape[0])]]).tocsc()
        solution = spsolve(system, np.concatenate([gradient, np.zeros(face.shape[0])]))
        step, multipliers = solution[:size], solution[size:]
        if np.abs(step).max() < STEP_TOLERANCE:
            # optimal on the face: a limit whose multiplier says the objective gains off it leaves the face
            sides = np.concatenate([row_side[on_rows], col_side[on_cols]])
            wrong = np.where(sides == -1, multipliers, np.where(sides == 1, -multipliers, 0.0))
            leaving = np.flatnonzero(wrong > MULTIPLIER_TOLERANCE)
            if not len(leaving):
                break
            for j in leaving:
                if j < len(on_rows):
                    row_side[on_rows[j]] = 2
                else:
                    col_side[on_cols[j - len(on_rows)]] = 2
            continue
        longest, blocking = _ratio_test(matrix, y, step, row_side, col_side, (row_lo, row_hi, col_lo, col_hi))
        decrease = float(gradient @ step)
        length = longest
        if decrease > 1e-12 and length > 0:  # far from the optimum: backtrack on the objective (Armijo)
            while length > 1e-12:
                trial = constant + surplus_rows @ (y + length * step)
                if np.all(trial > 0) and objective(trial) >= objective(s) + 0.1 * length * decrease:
                    break
                length *= 0.5
        elif np.any(constant + surplus_rows @ (y + length * step) <= 0):
            break
        y = y + length * step
        if length == longest:
            for kind, j, side in blocking:
                (row_side if kind == "row" else col_side)[j] = side
    out = x.copy()
    out[keep] = y
    return out


def _sides(activity: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    equal = low == high
    return np.where(equal, 0, np.where(np.abs(activity - low) <= ACTIVE, -1,
                                       np.where(np.abs(activity - high) <= ACTIVE, 1, 2)))


def _ratio_test(matrix, y: np.ndarray, step: np.ndarray, row_side: np.ndarray, col_side: np.ndarray,
                limits: tuple) -> tuple[float, list]:
    """The longest step (at most 1) that keeps every row and bound off the face within its limits,
    and every limit that stops it there (all at once: at a degenerate vertex many stop it at 0)."""
    row_lo, row_hi, col_lo, col_hi = limits
    ratios = []
    for kind, side, now, change, low, high in (("row", row_side, matrix @ y, matrix @ step, row_lo, row_hi),
                                               ("col", col_side, y, step, col_lo, col_hi)):
        free = side == 2
        with np.errstate(divide="ignore", invalid="ignore"):
            up = np.where(free & (change > 1e-15), (high - now) / change, np.inf)
            down = np.where(free & (change < -1e-15), (low - now) / change, np.inf)
        ratios += [(kind, np.maximum(up, 0.0), 1), (kind, np.maximum(down, 0.0), -1)]
    longest = min(1.0, min(float(r.min(initial=np.inf)) for _, r, _ in ratios))
    if longest >= 1.0:
        return 1.0, []
    return longest, [(kind, int(j), sign) for kind, r, sign in ratios
                     for j in np.flatnonzero(r <= longest + 1e-12)]
