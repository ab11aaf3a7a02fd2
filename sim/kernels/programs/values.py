"""What a program is about: the value functions it optimises (:class:`ValueModel`), whose consent a
bundle needs (:class:`Consent`) and what a solved program returns (:class:`Solution`).

Values are expectations: with credibility κ_ik an issue moved away from the status quo is delivered
with probability κ, else it reverts, so ``V_i(z) = 1 − Σ_k w_ik [κ_ik L_ik(z_k) + (1 − κ_ik) L_ik(sq_k)]``;
and an actor whose war prospects decline (a power shift) values a deal at ``(1 − δ) V + δ min(V, d_next)``:
the rising side can renegotiate it down to the decliner's next-round war value (Fearon 1995; Powell 2006).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.domain.scenario import Scenario


@dataclass(frozen=True)
class ValueModel:
    """Expected values of every actor as one observer sees them (MODEL.md §2 with credibility).

    ``V_i(z) = 1 − offset_i − Σ_k weight_ik (|z_k − ideal_ik| / span_k)^ρ_i``; for an actor with a
    finite ``cap`` (a declining war value) the deal value is ``(1 − δ_i) V_i + δ_i min(V_i, cap_i)``.
    """

    ideal: np.ndarray  # (N, K)
    weight: np.ndarray  # (N, K): w_ik κ_ik
    offset: np.ndarray  # (N,): Σ_k w_ik (1 − κ_ik) L_ik(sq_k)
    rho: np.ndarray  # (N,)
    span: np.ndarray  # (K,)
    cap: np.ndarray  # (N,): renegotiation cap (inf: none)
    delta: np.ndarray  # (N,)

    def __call__(self, bundles: np.ndarray) -> np.ndarray:
        """Values (N, M), or (N,) for one bundle (K,)."""
        bundles = np.asarray(bundles, dtype=float)
        single = bundles.ndim == 1
        z = np.atleast_2d(bundles)
        loss = (np.abs(z[None] - self.ideal[:, None, :]) / self.span) ** self.rho[:, None, None]
        value = 1.0 - self.offset[:, None] - np.einsum("nmk,nk->nm", loss, self.weight)
        capped = np.isfinite(self.cap)
        if capped.any():
            limited = (1.0 - self.delta[:, None]) * value + self.delta[:, None] * np.minimum(value, self.cap[:, None])
            value = np.where(capped[:, None], limited, value)
        return value[:, 0] if single else value

    def with_cap(self, cap: np.ndarray) -> "ValueModel":
        return ValueModel(self.ideal, self.weight, self.offset, self.rho, self.span,
                          np.asarray(cap, dtype=float), self.delta)


def value_model(scenario: Scenario, ideal: np.ndarray | None = None, salience: np.ndarray | None = None,
                cap: np.ndarray | None = None) -> ValueModel:
    """The scenario's value functions (or an observer's beliefs: other ``ideal``/``salience`` arrays)."""
    ideal = scenario.positions if ideal is None else np.asarray(ideal, dtype=float)
    salience = scenario.saliences if salience is None else np.asarray(salience, dtype=float)
    totals = salience.sum(axis=1, keepdims=True)
    w = np.divide(salience, totals, out=np.zeros_like(salience), where=totals > 0)
    kappa = scenario.credibilities
    loss_sq = (np.abs(scenario.status_quo - ideal) / scenario.spans) ** scenario.risk_exponents[:, None]
    return ValueModel(
        ideal=ideal, weight=w * kappa, offset=(w * (1.0 - kappa) * loss_sq).sum(axis=1),
        rho=scenario.risk_exponents, span=scenario.spans,
        cap=np.full(scenario.n_actors, np.inf) if cap is None else np.asarray(cap, dtype=float),
        delta=scenario.discount_factors,
    )


@dataclass
class Consent:
    """Whose acceptance a bundle must win.

    ``mode``: ``fixed`` (the actors in ``required``), ``veto`` (``required`` always, plus every
    ``eligible`` actor holding a veto on an issue the bundle changes), ``majority`` (at least
    ``votes`` of the ``eligible`` actors, on top of ``required``) or ``weighted`` (for every quota r,
    the ``weights[r]`` of ``required`` and of the eligible actors won reach ``thresholds[r]``).
    """

    mode: str
    required: np.ndarray  # (N,) bool
    eligible: np.ndarray | None = None  # (N,) bool
    vetoes: np.ndarray | None = None  # (N, K) bool (veto mode)
    votes: int = 0  # majority mode
    weights: np.ndarray | None = None  # weighted mode: (quotas, N) voting weights
    thresholds: np.ndarray | None = None  # weighted mode: (quotas,) weight the consenting actors must reach


@dataclass
class Solution:
    bundle: np.ndarray
    values: np.ndarray  # (N,) under the program's value model
    shortfall: float = 0.0
