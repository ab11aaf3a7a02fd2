"""Bueno de Mesquita's expected-utility (challenge) model: the numerical kernels (MODEL.md §4.1).

Every issue is its own contest (positions normalised by the initial range of positions on that
issue); arrays are (N, K) for actors × issues and (N, N, K) for ordered pairs (i, j) × issues, with
``[i, j, k]`` meaning "i challenges j on issue k". The kernels also take a leading runs axis,
(runs, N, K) and (runs, N, N, K), to advance many runs of one scenario in one call (a sweep's
replicates: :meth:`sim.engine.protocols.eu.EUProtocol.advance_runs`, :mod:`sim.runs.batch`); no
arithmetic mixes runs, so each run's numbers are those it gets alone. Everything here is pure numpy
(no model, no Mesa); the protocol class (:mod:`sim.engine.protocols.eu`) owns the state changes, the
random draws and the event log.

References: Bueno de Mesquita (1994, 1997, 2002); Scholz, Calbert & Smith (2011); Masad (2016).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.kernels.solutions import weighted_median

VARIANTS = ("standard", "scholz")


def normalise(positions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions (N, K) → ([0, 1] positions, per-issue minimum, per-issue range).

    An issue on which everybody agrees gets range 1 (nothing will move on it).
    """
    low = positions.min(axis=0)
    span = positions.max(axis=0) - low
    span = np.where(span > 0, span, 1.0)
    return (positions - low) / span, low, span


def _count_at_most(sorted_values: np.ndarray, queries: np.ndarray, strict: bool) -> np.ndarray:
    """Per contest c (the last axis): how many of ``sorted_values[:, c]`` are <= (``strict``: <) each of
    ``queries[..., c]`` — ``np.searchsorted`` side ``right`` (``left``) for many contests at once. Exact
    integers either way, so the result does not depend on how many runs are advanced together."""
    n, contests = sorted_values.shape
    if n > 32:  # N passes over N² pairs would cost more than a searchsorted per contest
        side = "left" if strict else "right"
        flat = queries.reshape(-1, contests)
        return np.stack([np.searchsorted(sorted_values[:, c], flat[:, c], side=side) for c in range(contests)],
                        axis=-1).reshape(queries.shape)
    out = np.zeros(queries.shape, dtype=np.intp)
    for h in range(n):  # one pass per voter, over every pair and contest
        out += (sorted_values[h] < queries) if strict else (sorted_values[h] <= queries)
    return out


