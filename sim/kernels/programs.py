"""Exact optimisation over the mixed bundle domain (MODEL.md §4.2, §5; docs/explanation/why-talks-fail.md).

One builder serves the offers proposer, the walk-out test and the reference solutions: maximise a
weighted sum of some actors' (expected) values subject to other actors' acceptance — their values at
or above a floor, their red lines and their package rules — over the *mixed domain*: the allowed
points on discrete issues (levels, or the ends of an indivisible issue), the box on continuous ones,
and a budget if the scenario divides a pie.

With linear utilities (ρ = 1) this is a mixed-integer linear program in the epigraph form
``t_ik >= |z_k − x_ik|``: binaries choose the level of each discrete issue and, under the veto or
majority consent rules, whose consent a bundle needs. HiGHS solves it to
optimality (through ``highspy``, HiGHS's own interface). With ρ > 1 the losses ``(t/span)^ρ`` are convex; they enter through tangent cuts added
until the solution's true loss is met (Kelley's cutting-plane method), so the answer is exact to the
tolerance. ρ < 1 makes utilities convex in the bundle and the problem non-convex: not supported here.

Values are expectations (:class:`ValueModel`): with credibility κ_ik an issue moved away from the
status quo is delivered with probability κ, else it reverts, so
``V_i(z) = 1 − Σ_k w_ik [κ_ik L_ik(z_k) + (1 − κ_ik) L_ik(sq_k)]``; and an actor whose war prospects
decline (a power shift) values a deal at ``(1 − δ) V + δ min(V, d_next)``: the rising side can
renegotiate it down to the decliner's next-round war value (Fearon 1995; Powell 2006).
"""

from __future__ import annotations

import hashlib
import itertools
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import highspy
import numpy as np
from scipy.sparse import csr_matrix

from sim.domain.scenario import Scenario

BIG_VALUE = 4.0  # relaxes a value row (values and floors lie within [-2, 1])
CUT_TOLERANCE = 1e-10
MAX_COMBINATIONS = 64  # level combinations solved one by one; beyond, branch and bound
_INTEGER, _CONTINUOUS = highspy.HighsVarType.kInteger, highspy.HighsVarType.kContinuous
NASH_TOLERANCE = 1e-10
NASH_ITERATIONS = 200  # SLSQP iterations per level combination
NASH_SCALE = 1e4
NASH_CUTS = (1e-6, 1e-4, 1e-3, 1e-2, 0.03, 0.1, 0.2, 0.4, 0.7, 1.0)  # first tangent points of log(surplus)


@dataclass(frozen=True)
class ValueModel:
    """Expected values of every actor as one observer sees them (MODEL.md §2 with credibility).

    ``V_i(z) = 1 − offset_i − Σ_k weight_ik (|z_k − ideal_ik| / span_k)^ρ_i``; for an actor with a
    finite ``cap`` (a declining war value) the deal value is ``(1 − δ_i) V_i + δ_i min(V_i, cap_i)``.
    """

    ideal: np.ndarray  # (N, K)
    weight: np.ndarray  # (N, K): w_ik κ_ik
    offset: np.ndarray  # (N,): Σ_k w_ik (1 − κ_ik) L_ik(sq_k)
    rho: np.ndarray  # (N,)
    span: np.ndarray  # (K,)
    cap: np.ndarray  # (N,): renegotiation cap (inf: none)
    delta: np.ndarray  # (N,)

    def __call__(self, bundles: np.ndarray) -> np.ndarray:
        """Values (N, M), or (N,) for one bundle (K,)."""
        bundles = np.asarray(bundles, dtype=float)
        single = bundles.ndim == 1
        z = np.atleast_2d(bundles)
        loss = (np.abs(z[None] - self.ideal[:, None, :]) / self.span) ** self.rho[:, None, None]
        value = 1.0 - self.offset[:, None] - np.einsum("nmk,nk->nm", loss, self.weight)
        capped = np.isfinite(self.cap)
        if capped.any():
            limited = (1.0 - self.delta[:, None]) * value + self.delta[:, None] * np.minimum(value, self.cap[:, None])
            value = np.where(capped[:, None], limited, value)
        return value[:, 0] if single else value

    def with_cap(self, cap: np.ndarray) -> "ValueModel":
        return ValueModel(self.ideal, self.weight, self.offset, self.rho, self.span,
                          np.asarray(cap, dtype=float), self.delta)


