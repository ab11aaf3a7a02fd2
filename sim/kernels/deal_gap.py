"""The deal gap: is there a bundle every actor whose consent is needed accepts, and if not, the smallest
relaxation of the declared rules that opens one (docs/explanation/why-talks-fail.md, "The deal gap").

An actor accepts a bundle ``z`` when it respects the actor's red lines and package rule (if the scenario
switches those rules on) and gives it at least its outside option: ``V_i(z) >= d_i`` (MODEL.md §2–§3,
with credibility and a renegotiation cap when those rules are on). The domain is the mixed domain of the
offers protocol: levels on discrete issues, the ends of an indivisible one, the box elsewhere, the budget
of a divided pie. Whose acceptance is needed follows the consent rule (unanimity, the veto rule with its
"changed issues" binaries, a majority, or a weighted majority's quotas).

When no bundle is accepted, an *elastic* program adds a slack to every declared rule of an actor whose
consent is needed and minimises their sum, each in **points of the issue's scale on 0–100**:

* a red line: how far its bound moves (``75 → 50`` on a 0–100 issue costs 25 points);
* a package rule: how far its threshold on the weighted mean moves (``35 → 58.9`` costs 23.9 points);
* an outside option: how far its value must fall, times 100 (a utility of 0.01 is one point: moving every
  issue one point towards an actor changes its utility by 0.01).

The minimum is exact (a mixed-integer linear program solved by HiGHS, through highspy; with risk exponents above 1 the
convex losses enter by tangent cuts until they are met). Alternative minimal sets come from re-solving
with each found set forbidden (a "no-good" cut: not every rule of that set may be relaxed again), so the
next answer relaxes a different combination of rules. When bundles are accepted, the range of each actor's
acceptable utility (worst and best) is reported instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import highspy
from scipy.sparse import coo_matrix

from sim.domain.cache import BoundedCache, content_digest
from sim.domain.scenario import Scenario
from sim.domain.voting import SLACK
from sim.kernels.programs import ValueModel, value_model
from sim.kernels.programs.highs import optimum, solver
from sim.kernels.utility import disagreement_values, renegotiation_caps

TOLERANCE = 1e-7  # slack (in points) below which a rule counts as kept
CUT_TOLERANCE = 1e-9  # true loss above its linearisation: add a tangent cut
MAX_CUT_ROUNDS = 60


@dataclass(frozen=True)
class Move:
    """One relaxed rule: ``rule`` (``russia.package``, ``usa.red_line.enlargement``,
    ``russia.outside_option``), the declared value, the value that opens a deal, and the cost in points."""

    rule: str
    declared: float
    relaxed: float
    points: float


@dataclass(frozen=True)
class Relaxation:
    """A set of relaxed rules that opens a deal, at least cost (its total in points), and a bundle it opens."""

    moves: tuple[Move, ...]
    points: float
    bundle: np.ndarray = field(repr=False, compare=False)

    @property
    def rules(self) -> tuple[str, ...]:
        return tuple(move.rule for move in self.moves)


@dataclass(frozen=True)
class DealGap:
    """The answer for one scenario state.

    ``gap``: 0 when a bundle is accepted, else the least total relaxation in points. ``relaxations``: the
    minimal set first, then alternatives in increasing cost. ``ranges``: when a deal exists, per actor id
    the (worst, best) utility among accepted bundles."""

    gap: float
    relaxations: tuple[Relaxation, ...] = ()
    ranges: dict[str, tuple[float, float]] | None = None

    @property
    def feasible(self) -> bool:
        return self.gap <= TOLERANCE

    @property
    def rules(self) -> str:
        """The minimal set's rules, comma-separated ("" when a deal exists): the ``deal_gap_rules`` column."""
        return "" if self.feasible or not self.relaxations else ",".join(self.relaxations[0].rules)


