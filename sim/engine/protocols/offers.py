"""Multilateral offers over the whole bundle (MODEL.md §4.2).

Each round one actor proposes a full bundle; every actor whose consent the rule needs answers. The
proposer offers the bundle that maximises its own (expected) value subject to each needed responder
accepting *as the proposer believes* (beliefs = true preferences plus noise drawn once per run),
everyone's red lines and package rules, over the mixed domain of discrete and continuous issues:
solved exactly as a linear (mixed-integer) program, or a convex one with ρ > 1 (:mod:`sim.kernels.programs`).
A small weight on the others' values picks, among the proposer's optima, a Pareto-efficient one.

Before each round an actor whose outside option is not the status quo (a reservation value, or a war
it prefers to the status quo) walks out when that option beats the best deal it can still expect; the
cause names the mechanism (a rule that leaves no acceptable bundle, credibility, a power shift, or the
outside option itself).

The ``equilibrium`` strategy (divide-the-pie scenarios with a budget) instead offers each needed
responder exactly its discounted continuation value (Rubinstein 1982; Baron & Ferejohn 1989).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from sim.engine.agents import acceptances
from sim.domain.cache import BoundedCache
from sim.domain.errors import ConfigError
from sim.kernels.programs import Consent, Program, Solution, ValueModel, value_model
from sim.engine.protocols.base import ModelView, Protocol, ProtocolOutcome, agreement_failures
from sim.engine.protocols.consent import BY_VOTE, RULES as CONSENT_RULES, ConsentRule
from sim.domain.protocol_params import OffersParams
from sim.kernels.utility import renegotiation_caps, war_preferred

if TYPE_CHECKING:  # pragma: no cover
    from sim.domain.scenario import Scenario

ORDERS = ("round_robin", "recognition", "setter")
TOLERANCE = 1e-9
PARETO_TIE_BREAK = 1e-6  # weight of the others' values in the proposer's objective: picks an efficient optimum
#: A least shortfall above this proves that no bundle meets every floor (far above HiGHS's feasibility
#: tolerances, 1e-7 for linear and 1e-6 for mixed-integer programs, and the 1e-9 steps of the lexicographic
#: choice among level combinations).
DOOMED_MARGIN = 1e-4


class OffersProtocol(Protocol):
    """``offers``: proposals over the full bundle with accept/reject responses (MODEL.md §4.2)."""

    name: ClassVar[str] = "offers"
    Params: ClassVar[type] = OffersParams
    supports_budget: ClassVar[bool] = True
    makes_offers: ClassVar[bool] = True
    seats: ClassVar[bool] = True
    #: Ask for the least-short bundle first when the proposer's last offer found nothing acceptable
    #: (:meth:`_short_of_acceptable`); False: the previous order (acceptable first), kept for the benchmark.
    skip_doomed: ClassVar[bool] = True

    @classmethod
    def expected_cost(cls, scenario: "Scenario", rounds: int) -> float:
        """A round is a few linear programs over the bundle (N rows, K columns, each some hundred times
        the cost of one pair-issue comparison)."""
        return float(max(rounds, 1) * scenario.n_actors * scenario.n_issues * 200)

    @classmethod
    def may_draw(cls, params: OffersParams) -> bool:
        """Belief errors (drawn once per run, unless every strategy is the equilibrium one) and random
        proposers (order=recognition) draw; nothing else does."""
        return params.belief_noise > 0 or params.order == "recognition"

    @classmethod
    def validate(cls, params: OffersParams) -> None:
        cls.check_choice("order", params.order, ORDERS)
        cls.check_choice("consent", params.consent, CONSENT_RULES)
        cls.check_range("quota", params.quota, 0.0, 0.999999)
        cls.check_range("belief_noise", params.belief_noise, 0.0, 10.0)
        cls.check_range("deadline", params.deadline, 0, 10**9)

    def __init__(self, model: ModelView, params: OffersParams):
        super().__init__(model, params)
        scenario = model.negotiation
        self.n, self.k = scenario.n_actors, scenario.n_issues
        self.consent = ConsentRule.of(params.consent, params.principals, params.quota, scenario, self._source())
        self.deadline = params.deadline or model.max_rounds
        if params.setter and params.setter not in scenario.actor_ids:
            raise ConfigError(self._source(), "protocol.setter",
                              f"unknown actor {params.setter!r}; allowed: {', '.join(scenario.actor_ids)}")
        self.setter = scenario.actor_ids.index(params.setter) if params.setter else 0
        self.active = np.ones(self.n, dtype=bool)  # walked-out actors become inactive
        self.agreed: np.ndarray | None = None
        self.agreed_round = 0
        self.cause = ""
        self.walkout_round: int | None = None  # the round in which a walk-out ended the game
        self.reasons: tuple[str, ...] = ()  # why the walk-out: the mechanisms (see _why_leave)
        self._expected: dict[tuple, float] = {}  # best_expected answers of this run, by question
        self._acceptable_last: dict[int, bool] = {}  # proposer -> did its last offer find one acceptable
        self._programs: dict[tuple, Program] = {}  # actor's program by walked-out actors and caps (_program)
        self._rounds: dict[int, dict] = {}  # what depends only on the round (_round): thresholds, caps, ...
        self.last_offer: np.ndarray | None = None
        self.current_proposer = 0
        self.seat_bundle: np.ndarray | None = None
        self.seat_response: bool | None = None
        self.pending: np.ndarray | None = None  # this round's offer, when it awaits the seat's answer
        self._opened = -1  # the round whose proposer has been drawn
        self.true_values = value_model(scenario)
        self.equilibrium = [a.strategy.name == "equilibrium" for a in model.actors]
        if any(self.equilibrium):
            self._prepare_equilibrium()
        else:
            self._prepare_beliefs()

    # ---- beliefs ------------------------------------------------------------------------------------
    def _prepare_beliefs(self) -> None:
        """Draw belief errors once per run: observer p's view of every actor's ideal point and
        saliences (its own exactly), as value functions for the proposer's program."""
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
        self.belief_positions = positions
        self.belief_saliences = saliences
        self.beliefs = [value_model(scenario, positions[p], saliences[p]) for p in range(self.n)]

    # ---- one round ------------------------------------------------------------------------------------
    def proposer_of(self, round_index: int) -> int:
        active = np.flatnonzero(self.active)
        if self.params.order == "setter":  # the agenda setter proposes every round while it stays
            return self.setter if self.active[self.setter] else int(active[round_index % len(active)])
        if self.params.order == "recognition":
            weights = self.model.negotiation.capabilities[active]
            return int(self.model.rng.choice(active, p=weights / weights.sum()))
        return int(active[round_index % len(active)])

    def next_proposer(self) -> int | None:
        """Who proposes in the current round: known once the round is open, or in advance under
        round-robin order; None when it is still to be drawn (recognition order)."""
        if self._opened == self.model.round:
            return self.current_proposer
        return self.proposer_of(self.model.round) if self.params.order != "recognition" else None

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
            elif self.equilibrium[proposer]:
                bundle = self._equilibrium_offer(proposer, t)
            else:
                bundle = self._best_offer(proposer, self.thresholds(t), t)
            self.pending = bundle
            self.last_offer = bundle
        proposer, bundle = self.current_proposer, self.pending
        needed = self.consent.needed(bundle[None])[:, 0] & self.active
        needed[proposer] = False
        asked = needed | (self.params.consent in BY_VOTE)
        asked[proposer] = False
        asked &= self.active
        if self.seat is not None and asked[self.seat] and self.seat_response is None:
            self.waiting = "respond"
            return
        self.waiting = ""
        values = self.true_values(bundle)
        accepts = np.zeros(self.n, dtype=bool)
        model_answers = asked & ~np.array(self.equilibrium)
        if self.seat is not None:
            model_answers[self.seat] = False
        if model_answers.any():  # every responder's answer at once (Actor.accepts, vectorised)
            answers = acceptances(model.negotiation, bundle, self.thresholds(t), t)
            accepts[model_answers] = answers[model_answers]
        for i in np.flatnonzero(asked & ~model_answers):
            accepts[i] = (self.seat_response if i == self.seat
                          else model.actors[i].accepts(bundle, self._threshold(int(i), t), t))
        self.pending, self.seat_response = None, None
        agreed = self.consent.reached(accepts, needed, proposer)
        if model.record_events:
            responses = np.where(accepts, "accept", "reject").astype(object)
            responses[~(needed | (self.params.consent in BY_VOTE))] = "not_needed"
            responses[~self.active] = "walked_out"
            responses[proposer] = "proposer"
            model.events.add(
                round=t + 1, protocol=self.name, kind="offer", proposer=proposer,
                agreement=agreed, **{f"offer_{i}": float(v) for i, v in zip(model.negotiation.issue_ids, bundle)},
                **{f"response_{a}": str(r) for a, r in zip(model.negotiation.actor_ids, responses)},
                **{f"utility_{a}": float(v) for a, v in zip(model.negotiation.actor_ids, values)},
            )
        if agreed:
            consenting = (accepts if self.params.consent in BY_VOTE else needed).copy()
            consenting[proposer] = True
            failures = agreement_failures(model, bundle, consenting, exempt=self.seat)
            if failures:  # accepted, but the proposer's own rules or outside option rule it out
                agreed = False
                self.cause = failures[0]
        if agreed:
            self.agreed, self.agreed_round, self.done = bundle, t, True
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

    def deal_consent(self):
        return self.consent.gap_consent()

    def pending_offer(self) -> np.ndarray | None:
        return None if self.waiting != "respond" or self.pending is None else self.pending.copy()

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
        """What ``observer`` believes of a bundle: each actor's value and the least it is thought
        to accept this round (its aspiration, not below its outside option), and so whether it
        would accept, red lines and package rules included (the proposer's own view: MODEL.md §4.2)."""
        t = self.model.round if round_index is None else round_index
        bundle = self.model.negotiation.snap(np.asarray(bundle, dtype=float)[None])[0]
        believed = self._beliefs_at(observer, t)(bundle)
        threshold = self.thresholds(t)
        allowed = self.model.negotiation.allowed(bundle)
        return {"utility": believed, "threshold": threshold,
                "accepts": (believed >= threshold - TOLERANCE) & allowed,
                "needed": self.consent.needed(bundle[None])[:, 0] & self.active}

    def thresholds(self, t: int) -> np.ndarray:
        """The least value each actor accepts in round t: max(aspiration, outside option)."""
        return self._round(t, "thresholds").copy()

    def _round(self, t: int, name: str) -> np.ndarray:
        """What depends only on round t of this run's scenario, computed once per round (a walk-out test
        and an offer ask for them many times): ``thresholds`` (:meth:`thresholds`), ``caps``
        (:func:`~sim.kernels.utility.renegotiation_caps`), ``fights``
        (:func:`~sim.kernels.utility.war_preferred`) and ``floors`` (the least each actor will ever ask,
        :meth:`best_expected`). Callers copy what they may change."""
        scenario = self.model.negotiation
        memo = self._rounds.get(t)
        if memo is None or memo["scenario"] is not scenario:
            memo = self._rounds[t] = {"scenario": scenario}
        if name not in memo:
            model = self.model
            if name == "thresholds":
                d = model.disagreement_at(t)
                memo[name] = np.maximum([a.aspiration(t, self.deadline) for a in model.actors], d)
            elif name == "caps":
                memo[name] = renegotiation_caps(scenario, t)
            elif name == "fights":
                memo[name] = war_preferred(scenario, t)
            else:  # floors
                d = model.disagreement_at(t)
                memo[name] = np.maximum([min(a.aspiration(s, self.deadline) for s in (t, self.deadline - 1))
                                         for a in model.actors], d)
        return memo[name]

    def _threshold(self, i: int, t: int) -> float:
        """The lowest value actor i accepts now: max(aspiration, disagreement)."""
        if self.equilibrium[i]:
            return self._equilibrium_threshold(i, t)
        return float(self.thresholds(t)[i])

    def _beliefs_at(self, observer: int, t: int) -> ValueModel:
        """Observer's value functions in round t (a deal's value capped where power shifts)."""
        return self.beliefs[observer].with_cap(self._round(t, "caps").copy())

    # ---- the proposer's optimisation ---------------------------------------------------------------------
    def _program(self, p: int, floors: np.ndarray, t: int) -> Program:
        """Actor p's program at these floors: a twin (:meth:`Program.with_floors`) of the one it had with the
        same walked-out actors and renegotiation caps, so its rows are built once."""
        scenario = self.model.negotiation
        caps = self._round(t, "caps").copy()
        key = (p, id(scenario), self.active.tobytes(), caps.tobytes())
        base = self._programs.get(key)
        if base is not None:
            return base.with_floors(floors)
        own = np.zeros(self.n, dtype=bool)
        own[p] = True
        program = Program(scenario, self.beliefs[p].with_cap(caps), self.consent.for_proposer(p, self.active),
                          floors, rule_actors=own)
        self._programs[key] = program
        return program

    def _best_offer(self, p: int, floors: np.ndarray, t: int) -> np.ndarray:
        """The proposer's exact optimum (MODEL.md §4.2): max its own value subject to every needed
        responder's believed acceptance (value >= its threshold, red lines, package rule) and its
        own, over the mixed domain (:mod:`sim.kernels.programs`). When nothing is acceptable in its beliefs it
        asks for the bundle that falls least short of acceptable (a reasoned, rejectable offer)."""
        objective = np.zeros(self.n)
        objective[p] = 1.0
        tie = np.where(self.active & (objective == 0), PARETO_TIE_BREAK, 0.0)
        program = self._program(p, floors, t)
        if (self.skip_doomed and not self._acceptable_last.get(p, False)
                and np.all(program.values.rho == 1.0)):
            solution = self._short_of_acceptable(p, program, objective, tie)
        else:
            solution = program.maximise(objective, tie)
            self._acceptable_last[p] = solution is not None
            solution = solution or program.maximise(objective, tie, shortfall=True)
        if solution is None:  # the others' rules exclude everything it wants: state its demand
            own = np.zeros(self.n, dtype=bool)
            own[p] = True
            solution = Program(self.model.negotiation, self._beliefs_at(p, t), Consent("fixed", own),
                               floors, rule_actors=own).maximise(objective)
        if solution is None:
            return self.model.negotiation.snap(self.model.negotiation.positions[p])
        return solution.bundle

    def _short_of_acceptable(self, p: int, program: Program, objective: np.ndarray,
                             tie: np.ndarray) -> Solution | None:
        """The proposer's offer when its last one found nothing acceptable (or it has not offered yet:
        most first offers find nothing): the same answer as asking for an acceptable bundle first, but the
        bundle that falls least short is asked first. Its shortfall proves the first question's answer
        when it exceeds :data:`DOOMED_MARGIN` (every level combination needs at least that common slack on
        the floors, so none is feasible without it), and then the first question is not asked; otherwise
        it is asked as before. Each question is a fresh HiGHS model, so the order does not change either
        answer (docs/performance.md, "Random offers"). Only with linear utilities (ρ = 1): with ρ > 1 each
        question refines its own tangent cuts, and the questions are asked in the previous order."""
        relaxed = program.maximise(objective, tie, shortfall=True)
        if relaxed is not None and relaxed.shortfall > DOOMED_MARGIN:
            self._acceptable_last[p] = False
            return relaxed
        solution = program.maximise(objective, tie)
        self._acceptable_last[p] = solution is not None
        return solution or relaxed

    def best_expected(self, i: int, t: int, scenario: Scenario | None = None) -> float:
        """The most actor i can still expect from a deal, as it believes: its best value over bundles
        that every needed actor accepts at the least it will ever ask (min of its aspiration now and
        at the deadline, not below its outside option), with everyone's rules; -inf if none.
        ``scenario``: a counterfactual variant (a rule removed) instead of the model's."""
        floor = self._round(t, "floors").copy()
        floor[i] = -np.inf
        objective = np.zeros(self.n)
        objective[i] = 1.0
        if scenario is None:
            key = (i, floor.tobytes(), self.active.tobytes(), self._round(t, "caps").tobytes())
            if key not in self._expected:  # the same question every round unless power shifts
                solution = self._program(i, floor, t).maximise(objective)
                self._expected[key] = -np.inf if solution is None else float(solution.values[i])
            return self._expected[key]
        own = np.zeros(self.n, dtype=bool)
        own[i] = True
        beliefs = value_model(scenario, self.belief_positions[i], self.belief_saliences[i],
                              cap=renegotiation_caps(scenario, t))
        solution = Program(scenario, beliefs, self.consent.for_proposer(i, self.active), floor, rule_actors=own).maximise(objective)
        return -np.inf if solution is None else float(solution.values[i])

    def _why_leave(self, i: int, t: int) -> list[str]:
        """Which mechanism makes actor i walk out (docs/explanation/why-talks-fail.md): the rules
        (red lines, package rules) whose removal alone would leave a deal it prefers to its outside
        option, else credibility or the power shift if switching that off would, else its outside
        option itself (e.g. optimism: the deal it can get is worth less than war)."""
        scenario = self.model.negotiation
        d = float(self.model.disagreement_at(t)[i])
        variants: list[tuple[str, object]] = []
        for j, actor in enumerate(scenario.actors):
            if scenario.rules.package and actor.package is not None:
                variants.append((f"package:{actor.id}", _variant(scenario, ("package", j))))
            if scenario.rules.red_lines:
                for issue in actor.red_lines:
                    variants.append((f"red_line:{actor.id}.{issue}", _variant(scenario, ("red_line", j, issue))))
        if scenario.credibilities[i].min() < 1.0 or scenario.credibilities.min() < 1.0:
            variants.append(("credibility", _variant(scenario, ("off", "credibility"))))
        if scenario.shifts[i] < 0:
            variants.append((f"power_shift:{scenario.actor_ids[i]}", _variant(scenario, ("off", "power_shift"))))
        reasons = [name for name, variant in variants if self.best_expected(i, t, variant) >= d - 1e-9]
        if reasons:
            return reasons
        # No one rule is to blame: switch whole mechanisms off, one after another, until a deal would do.
        removed: list[str] = []
        variant = scenario
        for mechanism in ("package", "red_lines", "credibility", "power_shift"):
            if not getattr(variant.rules, mechanism):
                continue
            removed.append(mechanism)
            variant = _variant(scenario, ("off", *removed))
            if self.best_expected(i, t, variant) >= d - 1e-9:
                break
        else:
            return [f"outside_option:{scenario.actor_ids[i]}"]
        for mechanism in list(removed):  # keep only the ones needed
            kept = [m for m in removed if m != mechanism]
            trial = _variant(scenario, ("off", *kept))
            if self.best_expected(i, t, trial) >= d - 1e-9:
                removed = kept
        return ["+".join(removed)]

    # ---- walk-out --------------------------------------------------------------------------------------
    def _walkouts(self, t: int) -> bool:
        """Actors whose outside option beats everything they can still expect leave, all at once
        (named largest margin first); returns True if that ends the game.

        Only an outside option other than the status quo (a war the actor prefers to the status quo, a
        reservation value) makes leaving a choice: an actor whose fallback *is* the status quo gets it
        at the deadline anyway, and by staying keeps the chance of a better offer, so it never walks
        out. That includes an actor holding a war it would not start now (its war value not above its
        status quo: :func:`sim.kernels.utility.war_preferred`)."""
        model = self.model
        d = model.disagreement_at(t)
        fights = self._round(t, "fights")
        leaving: list[tuple[float, int, float]] = []
        for i in np.flatnonzero(self.active):
            kind = model.negotiation.actors[i].outside_option.kind
            if i == self.seat or kind == "status_quo" or (kind == "war" and not fights[i]):
                continue
            if not self.consent.ever_needs(int(i)):
                continue  # an actor whose consent is never needed has nothing to walk out of
            best = self.best_expected(int(i), t)
            margin = d[i] - best
            if margin > 1e-9:
                leaving.append((float(margin), int(i), float(best)))
        if not leaving:
            return False
        leaving.sort(key=lambda item: -item[0])
        self.reasons = tuple(dict.fromkeys(r for _, i, _ in leaving for r in self._why_leave(i, t)))
        for margin, i, best in leaving:
            self.active[i] = False
            if model.record_events:
                model.events.add(round=t + 1, protocol=self.name, kind="walkout", actor=i,
                                 expected=best, outside_option=float(d[i]))
        if not self.consent.survives(self.active):
            names = ",".join(model.negotiation.actor_ids[i] for _, i, _ in leaving)
            self.done, self.cause = True, f"walkout:{names}"
            self.walkout_round = t
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
        buy = self.consent.required_votes - 1
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
        """The agreed bundle; after a breakdown the last offer on the table (the status quo if none
        was made) with the cause: ``walkout:<actors> (<why>)``, ``deadline`` or an agreement rule, and
        the round talks ended: the walk-out's round (whose outside options the walkers chose), else
        the last round played."""
        scenario = self.model.negotiation
        if self.agreed is not None:
            return ProtocolOutcome(bundle=self.agreed.copy(), agreement=True, round_index=self.agreed_round)
        table = scenario.status_quo if self.last_offer is None else self.last_offer
        causes = (self.cause or "deadline",) + self.reasons
        cause = causes[0] + (f" ({', '.join(self.reasons)})" if self.reasons else "")
        return ProtocolOutcome(bundle=table.copy(), agreement=False, breakdown_cause=cause, causes=causes,
                               round_index=(self.walkout_round if self.walkout_round is not None
                                            else min(self.model.round, max(self.deadline - 1, 0))))