def value_model(scenario: Scenario, ideal: np.ndarray | None = None, salience: np.ndarray | None = None,
                cap: np.ndarray | None = None) -> ValueModel:
    """The scenario's value functions (or an observer's beliefs: other ``ideal``/``salience`` arrays)."""
    ideal = scenario.positions if ideal is None else np.asarray(ideal, dtype=float)
    salience = scenario.saliences if salience is None else np.asarray(salience, dtype=float)
    totals = salience.sum(axis=1, keepdims=True)
    w = np.divide(salience, totals, out=np.zeros_like(salience), where=totals > 0)
    kappa = scenario.credibilities
    loss_sq = (np.abs(scenario.status_quo - ideal) / scenario.spans) ** scenario.risk_exponents[:, None]
    return ValueModel(
        ideal=ideal, weight=w * kappa, offset=(w * (1.0 - kappa) * loss_sq).sum(axis=1),
        rho=scenario.risk_exponents, span=scenario.spans,
        cap=np.full(scenario.n_actors, np.inf) if cap is None else np.asarray(cap, dtype=float),
        delta=scenario.discount_factors,
    )


@dataclass
class Consent:
    """Whose acceptance a bundle must win.

    ``mode``: ``fixed`` (the actors in ``required``), ``veto`` (``required`` always, plus every
    ``eligible`` actor holding a veto on an issue the bundle changes) or ``majority`` (at least
    ``votes`` of the ``eligible`` actors, on top of ``required``) or ``weighted`` (for every quota r,
    the ``weights[r]`` of ``required`` and of the eligible actors won reach ``thresholds[r]``).
    """

    mode: str
    required: np.ndarray  # (N,) bool
    eligible: np.ndarray | None = None  # (N,) bool
    vetoes: np.ndarray | None = None  # (N, K) bool (veto mode)
    votes: int = 0  # majority mode
    weights: np.ndarray | None = None  # weighted mode: (quotas, N) voting weights
    thresholds: np.ndarray | None = None  # weighted mode: (quotas,) weight the consenting actors must reach


@dataclass
class Solution:
    bundle: np.ndarray
    values: np.ndarray  # (N,) under the program's value model
    shortfall: float = 0.0


