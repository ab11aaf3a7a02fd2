"""One program over the mixed bundle domain: whose values it weighs, whose consent it needs and at
what floors, and its three questions — the best weighted values (:meth:`Program.maximise`), the
farthest reach along a ray (Kalai–Smorodinsky), the Nash product. Construction is in
:mod:`sim.kernels.programs.builder`, solving in :mod:`sim.kernels.programs.solvers`."""

from __future__ import annotations

import copy

import numpy as np

from sim.domain.cache import BoundedCache, content_digest, content_hash
from sim.domain.scenario import Scenario
from sim.kernels.programs import nash, solvers
from sim.kernels.programs.builder import Goal, level_combinations
from sim.kernels.programs.values import Consent, Solution, ValueModel


class Program:
    """Maximise ``Σ_i objective_i V_i(z)`` subject to acceptance and the rules, over the mixed domain.

    Args:
        scenario: issues, rules, status quo and budget.
        values: the value functions used (true or believed).
        consent: whose acceptance the bundle needs (see :class:`Consent`).
        floors: (N,) the least value each actor in the consent set accepts (-inf: no floor).
        binding: apply the scenario's switched-on rules (red lines, packages) of every actor whose
            acceptance is needed; with ``False`` only the domain and the floors bind.
        rule_actors: whose rules apply besides the consent set (e.g. the proposer's own).
    """

    def __init__(self, scenario: Scenario, values: ValueModel, consent: Consent, floors: np.ndarray,
                 binding: bool = True, rule_actors: np.ndarray | None = None,
                 ignore_rules: np.ndarray | None = None):
        if np.any(values.rho < 1.0):
            raise ValueError("exact bundle optimisation needs risk exponents >= 1 (concave utilities)")
        self.scenario, self.values, self.consent = scenario, values, consent
        self.floors = np.asarray(floors, dtype=float)
        self.binding = binding
        self.rule_actors = (np.zeros(scenario.n_actors, bool) if rule_actors is None
                            else np.asarray(rule_actors, bool))
        self.follows_rules = (np.ones(scenario.n_actors, bool) if ignore_rules is None
                              else ~np.asarray(ignore_rules, bool))
        #: built rows and columns by goal, shared with the :meth:`with_floors` twins (floors change only the
        #: floor rows' bounds: :func:`sim.kernels.programs.solvers.built_at_floors`)
        self.structures: dict = {}

    def with_floors(self, floors: np.ndarray) -> "Program":
        """The same program at other floors (sharing what was built of it: :attr:`structures`)."""
        twin = copy.copy(self)
        twin.floors = np.asarray(floors, dtype=float)
        return twin

    def maximise(self, objective: np.ndarray, tie_break: np.ndarray | None = None,
                 shortfall: bool = False) -> Solution | None:
        """The best bundle, or None when no bundle meets every constraint.

        ``tie_break``: small weights on other actors' values, so that among the objective's optima the
        program picks a Pareto-efficient one. ``shortfall``: relax every floor but the objective
        actors' own by a common slack s, minimise s first, then maximise the objective at that s.
        Answers are memoised by content (:func:`content_key`).
        """
        n = self.scenario.n_actors
        weight = np.asarray(objective, dtype=float)
        goal = Goal(weight=weight, tie=np.zeros(n) if tie_break is None else np.asarray(tie_break, dtype=float),
                    own=weight != 0)
        return _SOLUTIONS.get_or_compute(content_key(self, goal, shortfall),
                                         lambda: solvers.maximise(self, goal, shortfall))

    def maximise_ray(self, ray: np.ndarray, tie_break: np.ndarray | None = None) -> tuple[Solution, float] | None:
        """max s such that V_i >= floor_i + s · ray_i for every actor with a floor (Kalai–Smorodinsky)."""
        n = self.scenario.n_actors
        ray = np.asarray(ray, dtype=float)
        goal = Goal(weight=np.zeros(n), tie=np.zeros(n) if tie_break is None else np.asarray(tie_break, dtype=float),
                    own=np.zeros(n, bool), ray=ray)
        solution = solvers.maximise(self, goal, False)
        if solution is None:
            return None
        floors = self.floors
        have = np.isfinite(floors) & self.consent.required.copy()
        reach = (solution.values - floors)[have] / ray[have]
        return solution, float(reach.min()) if reach.size else 0.0

    def maximise_nash(self, alpha: np.ndarray, disagreement: np.ndarray) -> Solution | None:
        """argmax Σ_i α_i log(V_i − d_i) over actors with α_i > 0 (the others only kept at their
        floors): the asymmetric Nash bargaining solution.

        Per level combination of the discrete issues, with linear utilities (ρ = 1): tangent cuts on
        the logarithms in one warm linear program, then Newton's method on the optimum's face
        (:mod:`sim.kernels.programs.nash`; sparse, fast at 100 actors). With ρ > 1: an interior start
        from two linear programs, then SLSQP on the smooth concave log-product over the epigraph
        polytope with the true convex losses. With consent binaries or too many combinations, tangent
        cuts on the logarithm (Kelley's method) in a mixed-integer program."""
        alpha, d = np.asarray(alpha, dtype=float), np.asarray(disagreement, dtype=float)
        combinations = level_combinations(self)
        if combinations == [None]:
            n = self.scenario.n_actors
            return solvers.maximise(self, Goal(np.zeros(n), np.zeros(n), np.zeros(n, bool), nash=(alpha, d)), False)
        smooth = nash.nash_exact if np.all(self.values.rho == 1.0) else solvers.nash_smooth
        best: tuple[float, Solution] | None = None
        for fixed in combinations:
            found = smooth(self, alpha, d, fixed)
            if found is not None and (best is None or found[0] > best[0] + 1e-12):
                best = found
        return None if best is None else best[1]


def content_key(program: Program, goal: Goal, shortfall: bool) -> bytes:
    """Everything a program's answer depends on: the scenario's content, the value functions (true or
    believed), consent, floors, rules and objective."""
    # The parts a program shares with its with_floors twins are hashed once per structure (the hash's state
    # after them is kept and copied): the same digest as hashing every part each time.
    prefix = program.structures.get(("content", shortfall))
    if prefix is None:
        v, c = program.values, program.consent
        prefix = program.structures[("content", shortfall)] = content_hash(
            program.scenario.digest, c.mode, c.votes, program.binding, shortfall, v.ideal, v.weight, v.offset,
            v.rho, v.span, v.cap, v.delta, c.required, c.eligible, c.vetoes, c.weights, c.thresholds)
    return content_digest(program.floors, program.rule_actors, program.follows_rules, goal.weight, goal.tie,
                          start=prefix)


def _copy(solution: Solution | None) -> Solution | None:
    if solution is None:
        return None
    return Solution(bundle=solution.bundle.copy(), values=solution.values.copy(),
                    shortfall=solution.shortfall)


#: Program answers by content (:func:`content_key`). HiGHS answers a given program deterministically,
#: and runs of one scenario ask the same questions (with exact beliefs every run's proposers solve the
#: same programs, whatever the seed): the first run solves them, the others read the answer. Entries
#: are copied in and out.
_SOLUTIONS = BoundedCache("sim.kernels.programs.solutions", 8192, copy=_copy)


def clear_cache() -> None:
    """Forget the memoised program answers (benchmarks time a scenario's first run with it;
    :func:`sim.domain.cache.clear_all` forgets every cache)."""
    _SOLUTIONS.clear()
