"""Actor agents: one per party. State lives in the model's arrays (rows of N×K), so that kernels can
work on all actors at once; an agent is the named, inspectable view of its row plus its strategy."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.domain.scenario import Actor as ActorData
from sim.domain.strategies import Strategy

if TYPE_CHECKING:  # pragma: no cover
    from sim.engine.model import BargainingModel
    from sim.domain.scenario import Scenario


class Actor(mesa.Agent):
    """A party to the negotiation (MODEL.md §1).

    Attributes:
        data: the frozen scenario record (capability, ideal point, traits).
        index: its row in the model's position and salience arrays.
        strategy: how its aspiration falls over time (sim.domain.strategies).
        disagreement: d_i, its utility without agreement at the start (MODEL.md §3).
    """

    model: "BargainingModel"

    def __init__(self, model: "BargainingModel", data: ActorData, index: int, strategy: Strategy):
        super().__init__(model)
        self.data = data
        self.index = index
        self.strategy = strategy

    @property
    def disagreement(self) -> float:
        """d_i at the start (the model's; it drifts with a power shift: ``model.disagreement_at``)."""
        return float(self.model.disagreement[self.index])

    @property
    def actor_id(self) -> str:
        return self.data.id

    @property
    def position(self) -> np.ndarray:
        """Current position per issue (a view into the model's array; issue units)."""
        return self.model.positions[self.index]

    @property
    def salience(self) -> np.ndarray:
        return self.model.saliences[self.index]

    def utility(self, bundles: np.ndarray) -> np.ndarray:
        """Own utility of bundles (M, K) or (K,), under its scenario preferences (MODEL.md §2)."""
        from sim.kernels.utility import utilities

        s = self.model.negotiation
        row = slice(self.index, self.index + 1)
        return utilities(bundles, s.positions[row], s.weights[row], s.spans,
                         s.risk_exponents[row])[0]

    def accepts(self, bundle: np.ndarray, threshold: float, round_index: int | None = None) -> bool:
        """Respond to an offer (MODEL.md §4.2): accept iff its value — an expectation under its
        credibility of promised moves, capped where its power declines — reaches the threshold, and the
        bundle crosses none of its red lines and meets its package rule
        (docs/explanation/why-talks-fail.md)."""
        return bool(acceptances(self.model.negotiation, bundle, threshold, round_index)[self.index])

    def aspiration(self, round_index: int, deadline: int) -> float:
        """The least it asks in round t: its strategy's aspiration above its outside option then."""
        disagreement = float(self.model.disagreement_at(round_index)[self.index])
        return self.strategy.aspiration(round_index, deadline, disagreement)

    def __repr__(self) -> str:
        return f"Actor({self.data.id!r})"


def acceptances(scenario: "Scenario", bundle: np.ndarray, thresholds: np.ndarray | float,
                round_index: int | None = None) -> np.ndarray:
    """Every actor's answer to one offer at once (the rule of :meth:`Actor.accepts`): value at or
    above its threshold, and no red line crossed, package rule met."""
    from sim.kernels.utility import scenario_values

    values = scenario_values(scenario, bundle, round_index)
    return (values >= np.asarray(thresholds) - 1e-9) & scenario.allowed(bundle)
