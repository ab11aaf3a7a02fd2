"""Program construction: a :class:`~sim.kernels.programs.program.Program` and a :class:`Goal` as the
rows and columns of one (mixed-integer) linear program (MODEL.md §4.2, §5).

With linear utilities (ρ = 1) the losses enter in the epigraph form ``t_ik >= |z_k − x_ik|``; binaries
choose the level of each discrete issue and, under the veto or majority consent rules, whose consent
a bundle needs. With ρ > 1 the convex losses ``(t/span)^ρ`` enter through tangent cuts (the points in
``cuts``, which the solvers extend: :mod:`sim.kernels.programs.solvers`). Columns and rows are created
in a fixed order (the solver's path, and so its answer among equal optima, depends on it).
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from scipy.sparse import csr_matrix

from sim.domain.scenario import Scenario

if TYPE_CHECKING:  # pragma: no cover
    from sim.kernels.programs.program import Program

BIG_VALUE = 4.0  # relaxes a value row (values and floors lie within [-2, 1])
MAX_COMBINATIONS = 64  # level combinations solved one by one; beyond, branch and bound
NASH_CUTS = (1e-6, 1e-4, 1e-3, 1e-2, 0.03, 0.1, 0.2, 0.4, 0.7, 1.0)  # first tangent points of log(surplus)


@dataclass(frozen=True)
class Goal:
    """What a program maximises: ``Σ_i (weight_i + tie_i) V_i``, plus the ray's reach ``s`` (with
    ``V_i >= floor_i + s · ray_i``) or the Nash logarithms ``Σ_i α_i log(V_i − d_i)`` (``nash`` = (α, d))."""

    weight: np.ndarray  # (N,)
    tie: np.ndarray  # (N,)
    own: np.ndarray  # (N,) bool: actors whose floors the shortfall slack does not relax
    ray: np.ndarray | None = None
    nash: tuple[np.ndarray, np.ndarray] | None = None


@dataclass
class Parts:
    """Where a built program keeps what the solvers read back (column indices)."""

    z: list[int]  # the bundle, one column per issue
    levels: dict[int, list[tuple[float, int]]]  # discrete issue -> (point, binary column; -1 when fixed)
    expressions: dict[int, tuple[float, list, list]]  # actor -> its value: (constant, columns, coefficients)
    slack: int | None  # the common shortfall of the floors
    ray: int | None  # the ray's reach
    hypograph: dict[int, int]  # actor -> h_i <= log(V_i - d_i)
    #: the floor rows: (row, actor, constant of its value, relaxed by a consent binary)
    floor_rows: list[tuple[int, int, float, bool]] = field(default_factory=list)


@dataclass
class Builder:
    """Variables with bounds and integrality, rows lo <= a·x <= hi, assembled sparse for HiGHS."""

    lower: list = field(default_factory=list)
    upper: list = field(default_factory=list)
    integer: list = field(default_factory=list)
    cols: list = field(default_factory=list)
    data: list = field(default_factory=list)
    row_lo: list = field(default_factory=list)
    row_hi: list = field(default_factory=list)
    _columns: tuple | None = field(default=None, repr=False, compare=False)

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

    def at_floors(self, floors: np.ndarray, parts: "Parts") -> "Builder":
        """The same program at other floors (only the floor rows' lower bounds differ): a copy sharing the
        columns and rows, with each floor row's bound computed as :func:`_floor_rows` computes it."""
        twin = copy.copy(self)
        twin.row_lo = list(self.row_lo)
        for row, i, const, bought in parts.floor_rows:
            rhs = float(floors[i]) - const
            if bought:
                rhs -= BIG_VALUE
            twin.row_lo[row] = rhs
        return twin

    def matrix(self):
        """The rows as a sparse matrix (CSR)."""
        indptr, cols, data = self._triplets()
        return csr_matrix((data, cols, indptr), shape=(len(self.cols), len(self.lower)))

    def columns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The rows column-wise, as HiGHS takes them: (column starts, row indices, coefficients),
        each column's entries in row order (what scipy's CSR-to-CSC conversion gives). Kept once made (a
        built program's rows do not change; :meth:`at_floors` copies share them)."""
        if self._columns is None:
            self._columns = self._column_arrays()
        return self._columns

    def _column_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        indptr, cols, data = self._triplets()
        rows = np.repeat(np.arange(len(self.cols), dtype=np.int32), np.diff(indptr))
        order = np.argsort(cols, kind="stable")
        starts = np.searchsorted(cols[order], np.arange(len(self.lower) + 1)).astype(np.int32)
        return starts, rows[order], data[order]


# --------------------------------------------------------------------------------------------------
# The program, step by step (in column and row order)
# --------------------------------------------------------------------------------------------------


def build(program: "Program", goal: Goal, shortfall: bool, cuts: dict,
          fixed: dict | None = None) -> tuple[Builder, Parts] | None:
    """The program's columns and rows, or None when it is infeasible on its face (the hard rules or
    the fixed levels exclude everything). ``shortfall``: a common slack on the floors; ``cuts``: the
    tangent points so far (extended in place with the first ones); ``fixed``: issue -> level."""
    s, c = program.scenario, program.consent
    b = Builder()
    z = [b.var(float(s.lower[j]), float(s.upper[j])) for j in range(s.n_issues)]
    required = c.required.copy()
    eligible = np.zeros(s.n_actors, bool) if c.eligible is None else c.eligible & ~required
    hard_rules = (required | program.rule_actors) & program.follows_rules
    bounds = _hard_bounds(program, hard_rules)
    if bounds is None:
        return None
    y = _consent_binaries(b, program, z, eligible)
    if y is None:
        return None
    levels = _levels(b, program, z, bounds, hard_rules, y, fixed)
    if levels is None:
        return None
    if program.binding and (s.rules.red_lines or s.rules.package):
        _relaxable_rules(b, program, z, y, levels, hard_rules)
    if s.budget_issues:
        cols = [z[s.issue_ids.index(i)] for i in s.budget_issues]
        b.row(cols, [1.0] * len(cols), s.budget_total, s.budget_total)
    # values: epigraph of the losses, renegotiation caps
    slack = b.var(0.0, BIG_VALUE) if shortfall else None
    ray = b.var(-BIG_VALUE, BIG_VALUE) if goal.ray is not None else None
    actors = set(np.flatnonzero(required | hard_rules)) | set(y) | set(np.flatnonzero(goal.weight != 0))
    actors |= set(np.flatnonzero(goal.tie != 0))
    expressions = {i: value_expression(b, program, z, i, cuts) for i in sorted(actors)}
    floor_rows = _floor_rows(b, program, goal, expressions, required, y, slack, ray)
    hypograph = _nash_rows(b, goal, expressions, cuts)
    return b, Parts(z=z, levels=levels, expressions=expressions, slack=slack, ray=ray, hypograph=hypograph,
                    floor_rows=floor_rows)


def _hard_bounds(program: "Program", hard_rules: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Each issue's box, narrowed by the red lines of the actors whose rules always bind; None when
    that leaves nothing."""
    s = program.scenario
    lower = s.lower.copy()
    upper = s.upper.copy()
    red_lo, red_hi = s.red_line_bounds
    if program.binding and s.rules.red_lines:
        for i in np.flatnonzero(hard_rules):
            lower = np.maximum(lower, red_lo[i])
            upper = np.minimum(upper, red_hi[i])
    if np.any(lower > upper + 1e-9):
        return None
    return lower, upper


def _consent_binaries(b: Builder, program: "Program", z: list, eligible: np.ndarray) -> dict[int, int] | None:
    """Consent binaries y[i] = 1 when i's acceptance is needed (or bought), with the veto rule's
    "issue changed" binaries, the majority's vote count or the weighted rule's quotas (one row per quota
    on the binaries); None when a majority or a quota cannot be had."""
    s, c = program.scenario, program.consent
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
            return None
    elif c.mode == "weighted":
        for weights, threshold in zip(c.weights, c.thresholds):
            need = float(threshold) - float(weights[c.required].sum()) - 1e-9 * float(weights.sum())
            if need <= 0:
                continue
            voters = [i for i in y if weights[i] > 0]
            if not voters or float(weights[voters].sum()) < need:
                return None
            b.row([y[i] for i in voters], [float(weights[i]) for i in voters], need, np.inf)
    return y


def _levels(b: Builder, program: "Program", z: list, bounds: tuple[np.ndarray, np.ndarray],
            hard_rules: np.ndarray, y: dict, fixed: dict | None) -> dict[int, list[tuple[float, int]]] | None:
    """The domain: one binary per allowed level of each discrete issue (a fixed level pins the issue),
    the box on continuous ones; None when an issue has no allowed level left."""
    s = program.scenario
    lower, upper = bounds
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
            if program.binding and s.rules.red_lines and not all(
                    level_ok(s, i, j, point) for i in np.flatnonzero(hard_rules)):
                continue
            options.append((point, b.var(0.0, 1.0, integer=True)))
        if not options:
            return None
        if len(options) == 1 and not any(i in y for i in range(s.n_actors)):  # pinned: no binary needed
            b.integer[options[0][1]] = 0
        levels[j] = options
        b.row([z[j]] + [col for _, col in options], [1.0] + [-p for p, _ in options], 0.0, 0.0)
        b.row([col for _, col in options], [1.0] * len(options), 1.0, 1.0)
    for j in range(s.n_issues):
        if j not in levels:
            b.lower[z[j]], b.upper[z[j]] = float(lower[j]), float(upper[j])
        elif fixed is not None and j in fixed and not lower[j] - 1e-9 <= fixed[j] <= upper[j] + 1e-9:
            return None
    return levels


def _relaxable_rules(b: Builder, program: "Program", z: list, y: dict, levels: dict,
                     hard_rules: np.ndarray) -> None:
    """The red lines and package rules of eligible actors, relaxed unless their consent binary is on;
    then the package rules that always bind."""
    s = program.scenario
    red_lo, red_hi = s.red_line_bounds
    for i, yi in y.items():
        if not program.follows_rules[i]:
            continue
        if s.rules.red_lines:
            for j in range(s.n_issues):
                span = float(s.spans[j])
                if np.isfinite(red_lo[i, j]):
                    b.row([z[j], yi], [1.0, -span], float(red_lo[i, j]) - span, np.inf)
                if np.isfinite(red_hi[i, j]):
                    b.row([z[j], yi], [1.0, span], -np.inf, float(red_hi[i, j]) + span)
                for point, col in levels.get(j, ()):
                    if col >= 0 and not level_ok(s, i, j, point):
                        b.row([col, yi], [1.0, 1.0], -np.inf, 1.0)
        if s.rules.package:
            package_row(b, s, z, i, yi)
    if s.rules.package:
        for i in np.flatnonzero(hard_rules):
            package_row(b, s, z, i, None)


def _floor_rows(b: Builder, program: "Program", goal: Goal, expressions: dict, required: np.ndarray,
                y: dict, slack: int | None, ray: int | None) -> list[tuple[int, int, float, bool]]:
    """V_i >= floor_i for every actor whose consent is needed (or may be bought: relaxed unless y_i),
    less the common slack, plus the ray's reach. Returns where they are: (row, actor, constant, bought)."""
    floor_rows: list[tuple[int, int, float, bool]] = []
    for i in sorted(expressions):
        floor = program.floors[i]
        if not np.isfinite(floor) or not (required[i] or i in y):
            continue
        const, cols, coefs = expressions[i]
        cols, coefs = list(cols), list(coefs)
        rhs = float(floor) - const
        if slack is not None and not goal.own[i]:
            cols.append(slack)
            coefs.append(1.0)
        if ray is not None:
            cols.append(ray)
            coefs.append(-float(goal.ray[i]))
        if i in y:
            cols.append(y[i])
            coefs.append(-BIG_VALUE)
            rhs -= BIG_VALUE
        floor_rows.append((len(b.row_lo), int(i), const, i in y))
        b.row(cols, coefs, rhs, np.inf)
    return floor_rows


def _nash_rows(b: Builder, goal: Goal, expressions: dict, cuts: dict) -> dict[int, int]:
    """h_i <= log(V_i - d_i) for every actor with α_i > 0, by tangent cuts at the points tried so far."""
    hypograph: dict[int, int] = {}
    if goal.nash is not None:
        alpha, d = goal.nash
        for i in np.flatnonzero(alpha > 0):
            hypograph[i] = b.var(-60.0, 1.0)
            const, cols, coefs = expressions[i]
            for point in cuts.setdefault(("nash", i), list(NASH_CUTS)):
                b.row([hypograph[i]] + list(cols), [1.0] + [-c / point for c in coefs], -np.inf,
                      float(np.log(point) - 1.0 + (const - d[i]) / point))
    return hypograph


def package_row(b: Builder, s: Scenario, z: list, i: int, yi: int | None) -> None:
    """Actor i's package rule: the weighted mean of its issues within its bounds (relaxed unless
    ``yi`` is on, when given)."""
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


def value_expression(b: Builder, program: "Program", z: list, i: int, cuts: dict) -> tuple[float, list, list]:
    """The affine expression of actor i's (capped) value: (constant, columns, coefficients)."""
    v = program.values
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
                value, slope = power(point, span, float(v.rho[i]))
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


def cost(goal: Goal, size: int, parts: Parts) -> np.ndarray:
    """Minimisation costs: minus the objective (weighted values, the ray's reach, the Nash logs)."""
    costs = np.zeros(size)
    for i, (_, cols, coefs) in parts.expressions.items():
        weight = goal.weight[i] + goal.tie[i]
        if weight:
            np.add.at(costs, cols, -weight * np.asarray(coefs))
    if parts.ray is not None:
        costs[parts.ray] -= 1.0
    for i, col in parts.hypograph.items():
        costs[col] -= float(goal.nash[0][i])
    return costs


def level_combinations(program: "Program") -> list[dict | None]:
    """Level combinations of the discrete issues to solve as separate linear programs (each
    exact, and far faster than branch and bound on these small problems); [None] when the
    consent binaries need a mixed-integer program anyway or there are too many combinations."""
    s = program.scenario
    if program.consent.mode != "fixed":
        return [None]
    hard = (program.consent.required | program.rule_actors) & program.follows_rules
    red_lo, red_hi = s.red_line_bounds
    rules = program.binding and s.rules.red_lines
    options = {}
    for j, issue in enumerate(s.issues):
        if not issue.discrete:
            continue
        points = [p for p in issue.choices
                  if not rules or all(red_lo[i, j] - 1e-9 <= p <= red_hi[i, j] + 1e-9
                                      and level_ok(s, i, j, p) for i in np.flatnonzero(hard))]
        if not points:
            return []
        options[j] = points
    count = int(np.prod([len(p) for p in options.values()])) if options else 1
    if count > MAX_COMBINATIONS:
        return [None]
    keys = list(options)
    return [dict(zip(keys, combo)) for combo in itertools.product(*(options[j] for j in keys))]


def power(distance: float, span: float, rho: float) -> tuple[float, float]:
    """(d/span)^ρ and its derivative in d."""
    scaled = max(distance, 0.0) / span
    return scaled ** rho, rho * scaled ** (rho - 1.0) / span if scaled > 0 or rho == 1.0 else 0.0


def level_ok(scenario: Scenario, actor: int, issue: int, point: float) -> bool:
    """Does the actor's declared red line on the issue (if any) allow this level?"""
    line = scenario.actors[actor].red_lines.get(scenario.issue_ids[issue])
    return True if line is None else bool(line.allows(np.array(point)))