@dataclass
class _Rows:
    """A (mixed-integer) linear program under assembly: columns with bounds and integrality, rows."""

    lower: list = field(default_factory=list)
    upper: list = field(default_factory=list)
    integer: list = field(default_factory=list)
    cost: list = field(default_factory=list)
    entries: list = field(default_factory=list)  # (row, column, coefficient)
    row_lo: list = field(default_factory=list)
    row_hi: list = field(default_factory=list)

    def var(self, lo: float, hi: float, integer: bool = False, cost: float = 0.0) -> int:
        self.lower.append(lo)
        self.upper.append(hi)
        self.integer.append(1 if integer else 0)
        self.cost.append(cost)
        return len(self.lower) - 1

    def row(self, terms: dict[int, float], lo: float, hi: float) -> None:
        index = len(self.row_lo)
        self.entries.extend((index, col, coef) for col, coef in terms.items())
        self.row_lo.append(lo)
        self.row_hi.append(hi)

    def solve(self, cost: np.ndarray | None = None) -> np.ndarray | None:
        """Optimal x for min cost·x (default: the columns' own costs), or None (infeasible); HiGHS
        through highspy, the instance the exact programs use (:mod:`sim.kernels.programs.highs`)."""
        rows, cols, coefs = (np.array(part) for part in zip(*self.entries)) if self.entries else (
            np.zeros(0, int), np.zeros(0, int), np.zeros(0))
        matrix = coo_matrix((coefs, (rows, cols)), shape=(len(self.row_lo), len(self.lower))).tocsc()
        model = highspy.HighsLp()
        model.num_col_, model.num_row_ = len(self.lower), len(self.row_lo)
        model.col_cost_ = np.asarray(self.cost if cost is None else cost, dtype=float)
        model.col_lower_, model.col_upper_ = np.asarray(self.lower, float), np.asarray(self.upper, float)
        model.row_lower_, model.row_upper_ = np.asarray(self.row_lo, float), np.asarray(self.row_hi, float)
        model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        model.a_matrix_.start_, model.a_matrix_.index_ = matrix.indptr, matrix.indices
        model.a_matrix_.value_ = matrix.data
        if any(self.integer):
            model.integrality_ = [highspy.HighsVarType.kInteger if flag else highspy.HighsVarType.kContinuous
                                  for flag in self.integer]
        highs = solver()
        highs.passModel(model)
        highs.run()
        return optimum(highs)


@dataclass(frozen=True)
class Consent:
    """Whose acceptance a bundle needs: ``mode`` ``all`` (unanimity), ``veto`` (``principal`` always, and
    the holders of a veto on every issue the bundle changes), ``majority`` (``votes`` actors at least) or
    ``weighted`` (``principal`` always, and for every quota r the accepting actors' ``weights[r]`` reach
    ``thresholds[r]``: :mod:`sim.domain.voting`)."""

    mode: str = "all"
    principal: np.ndarray | None = None  # (N,) bool
    votes: int = 0
    weights: np.ndarray | None = None  # weighted mode: (quotas, N)
    thresholds: np.ndarray | None = None  # weighted mode: (quotas,)


def deal_gap(scenario: Scenario, values: ValueModel, disagreement: np.ndarray, consent: Consent = Consent(),
             alternatives: int = 3) -> DealGap:
    """The deal gap of a scenario state (see the module docstring).

    Args:
        scenario: issues, rules (which bind), red lines, packages, vetoes, budget.
        values: every actor's value function (:func:`sim.kernels.programs.value_model`).
        disagreement: d_i, the outside option of each actor (N,).
        consent: whose acceptance is needed.
        alternatives: how many minimal sets to report beyond the first (when no deal exists).
    """
    disagreement = np.asarray(disagreement, dtype=float)
    if np.any(values.rho < 1.0):
        raise ValueError("the deal gap needs risk exponents >= 1 (concave utilities)")
    exact = _Program(scenario, values, disagreement, consent, elastic=False)
    if exact.solve_bundle(objective=None) is not None:
        return DealGap(gap=0.0, ranges=exact.utility_ranges())
    elastic = _Program(scenario, values, disagreement, consent, elastic=True)
    found: list[Relaxation] = []
    for _ in range(1 + alternatives):
        relaxation = elastic.minimal()
        if relaxation is None:
            break
        found.append(relaxation)
        elastic.forbid(relaxation)
    if not found:  # no relaxation of the declared rules opens a deal (the domain or consent itself)
        return DealGap(gap=float("inf"))
    return DealGap(gap=found[0].points, relaxations=tuple(found))


_GAPS = BoundedCache("sim.kernels.deal_gap.scenario_deal_gap", 4096)


def scenario_deal_gap(scenario: Scenario, consent: Consent = Consent(), round_index: int = 0,
                      alternatives: int = 3) -> DealGap:
    """The deal gap of a scenario's declared inputs in round ``round_index`` (0: as the scenario states
    them; later rounds: outside options drifted by a power shift, deals capped by renegotiation), cached
    by the scenario's content and the consent rule."""
    principal = None if consent.principal is None else np.asarray(consent.principal, bool).tobytes()
    quotas = None if consent.weights is None else content_digest(consent.weights, consent.thresholds)
    key = (scenario.digest, consent.mode, principal, int(consent.votes), quotas, int(round_index),
           int(alternatives))
    caps = renegotiation_caps(scenario, round_index) if scenario.rules.power_shift else None
    return _GAPS.get_or_compute(key, lambda: deal_gap(scenario, value_model(scenario, cap=caps),
                                                      disagreement_values(scenario, round_index), consent,
                                                      alternatives))


