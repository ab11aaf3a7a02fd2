"""Log-rolling: equal-gain exchanges of voting positions between pairs (Stokman & van Oosten 1994;
MODEL.md §4.3).

The expected outcome per issue is O_k = Σ_i c_i s_ik x_ik / Σ_i c_i s_ik. Actors i and j can exchange
on issues p and q when they sit on opposite sides of O on both and s_ip/s_iq < s_jp/s_jq: i (who cares
relatively more about q) moves toward j on p, j moves toward i on q. The equal-gain rule fixes the
ratio of outcome shifts, ΔO_q/ΔO_p = (s_ip + s_jp)/(s_iq + s_jq), and each side gains
G = ΔO_p (s_iq s_jp − s_ip s_jq)/(s_iq + s_jq) (salience-weighted outcome movement). The size is the
largest that carries no outcome past the position of the actor who demanded the move and moves no
actor past its partner's position. Exchanges are executed greedily by gain; after each one the
remaining candidates are recomputed on the new positions (an actor moves on an issue at most once a
round); rounds repeat until no exchange is left or the round limit is reached.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from sim.protocols.base import Protocol, ProtocolOutcome
from sim.solutions import compromise
from sim.utility import scenario_utilities

if TYPE_CHECKING:  # pragma: no cover
    from sim.model import BargainingModel


@dataclass
class ExchangeParams:
    """Config of ``protocol=exchange`` (configs/protocol/exchange.yaml)."""

    name: str = "exchange"
    min_gain: float = 1e-9  # ignore exchanges whose gain (salience × scale units) is below this
    max_per_round: int = 0  # cap on exchanges per round; 0 = as many as are available


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
        move_i, move_j (signed position changes) and gain G.
    """
    n, k = positions.shape
    weight = capability[:, None] * salience
    total = weight.sum(axis=0)  # (K,)
    outcome = expected_outcome(positions, weight)
    side = np.sign(positions - outcome)  # (N, K)
    i, j, p, q = np.meshgrid(np.arange(n), np.arange(n), np.arange(k), np.arange(k), indexing="ij")
    i, j, p, q = i.ravel(), j.ravel(), p.ravel(), q.ravel()
    s_ip, s_iq, s_jp, s_jq = salience[i, p], salience[i, q], salience[j, p], salience[j, q]
    ok = (i < j) & (p != q) & free[i, p] & free[j, q]  # (i,j,p,q) and (j,i,q,p) are one exchange
    ok &= (side[i, p] * side[j, p] < 0) & (side[i, q] * side[j, q] < 0)
    ok &= s_ip * s_jq < s_jp * s_iq  # s_ip/s_iq < s_jp/s_jq, without dividing by zero
    ok &= (weight[i, p] > 0) & (weight[j, q] > 0)
    i, j, p, q = i[ok], j[ok], p[ok], q[ok]
    s_ip, s_iq, s_jp, s_jq = s_ip[ok], s_iq[ok], s_jp[ok], s_jq[ok]
    ratio = (s_ip + s_jp) / (s_iq + s_jq)  # ΔO_q / ΔO_p
    # Largest |ΔO_p|: O_p may not pass x_jp (j demanded it) nor O_q pass x_iq; i may not move past
    # x_jp on p, nor j past x_iq on q.
    limit_p = np.minimum(np.abs(positions[j, p] - outcome[p]),
                         np.abs(positions[j, p] - positions[i, p]) * weight[i, p] / total[p])
    limit_q = np.minimum(np.abs(positions[i, q] - outcome[q]),
                         np.abs(positions[i, q] - positions[j, q]) * weight[j, q] / total[q])
    size_p = np.minimum(limit_p, limit_q / ratio)
    size_q = size_p * ratio
    direction_p = np.sign(positions[j, p] - outcome[p])
    direction_q = np.sign(positions[i, q] - outcome[q])
    gain = size_p * (s_iq * s_jp - s_ip * s_jq) / (s_iq + s_jq)
    return {
        "i": i, "j": j, "p": p, "q": q,
        "shift_p": direction_p * size_p, "shift_q": direction_q * size_q,
        "move_i": direction_p * size_p * total[p] / weight[i, p],
        "move_j": direction_q * size_q * total[q] / weight[j, q],
        "gain": gain,
    }


class ExchangeProtocol(Protocol):
    """``exchange``: greedy equal-gain log-rolling between pairs (Stokman & van Oosten 1994)."""

    name: ClassVar[str] = "exchange"
    Params: ClassVar[type] = ExchangeParams

    @classmethod
    def validate(cls, params: ExchangeParams) -> None:
        cls.check_range("min_gain", params.min_gain, 0.0, 1e9)
        cls.check_range("max_per_round", params.max_per_round, 0, 10**9)

    def __init__(self, model: "BargainingModel", params: ExchangeParams):
        super().__init__(model, params)
        self.exchanges = 0

    def step(self) -> None:
        model = self.model
        scenario = model.negotiation
        free = np.ones_like(model.positions, dtype=bool)
        executed = 0
        while not self.params.max_per_round or executed < self.params.max_per_round:
            found = candidate_exchanges(model.positions, model.saliences, scenario.capabilities, free)
            good = found["gain"] > self.params.min_gain
            if not good.any():
                break
            best = int(np.argmax(np.where(good, found["gain"], -np.inf)))
            i, j, p, q = (int(found[key][best]) for key in ("i", "j", "p", "q"))
            before_outcome = expected_outcome(model.positions, scenario.capabilities[:, None] * model.saliences)
            before = scenario_utilities(scenario, before_outcome)
            model.positions[i, p] += found["move_i"][best]
            model.positions[j, q] += found["move_j"][best]
            np.clip(model.positions, scenario.lower, scenario.upper, out=model.positions)
            free[i, p] = free[j, q] = False
            executed += 1
            self.exchanges += 1
            if model.record_events:
                after_outcome = expected_outcome(model.positions, scenario.capabilities[:, None] * model.saliences)
                change = scenario_utilities(scenario, after_outcome) - before
                third = np.ones(scenario.n_actors, bool)
                third[[i, j]] = False
                model.events.add(
                    round=model.round + 1, protocol=self.name, kind="exchange", sender=i, receiver=j,
                    issue=p, issue_q=scenario.issue_ids[q], move_sender=float(found["move_i"][best]),
                    move_receiver=float(found["move_j"][best]), shift_p=float(found["shift_p"][best]),
                    shift_q=float(found["shift_q"][best]), gain=float(found["gain"][best]),
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
