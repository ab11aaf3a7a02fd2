"""The protocol interface: one round at a time, state owned by the model, events to its log.

A protocol sees the model through :class:`ModelView`: exactly the attributes and methods protocols
read or change, which :class:`~sim.engine.model.BargainingModel` (and the classroom's subclass) has.
"""

from __future__ import annotations

import typing
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Sequence

import numpy as np

from sim.domain.errors import ConfigError
from sim.kernels.deal_gap import Consent as GapConsent

if TYPE_CHECKING:  # pragma: no cover
    from sim.domain.scenario import Scenario
    from sim.engine.agents import Actor
    from sim.engine.events import EventLog


@typing.runtime_checkable
class ModelView(typing.Protocol):
    """What a protocol may use of the model it runs in (a test checks that protocols use nothing else,
    and that :class:`~sim.engine.model.BargainingModel` has all of it)."""

    negotiation: "Scenario"  # the scenario (read-only data)
    rng: np.random.Generator  # the run's one generator
    actors: Sequence["Actor"]  # the agents, in scenario order (strategy, aspiration, accepts)
    positions: np.ndarray  # (N, K) current positions, changed in place
    saliences: np.ndarray  # (N, K) current saliences, changed in place
    risk: np.ndarray  # (N, K) risk exponents of the last eu round
    round: int  # rounds completed
    max_rounds: int  # the round limit
    running: bool
    position_history: list[np.ndarray]  # positions after each round
    record_events: bool  # keep the event log?
    events: "EventLog"

    @property
    def actor_rank(self) -> np.ndarray:
        """Rank of each actor in the canonical (id-sorted) order of random draws."""

    @property
    def issue_rank(self) -> np.ndarray:
        """Rank of each issue in the canonical order."""

    def disagreement_at(self, round_index: int) -> np.ndarray:
        """d_i in round ``round_index``: the outside options, drifted by a power shift."""

    def restore(self, positions: np.ndarray, saliences: np.ndarray, rounds: int,
                history: list[np.ndarray], risk: np.ndarray) -> None:
        """Put the (unstepped) model in the final state of a run advanced elsewhere."""


@dataclass(frozen=True)
class ProtocolOutcome:
    """What a protocol says at the end: the bundle on the table, whether it is an agreement, and if
    not, why. After a breakdown the bundle is what was on the table (the last offer, the predicted
    position), not what anybody gets: each actor then gets its outside option (MODEL.md §3)."""

    bundle: np.ndarray  # (K,) in issue units
    agreement: bool
    breakdown_cause: str = ""  # "" when agreed; e.g. "deadline", "walkout:russia", "red_line:nato.enlargement"
    causes: tuple[str, ...] = ()  # every reason the bundle is not an agreement, the first is breakdown_cause
    round_index: int | None = None  # the round whose outside options and power balance apply (None: the last)


def agreement_failures(model: ModelView, bundle: np.ndarray, needed: np.ndarray,
                       exempt: int | None = None) -> list[str]:
    """Why ``bundle`` cannot be an agreement (MODEL.md §3): for every actor whose consent it needs,
    a binding red line it crosses (``red_line:actor.issue``), a package rule it breaks
    (``package:actor``), or a value below the actor's outside option
    (``not_individually_rational:actor``). Empty when it is an agreement. ``exempt``: a human seat,
    whose own answer stands for its consent."""
    from sim.kernels.utility import scenario_values

    scenario = model.negotiation
    bundle = np.asarray(bundle, dtype=float)
    needed = np.asarray(needed, bool).copy()
    if exempt is not None:
        needed[exempt] = False
    causes: list[str] = []
    if scenario.rules.red_lines:
        mask = scenario.red_line_mask(bundle[None])[:, 0, :]
        causes += [f"red_line:{scenario.actor_ids[i]}.{scenario.issue_ids[k]}"
                   for i, k in zip(*np.nonzero(~mask)) if needed[i]]
    if scenario.rules.package:
        causes += [f"package:{a}" for a in scenario.broken_packages(bundle)
                   if needed[scenario.actor_ids.index(a)]]
    values = scenario_values(scenario, bundle, model.round)
    floor = model.disagreement_at(model.round)
    causes += [f"not_individually_rational:{scenario.actor_ids[i]}"
               for i in np.flatnonzero(needed & (values < floor - 1e-9))]
    return causes