class _Program:
    """The acceptance program of one scenario state, exact or elastic."""

    def __init__(self, scenario: Scenario, values: ValueModel, d: np.ndarray, consent: Consent, elastic: bool):
        self.s, self.v, self.d, self.consent, self.elastic = scenario, values, d, consent, elastic
        self.cuts: dict[tuple[int, int], list[float]] = {}
        self.forbidden: list[tuple[int, ...]] = []
        self.cost_cap: float | None = None

    # ---- assembly --------------------------------------------------------------------------------
    def build(self) -> tuple[_Rows, dict]:
        s = self.s
        rows = _Rows()
        z = [rows.var(float(s.lower[k]), float(s.upper[k])) for k in range(s.n_issues)]
        levels = self._domain(rows, z)
        need = self._consent(rows, z)
        slacks: list[tuple[str, int, int | None, float, float, float]] = []  # (rule, col, switch, declared, sign, scale)
        self._red_lines(rows, z, levels, need, slacks)
        self._packages(rows, z, need, slacks)
        values = self._values(rows, z, need, slacks)
        for group in self.forbidden:  # no-good cuts: not every rule of a set already reported again
            switches = [slacks[index][2] for index in group]
            rows.row({col: 1.0 for col in switches}, -np.inf, len(switches) - 1.0)
        self.last_cost = np.asarray(rows.cost, dtype=float)
        if self.cost_cap is not None:  # the second, lexicographic step of minimal()
            rows.row({col: scale for _, col, _, _, _, scale in slacks}, -np.inf, self.cost_cap)
        return rows, {"z": z, "slacks": slacks, "values": values}

    def _domain(self, rows: _Rows, z: list[int]) -> dict[int, list[tuple[float, int]]]:
        """Levels of discrete issues (binaries summing to one) and the budget row."""
        s = self.s
        levels: dict[int, list[tuple[float, int]]] = {}
        for k, issue in enumerate(s.issues):
            if issue.discrete:
                levels[k] = [(point, rows.var(0.0, 1.0, integer=True)) for point in issue.choices]
                rows.row({z[k]: 1.0, **{col: -point for point, col in levels[k]}}, 0.0, 0.0)
                rows.row({col: 1.0 for _, col in levels[k]}, 1.0, 1.0)
        if s.budget_issues:
            rows.row({z[s.issue_ids.index(i)]: 1.0 for i in s.budget_issues}, s.budget_total, s.budget_total)
        return levels

    def _consent(self, rows: _Rows, z: list[int]) -> list[int | None]:
        """Per actor, the binary that says its acceptance is needed (None: always needed)."""
        s, c = self.s, self.consent
        if c.mode == "all":
            return [None] * s.n_actors
        need = [rows.var(0.0, 1.0, integer=True) for _ in range(s.n_actors)]
        principal = np.zeros(s.n_actors, bool) if c.principal is None else np.asarray(c.principal, bool)
        for i in np.flatnonzero(principal):
            rows.lower[need[i]] = 1.0
        if c.mode == "veto":
            for k in np.flatnonzero(s.vetoes.any(axis=0)):
                changed = rows.var(0.0, 1.0, integer=True)
                span, sq = float(s.spans[k]), float(s.status_quo[k])
                rows.row({z[k]: 1.0, changed: -span}, -np.inf, sq)  # z moves off sq only if changed = 1
                rows.row({z[k]: 1.0, changed: span}, sq, np.inf)
                for i in np.flatnonzero(s.vetoes[:, k]):
                    rows.row({need[i]: 1.0, changed: -1.0}, 0.0, np.inf)
        elif c.mode == "majority":
            rows.row({col: 1.0 for col in need}, float(c.votes), np.inf)
        elif c.mode == "weighted":
            for weights, threshold in zip(np.asarray(c.weights, float), np.asarray(c.thresholds, float)):
                rows.row({need[i]: float(weights[i]) for i in np.flatnonzero(weights > 0)},
                         float(threshold) - SLACK * max(float(weights.sum()), 1.0), np.inf)  # as the rule counts
        return need

    def _slack(self, rows: _Rows, slacks: list, rule: str, declared: float, sign: float, scale: float,
               limit: float) -> int | None:
        """A slack column for one rule (elastic program only), with its on/off switch; cost in points."""
        if not self.elastic:
            return None
        col = rows.var(0.0, limit, cost=scale)
        switch = rows.var(0.0, 1.0, integer=True)
        rows.row({col: 1.0, switch: -limit}, -np.inf, 0.0)
        slacks.append((rule, col, switch, declared, sign, scale))
        return col

    def _red_lines(self, rows: _Rows, z: list[int], levels: dict, need: list, slacks: list) -> None:
        s = self.s
        if not s.rules.red_lines:
            return
        for i, actor in enumerate(s.actors):
            for issue_id, line in actor.red_lines.items():
                k = s.issue_ids.index(issue_id)
                span, name = float(s.spans[k]), f"{actor.id}.red_line.{issue_id}"
                for bound, sign in ((line.lower, 1.0), (line.upper, -1.0)):
                    if not np.isfinite(bound):
                        continue
                    terms = {z[k]: sign}
                    col = self._slack(rows, slacks, name, float(bound), -sign, 100.0 / span, span)
                    if col is not None:
                        terms[col] = 1.0
                    rhs = sign * float(bound)
                    if need[i] is not None:  # binds only when i's acceptance is needed
                        terms[need[i]] = -span
                        rhs -= span
                    rows.row(terms, rhs, np.inf)
                for point, col in levels.get(k, ()) if line.levels else ():
                    if line.allows(np.array(point)):
                        continue
                    distance = float(np.min(np.abs(np.array(line.levels) - point)))
                    terms = {col: 1.0}
                    slack = self._slack(rows, slacks, f"{name}.level_{point:g}", point, 0.0, 100.0 / span, distance)
                    if slack is not None:
                        terms[slack] = -1.0 / distance
                    if need[i] is not None:
                        terms[need[i]] = 1.0
                        rows.row(terms, -np.inf, 1.0)
                    else:
                        rows.row(terms, -np.inf, 0.0)

    def _packages(self, rows: _Rows, z: list[int], need: list, slacks: list) -> None:
        s = self.s
        if not s.rules.package:
            return
        weights, lower, upper = s.package_rows
        for i in np.flatnonzero(weights.any(axis=1)):
            issues = np.flatnonzero(weights[i])
            span = float(weights[i, issues] @ s.spans[issues] / weights[i, issues].sum())
            big = float(s.upper.max() - s.lower.min())
            for bound, sign in ((lower[i], 1.0), (upper[i], -1.0)):
                if not np.isfinite(bound):
                    continue
                terms = {z[k]: sign * float(weights[i, k]) for k in issues}
                col = self._slack(rows, slacks, f"{s.actor_ids[i]}.package", float(bound), -sign, 100.0 / span, big)
                if col is not None:
                    terms[col] = 1.0
                rhs = sign * float(bound)
                if need[i] is not None:
                    terms[need[i]] = -big
                    rhs -= big
                rows.row(terms, rhs, np.inf)

    def _values(self, rows: _Rows, z: list[int], need: list, slacks: list) -> dict[int, tuple[float, dict]]:
        """Each actor's value as an affine expression over loss columns (cuts for ρ > 1), and the rows
        V_i + slack >= d_i of the actors whose acceptance is needed."""
        v, s = self.v, self.s
        expressions: dict[int, tuple[float, dict]] = {}
        for i in range(s.n_actors):
            const, terms = 1.0 - float(v.offset[i]), {}
            for k in np.flatnonzero(v.weight[i] > 0):
                span, ideal = float(v.span[k]), float(v.ideal[i, k])
                t = rows.var(0.0, span)
                rows.row({t: 1.0, z[k]: -1.0}, -ideal, np.inf)
                rows.row({t: 1.0, z[k]: 1.0}, ideal, np.inf)
                if v.rho[i] == 1.0:
                    terms[t] = terms.get(t, 0.0) - float(v.weight[i, k]) / span
                    continue
                loss = rows.var(0.0, 1.0)
                for point in self.cuts.setdefault((i, k), list(np.linspace(0.0, span, 9))):
                    value, slope = _power(point, span, float(v.rho[i]))
                    rows.row({loss: 1.0, t: -slope}, value - slope * point, np.inf)
                terms[loss] = -float(v.weight[i, k])
                self.cuts.setdefault(("vars",), []).append((i, k, t, loss))
            if np.isfinite(v.cap[i]):  # (1 − δ) V + δ min(V, cap): m <= V, m <= cap
                capped = rows.var(-4.0, float(v.cap[i]))
                rows.row({capped: 1.0, **{col: -c for col, c in terms.items()}}, -np.inf, const)
                delta = float(v.delta[i])
                const, terms = (1.0 - delta) * const, {**{col: (1.0 - delta) * c for col, c in terms.items()},
                                                       capped: delta}
            expressions[i] = (const, terms)
            row = dict(terms)
            rhs = float(self.d[i]) - const
            col = self._slack(rows, slacks, f"{s.actor_ids[i]}.outside_option", float(self.d[i]), -1.0, 100.0, 4.0)
            if col is not None:
                row[col] = 1.0
            if need[i] is not None:
                row[need[i]] = -4.0
                rhs -= 4.0
            rows.row(row, rhs, np.inf)
        return expressions

    # ---- solving ---------------------------------------------------------------------------------
    def _run(self, objective) -> tuple[np.ndarray, dict] | None:
        """Solve with tangent cuts added until every linearised loss meets its true loss."""
        for _ in range(MAX_CUT_ROUNDS):
            self.cuts.pop(("vars",), None)
            rows, parts = self.build()
            cost = None if objective is None else objective(rows, parts)
            x = rows.solve(cost)
            if x is None:
                return None
            added = False
            for i, k, t, loss in self.cuts.get(("vars",), []):
                true, _ = _power(x[t], float(self.v.span[k]), float(self.v.rho[i]))
                if true - x[loss] > CUT_TOLERANCE:
                    self.cuts[(i, k)].append(float(x[t]))
                    added = True
            if not added:
                return x, parts
        return x, parts

    def solve_bundle(self, objective) -> tuple[np.ndarray, dict] | None:
        return self._run(objective)

    def minimal(self) -> Relaxation | None:
        """The least-cost set of relaxed rules not yet forbidden; among sets of that cost, the fewest
        rules (a second program: the cost held at its minimum, the number of relaxed rules minimised)."""
        found = self._run(None)
        if found is None:
            return None
        x, parts = found
        least = float(np.dot(self.last_cost, x))
        self.cost_cap = least + TOLERANCE
        try:
            fewest = self._run(lambda rows, parts: _switch_cost(rows, parts))
        finally:
            self.cost_cap = None
        if fewest is not None:
            x, parts = fewest
        moves, used = [], []
        for index, (rule, col, _, declared, sign, scale) in enumerate(parts["slacks"]):
            points = float(x[col]) * scale
            if points > TOLERANCE:
                used.append(index)
                relaxed = declared + sign * float(x[col]) if sign else declared
                moves.append(Move(rule=rule, declared=declared, relaxed=relaxed, points=points))
        self._last = tuple(used)
        bundle = np.array([x[col] for col in parts["z"]])
        return Relaxation(moves=tuple(moves), points=least, bundle=bundle)  # the minimum, not the capped rerun

    def forbid(self, relaxation: Relaxation) -> None:
        self.forbidden.append(self._last)

    def utility_ranges(self) -> dict[str, tuple[float, float]]:
        """(worst, best) value of every actor among the accepted bundles."""
        ranges = {}
        for i, actor_id in enumerate(self.s.actor_ids):
            ends = []
            for sign in (1.0, -1.0):  # minimise, then maximise, V_i
                def objective(rows, parts, i=i, sign=sign):
                    cost = np.zeros(len(rows.lower))
                    for col, coef in parts["values"][i][1].items():
                        cost[col] += sign * coef
                    return cost
                x, parts = self._run(objective)
                const, terms = parts["values"][i]
                ends.append(const + sum(coef * x[col] for col, coef in terms.items()))
            ranges[actor_id] = (float(ends[0]), float(ends[1]))
        return ranges


def _switch_cost(rows: _Rows, parts: dict) -> np.ndarray:
    """A cost of one per relaxed rule (its switch column)."""
    cost = np.zeros(len(rows.lower))
    cost[[switch for _, _, switch, _, _, _ in parts["slacks"]]] = 1.0
    return cost


def _power(distance: float, span: float, rho: float) -> tuple[float, float]:
    """(d/span)^ρ and its derivative in d."""
    scaled = max(distance, 0.0) / span
    return scaled ** rho, rho * scaled ** (rho - 1.0) / span if scaled > 0 or rho == 1.0 else 0.0


def gap_table(gap: DealGap) -> list[dict]:
    """The deal gap as tidy rows (for figures and tables): one row per relaxed rule of each minimal set
    (``set`` 1 is the least), or, when a deal exists, one row per actor with its utility range."""
    if gap.feasible:
        return [{"actor": actor, "worst": worst, "best": best} for actor, (worst, best) in (gap.ranges or {}).items()]
    return [{"set": number, "set_points": relaxation.points, "rule": move.rule, "declared": move.declared,
             "relaxed": move.relaxed, "points": move.points}
            for number, relaxation in enumerate(gap.relaxations, start=1) for move in relaxation.moves]
