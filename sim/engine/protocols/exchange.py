"""Log-rolling: equal-gain exchanges of voting positions between pairs (Stokman & van Oosten 1994;
MODEL.md §4.3).

The expected outcome per issue is O_k = Σ_i c_i s_ik x_ik / Σ_i c_i s_ik. Actors i and j can exchange
on issues p and q when they sit on opposite sides of O on both and s_ip/s_iq < s_jp/s_jq: i (who cares
relatively more about q) moves toward j on p, j moves toward i on q. The equal-gain rule fixes the
ratio of outcome shifts, ΔO_q/ΔO_p = (s_ip + s_jp)/(s_iq + s_jq), and each side gains
G = ΔO_p (s_iq s_jp − s_ip s_jq)/(s_iq + s_jq) (salience-weighted outcome movement). The size is the
largest that carries no outcome past the position of the actor who demanded the move and moves no
actor past its partner's position. Exchanges are executed greedily by gain; after each one the
candidates it invalidates (those on the issues whose positions moved) are recomputed on the new
positions (an actor moves on an issue at most once a round); rounds repeat until no exchange is left
or the round limit is reached.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from sim.engine.protocols.base import ModelView, Protocol, ProtocolOutcome
from sim.domain.protocol_params import ExchangeParams
from sim.kernels.solutions import compromise
from sim.kernels.utility import scenario_utilities

if TYPE_CHECKING:  # pragma: no cover
    from sim.domain.scenario import Scenario


def expected_outcome(positions: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """O_k = Σ_i w_ik x_ik / Σ_i w_ik with w = c·s (the compromise model)."""
    return compromise(positions, weight)


def candidate_exchanges(positions: np.ndarray, salience: np.ndarray, capability: np.ndarray,
                        free: np.ndarray) -> dict[str, np.ndarray]:
    """All feasible equal-gain exchanges, vectorised over (i, j, p, q).

    Args:
        positions: current positions (N, K); salience (N, K); capability (N,).
        free: boolean (N, K): actor may still move on issue this round.

    Returns:
        Arrays over candidates: i, j, p, q (i moves on p, j moves on q), shift_p, shift_q (ΔO, signed),
        move_i, move_j (signed position changes) and gain G, in (i, j, p, q) order.
    """
    table = ExchangeTable(salience, capability)
    table.reset(positions, free)
    found = table.evaluate(np.arange(len(table.i)))
    ok = found.pop("valid")
    return {key: value[ok] for key, value in found.items()}


class ExchangeTable:
    """Exchange candidates with their terms kept between exchanges (MODEL.md §4.3).

    The candidates (i, j, p, q) that can ever be feasible and their salience-only terms are fixed
    for given saliences and capabilities. The rest comes from per-pair, per-issue terms: the limit
    ``limit[a, b, c]`` on |ΔO_c| when a moves toward b on c (O_c may not pass x_bc, a may not pass
    x_bc) and ``open[a, b, c]`` (a is free on c and sits on the other side of O_c from b), so a
    candidate is feasible when open[i, j, p] and open[j, i, q], with |ΔO_p| = min(limit[i, j, p],
    limit[j, i, q] / ratio). An exchange changes positions on some issues only, hence O and these
    terms on those issues only: :meth:`moved` recomputes them, and the candidates to re-score are
    those touching a moved issue (``by_issue``).
    """

    def __init__(self, salience: np.ndarray, capability: np.ndarray):
        n, k = salience.shape
        self.salience, self.capability = salience.copy(), capability.copy()
        self.weight = capability[:, None] * salience
        self.total = self.weight.sum(axis=0)  # (K,)
        i, j, p, q = np.meshgrid(np.arange(n), np.arange(n), np.arange(k), np.arange(k), indexing="ij")
        i, j, p, q = i.ravel(), j.ravel(), p.ravel(), q.ravel()
        s_ip, s_iq, s_jp, s_jq = salience[i, p], salience[i, q], salience[j, p], salience[j, q]
        ok = (i < j) & (p != q)  # (i,j,p,q) and (j,i,q,p) are one exchange
        ok &= s_ip * s_jq < s_jp * s_iq  # s_ip/s_iq < s_jp/s_jq, without dividing by zero
        ok &= (self.weight[i, p] > 0) & (self.weight[j, q] > 0)
        self.i, self.j, self.p, self.q = i[ok], j[ok], p[ok], q[ok]
        s_ip, s_iq, s_jp, s_jq = s_ip[ok], s_iq[ok], s_jp[ok], s_jq[ok]
        self.ratio = (s_ip + s_jp) / (s_iq + s_jq)  # ΔO_q / ΔO_p
        self.advantage = s_iq * s_jp - s_ip * s_jq
        self.spread = s_iq + s_jq
        self.at_p = (self.i * n + self.j) * k + self.p  # flat index of (i, j, p) in the pair terms
        self.at_q = (self.j * n + self.i) * k + self.q  # of (j, i, q)
        fields = (self.at_p, self.at_q, self.ratio, self.advantage, self.spread)
        self.by_issue = []  # per issue c: the candidates touching c, with their fixed terms
        for c in range(k):
            index = np.flatnonzero((self.p == c) | (self.q == c))
            self.by_issue.append((index, *(field[index] for field in fields)))
        self.limit = np.zeros((n, n, k))
        self.open = np.zeros((n, n, k), dtype=bool)

    def matches(self, salience: np.ndarray, capability: np.ndarray) -> bool:
        return np.array_equal(salience, self.salience) and np.array_equal(capability, self.capability)

    def reset(self, positions: np.ndarray, free: np.ndarray) -> None:
        """Compute every pair term for these positions and free flags."""
        self.moved(positions, free, np.arange(positions.shape[1]))

    def moved(self, positions: np.ndarray, free: np.ndarray, columns: np.ndarray) -> None:
        """Recompute O and the pair terms on the issues ``columns`` (positions or free flags changed)."""
        self.positions, self.free = positions, free
        self.outcome = expected_outcome(positions, self.weight)
        x, o = positions[:, columns], self.outcome[columns]
        side = np.sign(x - o)
        with np.errstate(invalid="ignore", divide="ignore"):  # issues nobody weighs: no candidate uses them
            self.limit[:, :, columns] = np.minimum(
                np.abs(x[None, :, :] - o),
                np.abs(x[None, :, :] - x[:, None, :]) * self.weight[:, None, columns] / self.total[columns])
        self.open[:, :, columns] = free[:, None, columns] & (side[:, None, :] * side[None, :, :] < 0)

    def gains(self, min_gain: float, issue: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(candidates, gains) of every candidate or of those touching ``issue``; the gain is -inf
        where infeasible or not above ``min_gain``."""
        if issue is None:
            index, at_p, at_q, ratio, advantage, spread = (np.arange(len(self.i)), self.at_p, self.at_q,
                                                           self.ratio, self.advantage, self.spread)
        else:
            index, at_p, at_q, ratio, advantage, spread = self.by_issue[issue]
        limit, is_open = self.limit.ravel(), self.open.ravel()
        size_p = np.minimum(limit[at_p], limit[at_q] / ratio)
        gain = size_p * advantage / spread
        return index, np.where(is_open[at_p] & is_open[at_q] & (gain > min_gain), gain, -np.inf)

    def evaluate(self, index: np.ndarray) -> dict[str, np.ndarray]:
        """Feasibility (``valid``), outcome shifts, moves and gain of the candidates ``index``."""
        i, j, p, q = self.i[index], self.j[index], self.p[index], self.q[index]
        at_p, at_q = self.at_p[index], self.at_q[index]
        limit, is_open = self.limit.ravel(), self.open.ravel()
        ratio, positions, outcome = self.ratio[index], self.positions, self.outcome
        weight, total = self.weight, self.total
        size_p = np.minimum(limit[at_p], limit[at_q] / ratio)
        size_q = size_p * ratio
        direction_p = np.sign(positions[j, p] - outcome[p])
        direction_q = np.sign(positions[i, q] - outcome[q])
        return {
            "i": i, "j": j, "p": p, "q": q,
            "shift_p": direction_p * size_p, "shift_q": direction_q * size_q,
            "move_i": direction_p * size_p * total[p] / weight[i, p],
            "move_j": direction_q * size_q * total[q] / weight[j, q],
            "gain": size_p * self.advantage[index] / self.spread[index],
            "valid": is_open[at_p] & is_open[at_q],
        }


