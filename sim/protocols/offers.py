"""Multilateral offers over the whole bundle (MODEL.md §4.2).

Each round one actor proposes a full bundle; every actor whose consent the rule needs answers. The
proposer offers the bundle that maximises its own utility subject to each needed responder accepting
*as the proposer believes* (beliefs = true preferences plus noise drawn once per run). With concave
utilities every such optimum lies on the (believed) Pareto frontier, so each proposer keeps a
candidate set of frontier bundles built once per run (weighted-sum optima, ideal points, status quo)
and each round picks the best believed-acceptable one, then refines it by bisection towards better
candidates so the binding constraint is met almost exactly. All of it is vectorised over candidates.

The ``equilibrium`` strategy (divide-the-pie scenarios with a budget) instead offers each needed
responder exactly its discounted continuation value (Rubinstein 1982; Baron & Ferejohn 1989).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from sim.config import ConfigError
from sim.protocols.base import Protocol, ProtocolOutcome
from sim.solutions import sample_bundles, sobol, weighted_sum_optima
from sim.utility import utilities

if TYPE_CHECKING:  # pragma: no cover
    from sim.model import BargainingModel

ORDERS = ("round_robin", "recognition")
CONSENT_RULES = ("unanimity", "veto", "majority")
TOLERANCE = 1e-12


@dataclass
class OffersParams:
    """Config of ``protocol=offers`` (configs/protocol/offers.yaml)."""

    name: str = "offers"
    deadline: int = 0  # T: rounds before breakdown; 0 = the run's round limit (`rounds`)
    order: str = "round_robin"  # round_robin (config order) | recognition (random, ∝ capability)
    consent: str = "unanimity"  # unanimity | veto | majority
    principals: list = field(default_factory=list)  # veto rule: actors whose consent is always needed
    quota: float = 0.5  # majority rule: more than quota·N actors (proposer included) must accept
    belief_noise: float = 0.0  # sd of belief errors: positions (share of scale) and saliences
    candidates: int = 192  # frontier candidates per proposer
    walkout: bool = True  # an actor leaves when its outside option beats all it can still expect


class OffersProtocol(Protocol):
    """``offers``: proposals over the full bundle with accept/reject responses (MODEL.md §4.2)."""

    name: ClassVar[str] = "offers"
    Params: ClassVar[type] = OffersParams
    supports_budget: ClassVar[bool] = True

    @classmethod
    def validate(cls, params: OffersParams) -> None:
        cls.check_choice("order", params.order, ORDERS)
        cls.check_choice("consent", params.consent, CONSENT_RULES)
        cls.check_range("quota", params.quota, 0.0, 0.999999)
        cls.check_range("belief_noise", params.belief_noise, 0.0, 10.0)
        cls.check_range("candidates", params.candidates, 8, 100000)
        cls.check_range("deadline", params.deadline, 0, 10**9)

    def __init__(self, model: "BargainingModel", params: OffersParams):
        super().__init__(model, params)
        scenario = model.negotiation
        self.n, self.k = scenario.n_actors, scenario.n_issues
        for actor in params.principals:
            if actor not in scenario.actor_ids:
                raise ConfigError(self._source(), "protocol.principals",
                                  f"unknown actor {actor!r}; allowed: {', '.join(scenario.actor_ids)}")
        self.deadline = params.deadline or model.max_rounds
        self.principal = np.array([a in params.principals for a in scenario.actor_ids])
        self.required_votes = (self.n if params.consent == "unanimity"
                               else int(np.floor(params.quota * self.n)) + 1)
        self.active = np.ones(self.n, dtype=bool)  # walked-out actors become inactive
        self.agreed: np.ndarray | None = None
        self.cause = ""
        self.last_offer: np.ndarray | None = None
        self.current_proposer = 0
        self.seat: int | None = None  # a human plays this actor (classroom): see take_seat()
        self.seat_bundle: np.ndarray | None = None
        self.seat_response: bool | None = None
        self.pending: np.ndarray | None = None  # this round's offer, when it awaits the seat's answer
        self._opened = -1  # the round whose proposer has been drawn
        self.equilibrium = [a.strategy.name == "equilibrium" for a in model.actors]
        if any(self.equilibrium):
            self._prepare_equilibrium()
        else:
            self._prepare_beliefs()

    # ---- consent ------------------------------------------------------------------------------------
    def needed(self, bundles: np.ndarray) -> np.ndarray:
        """Boolean (N, M): whose consent each bundle needs (the proposer's is implied)."""
        m = len(bundles)
        if self.params.consent == "veto":
            scenario = self.model.negotiation
            changed = np.abs(bundles - scenario.status_quo) > 1e-9 * scenario.spans  # (M, K)
            vetoed = (scenario.vetoes.astype(float) @ changed.T.astype(float)) > 0  # (N, M)
            return vetoed | self.principal[:, None]
        return np.ones((self.n, m), dtype=bool)

    def agreement_reached(self, accepts: np.ndarray, needed: np.ndarray, proposer: int) -> bool:
        """accepts, needed: (N,) for one bundle."""
        votes = accepts.copy()
        votes[proposer] = True
        if self.params.consent == "majority":
            return int(votes.sum()) >= self.required_votes
        return bool(np.all(votes[needed]))

    # ---- beliefs and candidates -----------------------------------------------------------------------
    def _prepare_beliefs(self) -> None:
        """Draw belief errors once per run and build each proposer's candidate set."""
        model, scenario = self.model, self.model.negotiation
        noise = self.params.belief_noise
        positions = np.broadcast_to(scenario.positions, (self.n, self.n, self.k)).copy()
        saliences = np.broadcast_to(scenario.saliences, (self.n, self.n, self.k)).copy()
        if noise > 0:
            eye = np.eye(self.n, dtype=bool)[:, :, None]
            # [observer, target, issue]; an actor knows its own preferences exactly
            pos_error = model.rng.normal(0.0, noise, positions.shape) * scenario.spans
            sal_error = model.rng.normal(0.0, noise, saliences.shape)
            positions = np.where(eye, positions, np.clip(positions + pos_error, scenario.lower, scenario.upper))
            saliences = np.where(eye, saliences, np.clip(saliences + sal_error, 0.0, 1.0))
        totals = saliences.sum(axis=2, keepdims=True)
        self.belief_positions = positions
        self.belief_saliences = saliences
        self.belief_weights = np.divide(saliences, totals, out=np.zeros_like(saliences), where=totals > 0)
        self.candidates: list[np.ndarray] = []
        self.believed_u: list[np.ndarray] = []  # per proposer: (N, M) believed utilities
        self.own_u: list[np.ndarray] = []  # per proposer: (M,) true own utility
        self.needed_cache: list[np.ndarray] = []
        base = self._base_candidates()
        for p in range(self.n):
            frontier = self._frontier(p)
            bundles = scenario.snap(np.concatenate([frontier, base]))
            self.candidates.append(bundles)
            self.believed_u.append(self._believed(p, bundles))
            self.own_u.append(model.actors[p].utility(bundles))
            self.needed_cache.append(self.needed(bundles))

    def _believed(self, observer: int, bundles: np.ndarray) -> np.ndarray:
        scenario = self.model.negotiation
        return utilities(bundles, self.belief_positions[observer], self.belief_weights[observer],
                         scenario.spans, scenario.risk_exponents)

    def _base_candidates(self) -> np.ndarray:
        scenario = self.model.negotiation
        sample = sample_bundles(scenario, 256, seed=99)
        return np.concatenate([scenario.positions, scenario.status_quo[None], sample])

    def _frontier(self, observer: int) -> np.ndarray:
        """Weighted-sum optima under ``observer``'s beliefs: its believed Pareto frontier."""
        scenario = self.model.negotiation
        if scenario.budget_issues:
            return sample_bundles(scenario, self.params.candidates, seed=observer + 1)
        believed = scenario.with_arrays(positions=self.belief_positions[observer],
                                        saliences=self.belief_saliences[observer])
        raw = sobol(self.n, self.params.candidates, seed=observer + 1)
        lambdas = -np.log(np.clip(raw, 1e-12, 1.0))
        lambdas /= lambdas.sum(axis=1, keepdims=True)
        lambdas = np.concatenate([lambdas, np.eye(self.n) + 1e-6])
        return weighted_sum_optima(believed, lambdas)

    # ---- one round ------------------------------------------------------------------------------------
    def proposer_of(self, round_index: int) -> int:
        active = np.flatnonzero(self.active)
        if self.params.order == "recognition":
            weights = self.model.negotiation.capabilities[active]
            return int(self.model.rng.choice(active, p=weights / weights.sum()))
        return int(active[round_index % len(active)])

    def upcoming_proposer(self) -> int | None:
        """Who proposes in the current round: known once the round is open, or in advance under
        round-robin order; None when it is still to be drawn (recognition order)."""
        if self._opened == self.model.round:
            return self.current_proposer
        return self.proposer_of(self.model.round) if self.params.order == "round_robin" else None

    def aspirations(self, round_index: int) -> np.ndarray:
        return np.array([a.aspiration(round_index, self.deadline) for a in self.model.actors])

    def step(self) -> None:
        """One round: the proposer offers a bundle, the needed responders answer.

        With a human seat (``seat``), the round pauses where the human must act: ``waiting`` is
        "propose" (call :meth:`propose`) or "respond" (call :meth:`respond`); the next ``step()``
        resumes the same round without drawing any random number twice."""
        model = self.model
        t = model.round
        if self.pending is None:
            if self._opened != t:
                if t >= self.deadline:
                    self.done, self.cause = True, "deadline"
                    return
                if self.params.walkout and not any(self.equilibrium) and self._walkouts(t):
                    return
                self.current_proposer = self.proposer_of(t)
                self._opened = t
            proposer = self.current_proposer
            if proposer == self.seat:
                if self.seat_bundle is None:
                    self.waiting = "propose"
                    return
                bundle, self.seat_bundle = self.seat_bundle, None
            else:
                aspiration = np.maximum(self.aspirations(t), model.disagreement)
                if self.equilibrium[proposer]:
                    bundle = self._equilibrium_offer(proposer, t)
                else:
                    bundle = self._best_offer(proposer, aspiration)
            self.pending = bundle
            self.last_offer = bundle
        proposer, bundle = self.current_proposer, self.pending
        needed = self.needed(bundle[None])[:, 0] & self.active
        needed[proposer] = False
        asked = needed | (self.params.consent == "majority")
        asked[proposer] = False
        asked &= self.active
        if self.seat is not None and asked[self.seat] and self.seat_response is None:
            self.waiting = "respond"
            return
        self.waiting = ""
        values = np.array([a.utility(bundle) for a in model.actors])
        accepts = np.zeros(self.n, dtype=bool)
        for actor in model.actors:
            i = actor.index
            if asked[i]:
                accepts[i] = (self.seat_response if i == self.seat
                              else actor.accepts(bundle, self._threshold(i, t)))
        self.pending, self.seat_response = None, None
        agreed = self.agreement_reached(accepts, needed, proposer)
        if model.record_events:
            responses = np.where(accepts, "accept", "reject").astype(object)
            responses[~(needed | (self.params.consent == "majority"))] = "not_needed"
            responses[~self.active] = "walked_out"
            responses[proposer] = "proposer"
            model.events.add(
                round=t + 1, protocol=self.name, kind="offer", proposer=proposer,
                agreement=agreed, **{f"offer_{i}": float(v) for i, v in zip(model.negotiation.issue_ids, bundle)},
                **{f"response_{a}": str(r) for a, r in zip(model.negotiation.actor_ids, responses)},
                **{f"utility_{a}": float(v) for a, v in zip(model.negotiation.actor_ids, values)},
            )
        if agreed:
            self.agreed, self.done = bundle, True
        elif t + 1 >= self.deadline:
            self.done, self.cause = True, "deadline"

    # ---- a human seat (classroom play-as) ---------------------------------------------------------------
    def take_seat(self, actor: str) -> None:
        """Let a person play ``actor``: the protocol then waits for :meth:`propose` when it is that
        actor's turn and for :meth:`respond` when an offer needs its answer. The person's actor never
        walks out on its own."""
        scenario = self.model.negotiation
        if actor not in scenario.actor_ids:
            raise ConfigError("classroom", "play_as", f"unknown actor {actor!r}; allowed: "
                                                      f"{', '.join(scenario.actor_ids)}")
        if any(self.equilibrium):
            raise ConfigError("configs/strategy/equilibrium.yaml", "strategy",
                              "play-as needs model agents that bargain by aspiration, not equilibrium")
        self.seat = scenario.actor_ids.index(actor)

    def propose(self, bundle: np.ndarray) -> np.ndarray:
        """The seat's proposal for this round (clipped to the scales, snapped to discrete levels)."""
        if self.waiting != "propose":
            raise RuntimeError(f"not the seat's turn to propose (waiting: {self.waiting or 'nothing'})")
        scenario = self.model.negotiation
        bundle = np.asarray(bundle, dtype=float).reshape(-1)
        if bundle.shape != (self.k,):
            raise ValueError(f"a proposal needs {self.k} values, one per issue; got {bundle.size}")
        self.seat_bundle = scenario.snap(np.clip(bundle, scenario.lower, scenario.upper))
        self.waiting = ""
        return self.seat_bundle

    def respond(self, accept: bool) -> None:
        """The seat's answer to the pending offer."""
        if self.waiting != "respond":
            raise RuntimeError(f"no offer is waiting for the seat's answer (waiting: {self.waiting or 'nothing'})")
        self.seat_response = bool(accept)
        self.waiting = ""

    def believed_by(self, observer: int, bundle: np.ndarray, round_index: int | None = None) -> dict[str, np.ndarray]:
        """What ``observer`` believes of a bundle: each actor's utility and the least it is thought
        to accept this round (its aspiration, not below its outside option), and so whether it
        would accept (the proposer's own view: MODEL.md §4.2)."""
        t = self.model.round if round_index is None else round_index
        bundle = self.model.negotiation.snap(np.asarray(bundle, dtype=float)[None])
        believed = self._believed(observer, bundle)[:, 0]
        threshold = np.maximum(self.aspirations(t), self.model.disagreement)
        return {"utility": believed, "threshold": threshold,
                "accepts": believed >= threshold - TOLERANCE, "needed": self.needed(bundle)[:, 0] & self.active}

    def _threshold(self, i: int, t: int) -> float:
        """The lowest utility actor i accepts now: max(aspiration, disagreement)."""
        if self.equilibrium[i]:
            return self._equilibrium_threshold(i, t)
        return max(self.model.actors[i].aspiration(t, self.deadline), float(self.model.disagreement[i]))

    # ---- the proposer's optimisation ---------------------------------------------------------------------
    def _feasible(self, p: int, believed: np.ndarray, needed: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
        ok = (believed >= thresholds[:, None] - TOLERANCE) & self.active[:, None]
        ok[p] = True
        if self.params.consent == "majority":
            return ok.sum(axis=0) >= self.required_votes
        return np.all(ok | ~needed, axis=0)

    def _best_offer(self, p: int, aspiration: np.ndarray) -> np.ndarray:
        """Max own utility s.t. every needed responder's believed utility >= its aspiration."""
        bundles, believed, own = self.candidates[p], self.believed_u[p], self.own_u[p]
        needed = self.needed_cache[p]
        feasible = self._feasible(p, believed, needed, aspiration) & (own >= aspiration[p] - TOLERANCE)
        if not feasible.any():
            # Nothing acceptable in its beliefs that it also wants: ask for the bundle closest to
            # acceptable among those at its own aspiration (a reasoned, rejectable offer).
            shortfall = np.maximum(aspiration[:, None] - believed, 0.0)
            shortfall[p] = 0.0
            shortfall = np.where(needed & self.active[:, None], shortfall, 0.0).max(axis=0)
            mine = own >= aspiration[p] - TOLERANCE
            score = np.where(mine, shortfall, np.inf)
            return bundles[int(np.argmin(score))] if np.isfinite(score).any() else self.model.negotiation.positions[p].copy()
        best = int(np.argmax(np.where(feasible, own, -np.inf)))
        return self._refine(p, bundles[best], own[best], aspiration)

    def _refine(self, p: int, start: np.ndarray, start_value: float, aspiration: np.ndarray,
                tries: int = 6, steps: int = 24) -> np.ndarray:
        """Bisection from the best acceptable bundle towards better (unacceptable) candidates."""
        scenario = self.model.negotiation
        bundles, own = self.candidates[p], self.own_u[p]
        better = np.flatnonzero(own > start_value + 1e-12)
        if better.size == 0:
            return start
        targets = bundles[better[np.argsort(-own[better])[:tries]]]  # (T, K)
        low = np.zeros(len(targets))
        high = np.ones(len(targets))
        for _ in range(steps):
            mid = 0.5 * (low + high)
            trial = scenario.snap(start + mid[:, None] * (targets - start))
            ok = self._feasible(p, self._believed(p, trial), self.needed(trial), aspiration)
            low = np.where(ok, mid, low)
            high = np.where(ok, high, mid)
        final = scenario.snap(start + low[:, None] * (targets - start))
        values = self.model.actors[p].utility(final)
        best = int(np.argmax(values))
        return final[best] if values[best] > start_value else start

    # ---- walk-out --------------------------------------------------------------------------------------
    def _walkouts(self, t: int) -> bool:
        """Actors whose outside option beats everything they can still expect leave, all at once
        (named largest margin first); returns True if that ends the game.

        Only an outside option other than the status quo (war, a reservation value) makes leaving a
        choice: an actor whose fallback *is* the status quo gets it at the deadline anyway, and by
        staying keeps the chance of a better offer, so it never walks out."""
        model = self.model
        floor = np.array([min(a.aspiration(s, self.deadline) for s in (t, self.deadline - 1))
                          for a in model.actors])
        floor = np.maximum(floor, model.disagreement)
        leaving: list[tuple[float, int, float]] = []
        for i in np.flatnonzero(self.active):
            if i == self.seat or model.negotiation.actors[i].outside_option.kind == "status_quo":
                continue
            if self.params.consent == "veto" and not (self.principal[i] or model.negotiation.vetoes[i].any()):
                continue  # an actor whose consent is never needed has nothing to walk out of
            others = floor.copy()
            others[i] = -np.inf
            feasible = self._feasible(i, self.believed_u[i], self.needed_cache[i], others)
            best = self.own_u[i][feasible].max() if feasible.any() else -np.inf
            margin = model.disagreement[i] - best
            if margin > 1e-9:
                leaving.append((float(margin), int(i), float(best)))
        if not leaving:
            return False
        leaving.sort(key=lambda item: -item[0])
        for margin, i, best in leaving:
            self.active[i] = False
            if model.record_events:
                model.events.add(round=t + 1, protocol=self.name, kind="walkout", actor=i,
                                 expected=best, outside_option=float(model.disagreement[i]))
        if self.params.consent != "majority" or self.active.sum() < self.required_votes:
            names = ",".join(model.negotiation.actor_ids[i] for _, i, _ in leaving)
            self.done, self.cause = True, f"walkout:{names}"
            return True
        return False

    # ---- equilibrium (divide the pie) ----------------------------------------------------------------------
    def _prepare_equilibrium(self) -> None:
        """Stationary continuation values V[s, j]: j's share when s proposes (fixed point)."""
        scenario = self.model.negotiation
        if not scenario.budget_issues or len(scenario.budget_issues) != self.n:
            raise ConfigError("configs/strategy/equilibrium.yaml", "strategy",
                              "equilibrium needs a divide-the-pie scenario: a budget with one share "
                              "issue per actor (see configs/scenario/pie_two.yaml)")
        if not all(self.equilibrium):
            raise ConfigError("configs/strategy/equilibrium.yaml", "strategy",
                              "equilibrium must be used by every actor of the pie")
        self.share_issue = np.array([int(np.argmax(scenario.positions[i] * scenario.saliences[i]))
                                     for i in range(self.n)])
        delta = scenario.discount_factors
        n = self.n
        buy = self.required_votes - 1
        if self.params.order == "recognition":
            weights = scenario.capabilities / scenario.capabilities.sum()
            transition = np.tile(weights, (n, 1))  # next proposer independent of the current one
        else:
            transition = np.roll(np.eye(n), 1, axis=1)  # s -> s + 1
        values = np.full((n, n), 1.0 / n)
        for _ in range(100000):
            price = delta[None, :] * (transition @ values)  # [s, j]: what j must be offered when s proposes
            new = np.zeros((n, n))
            for proposer in range(n):
                new[proposer] = self._expected_division(proposer, price[proposer], buy)
            if np.max(np.abs(new - values)) < 1e-15:
                values = new
                break
            values = new
        self.values = values
        self.transition = transition
        self.votes_to_buy = buy

    def _expected_division(self, proposer: int, price: np.ndarray, buy: int) -> np.ndarray:
        """Expected shares when ``proposer`` buys the ``buy`` cheapest responders at ``price``,
        mixing uniformly among equally cheap ones (the stationary equilibrium of Baron & Ferejohn)."""
        others = np.array([j for j in range(self.n) if j != proposer])
        shares = np.zeros(self.n)
        remaining = buy
        for level in np.unique(np.round(price[others], 14)):
            group = others[np.abs(price[others] - level) < 1e-14]
            if remaining <= 0:
                break
            probability = min(1.0, remaining / len(group))
            shares[group] = probability * price[group]
            remaining -= len(group)
        shares[proposer] = 1.0 - shares.sum()
        return shares

    def _equilibrium_threshold(self, i: int, t: int) -> float:
        """δ_i × i's expected share in the next round, given this round's proposer."""
        continuation = self.transition[self.current_proposer] @ self.values[:, i]
        return float(self.model.negotiation.discount_factors[i] * continuation)

    def _equilibrium_offer(self, p: int, t: int) -> np.ndarray:
        """Offer the cheapest needed responders exactly their discounted continuation values (ties:
        the next actors after the proposer in config order) and keep the rest."""
        scenario = self.model.negotiation
        price = scenario.discount_factors * (self.transition[p] @ self.values)
        others = sorted((j for j in range(self.n) if j != p),
                        key=lambda j: (round(price[j], 14), (j - p) % self.n))
        shares = np.zeros(self.n)
        bought = others[: self.votes_to_buy]
        shares[bought] = price[bought]
        shares[p] = 1.0 - shares.sum()
        bundle = scenario.status_quo.copy()
        bundle[self.share_issue] = shares * scenario.budget_total
        return bundle

    # ---- result ------------------------------------------------------------------------------------------
    def outcome(self) -> ProtocolOutcome:
        scenario = self.model.negotiation
        if self.agreed is not None:
            return ProtocolOutcome(bundle=self.agreed.copy(), agreement=True)
        return ProtocolOutcome(bundle=scenario.status_quo.copy(), agreement=False,
                               breakdown_cause=self.cause or "deadline")
