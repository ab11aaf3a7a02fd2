"""A finished run's tables (:class:`RunResult`), built from a model and the spec that built it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from sim.domain.scenario import Scenario
from sim.engine.metrics import reference_table

if TYPE_CHECKING:  # pragma: no cover
    from sim.engine.model import BargainingModel
    from sim.runs.spec import RunSpec


@dataclass
class RunResult:
    """A finished run and its tables (pandas)."""

    scenario: Scenario
    model: "BargainingModel"
    runs: pd.DataFrame  # one row: MODEL.md §6
    rounds: pd.DataFrame  # round, actor, issue, position, salience, median, mean
    events: pd.DataFrame  # offers, responses, conflicts
    issues: pd.DataFrame  # per issue: scale, end texts, status quo, reference solutions
    parts: tuple["RunResult", ...] = ()  # protocol=all: one result per protocol

    @property
    def protocols(self) -> list[str]:
        return list(self.runs["protocol"])


def combine(results: list[RunResult]) -> RunResult:
    """Several protocols on one scenario and seed, as one result (tables stacked by protocol)."""
    return RunResult(
        scenario=results[0].scenario, model=results[0].model,
        runs=pd.concat([r.runs for r in results], ignore_index=True),
        rounds=pd.concat([r.rounds for r in results if not r.rounds.empty], ignore_index=True),
        events=pd.concat([r.events for r in results if not r.events.empty], ignore_index=True),
        issues=results[0].issues, parts=tuple(results),
    )


def result_of(spec: "RunSpec", model: "BargainingModel", issues: pd.DataFrame | None = None) -> RunResult:
    """The tables of a finished (or stopped) model built by ``spec``: its outcome
    row, rounds and events as recorded, and the per-issue reference table (``issues``, if the caller
    already has it)."""
    rounds = model.rounds_table() if model.record_rounds else pd.DataFrame()
    if not rounds.empty:
        rounds.insert(0, "protocol", model.protocol.name)
    return RunResult(
        scenario=model.negotiation, model=model, runs=pd.DataFrame([spec.row(model)]), rounds=rounds,
        events=model.events_table() if model.record_events else pd.DataFrame(),
        issues=reference_table(model.negotiation, model.disagreement) if issues is None else issues,
    )
