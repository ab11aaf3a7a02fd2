"""Consent rules of the offers protocol (MODEL.md §4.2): whose acceptance a bundle needs, when the
answers add up to an agreement, and what the proposer's program must win.

* ``unanimity``: every active actor.
* ``veto``: the principals, and every holder of a veto on an issue the bundle changes from the status quo.
* ``majority``: more than ``quota`` × N actors, the proposer included.
* ``weighted``: the scenario's weighted-majority rule (``scenario.voting``, :mod:`sim.domain.voting`):
  every required actor, and on every quota the accepting voters' weights (the proposer's included)
  at or above the threshold: a qualified majority, unanimity among some actors, a bicameral consent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.domain.errors import ConfigError
from sim.kernels.deal_gap import Consent as GapConsent
from sim.kernels.programs import Consent

if TYPE_CHECKING:  # pragma: no cover
    from sim.domain.voting import WeightedMajority

RULES = ("unanimity", "veto", "majority", "weighted")
BY_VOTE = ("majority", "weighted")  # rules under which every active actor is asked and a vote decides


@dataclass(frozen=True)
class ConsentRule:
    """One consent rule on one scenario (N actors)."""

    rule: str
    principal: np.ndarray  # (N,) bool: actors whose consent the veto rule always needs
    vetoes: np.ndarray  # (N, K) bool: the scenario's issue vetoes
    status_quo: np.ndarray  # (K,)
    spans: np.ndarray  # (K,)
    required_votes: int  # acceptances (proposer included) for an agreement under majority; N otherwise
    voting: "WeightedMajority | None" = None  # the scenario's weighted-majority rule (weighted rule)
    actor_ids: tuple[str, ...] = ()

    @classmethod
    def of(cls, rule: str, principals: list[str], quota: float, scenario, source: str) -> "ConsentRule":
        for actor in principals:
            if actor not in scenario.actor_ids:
                raise ConfigError(source, "protocol.principals",
                                  f"unknown actor {actor!r}; allowed: {', '.join(scenario.actor_ids)}")
        n = scenario.n_actors
        if rule == "weighted" and scenario.voting is None:
            raise ConfigError(source, "protocol.consent",
                              f"weighted needs a weighted-majority rule in the scenario (scenario.voting); scenario "
                              f"{scenario.id!r} has none; allowed here: unanimity, veto, majority")
        return cls(rule=rule, principal=np.array([a in principals for a in scenario.actor_ids]),
                   vetoes=scenario.vetoes, status_quo=scenario.status_quo, spans=scenario.spans,
                   required_votes=n if rule == "unanimity" else int(np.floor(quota * n)) + 1,
                   voting=scenario.voting, actor_ids=scenario.actor_ids)

    def needed(self, bundles: np.ndarray) -> np.ndarray:
        """Boolean (N, M): whose consent each of M bundles needs (the proposer's is implied)."""
        if self.rule == "veto":
            changed = np.abs(bundles - self.status_quo) > 1e-9 * self.spans  # (M, K)
            vetoed = (self.vetoes.astype(float) @ changed.T.astype(float)) > 0  # (N, M)
            return vetoed | self.principal[:, None]
        return np.ones((len(self.principal), len(bundles)), dtype=bool)

    def reached(self, accepts: np.ndarray, needed: np.ndarray, proposer: int) -> bool:
        """Do these answers (N,) to one bundle make an agreement?"""
        votes = accepts.copy()
        votes[proposer] = True
        if self.rule == "majority":
            return int(votes.sum()) >= self.required_votes
        if self.rule == "weighted":
            return self.voting.passes(votes, self.actor_ids)
        return bool(np.all(votes[needed]))

    def for_proposer(self, proposer: int, active: np.ndarray) -> Consent:
        """What an offer by ``proposer`` must win, as the proposer's program states it."""
        own = np.zeros(len(self.principal), dtype=bool)
        own[proposer] = True
        others = active & ~own
        if self.rule == "unanimity":
            return Consent("fixed", required=active | own)
        if self.rule == "veto":
            return Consent("veto", required=own | (self.principal & active), eligible=others, vetoes=self.vetoes)
        if self.rule == "weighted":
            required = own | (np.isin(self.actor_ids, self.voting.required) & active)
            return Consent("weighted", required=required, eligible=others & ~required,
                           weights=self.voting.weight_matrix(), thresholds=self.voting.thresholds())
        return Consent("majority", required=own, eligible=others, votes=self.required_votes - 1)

    def ever_needs(self, actor: int) -> bool:
        """Can this actor's consent ever be needed (else it has nothing to walk out of)?"""
        return self.rule != "veto" or bool(self.principal[actor] or self.vetoes[actor].any())

    def survives(self, active: np.ndarray) -> bool:
        """Can the talks go on with only ``active`` actors (a majority can, the others cannot)?"""
        if self.rule == "weighted":
            return self.voting.passes(active, self.actor_ids)
        return self.rule == "majority" and int(active.sum()) >= self.required_votes

    def gap_consent(self) -> GapConsent:
        """Whose acceptance a deal needs under this rule, as the deal gap states it
        (:func:`sim.kernels.deal_gap.deal_gap`): every actor, the principals and the holders of a veto on
        a changed issue, ``required_votes`` actors, or the weighted rule's required actors and quotas."""
        if self.rule == "weighted":
            return GapConsent("weighted", principal=np.isin(self.actor_ids, self.voting.required),
                              weights=self.voting.weight_matrix(), thresholds=self.voting.thresholds())
        if self.rule == "veto":
            return GapConsent("veto", principal=self.principal)
        if self.rule == "majority":
            return GapConsent("majority", votes=self.required_votes)
        return GapConsent()