@dataclass
class _Builder:
    """Variables with bounds and integrality, rows lo <= a·x <= hi, assembled sparse for HiGHS."""

    lower: list = field(default_factory=list)
    upper: list = field(default_factory=list)
    integer: list = field(default_factory=list)
    cols: list = field(default_factory=list)
    data: list = field(default_factory=list)
    row_lo: list = field(default_factory=list)
    row_hi: list = field(default_factory=list)

    def var(self, lo: float, hi: float, integer: bool = False) -> int:
        self.lower.append(lo)
        self.upper.append(hi)
        self.integer.append(1 if integer else 0)
        return len(self.lower) - 1

    def row(self, cols: list, coefs: list, lo: float, hi: float) -> None:
        self.cols.append(cols)
        self.data.append(coefs)
        self.row_lo.append(lo)
        self.row_hi.append(hi)

    def _triplets(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(row pointers, columns, coefficients) of the rows, in row order."""
        indptr = np.cumsum([0] + [len(c) for c in self.cols])
        size = int(indptr[-1])  # thousands of short rows: one pass over them, not one array per row
        data = np.fromiter(itertools.chain.from_iterable(self.data), dtype=float, count=size)
        cols = np.fromiter(itertools.chain.from_iterable(self.cols), dtype=np.int32, count=size)
        return indptr, cols, data

    def matrix(self):
        """The rows as a sparse matrix (CSR)."""
        indptr, cols, data = self._triplets()
        return csr_matrix((data, cols, indptr), shape=(len(self.cols), len(self.lower)))

    def columns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The rows column-wise, as HiGHS takes them: (column starts, row indices, coefficients),
        each column's entries in row order (what scipy's CSR-to-CSC conversion gives)."""
        indptr, cols, data = self._triplets()
        rows = np.repeat(np.arange(len(self.cols), dtype=np.int32), np.diff(indptr))
        order = np.argsort(cols, kind="stable")
        starts = np.searchsorted(cols[order], np.arange(len(self.lower) + 1)).astype(np.int32)
        return starts, rows[order], data[order]

    def solve(self, cost: np.ndarray) -> np.ndarray | None:
        """Optimal x for min cost·x, or None (infeasible). HiGHS through its own Python interface:
        scipy's ``milp`` wrapper costs several milliseconds per call in option checks alone."""
        highs = self.load(cost)
        highs.run()
        return _optimum(highs)

    def load(self, cost: np.ndarray) -> highspy.Highs:
        """Pass the program to the process's HiGHS instance (to be run, or changed and re-run warm)."""
        n, m = len(self.lower), len(self.cols)
        starts, rows, values = self.columns()
        highs = _solver()
        model = highspy.HighsLp()
        model.num_col_, model.num_row_ = n, m
        model.col_cost_ = np.asarray(cost, dtype=float)
        model.col_lower_ = np.asarray(self.lower, dtype=float)
        model.col_upper_ = np.asarray(self.upper, dtype=float)
        model.row_lower_ = np.asarray(self.row_lo, dtype=float)
        model.row_upper_ = np.asarray(self.row_hi, dtype=float)
        model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        model.a_matrix_.start_ = starts
        model.a_matrix_.index_ = rows
        model.a_matrix_.value_ = values
        if any(self.integer):
            model.integrality_ = [_INTEGER if flag else _CONTINUOUS for flag in self.integer]
        highs.passModel(model)
        return highs


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
        self._ray: np.ndarray | None = None
        self._nash: tuple[np.ndarray, np.ndarray] | None = None

    # ---- assembly -------------------------------------------------------------------------------
    def _build(self, shortfall: bool, cuts: dict, fixed: dict | None = None) -> tuple[_Builder, dict]:
        s, c = self.scenario, self.consent
        n, k = s.n_actors, s.n_issues
        b = _Builder()
        z = [b.var(float(s.lower[j]), float(s.upper[j])) for j in range(k)]
        lower = s.lower.copy()
        upper = s.upper.copy()
        required = c.required.copy()
        eligible = np.zeros(n, bool) if c.eligible is None else c.eligible & ~required
        rules_on = self.binding and (s.rules.red_lines or s.rules.package)
        hard_rules = (required | self.rule_actors) & self.follows_rules
        red_lo, red_hi = s.red_line_bounds
        if self.binding and s.rules.red_lines:
            for i in np.flatnonzero(hard_rules):
                lower = np.maximum(lower, red_lo[i])
                upper = np.minimum(upper, red_hi[i])
        if np.any(lower > upper + 1e-9):
            return b, {"infeasible": True}
        # consent binaries: y[i] = 1 when i's acceptance is needed (or bought)
        y: dict[int, int] = {}
        changed: dict[int, int] = {}
        if c.mode in ("veto", "majority", "weighted"):
            for i in np.flatnonzero(eligible):
                y[i] = b.var(0.0, 1.0, integer=True)
        if c.mode == "veto":
            holders = c.vetoes & eligible[:, None]
            for j in np.flatnonzero(holders.any(axis=0)):
                changed[j] = b.var(0.0, 1.0, integer=True)
                span = float(s.spans[j])
                b.row([z[j], changed[j]], [1.0, -span], -np.inf, float(s.status_quo[j]))
                b.row([z[j], changed[j]], [1.0, span], float(s.status_quo[j]), np.inf)
                for i in np.flatnonzero(holders[:, j]):
                    b.row([y[i], changed[j]], [1.0, -1.0], 0.0, np.inf)
        elif c.mode == "majority":
            if y:
                b.row(list(y.values()), [1.0] * len(y), float(c.votes), np.inf)
            elif c.votes > 0:
                return b, {"infeasible": True}
        elif c.mode == "weighted":
            for weights, threshold in zip(c.weights, c.thresholds):
                need = float(threshold) - float(weights[required].sum()) - 1e-9 * float(weights.sum())
                cols = [y[i] for i in y if weights[i] > 0]
                if need <= 0:
                    continue
                if not cols or float(weights[list(y)].sum()) < need:
                    return b, {"infeasible": True}
                b.row(cols, [float(weights[i]) for i in y if weights[i] > 0], need, np.inf)
        # the domain: levels of discrete issues (binaries), red lines on levels
        levels: dict[int, list[tuple[float, int]]] = {}
        for j, issue in enumerate(s.issues):
            if not issue.discrete:
                continue
            if fixed is not None and j in fixed:  # one level of an enumerated combination
                levels[j] = [(fixed[j], -1)]
                b.lower[z[j]] = b.upper[z[j]] = float(fixed[j])
                continue
            options = []
            for point in issue.choices:
                if point < lower[j] - 1e-9 or point > upper[j] + 1e-9:
                    continue
                if self.binding and s.rules.red_lines and not all(
                        _level_ok(s, i, j, point) for i in np.flatnonzero(hard_rules)):
                    continue
                options.append((point, b.var(0.0, 1.0, integer=True)))
            if not options:
                return b, {"infeasible": True}
            if len(options) == 1 and not any(i in y for i in range(n)):  # pinned: no binary needed
                b.integer[options[0][1]] = 0
            levels[j] = options
            b.row([z[j]] + [col for _, col in options], [1.0] + [-p for p, _ in options], 0.0, 0.0)
            b.row([col for _, col in options], [1.0] * len(options), 1.0, 1.0)
        for j in range(k):
            if j not in levels:
                b.lower[z[j]], b.upper[z[j]] = float(lower[j]), float(upper[j])
            elif fixed is not None and j in fixed and not lower[j] - 1e-9 <= fixed[j] <= upper[j] + 1e-9:
                return b, {"infeasible": True}
        # relaxable rules of eligible actors
        if rules_on:
            for i, yi in y.items():
                if not self.follows_rules[i]:
                    continue
                if s.rules.red_lines:
                    for j in range(k):
                        span = float(s.spans[j])
                        if np.isfinite(red_lo[i, j]):
                            b.row([z[j], yi], [1.0, -span], float(red_lo[i, j]) - span, np.inf)
                        if np.isfinite(red_hi[i, j]):
                            b.row([z[j], yi], [1.0, span], -np.inf, float(red_hi[i, j]) + span)
                        for point, col in levels.get(j, ()):
                            if col >= 0 and not _level_ok(s, i, j, point):
                                b.row([col, yi], [1.0, 1.0], -np.inf, 1.0)
                if s.rules.package:
                    self._package_row(b, z, i, yi)
            if s.rules.package:
                for i in np.flatnonzero(hard_rules):
                    self._package_row(b, z, i, None)
        if s.budget_issues:
            cols = [z[s.issue_ids.index(i)] for i in s.budget_issues]
            b.row(cols, [1.0] * len(cols), s.budget_total, s.budget_total)
        # values: epigraph of the losses, renegotiation caps
        expressions: dict[int, tuple[float, list, list]] = {}
        slack = b.var(0.0, BIG_VALUE) if shortfall else None
        ray = b.var(-BIG_VALUE, BIG_VALUE) if self._ray is not None else None
        actors = set(np.flatnonzero(required | hard_rules)) | set(y) | set(np.flatnonzero(self._objective != 0))
        actors |= set(np.flatnonzero(self._tie != 0))
        for i in sorted(actors):
            expressions[i] = self._value_expression(b, z, i, cuts)
        for i in sorted(actors):
            floor = self.floors[i]
            if not np.isfinite(floor) or not (required[i] or i in y):
                continue
            const, cols, coefs = expressions[i]
            cols, coefs = list(cols), list(coefs)
            rhs = float(floor) - const
            if slack is not None and not self._own[i]:
                cols.append(slack)
                coefs.append(1.0)
            if ray is not None:
                cols.append(ray)
                coefs.append(-float(self._ray[i]))
            if i in y:
                cols.append(y[i])
                coefs.append(-BIG_VALUE)
                rhs -= BIG_VALUE
            b.row(cols, coefs, rhs, np.inf)
        hypograph: dict[int, int] = {}
        if self._nash is not None:  # h_i <= log(V_i - d_i), by tangent cuts at the points tried so far
            alpha, d = self._nash
            for i in np.flatnonzero(alpha > 0):
                hypograph[i] = b.var(-60.0, 1.0)
                const, cols, coefs = expressions[i]
                for point in cuts.setdefault(("nash", i), list(NASH_CUTS)):
                    b.row([hypograph[i]] + list(cols), [1.0] + [-c / point for c in coefs], -np.inf,
                          float(np.log(point) - 1.0 + (const - d[i]) / point))
        return b, {"z": z, "levels": levels, "expressions": expressions, "slack": slack, "changed": changed,
                   "ray": ray, "hypograph": hypograph}

    def _package_row(self, b: _Builder, z: list, i: int, yi: int | None) -> None:
        s = self.scenario
        weights, lo, hi = s.package_rows
        if not weights[i].any():
            return
        cols = [z[j] for j in np.flatnonzero(weights[i])]
        coefs = list(weights[i][weights[i] != 0])
        big = float(s.upper.max() - s.lower.min())
        if yi is None:
            b.row(cols, coefs, float(lo[i]), float(hi[i]))
            return
        if np.isfinite(lo[i]):
            b.row(cols + [yi], coefs + [-big], float(lo[i]) - big, np.inf)
        if np.isfinite(hi[i]):
            b.row(cols + [yi], coefs + [big], -np.inf, float(hi[i]) + big)

    def _value_expression(self, b: _Builder, z: list, i: int, cuts: dict) -> tuple[float, list, list]:
        """The affine expression of actor i's (capped) value: (constant, columns, coefficients)."""
        v = self.values
        const = 1.0 - float(v.offset[i])
        cols: list[int] = []
        coefs: list[float] = []
        for j in np.flatnonzero(v.weight[i] > 0):
            span = float(v.span[j])
            ideal = float(v.ideal[i, j])
            t = b.var(0.0, span)
            b.row([t, z[j]], [1.0, -1.0], -ideal, np.inf)
            b.row([t, z[j]], [1.0, 1.0], ideal, np.inf)
            if v.rho[i] == 1.0:
                cols.append(t)
                coefs.append(-float(v.weight[i, j]) / span)
            else:
                loss = b.var(0.0, 1.0)
                for point in cuts.setdefault((i, j), list(np.linspace(0.0, span, 9))):
                    value, slope = _power(point, span, float(v.rho[i]))
                    b.row([loss, t], [1.0, -slope], value - slope * point, np.inf)
                cols.append(loss)
                coefs.append(-float(v.weight[i, j]))
                cuts.setdefault("vars", {})[(i, j)] = (t, loss)
        if np.isfinite(v.cap[i]):
            capped = b.var(-BIG_VALUE, float(v.cap[i]))
            b.row([capped] + cols, [1.0] + [-c for c in coefs], -np.inf, const)  # m <= V
            delta = float(v.delta[i])
            return (1.0 - delta) * const, cols + [capped], [(1.0 - delta) * c for c in coefs] + [delta]
        return const, cols, coefs

    # ---- solving --------------------------------------------------------------------------------
    def maximise(self, objective: np.ndarray, tie_break: np.ndarray | None = None,
                 shortfall: bool = False) -> Solution | None:
        """The best bundle, or None when no bundle meets every constraint.

        ``tie_break``: small weights on other actors' values, so that among the objective's optima the
        program picks a Pareto-efficient one. ``shortfall``: relax every floor but the objective
        actors' own by a common slack s, minimise s first, then maximise the objective at that s.
        """
        n = self.scenario.n_actors
        self._objective = np.asarray(objective, dtype=float)
        self._tie = np.zeros(n) if tie_break is None else np.asarray(tie_break, dtype=float)
        self._own = self._objective != 0
        if self._ray is not None or self._nash is not None:
            return self._maximise(shortfall)
        return _SOLUTIONS.get_or_solve(self._content_key(shortfall), lambda: self._maximise(shortfall))

    def _content_key(self, shortfall: bool) -> bytes:
        """Everything the program's answer depends on: the scenario's content, the value functions
        (true or believed), consent, floors, rules and objective."""
        v, c = self.values, self.consent
        text = f"{self.scenario.digest}|{c.mode}|{c.votes}|{self.binding}|{shortfall}"
        digest = hashlib.sha256(text.encode())
        for array in (v.ideal, v.weight, v.offset, v.rho, v.span, v.cap, v.delta, c.required, c.eligible,
                      c.vetoes, c.weights, c.thresholds, self.floors, self.rule_actors, self.follows_rules, self._objective,
                      self._tie):
            if array is None:
                digest.update(b"|none")
            else:
                array = np.ascontiguousarray(array)
                digest.update(f"|{array.dtype.str}{array.shape}".encode())
                digest.update(array.tobytes())
        return digest.digest()

    def _maximise(self, shortfall: bool) -> Solution | None:
        combinations = self._combinations()
        if len(combinations) > 1 and self._nash is None and np.all(self.values.rho == 1.0):
            return self._solve_warm(shortfall, combinations)
        best: tuple | None = None
        for fixed in combinations:
            found = self._solve(shortfall, fixed)
            if found is None:
                continue
            # lexicographic: least shortfall first, then the best objective
            if _better(found[1], found[2], best):
                best = found
        return None if best is None else best[0]

    def _combinations(self) -> list[dict | None]:
        """Level combinations of the discrete issues to solve as separate linear programs (each
        exact, and far faster than branch and bound on these small problems); [None] when the
        consent binaries need a mixed-integer program anyway or there are too many combinations."""
        s = self.scenario
        if self.consent.mode != "fixed":
            return [None]
        hard = (self.consent.required | self.rule_actors) & self.follows_rules
        red_lo, red_hi = s.red_line_bounds
        rules = self.binding and s.rules.red_lines
        options = {}
        for j, issue in enumerate(s.issues):
            if not issue.discrete:
                continue
            points = [p for p in issue.choices
                      if not rules or all(red_lo[i, j] - 1e-9 <= p <= red_hi[i, j] + 1e-9
                                          and _level_ok(s, i, j, p) for i in np.flatnonzero(hard))]
            if not points:
                return []
            options[j] = points
        count = int(np.prod([len(p) for p in options.values()])) if options else 1
        if count > MAX_COMBINATIONS:
            return [None]
        keys = list(options)
        return [dict(zip(keys, combo)) for combo in itertools.product(*(options[j] for j in keys))]

    def _cost(self, size: int, parts: dict) -> np.ndarray:
        """Minimisation costs: minus the objective (weighted values, the ray's reach, the Nash logs)."""
        cost = np.zeros(size)
        for i, (_, cols, coefs) in parts["expressions"].items():
            weight = self._objective[i] + self._tie[i]
            if weight:
                np.add.at(cost, cols, -weight * np.asarray(coefs))
        if parts["ray"] is not None:
            cost[parts["ray"]] -= 1.0
        for i, col in parts["hypograph"].items():
            cost[col] -= float(self._nash[0][i])
        return cost

    def _solve_warm(self, shortfall: bool, combinations: list[dict]) -> Solution | None:
        """Linear programs that differ only in the levels fixed: one model, bounds changed, re-solved
        warm from the previous basis."""
        built, parts = self._build(shortfall, {}, combinations[0])
        if parts.get("infeasible"):
            return None
        cost = self._cost(len(built.lower), parts)
        everything = np.arange(len(cost), dtype=np.int32)
        slack = parts["slack"]
        first = np.zeros(len(cost))
        if slack is not None:
            first[slack] = 1.0
        highs = built.load(first if slack is not None else cost)
        best: tuple | None = None
        for fixed in combinations:
            for j, point in fixed.items():
                highs.changeColBounds(int(parts["z"][j]), float(point), float(point))
            slack_value = 0.0
            if slack is not None:
                highs.changeColsCost(len(cost), everything, first)
                highs.changeColBounds(int(slack), 0.0, BIG_VALUE)
                highs.run()
                x = _optimum(highs)
                if x is None:
                    continue
                slack_value = float(x[slack])
                highs.changeColBounds(int(slack), 0.0, slack_value + 1e-9)
                highs.changeColsCost(len(cost), everything, cost)
            highs.run()
            x = _optimum(highs)
            if x is None:
                continue
            value = -float(cost @ x)
            if _better(slack_value, value, best):
                best = (x, slack_value, value)
        if best is None:
            return None
        x, slack_value, _ = best
        bundle = self._clean(np.array([x[col] for col in parts["z"]]), parts)
        return Solution(bundle=bundle, values=self.values(bundle), shortfall=slack_value)

    def _solve(self, shortfall: bool, fixed: dict | None) -> tuple[Solution, float, float] | None:
        """(solution, shortfall, objective) of one (mixed-integer) linear program, cuts included."""
        cuts: dict = {}
        for _ in range(200):
            built, parts = self._build(shortfall, cuts, fixed)
            if parts.get("infeasible"):
                return None
            x = None
            slack_value = 0.0
            if shortfall:
                cost = np.zeros(len(built.lower))
                cost[parts["slack"]] = 1.0
                x = built.solve(cost)
                if x is None:
                    return None
                slack_value = float(x[parts["slack"]])
                built.upper[parts["slack"]] = slack_value + 1e-9
            cost = self._cost(len(built.lower), parts)
            x = built.solve(cost)
            if x is None:
                return None
            nash_cut = self._add_nash_cuts(x, parts, cuts)
            if not self._add_cuts(x, cuts) and not nash_cut:
                break
        bundle = self._clean(np.array([x[col] for col in parts["z"]]), parts)
        return Solution(bundle=bundle, values=self.values(bundle), shortfall=slack_value), slack_value, -float(cost @ x)

    def maximise_ray(self, ray: np.ndarray, tie_break: np.ndarray | None = None) -> tuple[Solution, float] | None:
        """max s such that V_i >= floor_i + s · ray_i for every actor with a floor (Kalai–Smorodinsky)."""
        self._ray = np.asarray(ray, dtype=float)
        try:
            solution = self.maximise(np.zeros(self.scenario.n_actors), tie_break)
        finally:
            self._ray = None
        if solution is None:
            return None
        floors = self.floors
        have = np.isfinite(floors) & (self._ray_mask())
        reach = (solution.values - floors)[have] / np.asarray(ray, dtype=float)[have]
        return solution, float(reach.min()) if reach.size else 0.0

    def _ray_mask(self) -> np.ndarray:
        return self.consent.required.copy()

    def maximise_nash(self, alpha: np.ndarray, disagreement: np.ndarray) -> Solution | None:
        """argmax Σ_i α_i log(V_i − d_i) over actors with α_i > 0 (the others only kept at their
        floors): the asymmetric Nash bargaining solution.

        Per level combination of the discrete issues: an interior start from two linear programs (the
        most every gainer can gain at once; then the weighted values with half that gain kept), then
        SLSQP on the smooth concave log-product over the epigraph polytope (with ρ > 1 the true convex
        losses of the epigraph variables). With consent binaries or too many combinations, tangent cuts
        on the logarithm (Kelley's method)."""
        alpha, d = np.asarray(alpha, dtype=float), np.asarray(disagreement, dtype=float)
        combinations = self._combinations()
        if combinations == [None]:
            self._nash = (alpha, d)
            try:
                return self.maximise(np.zeros(self.scenario.n_actors))
            finally:
                self._nash = None
        best: tuple[float, Solution] | None = None
        for fixed in combinations:
            found = self._nash_smooth(alpha, d, fixed)
            if found is not None and (best is None or found[0] > best[0] + 1e-12):
                best = found
        return None if best is None else best[1]

    def _nash_smooth(self, alpha: np.ndarray, d: np.ndarray, fixed: dict) -> tuple[float, Solution] | None:
        """One level combination: an interior start from two linear programs, then SLSQP."""
        from scipy.optimize import minimize

        n = self.scenario.n_actors
        gainers = alpha > 0
        self._objective, self._tie, self._own = np.zeros(n), np.zeros(n), np.zeros(n, bool)
        self._ray = gainers.astype(float)
        try:
            reach = self._solve(False, fixed)
        finally:
            self._ray = None
        if reach is None:
            return None
        gain = float(np.min((reach[0].values - d)[gainers]))
        if gain <= 1e-12:
            return None
        floors, self.floors = self.floors, np.where(gainers, d + 0.5 * gain, self.floors)
        self._objective = alpha.copy()
        try:
            built, parts = self._build(False, {}, fixed)
            start = built.solve(self._cost(len(built.lower), parts))
        finally:
            self.floors = floors
        if start is None:
            return None
        cuts: dict = {}
        built, parts = self._build(False, cuts, fixed)  # the same polytope with the true floors
        dense = built.matrix().toarray()
        lo, hi = np.array(built.row_lo), np.array(built.row_hi)
        a_ineq = np.vstack([dense[np.isfinite(lo)], -dense[np.isfinite(hi)]])
        b_ineq = np.concatenate([lo[np.isfinite(lo)], -hi[np.isfinite(hi)]])
        epigraph = cuts.get("vars", {})  # (actor, issue) -> (t column, linearised loss column) when ρ != 1
        v = self.values

        def actor_value(i: int, x: np.ndarray) -> tuple[float, np.ndarray]:
            """V_i and its gradient: affine for ρ = 1; for ρ > 1 the true (t/span)^ρ on the epigraph t."""
            grad = np.zeros_like(x)
            if v.rho[i] == 1.0:
                const, cols, coefs = parts["expressions"][i]
                grad[cols] = coefs
                return const + float(np.dot(coefs, x[cols])), grad
            value = 1.0 - float(v.offset[i])
            for j in np.flatnonzero(v.weight[i] > 0):
                t = epigraph[(i, j)][0]
                scaled = max(x[t], 0.0) / v.span[j]
                value -= v.weight[i, j] * scaled ** v.rho[i]
                grad[t] = -v.weight[i, j] * v.rho[i] * scaled ** (v.rho[i] - 1.0) / v.span[j]
            return value, grad

        def objective(x: np.ndarray) -> tuple[float, np.ndarray]:
            value, grad = 0.0, np.zeros_like(x)
            for i in np.flatnonzero(gainers):
                level, slope = actor_value(i, x)
                surplus = max(level - float(d[i]), 1e-300)
                value -= alpha[i] * np.log(surplus)
                grad -= alpha[i] * slope / surplus
            # SLSQP stops on an absolute change of the objective; near the optimum that change is
            # quadratic in the step, so scale it up to pin the bundle down to ~1e-8 of the scale.
            return NASH_SCALE * value, NASH_SCALE * grad

        kept = [i for i in np.flatnonzero(~gainers & np.isfinite(self.floors)) if v.rho[i] != 1.0]
        constraints = [{"type": "ineq", "fun": lambda x: a_ineq @ x - b_ineq, "jac": lambda x: a_ineq}]
        constraints += [{"type": "ineq", "fun": (lambda x, i=i: actor_value(i, x)[0] - self.floors[i]),
                         "jac": (lambda x, i=i: actor_value(i, x)[1])} for i in kept]
        result = minimize(objective, start, jac=True, method="SLSQP", constraints=constraints,
                          bounds=list(zip(built.lower, built.upper)),
                          options={"maxiter": NASH_ITERATIONS, "ftol": 1e-12})
        scored = []
        for x in (start, result.x):
            bundle = self._clean(np.array([x[col] for col in parts["z"]]), parts)
            values = self.values(bundle)
            surplus = (values - d)[gainers]
            floor = np.where(np.isfinite(self.floors), self.floors, -np.inf)
            if np.all(surplus > 0) and np.all(values >= floor - 1e-9) and self.scenario.allowed(bundle).all():
                scored.append((float(alpha[gainers] @ np.log(surplus)), Solution(bundle, values)))
        return max(scored, key=lambda item: item[0]) if scored else None

    def _add_nash_cuts(self, x: np.ndarray, parts: dict, cuts: dict) -> bool:
        added = False
        for i, col in parts["hypograph"].items():
            const, cols, coefs = parts["expressions"][i]
            surplus = const + float(np.dot(coefs, x[cols])) - float(self._nash[1][i])
            if surplus <= 0:
                continue
            if x[col] - np.log(surplus) > NASH_TOLERANCE:
                cuts[("nash", i)].append(float(surplus))
                added = True
        return added

    def _add_cuts(self, x: np.ndarray, cuts: dict) -> bool:
        """Kelley's step: add a tangent cut where the linearised loss undercuts the true loss."""
        added = False
        for (i, j), (t, loss) in cuts.get("vars", {}).items():
            span, rho = float(self.values.span[j]), float(self.values.rho[i])
            true, _ = _power(x[t], span, rho)
            if true - x[loss] > CUT_TOLERANCE:
                cuts[(i, j)].append(float(x[t]))
                added = True
        cuts.pop("vars", None)
        return added

    def _clean(self, bundle: np.ndarray, parts: dict) -> np.ndarray:
        """Exact points: levels where a level was chosen, the status quo where nothing changed, bounds."""
        s = self.scenario
        bundle = np.clip(bundle, s.lower, s.upper)
        for j in parts["levels"]:
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


def _optimum(highs: highspy.Highs) -> np.ndarray | None:
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    return np.array(highs.getSolution().col_value)


class _SolutionCache:
    """Bounded, thread-safe memo of program answers by content (:meth:`Program._content_key`).

    HiGHS answers a given program deterministically, and runs of one scenario ask the same questions
    (with exact beliefs every run's proposers solve the same programs, whatever the seed): the first
    run solves them, the others read the answer. Entries are copied in and out."""

    def __init__(self, size: int):
        self.size = size
        self.entries: OrderedDict[bytes, Solution | None] = OrderedDict()
        self.lock = threading.Lock()

    def get_or_solve(self, key: bytes, solve) -> Solution | None:
        with self.lock:
            if key in self.entries:
                self.entries.move_to_end(key)
                return _copy(self.entries[key])
        solution = solve()
        with self.lock:
            self.entries[key] = _copy(solution)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)
        return solution

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()


