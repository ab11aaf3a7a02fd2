"""The protocol interface: one round at a time, state owned by the model, events to its log."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Sequence

import numpy as np

from sim.config import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    from sim.model import BargainingModel


@dataclass(frozen=True)
class ProtocolOutcome:
    """What a protocol says at the end: the bundle, whether it is an agreement, and if not, why."""

    bundle: np.ndarray  # (K,) in issue units
    agreement: bool
    breakdown_cause: str = ""  # "" when agreed; e.g. "deadline", "walkout:russia", "not_converged"


class Protocol(ABC):
    """A bargaining protocol. Subclasses set ``name`` (= its config file name) and ``Params``
    (a dataclass: the schema of ``configs/protocol/<name>.yaml``)."""

    name: ClassVar[str]
    Params: ClassVar[type]
    supports_budget: ClassVar[bool] = False  # can it respect a divisible pie (scenario.budget)?

    def __init__(self, model: "BargainingModel", params: Any):
        self.model = model
        self.params = params
        self.done = False
        self.waiting = ""  # what a human seat must do before the round can finish ("" = nothing)

    @abstractmethod
    def step(self) -> None:
        """Advance one round: ask agents to decide, apply the result to the model, log events."""

    @abstractmethod
    def outcome(self) -> ProtocolOutcome:
        """The outcome so far (final once ``done`` or the round limit is reached)."""

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
