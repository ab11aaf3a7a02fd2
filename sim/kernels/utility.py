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


#: A war value must beat the status quo by more than this to be preferred (ties: no war).
WAR_TIE = 1e-12


def status_quo_values(scenario: Scenario) -> np.ndarray:
    """u_i(sq) for every actor, shape (N,): what no deal and no war leaves each actor."""
    return scenario_utilities(scenario, scenario.status_quo)


def war_values(scenario: Scenario, round_index: int = 0) -> np.ndarray:
    """The war lottery's value for every actor that holds a war option, NaN for the others, shape (N,):
    w_i = p_i · u_i(x_i) + (1 − p_i) · u_i(x_opp) − cost_i with u_i(x_i) = 1 (Fearon 1995; MODEL.md §3),
    p_i from :func:`war_win_probability` in round ``round_index`` (which drifts with a power shift).
    Not clipped: w_i may be negative (a war that costs more than it can win)."""
    values = np.full(scenario.n_actors, np.nan)
    for i, actor in enumerate(scenario.actors):
        if actor.outside_option.kind != "war":
            continue
        p = war_win_probability(scenario, i, round_index=round_index)
        worst = utilities(opposing_ideal(scenario, i), scenario.positions[i:i + 1],
                          scenario.weights[i:i + 1], scenario.spans,
                          scenario.risk_exponents[i:i + 1])[0]
        values[i] = p * 1.0 + (1.0 - p) * worst - actor.outside_option.cost
    return values


def war_preferred(scenario: Scenario, round_index: int = 0) -> np.ndarray:
    """Which actors would start the war they hold as an option, shape (N,) bool: those whose war
    value in round ``round_index`` is above (strictly) their utility of the status quo. A war an
    actor would not start is no outside option: without a deal it gets the status quo
    (docs/explanation/why-talks-fail.md, "Endings")."""
    war = war_values(scenario, round_index)
    with np.errstate(invalid="ignore"):
        return np.nan_to_num(war, nan=-np.inf) > status_quo_values(scenario) + WAR_TIE


def war_attacked_by(scenario: Scenario, round_index: int = 0) -> list[list[int]]:
    """For every actor, the actors that would start a war against it after a breakdown in round
    ``round_index``: those that prefer their war to the status quo (:func:`war_preferred`) and count it
    among their opponents."""
    out: list[list[int]] = [[] for _ in scenario.actors]
    for j in np.flatnonzero(war_preferred(scenario, round_index)):
        for i in scenario.opponents_of(int(j)):
            out[int(i)].append(int(j))
    return out


def war_fighters(scenario: Scenario, round_index: int = 0) -> np.ndarray:
    """Which war-holders are at war after a breakdown in round ``round_index``, shape (N,) bool: those
    that start it (:func:`war_preferred`) and those that a starter attacks (:func:`war_attacked_by`),
    who get their war lottery whether or not they would have started it."""
    holders = np.array([a.outside_option.kind == "war" for a in scenario.actors])
    attacked = np.array([bool(by) for by in war_attacked_by(scenario, round_index)])
    return holders & (war_preferred(scenario, round_index) | attacked)


def disagreement_values(scenario: Scenario, round_index: int = 0) -> np.ndarray:
    """d_i for every actor (MODEL.md §3) in round ``round_index`` (0-based), shape (N,).

    * ``status_quo``: d_i = u_i(sq);
    * ``reservation``: the configured utility;
    * ``war``: the war lottery w_i of :func:`war_values` when the actor is at war after a breakdown
      (:func:`war_fighters`: it prefers war to the status quo, w_i > u_i(sq), or an actor that does
      attacks it), else u_i(sq): a war nobody would start is no outside option. With a single
      war-holder, d_i = max(w_i, u_i(sq)).
    """
    at_status_quo = status_quo_values(scenario)
    war = war_values(scenario, round_index)
    fights = war_fighters(scenario, round_index)
    values = at_status_quo.copy()
    for i, actor in enumerate(scenario.actors):
        option = actor.outside_option
        if option.kind == "reservation":
            values[i] = option.value
        elif option.kind == "war" and fights[i]:
            values[i] = war[i]
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
    next-round outside option (:func:`disagreement_values`: the war value, or the status quo once war is
    no longer worth starting) for an actor whose win probability falls (inf otherwise, or when no round)."""
    caps = np.full(scenario.n_actors, np.inf)
    declining = scenario.shifts < 0
    if round_index is not None and declining.any():
        caps[declining] = disagreement_values(scenario, round_index + 1)[declining]
    return caps
