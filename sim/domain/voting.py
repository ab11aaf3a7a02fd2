"""A weighted-majority consent rule as scenario data (the scenario key ``voting``), usable by any scenario.

An offer passes when every actor in ``required`` accepts it and, for every quota, the weights of the
accepting ``voters`` add up to at least the quota's threshold. One quota with unit weights and share
0.5 is a simple majority; one with share 1.0 is unanimity among the voters; the EU Council's qualified
majority is two or three quotas at once (weighted votes and a majority of members under Nice; 55 % of
members and 65 % of the population under Lisbon: :mod:`sim.domain.eu_council`). The offers protocol uses
it with ``protocol.consent=weighted`` (:mod:`sim.engine.protocols.consent`).

In YAML::

    voting:
      required: [ep]                  # always needed besides the quotas (default: none)
      voters: [de, fr, it, nl]        # whose votes count (default: every actor not in required)
      quotas:
        votes: {weights: {de: 29, fr: 29, it: 29, nl: 13}, threshold: 72}   # absolute threshold
        members: {share: 0.5}         # weights default to 1 each; share of the voters' total weight
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Mapping, Sequence

import numpy as np

from sim.domain.checks import number
from sim.domain.config import QuotaConfig, VotingConfig
from sim.domain.errors import ConfigError

#: The keys of the schema (sim/domain/config.py), which Hydra and these checks both read.
_VOTING_KEYS = tuple(f.name for f in fields(VotingConfig))
_QUOTA_KEYS = tuple(f.name for f in fields(QuotaConfig))
#: Weights are compared with thresholds with this relative slack (floating sums of shares).
SLACK = 1e-9


@dataclass(frozen=True)
class Quota:
    """One quota: the accepting voters' ``weights`` (one per actor of the scenario, 0 for non-voters)
    must sum to at least ``threshold``."""

    name: str
    weights: tuple[float, ...]
    threshold: float

    def met(self, accepts: np.ndarray) -> bool:
        weights = np.asarray(self.weights)
        return bool(weights[np.asarray(accepts, bool)].sum() >= self.threshold - SLACK * max(weights.sum(), 1.0))


@dataclass(frozen=True)
class WeightedMajority:
    """The rule: ``required`` actors (ids) must accept and every quota must be met by accepting voters."""

    quotas: tuple[Quota, ...]
    required: tuple[str, ...] = ()
    voters: tuple[str, ...] = ()

    def passes(self, accepts: np.ndarray, actor_ids: Sequence[str]) -> bool:
        """Do these acceptances (one bool per actor, in ``actor_ids`` order) carry the offer?"""
        accepts = np.asarray(accepts, bool)
        if any(not accepts[list(actor_ids).index(a)] for a in self.required):
            return False
        return all(quota.met(accepts) for quota in self.quotas)

    def weight_matrix(self) -> np.ndarray:
        """(quotas, N) weights."""
        return np.array([q.weights for q in self.quotas], dtype=float).reshape(len(self.quotas), -1)

    def thresholds(self) -> np.ndarray:
        return np.array([q.threshold for q in self.quotas], dtype=float)


def build_voting(cfg: Any, actor_ids: Sequence[str], source: str) -> WeightedMajority | None:
    """The scenario's ``voting`` key as a :class:`WeightedMajority` (None when absent).

    Raises:
        ConfigError: an unknown key or actor, a negative weight, a quota with both or neither of
            ``threshold`` and ``share``, or a threshold no coalition of the voters can reach.
    """
    if not cfg:
        return None
    prefix = "scenario.voting"
    if not isinstance(cfg, Mapping):
        raise ConfigError(source, prefix, "must be a mapping with quotas (and required, voters)")
    for key in cfg:
        if key not in _VOTING_KEYS:
            raise ConfigError(source, f"{prefix}.{key}", f"unknown key; allowed: {', '.join(_VOTING_KEYS)}")
    ids = list(actor_ids)

    def actors(key: str, default: list[str]) -> list[str]:
        given = cfg.get(key)
        if given is None:
            return default
        if isinstance(given, (str, bytes)) or not isinstance(given, Sequence):
            raise ConfigError(source, f"{prefix}.{key}", f"{given!r}; allowed: a list of actor ids")
        for actor in given:
            if str(actor) not in ids:
                raise ConfigError(source, f"{prefix}.{key}", f"unknown actor {actor!r}; allowed: {', '.join(ids)}")
        return [str(a) for a in given]

    required = actors("required", [])
    voters = actors("voters", [a for a in ids if a not in required])
    quotas_cfg = cfg.get("quotas")
    if not isinstance(quotas_cfg, Mapping) or not quotas_cfg:
        raise ConfigError(source, f"{prefix}.quotas", "give at least one quota: name -> {weights, threshold | share}")
    if not voters:
        raise ConfigError(source, f"{prefix}.voters", "no voters; allowed: a non-empty list of actor ids")
    quotas = []
    for name, quota in quotas_cfg.items():
        key = f"{prefix}.quotas.{name}"
        if not isinstance(quota, Mapping):
            raise ConfigError(source, key, "must be a mapping with weights and threshold or share")
        for item in quota:
            if item not in _QUOTA_KEYS:
                raise ConfigError(source, f"{key}.{item}", f"unknown key; allowed: {', '.join(_QUOTA_KEYS)}")
        given = quota.get("weights") or {}
        if not isinstance(given, Mapping):
            raise ConfigError(source, f"{key}.weights", "must be a mapping actor id -> weight >= 0")
        for actor in given:
            if str(actor) not in voters:
                raise ConfigError(source, f"{key}.weights.{actor}",
                                  f"not a voter; allowed: {', '.join(voters)}")
        weights = []
        for actor in ids:
            if actor not in voters:
                weights.append(0.0)
                continue
            if not given:
                value = 1.0
            elif actor not in given:
                raise ConfigError(source, f"{key}.weights.{actor}",
                                  "missing; give every voter a weight (or none, for one each)")
            else:
                value = number(given[actor], source, f"{key}.weights.{actor}")
            if value < 0:
                raise ConfigError(source, f"{key}.weights.{actor}", f"{value:g}; must be >= 0")
            weights.append(value)
        total = sum(weights)
        has_threshold, has_share = quota.get("threshold") is not None, quota.get("share") is not None
        if has_threshold == has_share:
            raise ConfigError(source, key, "give exactly one of threshold (absolute) and share (of the voters' "
                                           "total weight)")
        if has_share:
            share = number(quota["share"], source, f"{key}.share")
            if not 0 < share <= 1:
                raise ConfigError(source, f"{key}.share", f"{share:g}; allowed: (0, 1]")
            threshold = share * total
        else:
            threshold = number(quota["threshold"], source, f"{key}.threshold")
            if not 0 < threshold <= total * (1 + SLACK):
                raise ConfigError(source, f"{key}.threshold", f"{threshold:g}; allowed: (0, {total:g}] "
                                                              "(the voters' total weight)")
        quotas.append(Quota(name=str(name), weights=tuple(weights), threshold=float(threshold)))
    return WeightedMajority(quotas=tuple(quotas), required=tuple(required), voters=tuple(voters))


def voting_to_dict(rule: WeightedMajority | None, actor_ids: Sequence[str]) -> dict[str, Any] | None:
    """Inverse of :func:`build_voting` (absolute thresholds)."""
    if rule is None:
        return None
    return {"required": list(rule.required), "voters": list(rule.voters),
            "quotas": {q.name: {"weights": {a: w for a, w in zip(actor_ids, q.weights) if a in rule.voters},
                                "threshold": q.threshold} for q in rule.quotas}}
