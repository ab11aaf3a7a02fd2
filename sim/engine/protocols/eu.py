"""The ``eu`` protocol: Bueno de Mesquita's expected-utility (challenge) model as a Mesa protocol
(MODEL.md §4.1).

The arithmetic of a round is in :mod:`sim.kernels.eu` (pure numpy); the protocol here draws the
round's random numbers in canonical order, applies the result to the model's state, logs the events
and advances many runs of one specification together (:meth:`EUProtocol.advance_runs`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import ClassVar, Sequence

import numpy as np

from sim.domain.protocol_params import EUParams
from sim.engine.protocols.base import ModelView, Protocol, ProtocolOutcome, agreement_failures_of_runs
from sim.kernels.eu import KIND_CONFLICT, KIND_NONE, VARIANTS, RoundResult, eu_round, normalise
from sim.kernels.layout import canonical_layout
from sim.kernels.solutions import weighted_median


@dataclass
class RunsState:
    """Final states of runs advanced together (:meth:`EUProtocol.advance_runs`), runs on axis 0."""

    positions: np.ndarray  # (R, N, K) in issue units
    saliences: np.ndarray  # (R, N, K)
    risk: np.ndarray  # (R, N, K)
    rounds: np.ndarray  # (R,) rounds each run ran
    done: np.ndarray  # (R,) stopped by the tolerance (not the round limit)
    history: list[np.ndarray]  # positions after each round, (R, N, K) each; run r uses the first rounds[r] + 1


class EUProtocol(Protocol):
    """``eu``: issue-by-issue challenges, offers and responses (Bueno de Mesquita; Scholz et al.)."""

    name: ClassVar[str] = "eu"
    Params: ClassVar[type] = EUParams
    needs_status_quo: ClassVar[bool] = False  # issue by issue, positions only
    advances_runs: ClassVar[bool] = True

    def __init__(self, model: ModelView, params: EUParams):
        super().__init__(model, params)
        scenario = model.negotiation
        _, self.low, self.range = normalise(scenario.positions)
        self.last_move = np.inf

    @classmethod
    def validate(cls, params: EUParams) -> None:
        cls.check_choice("variant", params.variant, VARIANTS)
        cls.check_range("q", params.q, 0.0, 1.0)
        cls.check_range("t", params.t, 0.0, 1.0)
        cls.check_range("shock_probability", params.shock_probability, 0.0, 1.0)
        cls.check_range("tolerance", params.tolerance, 0.0, 1.0)
        cls.check_range("convergence", params.convergence, 0.0, 1.0)

    def _round(self, positions: np.ndarray, saliences: np.ndarray,
               generators: Sequence[np.random.Generator]) -> tuple[RoundResult, np.ndarray, np.ndarray]:
        """One round of runs (positions and saliences (runs, N, K), one generator each): each run's draws
        in canonical (id-sorted) layout — the shocks' two (N, K) draws, then one symmetric draw per pair
        and issue — then :func:`eu_round` for all. Returns (result, normalised positions before the
        round, saliences after the shocks). :meth:`step` is this with one run, so a run advanced in a
        block draws and computes exactly what it would alone."""
        params, model = self.params, self.model
        runs, (n, k) = len(generators), positions.shape[1:]
        rank = model.actor_rank
        if params.shock_probability > 0:
            raw = np.empty((runs, 2, n, k))
            for i, generator in enumerate(generators):
                generator.random(out=raw[i, 0])
                generator.random(out=raw[i, 1])
            raw = canonical_layout(raw, rank, model.issue_rank)
            saliences = np.where(raw[:, 0] < params.shock_probability, raw[:, 1], saliences)
        x = (positions - self.low) / self.range
        draws = None
        if params.variant == "standard":
            draws = np.empty((runs, n, n, k))
            for i, generator in enumerate(generators):
                generator.random(out=draws[i])
            draws = canonical_layout(draws, rank, model.issue_rank, pairwise=True)
        result = eu_round(x, saliences, model.negotiation.capabilities, params.variant, params.q, params.t,
                          draws, rank)
        return result, x, saliences

    def step(self) -> None:
        model = self.model
        result, x, saliences = self._round(model.positions[None], model.saliences[None], [model.rng])
        result = RoundResult(*(getattr(result, f.name)[0] for f in fields(RoundResult)))
        x = x[0]
        self.last_move = float(np.max(np.abs(result.new_x - x))) if x.size else 0.0
        if model.record_events:
            self._record(result, x)
        model.saliences[:] = saliences[0]
        model.positions[:] = self.low + result.new_x * self.range
        model.risk = result.risk
        if self.last_move <= self.params.tolerance:
            self.done = True

    @classmethod
    def draws(cls, params: EUParams) -> bool:
        """The standard variant draws every pair's conflict every round; shocks redraw saliences."""
        return params.variant == "standard" or params.shock_probability > 0

    @classmethod
    def may_draw(cls, params: EUParams) -> bool:
        return cls.draws(params)

    def advance_runs(self, generators: Sequence[np.random.Generator]) -> RunsState:
        """Runs of this model's specification, one per generator, advanced round by round together on
        a leading runs axis (:meth:`_round`, the round :meth:`step` plays with one run). Each run stops
        when :meth:`step` would stop it (tolerance or round limit), so each run ends where it would
        alone. Nothing is recorded."""
        model, params = self.model, self.params
        if model.round or len(model.position_history) != 1:  # every run starts where a new model starts
            raise RuntimeError("advance_runs needs a model that has not been stepped or restored")
        runs = len(generators)
        positions = np.repeat(model.positions[None], runs, axis=0)
        saliences = np.repeat(model.saliences[None], runs, axis=0)
        risk = np.repeat(model.risk[None], runs, axis=0)
        rounds = np.zeros(runs, dtype=int)
        done = np.zeros(runs, dtype=bool)
        running = np.full(runs, model.running and model.max_rounds > 0)
        history = [positions.copy()]
        while running.any():
            live = np.flatnonzero(running)
            result, x, saliences[live] = self._round(positions[live], saliences[live],
                                                     [generators[r] for r in live])
            move = np.abs(result.new_x - x).max(axis=(1, 2)) if x[0].size else np.zeros(len(live))
            positions[live] = self.low + result.new_x * self.range
            risk[live] = result.risk
            rounds[live] += 1
            history.append(positions.copy())
            finished = move <= params.tolerance
            done[live] = finished
            running[live] = ~finished & (rounds[live] < model.max_rounds)
        return RunsState(positions=positions, saliences=saliences, risk=risk, rounds=rounds, done=done,
                         history=history)

    def restore(self, state: "RunsState", run: int) -> None:
        count = int(state.rounds[run])
        self.model.restore(state.positions[run], state.saliences[run], count,
                           [state.history[i][run] for i in range(count + 1)], state.risk[run])
        self.done = bool(state.done[run])

    def outcomes(self, state: "RunsState") -> list[ProtocolOutcome]:
        """The :meth:`outcome` of every run of ``state`` (what ``restore(state, r)`` then ``outcome()``
        gives, value for value), computed for all runs at once: the weighted medians on the runs axis,
        the agreement rule by :func:`~sim.engine.protocols.base.agreement_failures_of_runs`."""
        scenario = self.model.negotiation
        weight = scenario.capabilities[:, None] * state.saliences
        median = scenario.snap(weighted_median(state.positions, weight, axis=-2))  # (R, K)
        spread = np.abs(state.positions - median[:, None, :]).max(axis=1) / scenario.spans
        converged = np.all(spread <= self.params.convergence, axis=-1)
        failures = agreement_failures_of_runs(self.model, median, state.rounds)
        out = []
        for r, bundle in enumerate(median):
            causes = ([] if converged[r] else ["not_converged"]) + failures[r]
            out.append(ProtocolOutcome(bundle=bundle.copy(), agreement=not causes,
                                       breakdown_cause=causes[0] if causes else "", causes=tuple(causes),
                                       round_index=int(state.rounds[r])))
        return out

    def _record(self, result: RoundResult, x: np.ndarray) -> None:
        """Events: every offer with the response, and every conflict with its winner (in units)."""
        model = self.model
        ii, jj, kk = np.nonzero(result.offer)
        if ii.size == 0:
            return
        kinds = result.kind[ii, jj, kk]
        names = np.array(["none", "conflict", "compromise", "capitulate"])[kinds]
        if self.params.variant == "standard":
            names = np.where((kinds == KIND_NONE), "not_credible", names)
        else:
            names = np.where(kinds == KIND_CONFLICT, "lose_confrontation", names)
        target = self.low[kk] + result.target[ii, jj, kk] * self.range[kk]
        winner = result.conflict_winner[ii, jj, kk]
        accepted = result.moved_to[jj, kk] == ii
        model.events.add(
            round=model.round + 1, protocol="eu", kind="offer", sender=ii, receiver=jj, issue=kk,
            response=names, sender_position=self.low[kk] + x[ii, kk] * self.range[kk],
            receiver_position=self.low[kk] + x[jj, kk] * self.range[kk], proposed_position=target,
            eu_sender=result.eu_own[ii, jj, kk], eu_receiver_a=result.eu_target[ii, jj, kk],
            eu_receiver_b=result.eu_own[jj, ii, kk], probability=result.probability[ii, jj, kk],
            accepted=accepted, winner=winner,
        )

    def outcome(self) -> ProtocolOutcome:
        """Predicted outcome = current weighted median, snapped to the allowed points of discrete
        issues; an agreement when positions converged to it and every actor consents to it (its red
        lines, package rule and outside option: :meth:`Protocol.settle`)."""
        model = self.model
        weight = model.negotiation.capabilities[:, None] * model.saliences
        median = model.negotiation.snap(weighted_median(model.positions, weight))
        spread = np.abs(model.positions - median).max(axis=0) / model.negotiation.spans
        converged = bool(np.all(spread <= self.params.convergence))
        return self.settle(median, process_failure="" if converged else "not_converged")