def win_probability_standard(x: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """P[..., i, j, k]: probability that i's position beats j's (standard variant).

    Votes v_h(i, j) = c_h s_h (|x_h − x_j| − |x_h − x_i|); P = Σ_{v_h>0} v_h / Σ_h |v_h|.
    Computed in O(N² log N) per issue with prefix sums over sorted positions instead of the O(N³)
    double loop: the vote is piecewise linear in x_h (constant outside [a, b], linear inside).

    Args:
        x: normalised positions (N, K), or (runs, N, K) to advance many runs at once.
        weight: c_h · s_hk, broadcastable to x.
    """
    lead, (n, k_count) = x.shape[:-2], x.shape[-2:]
    # Every (run, issue) is its own contest; contests go last, so that every elementwise step below runs
    # over all of them at once (with few actors, an inner loop over actors would be a handful of numbers).
    cols = np.moveaxis(x.reshape(-1, n, k_count), 1, 0).reshape(n, -1)  # (N, contests): [i, r·K + k]
    w_cols = np.moveaxis(np.broadcast_to(weight, lead + (n, k_count)).reshape(-1, n, k_count), 1, 0).reshape(n, -1)
    contests = cols.shape[1]
    order = np.argsort(cols, axis=0, kind="stable")
    xs, ws = np.take_along_axis(cols, order, axis=0), np.take_along_axis(w_cols, order, axis=0)
    zero = np.zeros((1, contests))
    cum_w = np.concatenate((zero, np.cumsum(ws, axis=0)), axis=0)  # (N + 1, contests)
    cum_wx = np.concatenate((zero, np.cumsum(ws * xs, axis=0)), axis=0)
    x_i, x_j = cols[:, None, :], cols[None, :, :]
    a = np.minimum(x_i, x_j)
    b = np.maximum(x_i, x_j)
    mid = 0.5 * (a + b)
    length = b - a
    # Voters with x_h <= a and with x_h < b: a and b are the pair's own positions and the counts are
    # monotone in the position, so they are the min / max of each actor's own count (exact integers).
    at_most = _count_at_most(xs, cols, strict=False)  # (N, contests): voters with x_h <= x_i
    below = _count_at_most(xs, cols, strict=True)  # voters with x_h < x_i
    i_a = np.minimum(at_most[:, None, :], at_most[None, :, :])
    i_b = np.maximum(below[:, None, :], below[None, :, :])
    i_mid = _count_at_most(xs, mid, strict=True)  # voters with x_h < mid
    total_w = cum_w[-1]
    # Prefix sums at those counts, contest by contest: flat positions into the (N + 1, contests) tables.
    column = np.arange(contests)
    flat_w, flat_wx = cum_w.ravel(), cum_wx.ravel()
    at_a, at_mid, at_b = i_a * contests + column, i_mid * contests + column, i_b * contests + column
    w_a, w_mid, w_b = flat_w.take(at_a), flat_w.take(at_mid), flat_w.take(at_b)
    wx_a, wx_mid, wx_b = flat_wx.take(at_a), flat_wx.take(at_mid), flat_wx.take(at_b)
    w_low = w_a
    w_high = total_w - w_b
    w_in_low, wx_in_low = w_mid - w_a, wx_mid - wx_a
    w_in_high, wx_in_high = w_b - w_mid, wx_b - wx_mid
    for_lower = length * w_low + 2.0 * (mid * w_in_low - wx_in_low)
    for_upper = length * w_high + 2.0 * (wx_in_high - mid * w_in_high)
    total = for_lower + for_upper
    favour_i = np.where(x_i < x_j, for_lower, for_upper)
    # Equal positions: no vote separates them (0/0); report 0.5 rather than rounding noise.
    probability = np.divide(favour_i, total, out=np.full_like(total, 0.5), where=(total > 0) & (a < b))
    probability = np.moveaxis(probability.reshape(n, n, -1, k_count), 2, 0)  # (runs, i, j, k)
    return np.ascontiguousarray(probability).reshape(lead + (n, n, k_count))


def win_probability_scholz(x: np.ndarray, weight: np.ndarray, risk: np.ndarray,
                           chunk: int = 32) -> np.ndarray:
    """P[i, j, k] for the Scholz et al. (2011) variant.

    V_h(i, j) = c_h s_h (|x_h − x_j|^{r_h} − |x_h − x_i|^{r_h}) (x already divided by the range R);
    P(i, j) = Σ_h max(0, V_h(i, j)) / Σ_h Σ_a Σ_b |V_h(a, b)| (all ordered pairs).

    Args:
        x: normalised positions (N, K); weight: c_h s_hk (N, K); risk: r_h per voter (N,).
    """
    n, k_count = x.shape
    # D[h, a, k] = |x_h − x_a|^{r_h}
    distance = np.abs(x[:, None, :] - x[None, :, :]) ** risk[:, None, None]
    # Denominator: Σ_h w_h Σ_{a,b} |D_ha − D_hb|, via sorted prefix sums per (h, k).
    sorted_d = np.sort(distance, axis=1)
    ranks = 2.0 * np.arange(n) - n + 1.0
    pair_sums = 2.0 * np.einsum("hak,a->hk", sorted_d, ranks)  # ordered pairs: twice the unordered
    denominator = (weight * pair_sums).sum(axis=0)  # (K,)
    numerator = np.zeros((n, n, k_count))
    for start in range(0, n, chunk):
        d = distance[start:start + chunk]  # (h, a, K)
        w = weight[start:start + chunk]
        # V_h(i, j) ∝ D_hj − D_hi  -> (h, i, j, K)
        votes = d[:, None, :, :] - d[:, :, None, :]
        numerator += np.einsum("hijk,hk->ijk", np.maximum(votes, 0.0), w)
    return np.divide(numerator, denominator, out=np.zeros_like(numerator),
                     where=denominator > 0)


def expected_utility(
    x: np.ndarray,
    salience: np.ndarray,
    probability: np.ndarray,
    risk: np.ndarray,
    q: float,
    t: float,
    median: np.ndarray,
) -> np.ndarray:
    """EU[..., i, j, k] of i challenging j on issue k (MODEL.md §4.1).

    EU = s_j [P_ij U_s + (1 − P_ij) U_f] + (1 − s_j) U_s − [Q U_sq + (1 − Q)(T U_b + (1 − T) U_w)],
    zero where x_i = x_j.

    Args:
        x: normalised positions (N, K) or (runs, N, K); salience: the same shape;
            probability: P[..., i, j, k].
        risk: the exponent r used in the utilities, broadcastable to (..., N, N, K) — e.g.
            ``r[..., :, None, :]`` for each challenger's own view, ``r[..., None, :, :]`` for the target's.
        q, t: BDM's Q and T; median: μ per issue (..., K), used only when q < 1.
    """
    d = np.abs(x[..., :, None, :] - x[..., None, :, :])
    u_success = 2.0 - 4.0 * (0.5 - 0.5 * d) ** risk
    u_failure = 2.0 - 4.0 * (0.5 + 0.5 * d) ** risk
    u_status_quo = 2.0 - 4.0 * 0.5 ** risk
    s_target = salience[..., None, :, :]
    value = (s_target * (probability * u_success + (1.0 - probability) * u_failure)
             + (1.0 - s_target) * u_success)
    if q < 1.0:
        spread = np.abs(x - median[..., None, :])  # (..., N, K)
        pair = 0.25 * (spread[..., :, None, :] + spread[..., None, :, :])
        u_better = 2.0 - 4.0 * (0.5 - pair) ** risk
        u_worse = 2.0 - 4.0 * (0.5 + pair) ** risk
        value = value - (q * u_status_quo + (1.0 - q) * (t * u_better + (1.0 - t) * u_worse))
    else:
        value = value - u_status_quo
    return np.where(d > 0, value, 0.0)


def risk_exponents(eu_with_unit_risk: np.ndarray) -> np.ndarray:
    """r_i from the danger sums S_j = Σ_{k≠j} EU_k(k→j) computed with all r = 1.

    R_i = (2 S_i − max S − min S) / (max S − min S); r_i = (1 − R_i/3) / (1 + R_i/3) ∈ [0.5, 2].
    Returns (..., N, K); an issue on which all S are equal gets r = 1.
    """
    danger = eu_with_unit_risk.sum(axis=-3)  # Σ over challengers k of EU_k(k→j); diagonal is 0
    high, low = danger.max(axis=-2, keepdims=True), danger.min(axis=-2, keepdims=True)
    width = high - low
    relative = np.divide(2.0 * danger - high - low, width, out=np.zeros_like(danger),
                         where=width > 0)
    return (1.0 - relative / 3.0) / (1.0 + relative / 3.0)


@dataclass
class RoundResult:
    """Everything one round computed; arrays indexed [i, j, k] = i's offer/challenge to j."""

    risk: np.ndarray  # (N, K)
    probability: np.ndarray  # P[i, j, k]
    eu_own: np.ndarray  # EU_i(i→j) with r_i
    eu_target: np.ndarray  # A: EU_j(i→j) with r_j
    offer: np.ndarray  # bool: offer sent (standard) / pair considered (scholz)
    kind: np.ndarray  # int codes, see KIND_*
    target: np.ndarray  # proposed new position of j (normalised), nan when none
    new_x: np.ndarray  # (N, K) normalised positions after the round
    moved_to: np.ndarray  # (N, K) index of the actor whose offer/conflict moved it, -1 if none
    conflict_winner: np.ndarray  # [i, j, k] index of the winner of a drawn conflict, -1 if none



KIND_NONE, KIND_CONFLICT, KIND_COMPROMISE, KIND_CAPITULATE = 0, 1, 2, 3
KIND_NAMES = {KIND_CONFLICT: "conflict", KIND_COMPROMISE: "compromise",
              KIND_CAPITULATE: "capitulate"}


# --------------------------------------------------------------------------------------------------
# One round: probabilities and risk, expected utilities, responses, conflicts, moves
# --------------------------------------------------------------------------------------------------


def eu_round(
    x: np.ndarray,
    salience: np.ndarray,
    capability: np.ndarray,
    variant: str,
    q: float,
    t: float,
    draws: np.ndarray | None = None,
    rank: np.ndarray | None = None,
) -> RoundResult:
    """One round of the challenge model on normalised positions ``x`` (N, K), or on many runs of one
    scenario at once: ``x`` (runs, N, K) with ``salience`` and ``draws`` carrying the same runs axis.
    Every run's numbers are those it would get alone (no arithmetic mixes runs).

    Args:
        x: normalised positions (divided by the *initial* range; Scholz et al. 2011).
        salience: (..., N, K); capability: (N,).
        variant: ``standard`` (offers, responses, drawn conflicts) or ``scholz`` (deterministic).
        q, t: BDM's Q and T (the scholz variant uses Q = 1 by definition).
        draws: symmetric uniforms [..., a, b, k] deciding conflicts in the standard variant: of a pair,
            the actor of lower ``rank`` wins iff its draw < its win probability.
        rank: canonical rank of each actor (default: list order); makes the result independent of
            the order in which actors are listed.

    Returns:
        A :class:`RoundResult` (arrays with the same leading runs axis as ``x``); all moves are
        simultaneous.
    """
    lead, (n, k_count) = x.shape[:-2], x.shape[-2:]
    x = x.reshape(-1, n, k_count)
    salience = np.broadcast_to(salience, lead + (n, k_count)).reshape(x.shape)
    weight = capability[:, None] * salience
    median = weighted_median(x, weight, axis=-2)
    if variant == "scholz":
        q = 1.0
        probability, risk = _scholz_probability_and_risk(x, salience, weight, q, t, median)
    else:
        probability, risk = _standard_probability_and_risk(x, salience, weight, q, t, median)
    eu_own = expected_utility(x, salience, probability, risk[:, :, None, :], q, t, median)
    eu_target = expected_utility(x, salience, probability, risk[:, None, :, :], q, t, median)
    kind, offer, target = _responses(x, eu_own, eu_target, variant)
    lost, conflict_winner = _conflicts(kind, probability, variant, draws, rank)
    new_x, moved_to = _moves(x, eu_own, eu_target, kind, target, lost, variant)

    def shaped(array: np.ndarray) -> np.ndarray:
        return array.reshape(lead + array.shape[1:])

    return RoundResult(risk=shaped(risk), probability=shaped(probability), eu_own=shaped(eu_own),
                       eu_target=shaped(eu_target), offer=shaped(offer), kind=shaped(kind),
                       target=shaped(target), new_x=shaped(new_x), moved_to=shaped(moved_to),
                       conflict_winner=shaped(conflict_winner))


def _standard_probability_and_risk(x: np.ndarray, salience: np.ndarray, weight: np.ndarray, q: float,
                                   t: float, median: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(P[run, i, j, k], r[run, i, k]) of the standard variant: the vote shares of every pair, and the
    risk exponents from the danger sums of the expected utilities with r = 1."""
    probability = win_probability_standard(x, weight)
    eu_unit = expected_utility(x, salience, probability, 1.0, q, t, median)
    return probability, risk_exponents(eu_unit)


def _scholz_probability_and_risk(x: np.ndarray, salience: np.ndarray, weight: np.ndarray, q: float,
                                 t: float, median: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(P[run, i, j, k], r[run, i, k]) of the Scholz et al. variant: the risk exponents from the
    probabilities with every r = 1, then P again with each voter's own r_h, issue by issue (r depends
    on the issue). Run by run: :func:`win_probability_scholz` takes one run."""
    runs, n, k_count = x.shape
    unit = np.ones(n)
    p_unit = np.stack([win_probability_scholz(x[r], weight[r], unit) for r in range(runs)])
    eu_unit = expected_utility(x, salience, p_unit, 1.0, q, t, median)
    risk = risk_exponents(eu_unit)
    probability = np.empty((runs, n, n, k_count))
    for r in range(runs):
        for k in range(k_count):
            probability[r, :, :, k] = win_probability_scholz(x[r, :, k:k + 1], weight[r, :, k:k + 1],
                                                             risk[r, :, k])[:, :, 0]
    return probability, risk


def _responses(x: np.ndarray, eu_own: np.ndarray, eu_target: np.ndarray,
               variant: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every sender's challenge to every receiver and the receiver's response: (kind codes
    [run, i, j, k] (``KIND_*``), offer (bool: an offer sent (standard) / a pair considered (scholz)),
    the receiver's proposed new position (nan when none))."""
    runs, n, k_count = x.shape
    a = eu_target  # A[i, j] = EU_j(i→j)
    b = np.swapaxes(eu_own, 1, 2)  # B[i, j] = EU_j(j→i)
    x_i, x_j = x[:, :, None, :], x[:, None, :, :]  # the sender's and the receiver's position
    differs = x_i != x_j

    kind = np.zeros((runs, n, n, k_count), dtype=np.int8)
    with np.errstate(divide="ignore", invalid="ignore"):
        compromise_target = x_j + (x_i - x_j) * np.abs(b / a)
    if variant == "scholz":
        offer = differs
        lose = offer & (a > b) & (b > 0)
        compromise = offer & (a > 0) & (b < 0) & (a > np.abs(b))
        kind[lose] = KIND_CONFLICT
        kind[compromise] = KIND_COMPROMISE
    else:
        offer = differs & (eu_own > 0)
        credible = offer & (a > 0)
        conflict = credible & (b > 0)
        compromise = credible & (b < 0) & (np.abs(b) < a)
        capitulate = credible & ~conflict & ~compromise
        kind[conflict] = KIND_CONFLICT
        kind[compromise] = KIND_COMPROMISE
        kind[capitulate] = KIND_CAPITULATE
    target = np.full((runs, n, n, k_count), np.nan)
    target = np.where(kind == KIND_COMPROMISE, compromise_target, target)
    target = np.where(kind == KIND_CAPITULATE, x_i, target)
    return kind, offer, target


def _conflicts(kind: np.ndarray, probability: np.ndarray, variant: str, draws: np.ndarray | None,
               rank: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Who lost a confrontation to whom, lost[run, w, l] (l lost to w), and the winner of every drawn
    conflict [run, i, j, k] (-1: none). Scholz: the challenged side of a conflict loses. Standard: a
    contest between i and j is drawn once; of the pair, the actor of lower ``rank`` wins iff its draw
    is below its win probability."""
    runs, n, _, k_count = kind.shape
    conflict_winner = np.full((runs, n, n, k_count), -1)
    index = np.arange(n)
    if variant == "scholz":
        # j loses to i: move to x_i.  lost[i, j, k]
        return kind == KIND_CONFLICT, conflict_winner
    pairs = kind == KIND_CONFLICT
    pairs = pairs | np.swapaxes(pairs, 1, 2)  # a contest between i and j, drawn once
    lost = np.zeros((runs, n, n, k_count), dtype=bool)  # lost[w, l] = l lost to w
    if pairs.any():
        if draws is None:
            raise ValueError("conflicts need random draws")
        draws = np.asarray(draws).reshape(runs, n, n, k_count)
        order = index if rank is None else np.asarray(rank)
        upper = order[:, None] < order[None, :]
        decide = pairs & upper[None, :, :, None]
        first_wins = draws < probability  # for pair (a, b), a < b: a wins iff u < P_ab
        win_ab = decide & first_wins
        win_ba = decide & ~first_wins
        lost |= win_ab  # b lost to a
        lost |= np.swapaxes(win_ba, 1, 2)  # a lost to b
        winner_ab = np.where(first_wins, index[:, None, None], index[None, :, None])
        conflict_winner = np.where(decide, winner_ab,
                                   np.where(np.swapaxes(decide, 1, 2),
                                            np.swapaxes(winner_ab, 1, 2), -1))
    return lost, conflict_winner


def _moves(x: np.ndarray, eu_own: np.ndarray, eu_target: np.ndarray, kind: np.ndarray,
           target: np.ndarray, lost: np.ndarray, variant: str) -> tuple[np.ndarray, np.ndarray]:
    """(new normalised positions [run, j, k], the actor whose conflict or offer moved each, -1 if
    none). Moves forced by a lost confrontation take precedence (to the nearest winner, ties by actor
    order); otherwise a receiver accepts one offer (:func:`_chosen_offer`)."""
    runs, n, k_count = x.shape
    moved_to = np.full((runs, n, k_count), -1)
    new_x = x.copy()
    has_lost = lost.any(axis=1)  # (run, j, k)
    if has_lost.any():
        distance_to_winner = np.abs(x[:, :, None, :] - x[:, None, :, :])  # (winner i, loser j, k)
        nearest = np.argmin(np.where(lost, distance_to_winner, np.inf), axis=1)  # first = order
        new_x = np.where(has_lost, np.take_along_axis(x, nearest, axis=1), new_x)
        moved_to = np.where(has_lost, nearest, moved_to)

    acceptable = (kind == KIND_COMPROMISE) | (kind == KIND_CAPITULATE)
    best = _chosen_offer(x, eu_own, eu_target, acceptable, target, variant)
    chosen = acceptable.any(axis=1) & ~has_lost
    if chosen.any():
        new_x = np.where(chosen, np.take_along_axis(target, best[:, None], axis=1)[:, 0], new_x)
        moved_to = np.where(chosen, best, moved_to)
    return new_x, moved_to


def _chosen_offer(x: np.ndarray, eu_own: np.ndarray, eu_target: np.ndarray, acceptable: np.ndarray,
                  target: np.ndarray, variant: str) -> np.ndarray:
    """Per receiver [run, j, k], the sender of the acceptable offer it takes (meaningful where it has
    one). Scholz: the least (|B| x_j + |A| x_i) / (|A| + |B|); standard: the smallest move, ties broken
    by the highest sender EU, then actor order."""
    x_i, x_j = x[:, :, None, :], x[:, None, :, :]
    if variant == "scholz":
        a = eu_target  # A[i, j] = EU_j(i→j)
        b = np.swapaxes(eu_own, 1, 2)  # B[i, j] = EU_j(j→i)
        with np.errstate(divide="ignore", invalid="ignore"):
            criterion = (np.abs(b) * x_j + np.abs(a) * x_i) / (np.abs(a) + np.abs(b))
        score = np.where(acceptable, criterion, np.inf)
        return np.argmin(score, axis=1)  # ties: first in actor order
    move = np.where(acceptable, np.abs(target - x_j), np.inf)
    smallest = move.min(axis=1, keepdims=True)
    tied = acceptable & (move <= smallest)
    return np.argmax(np.where(tied, eu_own, -np.inf), axis=1)