def agreement_failures_of_runs(model: ModelView, bundles: np.ndarray, rounds: np.ndarray) -> list[list[str]]:
    """:func:`agreement_failures` of many runs of one model's specification at once, every actor's consent
    needed: run r proposes ``bundles[r]`` (M, K) after ``rounds[r]`` rounds (the round whose values and
    outside options apply). The same causes in the same order as run by run (red lines and values
    computed for all runs as arrays, values once per round)."""
    from sim.kernels.utility import scenario_values

    scenario = model.negotiation
    bundles = np.asarray(bundles, dtype=float)
    rounds = np.asarray(rounds, dtype=int)
    causes: list[list[str]] = [[] for _ in range(len(bundles))]
    if scenario.rules.red_lines:
        mask = scenario.red_line_mask(bundles)  # (N, M, K)
        names = [[f"red_line:{a}.{k}" for k in scenario.issue_ids] for a in scenario.actor_ids]
        for i, m, k in zip(*np.nonzero(~mask)):  # for each run, in (actor, issue) order as run by run
            causes[m].append(names[i][k])
    if scenario.rules.package:
        for m, bundle in enumerate(bundles):
            causes[m] += [f"package:{a}" for a in scenario.broken_packages(bundle)]
    for t in np.unique(rounds):
        chosen = np.flatnonzero(rounds == t)
        values = scenario_values(scenario, bundles[chosen], int(t)).T  # (M, N)
        short = values < model.disagreement_at(int(t)) - 1e-9
        for m, below in zip(chosen, short):
            causes[m] += [f"not_individually_rational:{scenario.actor_ids[i]}" for i in np.flatnonzero(below)]
    return causes


