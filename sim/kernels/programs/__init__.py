"""Exact optimisation over the mixed bundle domain (MODEL.md §4.2, §5; docs/explanation/why-talks-fail.md).

One builder serves the offers proposer, the walk-out test and the reference solutions: maximise a
weighted sum of some actors' (expected) values subject to other actors' acceptance — their values at
or above a floor, their red lines and their package rules — over the *mixed domain*: the allowed
points on discrete issues (levels, or the ends of an indivisible issue), the box on continuous ones,
and a budget if the scenario divides a pie.

With linear utilities (ρ = 1) this is a mixed-integer linear program in the epigraph form
``t_ik >= |z_k − x_ik|``: binaries choose the level of each discrete issue and, under the veto or
majority consent rules, whose consent a bundle needs. HiGHS solves it to optimality (through
``highspy``, HiGHS's own interface). With ρ > 1 the losses ``(t/span)^ρ`` are convex; they enter
through tangent cuts added until the solution's true loss is met (Kelley's cutting-plane method), so
the answer is exact to the tolerance. ρ < 1 makes utilities convex in the bundle and the problem non-convex: not supported here.

Values are expectations (:class:`ValueModel`): with credibility κ_ik an issue moved away from the
status quo is delivered with probability κ, else it reverts, so
``V_i(z) = 1 − Σ_k w_ik [κ_ik L_ik(z_k) + (1 − κ_ik) L_ik(sq_k)]``; and an actor whose war prospects
decline (a power shift) values a deal at ``(1 − δ) V + δ min(V, d_next)``: the rising side can
renegotiate it down to the decliner's next-round war value (Fearon 1995; Powell 2006).

Modules: :mod:`~sim.kernels.programs.values` (value functions, consent, solutions),
:mod:`~sim.kernels.programs.program` (:class:`Program` and the memo of its answers),
:mod:`~sim.kernels.programs.builder` (the program as rows and columns),
:mod:`~sim.kernels.programs.solvers` (level combinations, warm starts, cuts, Nash by SLSQP for ρ > 1),
:mod:`~sim.kernels.programs.nash` (Nash with linear utilities: warm tangent cuts, then Newton on the face),
:mod:`~sim.kernels.programs.best` (every actor's best value u* from one model, re-solved warm) and
:mod:`~sim.kernels.programs.highs` (the HiGHS instance of each thread).
"""

from __future__ import annotations

from sim.kernels.programs.builder import BIG_VALUE, MAX_COMBINATIONS, NASH_CUTS, Goal
from sim.kernels.programs.program import Program, clear_cache
from sim.kernels.programs.solvers import CUT_TOLERANCE, NASH_ITERATIONS, NASH_SCALE, NASH_TOLERANCE
from sim.kernels.programs.values import Consent, Solution, ValueModel, value_model

__all__ = ["BIG_VALUE", "CUT_TOLERANCE", "MAX_COMBINATIONS", "NASH_CUTS", "NASH_ITERATIONS", "NASH_SCALE",
           "NASH_TOLERANCE", "Consent", "Goal", "Program", "Solution", "ValueModel", "clear_cache", "value_model"]
