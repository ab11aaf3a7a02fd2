"""Scenario data: issues, actors and the negotiation they form (MODEL.md §1).

A :class:`Scenario` is plain, frozen data, built and validated by :mod:`sim.domain.scenario.build`.
Numerical code reads the derived arrays (``positions`` N×K, ``saliences`` N×K, ``capabilities`` N,
...), which are read-only views built once.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, Mapping, Sequence

import numpy as np

from sim.domain.voting import WeightedMajority


def _readonly(array: np.ndarray) -> np.ndarray:
    array = np.ascontiguousarray(array)
    array.flags.writeable = False
    return array


@dataclass(frozen=True)
class Issue:
    """One issue: a scale [lower, upper] with end texts, a status quo and optional discrete levels."""

    id: str
    label: str
    status_quo: float
    lower: float = 0.0
    upper: float = 100.0
    low: str = ""
    high: str = ""
    unit: str = ""
    levels: tuple[tuple[str, float], ...] = ()  # (label, point) sorted by point; empty = continuous
    indivisible: bool = False  # no split: only the levels, or the scale's two ends
    note: str = ""

    @property
    def span(self) -> float:
        """Length of the scale (the 100 of MODEL.md §2 on a 0-100 scale)."""
        return self.upper - self.lower

    @property
    def discrete(self) -> bool:
        """Outcomes are a finite set of points (:attr:`choices`): levels, or an indivisible issue."""
        return bool(self.levels) or self.indivisible

    @property
    def choices(self) -> tuple[float, ...]:
        """The outcomes a discrete issue allows: its levels, else (indivisible) the scale's ends;
        empty for a continuous issue."""
        if self.levels:
            return tuple(point for _, point in self.levels)
        return (self.lower, self.upper) if self.indivisible else ()

    def snap(self, values: np.ndarray | float) -> np.ndarray:
        """Snap values to the nearest allowed point (identity for a continuous issue)."""
        values = np.asarray(values, dtype=float)
        if not self.discrete:
            return values
        points = np.array(self.choices)
        return points[np.abs(values[..., None] - points).argmin(axis=-1)]

    def level_label(self, value: float) -> str:
        """Label of the level nearest to ``value`` ("" for a continuous issue)."""
        if not self.levels:
            return ""
        return min(self.levels, key=lambda level: abs(level[1] - value))[0]


@dataclass(frozen=True)
class OutsideOption:
    """What an actor gets if bargaining ends without agreement (MODEL.md §3)."""

    kind: str = "status_quo"
    value: float | None = None
    optimism: float = 1.0
    cost: float = 0.0
    opponents: tuple[str, ...] | None = None
    shift: float = 0.0  # change of the win probability per round (power shift, Powell 2006)


@dataclass(frozen=True)
class RedLine:
    """A bound an actor never accepts crossing on one issue, whatever the rest of the bundle gives
    it (a utility cliff). ``levels``: on a discrete issue, the only acceptable points."""

    issue: str
    lower: float = -math.inf
    upper: float = math.inf
    levels: tuple[float, ...] = ()
    note: str = ""

    def allows(self, values: np.ndarray) -> np.ndarray:
        values = np.asarray(values, dtype=float)
        ok = (values >= self.lower - 1e-9) & (values <= self.upper + 1e-9)
        if self.levels:
            ok &= np.isclose(values[..., None], np.array(self.levels), atol=1e-9).any(axis=-1)
        return ok

    def describe(self) -> str:
        if self.levels:
            return "levels " + "/".join(f"{v:g}" for v in self.levels)
        parts = ([f">= {self.lower:g}"] if math.isfinite(self.lower) else []) + (
            [f"<= {self.upper:g}"] if math.isfinite(self.upper) else [])
        return " and ".join(parts)


@dataclass(frozen=True)
class Package:
    """Accept nothing unless the weighted mean of the outcomes on ``issues`` is within [lower, upper]
    (Russia's "package nature" of 17 Feb 2022: no cherry-picking of secondary issues)."""

    issues: tuple[str, ...]
    weights: tuple[float, ...]  # normalised to sum to 1, one per issue
    lower: float = -math.inf
    upper: float = math.inf
    note: str = ""


@dataclass(frozen=True)
class Rules:
    """Which mechanisms of bargaining failure bind (each can be switched off for counterfactuals)."""

    red_lines: bool = True
    package: bool = True
    credibility: bool = True
    power_shift: bool = True


@dataclass(frozen=True)
class Actor:
    """One party: capability, ideal point and salience per issue, and its bargaining traits."""

    id: str
    name: str
    capability: float
    position: Mapping[str, float]
    salience: Mapping[str, float]
    risk_exponent: float = 1.0
    discount_factor: float = 1.0
    veto: tuple[str, ...] = ()
    bloc: str | None = None
    strategy: str | None = None
    concession_exponent: float | None = None
    outside_option: OutsideOption = field(default_factory=OutsideOption)
    red_lines: Mapping[str, RedLine] = field(default_factory=dict)  # issue id -> red line
    package: Package | None = None
    credibility: Mapping[str, float] = field(default_factory=dict)  # issue id -> kappa (default 1)
    note: str = ""


@dataclass(frozen=True)
class Scenario:
    """A negotiation: issues × actors. Order of ``issues`` and ``actors`` is display order only."""

    id: str
    issues: tuple[Issue, ...]
    actors: tuple[Actor, ...]
    name: str = ""
    description: str = ""
    source: str = ""
    budget_issues: tuple[str, ...] = ()  # a divisible pie: these outcomes sum to budget_total
    budget_total: float = 0.0
    classroom: Mapping[str, Any] | None = None  # teacher's note (configs/scenario/classroom/)
    rules: Rules = field(default_factory=Rules)
    voting: WeightedMajority | None = None  # a weighted-majority consent rule (sim.domain.voting)
    procedure: Mapping[str, Any] | None = None  # institutional facts, e.g. DEU's procedure and voting rule

    # ---- lookups --------------------------------------------------------------------------------
    @cached_property
    def digest(self) -> str:
        """Content hash of every field (the dataclass repr: exact floats, no derived arrays): equal for
        equal content, whichever object holds it. The key of caches shared by runs of equal scenarios
        (never the object's identity)."""
        return hashlib.sha256(repr(self).encode()).hexdigest()[:16]

    @cached_property
    def issue_ids(self) -> tuple[str, ...]:
        return tuple(issue.id for issue in self.issues)

    @cached_property
    def actor_ids(self) -> tuple[str, ...]:
        return tuple(actor.id for actor in self.actors)

    def issue(self, issue_id: str) -> Issue:
        return self.issues[self.issue_ids.index(issue_id)]

    def actor(self, actor_id: str) -> Actor:
        return self.actors[self.actor_ids.index(actor_id)]

    @property
    def n_actors(self) -> int:
        return len(self.actors)

    @property
    def n_issues(self) -> int:
        return len(self.issues)

    # ---- arrays for the numerical kernels (read-only) ---------------------------------------------
    @cached_property
    def positions(self) -> np.ndarray:
        """Ideal points, shape (N, K), in each issue's own units."""
        return _readonly(
            np.array([[a.position[k] for k in self.issue_ids] for a in self.actors], dtype=float)
        )

    @cached_property
    def saliences(self) -> np.ndarray:
        """Saliences in [0, 1], shape (N, K)."""
        return _readonly(
            np.array([[a.salience[k] for k in self.issue_ids] for a in self.actors], dtype=float)
        )

    @cached_property
    def capabilities(self) -> np.ndarray:
        return _readonly(np.array([a.capability for a in self.actors], dtype=float))

    @cached_property
    def risk_exponents(self) -> np.ndarray:
        return _readonly(np.array([a.risk_exponent for a in self.actors], dtype=float))

    @cached_property
    def discount_factors(self) -> np.ndarray:
        return _readonly(np.array([a.discount_factor for a in self.actors], dtype=float))

    @cached_property
    def status_quo(self) -> np.ndarray:
        return _readonly(np.array([i.status_quo for i in self.issues], dtype=float))

    @cached_property
    def lower(self) -> np.ndarray:
        return _readonly(np.array([i.lower for i in self.issues], dtype=float))

    @cached_property
    def upper(self) -> np.ndarray:
        return _readonly(np.array([i.upper for i in self.issues], dtype=float))

    @cached_property
    def spans(self) -> np.ndarray:
        return _readonly(self.upper - self.lower)

    @cached_property
    def vetoes(self) -> np.ndarray:
        """Boolean (N, K): actor i's consent is needed for any change on issue k."""
        return _readonly(
            np.array([[k in a.veto for k in self.issue_ids] for a in self.actors], dtype=bool)
        )

    @cached_property
    def weights(self) -> np.ndarray:
        """Normalised salience weights w_ik = s_ik / Σ_k s_ik (MODEL.md §2); zero rows stay zero."""
        totals = self.saliences.sum(axis=1, keepdims=True)
        return _readonly(np.divide(self.saliences, totals, out=np.zeros_like(self.saliences),
                                   where=totals > 0))

    # ---- the mechanisms of bargaining failure (docs/explanation/why-talks-fail.md) -----------------
    @cached_property
    def red_line_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Declared red lines as (lower, upper), each (N, K) (±inf where none), binding or not."""
        lower = np.full((self.n_actors, self.n_issues), -np.inf)
        upper = np.full((self.n_actors, self.n_issues), np.inf)
        for i, actor in enumerate(self.actors):
            for issue_id, line in actor.red_lines.items():
                k = self.issue_ids.index(issue_id)
                lower[i, k], upper[i, k] = line.lower, line.upper
        return _readonly(lower), _readonly(upper)

    @cached_property
    def package_rows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Declared package rules as (weights (N, K), lower (N,), upper (N,)); zero rows where none."""
        weights = np.zeros((self.n_actors, self.n_issues))
        lower = np.full(self.n_actors, -np.inf)
        upper = np.full(self.n_actors, np.inf)
        for i, actor in enumerate(self.actors):
            if actor.package is not None:
                for issue_id, weight in zip(actor.package.issues, actor.package.weights):
                    weights[i, self.issue_ids.index(issue_id)] = weight
                lower[i], upper[i] = actor.package.lower, actor.package.upper
        return _readonly(weights), _readonly(lower), _readonly(upper)

    @cached_property
    def credibilities(self) -> np.ndarray:
        """kappa (N, K): how far each actor believes a promised move on each issue (1 when the
        credibility rule is off)."""
        kappa = np.ones((self.n_actors, self.n_issues))
        if self.rules.credibility:
            for i, actor in enumerate(self.actors):
                for issue_id, value in actor.credibility.items():
                    kappa[i, self.issue_ids.index(issue_id)] = value
        return _readonly(kappa)

    @cached_property
    def shifts(self) -> np.ndarray:
        """Per-round change of each actor's war win probability (0 when the rule is off)."""
        return _readonly(np.array([a.outside_option.shift if self.rules.power_shift
                                   and a.outside_option.kind == "war" else 0.0 for a in self.actors]))

    def allowed(self, bundles: np.ndarray, binding: bool = True) -> np.ndarray:
        """Boolean (N, M) (or (N,) for one bundle): whose red lines and package rule a bundle respects.

        ``binding``: only the rules the scenario switches on (``rules``); else every declared rule."""
        bundles = np.asarray(bundles, dtype=float)
        single = bundles.ndim == 1
        z = np.atleast_2d(bundles)
        ok = np.ones((self.n_actors, len(z)), dtype=bool)
        if self.rules.red_lines or not binding:
            ok &= self.red_line_mask(z).all(axis=2)
        if self.rules.package or not binding:
            weights, lower, upper = self.package_rows
            mean = weights @ z.T  # (N, M)
            ok &= (mean >= lower[:, None] - 1e-9) & (mean <= upper[:, None] + 1e-9)
        return ok[:, 0] if single else ok

    def red_line_mask(self, bundles: np.ndarray) -> np.ndarray:
        """Boolean (N, M, K): actor i's declared red line on issue k allows bundle m's outcome."""
        z = np.atleast_2d(np.asarray(bundles, dtype=float))
        lower, upper = self.red_line_bounds
        ok = (z[None] >= lower[:, None, :] - 1e-9) & (z[None] <= upper[:, None, :] + 1e-9)
        for i, actor in enumerate(self.actors):
            for issue_id, line in actor.red_lines.items():
                if line.levels:
                    k = self.issue_ids.index(issue_id)
                    ok[i, :, k] &= line.allows(z[:, k])
        return ok

    def crossed_red_lines(self, bundle: np.ndarray) -> list[str]:
        """``actor.issue`` for every declared red line the bundle crosses (binding or not)."""
        mask = self.red_line_mask(np.asarray(bundle, dtype=float)[None])[:, 0, :]
        return [f"{self.actor_ids[i]}.{self.issue_ids[k]}" for i, k in zip(*np.nonzero(~mask))]

    def broken_packages(self, bundle: np.ndarray) -> list[str]:
        """Ids of the actors whose declared package rule the bundle does not meet."""
        weights, lower, upper = self.package_rows
        mean = weights @ np.asarray(bundle, dtype=float)
        has = np.array([a.package is not None for a in self.actors])
        bad = has & ((mean < lower - 1e-9) | (mean > upper + 1e-9))
        return [self.actor_ids[i] for i in np.flatnonzero(bad)]

    def snap(self, bundles: np.ndarray) -> np.ndarray:
        """Snap bundles (..., K) to the allowed points of discrete issues."""
        bundles = np.array(bundles, dtype=float, copy=True)
        for k, issue in enumerate(self.issues):
            if issue.discrete:
                bundles[..., k] = issue.snap(bundles[..., k])
        return bundles

    def opponents_of(self, index: int) -> np.ndarray:
        """Indices of the actors on the other side of actor ``index`` (for the war lottery)."""
        actor = self.actors[index]
        if actor.outside_option.opponents is not None:
            return np.array([self.actor_ids.index(a) for a in actor.outside_option.opponents])
        return np.array([
            j for j, other in enumerate(self.actors)
            if j != index and (actor.bloc is None or other.bloc != actor.bloc)
        ])

    def with_arrays(
        self,
        positions: np.ndarray | None = None,
        saliences: np.ndarray | None = None,
        capabilities: np.ndarray | None = None,
    ) -> "Scenario":
        """A copy with some numbers replaced (perturbation sweeps, classroom sliders)."""
        actors = []
        for i, actor in enumerate(self.actors):
            changes: dict[str, Any] = {}
            if positions is not None:
                changes["position"] = dict(zip(self.issue_ids, map(float, positions[i])))
            if saliences is not None:
                changes["salience"] = dict(zip(self.issue_ids, map(float, saliences[i])))
            if capabilities is not None:
                changes["capability"] = float(capabilities[i])
            actors.append(replace(actor, **changes))
        return replace(self, actors=tuple(actors))

    def permuted(self, actor_order: Sequence[int]) -> "Scenario":
        """The same scenario with the actors listed in another order (used by invariance tests)."""
        return replace(self, actors=tuple(self.actors[i] for i in actor_order))