class Protocol(ABC):
    """A bargaining protocol. Subclasses set ``name`` (= its config file name) and ``Params``
    (a dataclass: the schema of ``configs/protocol/<name>.yaml``)."""

    name: ClassVar[str]
    Params: ClassVar[type]
    supports_budget: ClassVar[bool] = False  # can it respect a divisible pie (scenario.budget)?
    needs_status_quo: ClassVar[bool] = True  # does it need a status quo per issue (its disagreement point)?
    makes_offers: ClassVar[bool] = False  # is a round an offer that the others accept or reject (events)?
    seats: ClassVar[bool] = False  # can a person play one actor (take_seat, propose, respond)?
    advances_runs: ClassVar[bool] = False  # can it advance many runs of one spec at once (advance_runs)?

    def __init__(self, model: ModelView, params: Any):
        self.model: ModelView = model
        self.params = params
        self.done = False
        self.waiting = ""  # what a human seat must do before the round can finish ("" = nothing)
        self.seat: int | None = None  # the actor a person plays (index), if any

    # ---- what others may ask of any protocol (the classroom, the runner) ---------------------------------
    def next_proposer(self) -> int | None:
        """Who proposes in the coming round, if the protocol has proposers and it is known now."""
        return None

    def pending_offer(self) -> np.ndarray | None:
        """The offer waiting for the seat's answer (None when nothing waits)."""
        return None

    def deal_consent(self) -> GapConsent:
        """Whose acceptance a deal needs, for the deal gap (:mod:`sim.kernels.deal_gap`): every actor,
        unless the protocol has a consent rule of its own."""
        return GapConsent()

    def take_seat(self, actor: str) -> None:
        """A person plays ``actor`` from now on; the round pauses where the person must act
        (``waiting``: "propose" or "respond") until :meth:`propose` or :meth:`respond` is called."""
        raise ConfigError("classroom", "play_as", f"a person cannot play a seat under protocol {self.name}")

    def propose(self, bundle: np.ndarray) -> np.ndarray:
        """The seat's proposal for this round."""
        raise RuntimeError(f"protocol {self.name} has no proposals")

    def respond(self, accept: bool) -> None:
        """The seat's answer to the pending offer."""
        raise RuntimeError(f"protocol {self.name} has no offers to answer")

    @classmethod
    def draws(cls, params: Any) -> bool:
        """Whether a run under these settings surely draws random numbers (then a block of seeds is not
        first checked for being one run repeated: :mod:`sim.runs.batch`). Default: not known."""
        return False

    @classmethod
    def may_draw(cls, params: Any) -> bool:
        """Whether a run under these settings may draw random numbers, so that its seed may change its row
        (a sensitivity analysis then averages replicates and measures the seed noise:
        :func:`sim.analysis.sensitivity.seed_noise`). Default: True (not known)."""
        return True

    def advance_runs(self, generators: Sequence[np.random.Generator]) -> Any:
        """Advance one run per generator of this (unstepped) model's specification together, to the
        end; ``restore(state, r)`` then puts this model in run r's final state. Only where
        ``advances_runs`` (:mod:`sim.runs.batch`)."""
        raise NotImplementedError(f"protocol {self.name} advances one run at a time")

    def restore(self, state: Any, run: int) -> None:
        """Put the model in the final state of run ``run`` of :meth:`advance_runs`."""
        raise NotImplementedError(f"protocol {self.name} advances one run at a time")

    @abstractmethod
    def step(self) -> None:
        """Advance one round: ask agents to decide, apply the result to the model, log events."""

    @abstractmethod
    def outcome(self) -> ProtocolOutcome:
        """The outcome so far (final once ``done`` or the round limit is reached)."""

    def settle(self, bundle: np.ndarray, needed: np.ndarray | None = None,
               process_failure: str = "") -> ProtocolOutcome:
        """The one agreement rule for every protocol: ``bundle`` is an agreement only if the process
        produced it (``process_failure`` empty) and :func:`agreement_failures` finds nothing for the
        actors whose consent it needs (default: all)."""
        needed = np.ones(self.model.negotiation.n_actors, bool) if needed is None else needed
        causes = ([process_failure] if process_failure else []) + agreement_failures(self.model, bundle, needed)
        return ProtocolOutcome(bundle=np.asarray(bundle, dtype=float).copy(), agreement=not causes,
                               breakdown_cause=causes[0] if causes else "", causes=tuple(causes),
                               round_index=self.model.round)

    @classmethod
    def expected_cost(cls, scenario: "Scenario", rounds: int) -> float:
        """Relative cost of one run (arbitrary units, comparable across protocols): a sweep hands out its
        heaviest shards first. Default: a round looks at every ordered pair of actors on every issue."""
        return float(max(rounds, 1) * scenario.n_actors ** 2 * scenario.n_issues)

    @classmethod
    def validate(cls, params: Any) -> None:
        """Check parameter values before a model is built; raise ConfigError naming the key."""

    # helpers for validate() -----------------------------------------------------------------------
    @classmethod
    def _source(cls) -> str:
        return f"configs/protocol/{cls.name}.yaml"

    @classmethod
    def check_choice(cls, key: str, value: str, allowed: Sequence[str]) -> None:
        if value not in allowed:
            raise ConfigError(cls._source(), f"protocol.{key}",
                              f"unknown value {value!r}; allowed: {', '.join(allowed)}")

    @classmethod
    def check_range(cls, key: str, value: float, low: float, high: float) -> None:
        if not low <= value <= high:
            raise ConfigError(cls._source(), f"protocol.{key}",
                              f"{value:g} is outside the allowed range [{low:g}, {high:g}]")
