"""Every actor's best value u*_i at once (MODEL.md §5): the most actor i can get while every other keeps
at least its floor and every rule holds — the ideal point of Kalai–Smorodinsky and the no-gain test of
the Nash reference.

The N programs differ only in the objective (actor i's value) and in one row (actor i's own floor, which
its program does not have). So the program is built once with every floor, passed to HiGHS once, and for
each actor the costs are changed and that actor's floor row is relaxed, then re-solved warm from the
previous optimal basis (a basis optimal for actor i is feasible for actor i + 1: i's value is at least its
floor there), level combinations by changed bounds as :func:`sim.kernels.programs.solvers.solve_warm`
does. Answers match the N cold programs (one build and cold solve per actor) up to where the simplex
stops among equal optima: 100 actors took 4.4 s of CPU cold (docs/performance.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.kernels.programs import highs
from sim.kernels.programs.builder import Goal, build, cost, level_combinations

if TYPE_CHECKING:  # pragma: no cover
    from sim.kernels.programs.program import Program


def best_values(program: "Program") -> list[float] | None:
    """u*_i for every actor of ``program`` (every actor's consent needed, floors finite or -inf), as
    :meth:`~sim.kernels.programs.program.Program.maximise` of actor i's value with its own floor at -inf
    would give it; None when some actor's program has no feasible bundle. Linear utilities (ρ = 1) only:
    the cuts of ρ > 1 change the rows between solves."""
    from sim.kernels.programs.solvers import clean, run_and_keep

    if not np.all(program.values.rho == 1.0):
        raise ValueError("warm best values need linear utilities (rho = 1)")
    n = program.scenario.n_actors
    combinations = level_combinations(program)
    if not combinations:  # a discrete issue with no allowed level
        return None
    built = build(program, Goal(np.zeros(n), np.zeros(n), np.zeros(n, bool)), False, {}, combinations[0])
    if built is None:  # the rules exclude everything, whatever the floors
        return None
    b, parts = built
    floor_rows = {i: (row, b.row_lo[row], b.row_hi[row]) for row, i, _, _ in parts.floor_rows}
    everything = np.arange(len(b.lower), dtype=np.int32)
    solver = highs.load(b, np.zeros(len(b.lower)))
    out: list[float] = []
    for i in range(n):
        own = np.zeros(n)
        own[i] = 1.0
        costs = cost(Goal(own, np.zeros(n), own != 0), len(b.lower), parts)
        solver.changeColsCost(len(costs), everything, costs)
        if i in floor_rows:
            solver.changeRowBounds(floor_rows[i][0], -np.inf, np.inf)
        best: tuple | None = None
        for fixed in combinations:
            for j, point in (fixed or {}).items():
                solver.changeColBounds(int(parts.z[j]), float(point), float(point))
            best = run_and_keep(solver, costs, 0.0, best)
        if i in floor_rows:
            row, lo, hi = floor_rows[i]
            solver.changeRowBounds(row, lo, hi)
        if best is None:
            return None
        bundle = clean(program, np.array([best[0][col] for col in parts.z]), parts)
        out.append(float(program.values(bundle)[i]))
    return out
