"""Vectorised utilities over bundles and disagreement values (MODEL.md §2–§3).

All functions are pure numpy on arrays: bundles ``(M, K)`` (or ``(K,)``), ideal points ``(N, K)``,
normalised salience weights ``(N, K)``, risk exponents ``(N,)``.
"""

from __future__ import annotations

import numpy as np

from sim.domain.scenario import Scenario


def utilities(
    bundles: np.ndarray,
    ideal_points: np.ndarray,
    weights: np.ndarray,
    spans: np.ndarray,
    risk_exponents: np.ndarray | None = None,
) -> np.ndarray:
    """u_i(z) = 1 − Σ_k w_ik (|z_k − x_ik| / span_k)^ρ_i for every actor and bundle (MODEL.md §2).

    Args:
        bundles: outcome bundles, shape (M, K) or (K,), in issue units.
        ideal_points: x, shape (N, K).
        weights: normalised salience weights w (rows sum to 1), shape (N, K).
        spans: length of each issue's scale (100 on a 0-100 scale), shape (K,).
        risk_exponents: ρ per actor, shape (N,); None means 1 (linear loss).

    Returns:
        Utilities in [0, 1]: shape (N, M), or (N,) for a single bundle.
    """
    bundles = np.asarray(bundles, dtype=float)
    single = bundles.ndim == 1
    z = bundles[None, :] if single else bundles
    distance = np.abs(z[None, :, :] - ideal_points[:, None, :]) / spans  # (N, M, K)
    if risk_exponents is not None and not np.all(risk_exponents == 1.0):
        distance = distance ** np.asarray(risk_exponents, dtype=float)[:, None, None]
    values = 1.0 - np.einsum("nmk,nk->nm", distance, weights)
    return values[:, 0] if single else values


def scenario_utilities(scenario: Scenario, bundles: np.ndarray) -> np.ndarray:
    """:func:`utilities` with the scenario's own preferences; shape (N, M) or (N,)."""
    return utilities(bundles, scenario.positions, scenario.weights, scenario.spans,
                     scenario.risk_exponents)


def opposing_ideal(scenario: Scenario, index: int) -> np.ndarray:
    """x_opp: the capability-weighted mean ideal bundle of actor ``index``'s opponents (MODEL.md §3)."""
    opponents = scenario.opponents_of(index)
    capability = scenario.capabilities[opponents]
    return capability @ scenario.positions[opponents] / capability.sum()


def war_win_probability(scenario: Scenario, index: int, optimism: float | None = None,
                        round_index: int = 0) -> float:
    """Perceived p_i = min(1, optimism · c_i / (c_i + c_opp)), c_opp the opponents' total capability,
    plus ``shift`` per round when power shifts (clipped to [0, 1]; docs/explanation/why-talks-fail.md)."""
    actor = scenario.actors[index]
    optimism = actor.outside_option.optimism if optimism is None else optimism
    own = scenario.capabilities[index]
    opposing = scenario.capabilities[scenario.opponents_of(index)].sum()
    p = min(1.0, optimism * own / (own + opposing)) + scenario.shifts[index] * round_index
    return float(min(1.0, max(0.0, p)))


def disagreement_values(scenario: Scenario, round_index: int = 0) -> np.ndarray:
    """d_i for every actor (MODEL.md §3) in round ``round_index`` (0-based), shape (N,).

    * ``status_quo``: d_i = u_i(sq);
    * ``reservation``: the configured utility;
    * ``war``: d_i = p_i u_i(x_i) + (1 − p_i) u_i(x_opp) − cost_i with u_i(x_i) = 1
      (Fearon 1995), p_i from :func:`war_win_probability` (which drifts with a power shift).

    d_i may be negative (a war that costs more than it can win); it is not clipped.
    """
    at_status_quo = scenario_utilities(scenario, scenario.status_quo)
    values = np.empty(scenario.n_actors)
    for i, actor in enumerate(scenario.actors):
        option = actor.outside_option
        if option.kind == "reservation":
            values[i] = option.value
        elif option.kind == "war":
            p = war_win_probability(scenario, i, round_index=round_index)
            worst = utilities(opposing_ideal(scenario, i), scenario.positions[i:i + 1],
                              scenario.weights[i:i + 1], scenario.spans,
                              scenario.risk_exponents[i:i + 1])[0]
            values[i] = p * 1.0 + (1.0 - p) * worst - option.cost
        else:
            values[i] = at_status_quo[i]
    return values


def scenario_values(scenario: Scenario, bundles: np.ndarray, round_index: int | None = None) -> np.ndarray:
    """Expected values of bundles, shape (N, M) or (N,): utilities with each actor's credibility of
    promised moves (an issue moved off the status quo is delivered with probability κ, else reverts)
    and, from ``round_index`` on, the power-shift cap of declining actors (:mod:`sim.kernels.programs`).
    With κ = 1 and no shift these are :func:`scenario_utilities`."""
    from sim.kernels.programs import value_model

    return value_model(scenario, cap=renegotiation_caps(scenario, round_index))(bundles)


def renegotiation_caps(scenario: Scenario, round_index: int | None) -> np.ndarray:
    """Per actor, the most a deal struck in ``round_index`` is worth once power has shifted: its
    next-round war value for an actor whose win probability falls (inf otherwise, or when no round)."""
    caps = np.full(scenario.n_actors, np.inf)
    declining = scenario.shifts < 0
    if round_index is not None and declining.any():
        caps[declining] = disagreement_values(scenario, round_index + 1)[declining]
    return caps
