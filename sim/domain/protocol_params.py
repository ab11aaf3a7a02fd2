"""The protocols' parameters (the schemas of ``configs/protocol/<name>.yaml``), apart from the protocols
themselves: registering the config schemas (``sim.domain.config.register_configs``, run by every entry point,
``--help`` included) must not import numpy's kernels, Mesa or the solvers.

Every parameter is a ``protocol_<name>`` column of the outcome row, except one whose field metadata says
``applies=(other parameter, value)``: it is reported only when the other parameter has that value (where
it does something), so a parameter added for a new setting leaves the rows of existing settings as they
were."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class EUParams:
    """Config of ``protocol=eu`` (configs/protocol/eu.yaml)."""

    name: str = "eu"
    variant: str = "standard"  # standard | scholz
    q: float = 1.0  # probability a target does not move if not challenged
    t: float = 1.0  # probability a moving target moves toward the median
    shock_probability: float = 0.0  # per round and salience: redraw U(0, 1) with this probability
    tolerance: float = 1e-9  # stop when no position moves more than this (share of the range)
    convergence: float = 0.05  # agreement: all positions within this share of the range of the median


@dataclass
class OffersParams:
    """Config of ``protocol=offers`` (configs/protocol/offers.yaml)."""

    name: str = "offers"
    deadline: int = 0  # T: rounds before breakdown; 0 = the run's round limit (`rounds`)
    order: str = "round_robin"  # round_robin (config order) | recognition (random, ∝ capability) | setter
    setter: str = field(default="", metadata={"applies": ("order", "setter")})  # order=setter: the agenda
    # setter, who proposes every round ("": the first actor); in the outcome row only under order=setter
    consent: str = "unanimity"  # unanimity | veto | majority | weighted (the scenario's voting rule)
    principals: list[str] = field(default_factory=list)  # veto rule: actors whose consent is always needed
    quota: float = 0.5  # majority rule: more than quota·N actors (proposer included) must accept
    belief_noise: float = 0.0  # sd of belief errors: positions (share of scale) and saliences
    walkout: bool = True  # an actor leaves when its outside option beats all it can still expect


@dataclass
class ExchangeParams:
    """Config of ``protocol=exchange`` (configs/protocol/exchange.yaml)."""

    name: str = "exchange"
    min_gain: float = 1e-9  # ignore exchanges whose gain (salience × scale units) is below this
    max_per_round: int = 0  # cap on exchanges per round; 0 = as many as are available


PARAMS: dict[str, type] = {"eu": EUParams, "offers": OffersParams, "exchange": ExchangeParams}