#: The counterfactual scenarios of :meth:`OffersProtocol._why_leave`, by the scenario's content and the change:
#: the same variants serve every walk-out of every run of a scenario (each variant object then computes its
#: digest and derived arrays once).
_VARIANTS = BoundedCache("sim.engine.protocols.offers.variants", 512)


def _variant(scenario: "Scenario", change: tuple) -> "Scenario":
    """``scenario`` with one change: ("package", j) actor j's package rule removed, ("red_line", j, issue)
    one red line of actor j removed, ("off", mechanism, ...) those mechanisms of the rules switched off (in
    that order; ("off",) is the scenario itself)."""
    from dataclasses import replace

    def make() -> "Scenario":
        if change[0] == "package":
            return _without(scenario, change[1], package=None)
        if change[0] == "red_line":
            j, issue = change[1], change[2]
            lines = {k: v for k, v in scenario.actors[j].red_lines.items() if k != issue}
            return _without(scenario, j, red_lines=lines)
        variant = scenario
        for mechanism in change[1:]:
            variant = replace(variant, rules=replace(variant.rules, **{mechanism: False}))
        return variant

    return _VARIANTS.get_or_compute((scenario.digest, *change), make)


def _without(scenario: "Scenario", index: int, **changes) -> "Scenario":
    """The scenario with one actor's record changed (a counterfactual for :meth:`_why_leave`)."""
    from dataclasses import replace

    actors = list(scenario.actors)
    actors[index] = replace(actors[index], **changes)
    return replace(scenario, actors=tuple(actors))
