"""BargainingModel: one Mesa model for every protocol (DESIGN.md "How the parts meet").

The model owns the run's one random generator (``Model(rng=seed)``), the mutable state (current
positions and saliences, N×K arrays that the agents view row by row), the event log and the data
collector. ``step()`` asks the protocol to advance one round.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any, Mapping

import mesa
import numpy as np
import pandas as pd

from sim.domain.checks import check_exponent, check_rounds, check_strategy
from sim.engine.agents import Actor
from sim.engine.events import EventLog
from sim.engine.protocols.registry import PROTOCOLS, build_params, check_protocol_needs
from sim.engine.protocols.base import Protocol, ProtocolOutcome
from sim.domain.scenario import Scenario
from sim.kernels.solutions import compromise, weighted_median
from sim.domain.strategies import make_strategy
from sim.kernels.utility import disagreement_values


class BargainingModel(mesa.Model):
    """A negotiation run under one protocol.

    Args:
        scenario: the negotiation (:class:`sim.domain.scenario.Scenario`).
        protocol: registered protocol name (``eu``, ...).
        protocol_params: its parameters (mapping or its ``Params`` dataclass).
        strategy: default concession strategy for actors that do not name their own.
        strategy_exponent: default exponent e for that strategy (None: the strategy's default).
        rounds: maximum number of rounds.
        rng: seed (int), ``numpy.random.SeedSequence`` or Generator; passed to ``mesa.Model``.
        record_rounds: collect per-round positions (DataCollector); off in large sweeps.
        record_events: keep the event log; off in large sweeps.
    """

    def __init__(
        self,
        scenario: Scenario,
        protocol: str = "eu",
        protocol_params: Mapping[str, Any] | Any | None = None,
        strategy: str = "linear",
        strategy_exponent: float | None = None,
        rounds: int = 20,
        rng: Any = None,
        record_rounds: bool = True,
        record_events: bool = True,
    ):
        super().__init__(rng=rng)
        max_rounds = check_rounds(rounds)
        check_strategy(strategy)
        if strategy_exponent is not None:
            check_exponent(strategy_exponent, f"configs/strategy/{strategy}.yaml", "strategy.exponent")
        self.negotiation = scenario
        self.max_rounds = max_rounds
        self.round = 0
        self.record_rounds = record_rounds
        self.record_events = record_events
        self.positions = scenario.positions.copy()
        self.saliences = scenario.saliences.copy()
        # Positions after each round (N x K each), kept even when record_rounds is off: scoring a sweep's
        # runs against the observed record needs them (sim/runs/scoring.py); a few numbers per round.
        self.position_history: list[np.ndarray] = [self.positions.copy()]
        self.risk = np.ones_like(self.positions)
        self._prediction_key: tuple[bytes, bytes] | None = None
        self._prediction: tuple[np.ndarray, np.ndarray] = (np.empty(0), np.empty(0))
        self.disagreement = disagreement_values(scenario)
        self._disagreement_by_round: dict[int, np.ndarray] = {}
        # Canonical order (sorted ids) for random draws: permuting the actors in the config must not
        # change which number each actor (pair, issue) receives.
        self._actor_rank = np.argsort(np.argsort(np.array(scenario.actor_ids), kind="stable"))
        self._issue_rank = np.argsort(np.argsort(np.array(scenario.issue_ids), kind="stable"))

        self.actors: list[Actor] = []
        for index, data in enumerate(scenario.actors):
            name = data.strategy or strategy
            exponent = data.concession_exponent
            if exponent is None and name == strategy:
                exponent = strategy_exponent
            self.actors.append(Actor(self, data, index, make_strategy(name, exponent)))

        self.events = EventLog(scenario.actor_ids, scenario.issue_ids)
        params = build_params(protocol, protocol_params)
        check_protocol_needs(scenario, protocol)
        PROTOCOLS[protocol].validate(params)
        self.protocol: Protocol = PROTOCOLS[protocol](self, params)
        self.datacollector = mesa.DataCollector(
            model_reporters={"median": self.predicted_median, "mean": self.predicted_mean},
            agent_reporters={"position": "position", "salience": "salience"},
        )
        if self.record_rounds:
            self.datacollector.collect(self)
        if self.max_rounds == 0:
            self.running = False

    def disagreement_at(self, round_index: int) -> np.ndarray:
        """d_i in round ``round_index`` (0-based): the outside options, with war win probabilities
        drifted by a power shift (MODEL.md §3; docs/explanation/why-talks-fail.md)."""
        if round_index == 0 or not self.negotiation.shifts.any():
            return self.disagreement
        if round_index not in self._disagreement_by_round:
            self._disagreement_by_round[round_index] = disagreement_values(self.negotiation, round_index)
        return self._disagreement_by_round[round_index]

    # ---- randomness: draws in canonical order (canonical_layout) ---------------------------------
    @property
    def actor_rank(self) -> np.ndarray:
        """Rank of each actor in the canonical order (sorted ids)."""
        return self._actor_rank

    @property
    def issue_rank(self) -> np.ndarray:
        """Rank of each issue in the canonical order (sorted ids)."""
        return self._issue_rank

    # ---- reporters ---------------------------------------------------------------------------------
    def _predictions(self) -> tuple[np.ndarray, np.ndarray]:
        """(median, mean) of the current state, recomputed only when positions or saliences changed
        (bundle protocols leave them alone, so data collection stays cheap)."""
        key = (self.positions.tobytes(), self.saliences.tobytes())
        if self._prediction_key != key:
            weight = self.negotiation.capabilities[:, None] * self.saliences
            self._prediction = (weighted_median(self.positions, weight), compromise(self.positions, weight))
            self._prediction_key = key
        return self._prediction

    def predicted_median(self) -> np.ndarray:
        """c·s-weighted median of the current positions, per issue."""
        return self._predictions()[0]

    def predicted_mean(self) -> np.ndarray:
        """c·s-weighted mean (compromise) of the current positions, per issue."""
        return self._predictions()[1]

    # ---- dynamics ---------------------------------------------------------------------------------
    def step(self) -> None:
        """One round of the protocol; stops at the round limit or when the protocol is done."""
        if not self.running:
            return
        self.protocol.step()
        if self.protocol.waiting:  # a human seat must act first; the round resumes on the next step
            return
        self.round += 1
        self.position_history.append(self.positions.copy())
        if self.record_rounds:
            self.datacollector.collect(self)
        if self.protocol.done or self.round >= self.max_rounds:
            self.running = False

    def restore(self, positions: np.ndarray, saliences: np.ndarray, rounds: int,
                history: list[np.ndarray], risk: np.ndarray) -> None:
        """Put this (not yet stepped) model in the final state of a run of its specification that was
        advanced elsewhere, together with others (:mod:`sim.runs.batch`): afterwards ``outcome()`` and the
        outcome row are that run's. Nothing is recorded round by round in that path."""
        self.positions[:] = positions
        self.saliences[:] = saliences
        self.round = int(rounds)
        self.position_history = history
        self.risk = risk
        self.running = False

    def run(self) -> "BargainingModel":
        """Step until stopped; returns self."""
        while self.running:
            self.step()
            if self.protocol.waiting:
                raise RuntimeError(f"run() cannot play a human seat: the protocol waits for it to "
                                   f"{self.protocol.waiting}")
        return self

    def outcome(self) -> ProtocolOutcome:
        return self.protocol.outcome()

    # ---- tables ------------------------------------------------------------------------------------
    def rounds_table(self) -> pd.DataFrame:
        """Tidy per-round table: round, actor, issue, position, salience, median, mean."""
        scenario = self.negotiation
        agent_frame = self.datacollector.get_agent_vars_dataframe()
        model_frame = self.datacollector.get_model_vars_dataframe()
        if agent_frame.empty:
            return pd.DataFrame(columns=["round", "actor", "issue", "position", "salience",
                                         "median", "mean"])
        n, k = scenario.n_actors, scenario.n_issues
        rounds = len(model_frame)
        positions = np.stack(agent_frame["position"].to_numpy()).reshape(rounds, n, k)
        saliences = np.stack(agent_frame["salience"].to_numpy()).reshape(rounds, n, k)
        median = np.stack(model_frame["median"].to_numpy())  # (R, K)
        mean = np.stack(model_frame["mean"].to_numpy())
        round_index = np.repeat(np.arange(rounds), n * k)
        return pd.DataFrame({
            "round": round_index,
            "actor": np.tile(np.repeat(np.array(scenario.actor_ids, dtype=object), k), rounds),
            "issue": np.tile(np.array(scenario.issue_ids, dtype=object), rounds * n),
            "position": positions.ravel(),
            "salience": saliences.ravel(),
            "median": np.broadcast_to(median[:, None, :], (rounds, n, k)).ravel(),
            "mean": np.broadcast_to(mean[:, None, :], (rounds, n, k)).ravel(),
        })

    def events_table(self) -> pd.DataFrame:
        return self.events.to_frame()

    def describe(self) -> dict[str, Any]:
        """Run settings for the outcome row: the protocol's parameters, each where it applies
        (:mod:`sim.domain.protocol_params`)."""
        protocol = self.protocol.params
        params = {}
        for item in fields(protocol):
            applies = item.metadata.get("applies")  # (other parameter, value): reported only under it
            if item.name == "name" or (applies and getattr(protocol, applies[0]) != applies[1]):
                continue
            value = getattr(protocol, item.name)
            if isinstance(value, (list, tuple)):
                value = ",".join(map(str, value))
            params[f"protocol_{item.name}"] = value
        return {"protocol": self.protocol.name, "scenario": self.negotiation.id, **params}