class ExchangeProtocol(Protocol):
    """``exchange``: greedy equal-gain log-rolling between pairs (Stokman & van Oosten 1994)."""

    name: ClassVar[str] = "exchange"
    Params: ClassVar[type] = ExchangeParams

    @classmethod
    def expected_cost(cls, scenario: "Scenario", rounds: int) -> float:
        """Candidates are pairs of actors × pairs of issues (N²K² per round)."""
        return float(max(rounds, 1) * scenario.n_actors ** 2 * scenario.n_issues ** 2)

    @classmethod
    def may_draw(cls, params: ExchangeParams) -> bool:
        """Exchange draws no random number (ties break by list order)."""
        return False

    @classmethod
    def validate(cls, params: ExchangeParams) -> None:
        cls.check_range("min_gain", params.min_gain, 0.0, 1e9)
        cls.check_range("max_per_round", params.max_per_round, 0, 10**9)

    def __init__(self, model: ModelView, params: ExchangeParams):
        super().__init__(model, params)
        self.exchanges = 0
        self._table: ExchangeTable | None = None  # candidates' salience-only terms (ExchangeTable)

    def step(self) -> None:
        """One round: execute the best exchange left, greedily, until none gains more than
        ``min_gain``. After each exchange only the candidates on the issues whose positions moved
        are recomputed (:class:`ExchangeTable`); the rest keep their gains."""
        model = self.model
        scenario = model.negotiation
        if self._table is None or not self._table.matches(model.saliences, scenario.capabilities):
            self._table = ExchangeTable(model.saliences, scenario.capabilities)
        table = self._table
        free = np.ones_like(model.positions, dtype=bool)
        min_gain = self.params.min_gain
        table.reset(model.positions, free)
        _, gains = table.gains(min_gain)
        executed = 0
        while not self.params.max_per_round or executed < self.params.max_per_round:
            if not len(gains):
                break
            best = int(np.argmax(gains))
            if not gains[best] > min_gain:
                break
            found = {key: value[0] for key, value in table.evaluate(np.array([best])).items()}
            i, j, p, q = (int(found[key]) for key in ("i", "j", "p", "q"))
            before_positions = model.positions.copy()
            before = scenario_utilities(scenario, table.outcome) if model.record_events else None
            model.positions[i, p] += found["move_i"]
            model.positions[j, q] += found["move_j"]
            np.clip(model.positions, scenario.lower, scenario.upper, out=model.positions)
            free[i, p] = free[j, q] = False
            executed += 1
            self.exchanges += 1
            clipped = np.flatnonzero((model.positions != before_positions).any(axis=0))
            moved = sorted(set(clipped.tolist()) | {p, q})
            table.moved(model.positions, free, np.array(moved))
            for c in moved:  # the candidates touching a moved issue are re-scored, the rest kept
                stale, scores = table.gains(min_gain, c)
                gains[stale] = scores
            if model.record_events:
                change = scenario_utilities(scenario, table.outcome) - before
                third = np.ones(scenario.n_actors, bool)
                third[[i, j]] = False
                model.events.add(
                    round=model.round + 1, protocol=self.name, kind="exchange", sender=i, receiver=j,
                    issue=p, issue_q=scenario.issue_ids[q], move_sender=float(found["move_i"]),
                    move_receiver=float(found["move_j"]), shift_p=float(found["shift_p"]),
                    shift_q=float(found["shift_q"]), gain=float(found["gain"]),
                    externality_positive=float(change[third & (change > 0)].sum()),
                    externality_negative=float(change[third & (change < 0)].sum()),
                    **{f"utility_change_{a}": float(v) for a, v in zip(scenario.actor_ids, change)},
                )
        if executed == 0:
            self.done = True

    def outcome(self) -> ProtocolOutcome:
        """The expected outcome O after the exchanges, snapped to discrete issues' allowed points; an
        agreement when every actor consents to it (:meth:`Protocol.settle`: red lines, package rule,
        outside option), otherwise the cause names who would not and why."""
        model = self.model
        scenario = model.negotiation
        bundle = scenario.snap(expected_outcome(model.positions,
                                                scenario.capabilities[:, None] * model.saliences))
        return self.settle(bundle)
