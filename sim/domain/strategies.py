"""Concession strategies: how an actor's aspiration falls over the rounds (MODEL.md §4.2).

Each strategy is a small class with one decision method, ``aspiration``; it is registered under the
name of its config file in ``configs/strategy/`` (a test checks both directions).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar



@dataclass(frozen=True)
class Strategy:
    """Base class. ``exponent`` is e of Faratin et al. (1998); strategies that ignore it say so."""

    name: ClassVar[str] = ""
    exponent: float = 1.0

    def aspiration(self, round_index: int, deadline: int, disagreement: float) -> float:
        """Lowest utility the actor accepts in round t (0-based) of a game with deadline T."""
        raise NotImplementedError


@dataclass(frozen=True)
class TimeDependent(Strategy):
    """a(t) = d + (1 − d)(1 − (t/T)^{1/e}) (Faratin, Sierra & Jennings 1998).

    e < 1 concedes late (Boulware), e = 1 linearly, e > 1 early (Conceder).
    """

    def aspiration(self, round_index: int, deadline: int, disagreement: float) -> float:
        progress = min(max(round_index / max(deadline, 1), 0.0), 1.0)
        return disagreement + (1.0 - disagreement) * (1.0 - progress ** (1.0 / self.exponent))


@dataclass(frozen=True)
class Boulware(TimeDependent):
    """Time-dependent with e < 1: holds out, concedes near the deadline (Raiffa 1982; Faratin 1998)."""

    name: ClassVar[str] = "boulware"
    exponent: float = 0.2


@dataclass(frozen=True)
class Linear(TimeDependent):
    """Time-dependent with e = 1: concedes the same amount every round."""

    name: ClassVar[str] = "linear"
    exponent: float = 1.0


@dataclass(frozen=True)
class Conceder(TimeDependent):
    """Time-dependent with e > 1: concedes early (Faratin et al. 1998)."""

    name: ClassVar[str] = "conceder"
    exponent: float = 5.0


@dataclass(frozen=True)
class Hardliner(Strategy):
    """Never goes below its ideal point's utility: accepts only its ideal bundle."""

    name: ClassVar[str] = "hardliner"

    def aspiration(self, round_index: int, deadline: int, disagreement: float) -> float:
        return 1.0


@dataclass(frozen=True)
class Equilibrium(Strategy):
    """Subgame-perfect play in divide-the-pie games: accept exactly the discounted continuation value,
    offer it to the cheapest needed responders and keep the rest (Rubinstein 1982; Baron & Ferejohn
    1989). The continuation values depend on the protocol (order, consent rule), so the ``offers``
    protocol computes them; on its own this strategy holds out for nothing above the outside option.
    """

    name: ClassVar[str] = "equilibrium"

    def aspiration(self, round_index: int, deadline: int, disagreement: float) -> float:
        return disagreement


STRATEGIES: dict[str, type[Strategy]] = {
    cls.name: cls for cls in (Boulware, Linear, Conceder, Hardliner, Equilibrium)
}


def make_strategy(name: str, exponent: float | None = None) -> Strategy:
    """Instantiate a registered strategy, optionally with its own exponent e."""
    cls = STRATEGIES[name]
    return cls() if exponent is None else cls(exponent=float(exponent))