def _copy(solution: Solution | None) -> Solution | None:
    if solution is None:
        return None
    return Solution(bundle=solution.bundle.copy(), values=solution.values.copy(),
                    shortfall=solution.shortfall)


_SOLUTIONS = _SolutionCache(8192)


def clear_cache() -> None:
    """Forget the memoised program answers (benchmarks time a scenario's first run with it)."""
    _SOLUTIONS.clear()
_LOCAL = threading.local()


def _solver() -> highspy.Highs:
    """One HiGHS instance per thread, reused (making one costs more than solving a small program; the
    classroom app computes in more than one thread, and an instance must not be shared between them)."""
    highs = getattr(_LOCAL, "highs", None)
    if highs is None:
        highs = _LOCAL.highs = highspy.Highs()
        highs.setOptionValue("output_flag", False)
        highs.setOptionValue("threads", 1)
        highs.setOptionValue("mip_rel_gap", 1e-9)
    return highs


def _power(distance: float, span: float, rho: float) -> tuple[float, float]:
    """(d/span)^ρ and its derivative in d."""
    scaled = max(distance, 0.0) / span
    return scaled ** rho, rho * scaled ** (rho - 1.0) / span if scaled > 0 or rho == 1.0 else 0.0


def _level_ok(scenario: Scenario, actor: int, issue: int, point: float) -> bool:
    line = scenario.actors[actor].red_lines.get(scenario.issue_ids[issue])
    return True if line is None else bool(line.allows(np.array(point)))
