"""Plain-Python reference implementation of MODEL.md §4.1 (the ``eu`` protocol) for ONE issue.

Written from the equations in MODEL.md, with lists, for-loops and ``math`` only, so that the
vectorised kernels in ``sim/kernels/eu.py`` can be checked against it. Nothing here is fast; every
quantity is computed straight from its definition:

- positions are normalised by the initial range of positions on the issue (``normalise``);
- ``votes``/``p_standard``: v_h(j, k) = c_h s_h (|x_h − x_k| − |x_h − x_j|),
  P(j beats k) = Σ_{v_h>0} v_h / Σ_h |v_h|;
- ``scholz_vote``/``p_scholz``: V_h(j, k) = c_h s_h (|x_h − x_k|^{r_h} − |x_h − x_j|^{r_h}),
  P(j, k) = Σ_h max(0, V_h(j, k)) / Σ_h Σ_a Σ_b |V_h(a, b)|;
- ``utilities`` and ``expected_utility``: U_s, U_f, U_sq, U_b, U_w and EU_i(i→j) with Q and T;
- ``risk_exponents``: r from the danger sums S_j = Σ_{k≠j} EU_k(k→j) computed with all r = 1;
- ``round_standard`` / ``round_scholz``: one full round with the decision rules of MODEL.md.

Conventions shared with ``eu.py`` so that the two can be compared:
- P(j beats k) is 0.5 when nobody casts a non-zero vote (only happens for x_j = x_k, where EU = 0);
- an issue on which all danger sums are equal gets r = 1 for everybody;
- in the standard variant a conflict between a and b (an offer answered "conflict" in either
  direction) is decided once: the actor of lower ``rank`` wins iff ``draws[a][b] < P(a beats b)``.
"""

from __future__ import annotations

CONFLICT, COMPROMISE, CAPITULATE = "conflict", "compromise", "capitulate"


# --------------------------------------------------------------------------------------------------
# Positions, votes, probabilities, median
# --------------------------------------------------------------------------------------------------


def normalise(positions):
    """Raw positions on one issue → (positions in [0, 1], minimum, range). Range 1 if all agree."""
    low = min(positions)
    span = max(positions) - low
    if span <= 0:
        span = 1.0
    return [(p - low) / span for p in positions], low, span


def votes(x, capability, salience, j, k):
    """Standard votes v_h(j, k) of every actor h in the contest between j's and k's positions."""
    return [
        capability[h] * salience[h] * (abs(x[h] - x[k]) - abs(x[h] - x[j]))
        for h in range(len(x))
    ]


def p_standard(x, capability, salience, j, k):
    """P(j beats k), standard variant: the share of the absolute votes that are cast for j."""
    v = votes(x, capability, salience, j, k)
    for_j = sum(vote for vote in v if vote > 0)
    total = sum(abs(vote) for vote in v)
    if total == 0:
        return 0.5
    return for_j / total


def p_standard_matrix(x, capability, salience):
    n = len(x)
    return [[p_standard(x, capability, salience, i, j) for j in range(n)] for i in range(n)]


def scholz_vote(x, capability, salience, risk, h, j, k):
    """V_h(j, k) = c_h s_h ((|x_h − x_k|/R)^{r_h} − (|x_h − x_j|/R)^{r_h}); x is already divided by R."""
    r = risk[h]
    return capability[h] * salience[h] * (abs(x[h] - x[k]) ** r - abs(x[h] - x[j]) ** r)


def p_scholz_matrix(x, capability, salience, risk):
    """P(j, k), Scholz variant: positive votes for j over the absolute votes of all voters on ALL
    ordered pairs (a, b). Each voter h uses its own exponent r_h."""
    n = len(x)
    denominator = 0.0
    for h in range(n):
        for a in range(n):
            for b in range(n):
                denominator += abs(scholz_vote(x, capability, salience, risk, h, a, b))
    result = []
    for j in range(n):
        row = []
        for k in range(n):
            numerator = 0.0
            for h in range(n):
                numerator += max(0.0, scholz_vote(x, capability, salience, risk, h, j, k))
            row.append(numerator / denominator if denominator > 0 else 0.0)
        result.append(row)
    return result


def median(x, capability, salience):
    """μ: the held position that beats (or ties) every other held position in pairwise votes.

    If the weights split exactly in half, every position between the two middle ones wins; we return
    the midpoint of the winners (the same convention as ``sim.kernels.solutions.weighted_median``).
    """
    n = len(x)
    scale = sum(capability[h] * salience[h] for h in range(n))
    slack = 1e-12 * max(scale, 1e-300)
    winners = []
    for m in range(n):
        beats_all = True
        for y in range(n):
            if x[y] == x[m]:
                continue
            if sum(votes(x, capability, salience, m, y)) < -slack:
                beats_all = False
                break
        if beats_all:
            winners.append(x[m])
    if not winners:  # cannot happen in one dimension; keep the oracle total
        return sorted(x)[len(x) // 2]
    return 0.5 * (min(winners) + max(winners))


# --------------------------------------------------------------------------------------------------
# Utilities and expected utility
# --------------------------------------------------------------------------------------------------


def utilities(xi, xj, mu, r):
    """U_s, U_f, U_sq, U_b, U_w as seen with exponent r (positions normalised)."""
    d = abs(xi - xj)
    spread = abs(xi - mu) + abs(xj - mu)
    return {
        "s": 2.0 - 4.0 * (0.5 - 0.5 * d) ** r,
        "f": 2.0 - 4.0 * (0.5 + 0.5 * d) ** r,
        "sq": 2.0 - 4.0 * 0.5 ** r,
        "b": 2.0 - 4.0 * (0.5 - 0.25 * spread) ** r,
        "w": 2.0 - 4.0 * (0.5 + 0.25 * spread) ** r,
    }


def expected_utility(x, salience, prob, i, j, r, q, t, mu):
    """EU of i challenging j, with exponent r in the utilities (r_i for i's own view, r_j when j
    evaluates i's challenge):

        s_j [P_ij U_s + (1 − P_ij) U_f] + (1 − s_j) U_s − [Q U_sq + (1 − Q)(T U_b + (1 − T) U_w)],
    and 0 when x_i = x_j.
    """
    if x[i] == x[j]:
        return 0.0
    u = utilities(x[i], x[j], mu, r)
    s_j = salience[j]
    p = prob[i][j]
    challenge = s_j * (p * u["s"] + (1.0 - p) * u["f"]) + (1.0 - s_j) * u["s"]
    no_challenge = q * u["sq"] + (1.0 - q) * (t * u["b"] + (1.0 - t) * u["w"])
    return challenge - no_challenge


def risk_exponents(x, salience, prob_unit, q, t, mu):
    """r_i from the danger sums S_j = Σ_{k≠j} EU_k(k→j), computed with every r = 1.

    R_i = (2 S_i − max S − min S) / (max S − min S); r_i = (1 − R_i/3) / (1 + R_i/3).
    """
    n = len(x)
    danger = []
    for j in range(n):
        total = 0.0
        for k in range(n):
            if k != j:
                total += expected_utility(x, salience, prob_unit, k, j, 1.0, q, t, mu)
        danger.append(total)
    high, low = max(danger), min(danger)
    if high == low:
        return [1.0] * n
    risk = []
    for s in danger:
        big_r = (2.0 * s - high - low) / (high - low)
        risk.append((1.0 - big_r / 3.0) / (1.0 + big_r / 3.0))
    return risk


def eu_matrices(x, salience, prob, risk, q, t, mu):
    """(own, target): own[i][j] = EU_i(i→j) with r_i; target[i][j] = A = EU_j(i→j) with r_j."""
    n = len(x)
    own = [[expected_utility(x, salience, prob, i, j, risk[i], q, t, mu) for j in range(n)]
           for i in range(n)]
    target = [[expected_utility(x, salience, prob, i, j, risk[j], q, t, mu) for j in range(n)]
              for i in range(n)]
    return own, target


# --------------------------------------------------------------------------------------------------
# Rounds
# --------------------------------------------------------------------------------------------------


def round_scholz(x, salience, capability):
    """One round of the Scholz et al. (2011) variant (Q = 1, deterministic, simultaneous moves).

    Returns a dict with risk, prob, eu_own, eu_target, kind ({(i, j): "conflict"|"compromise"}),
    target ({(i, j): proposed new position of j}), new_x and moved_to (index of the actor whose
    confrontation/compromise moved j, or -1).
    """
    n = len(x)
    q, t = 1.0, 1.0
    mu = median(x, capability, salience)  # unused with Q = 1
    prob_unit = p_scholz_matrix(x, capability, salience, [1.0] * n)
    risk = risk_exponents(x, salience, prob_unit, q, t, mu)
    prob = p_scholz_matrix(x, capability, salience, risk)
    own, target_eu = eu_matrices(x, salience, prob, risk, q, t, mu)

    kind, target = {}, {}
    new_x, moved_to = list(x), [-1] * n
    for j in range(n):  # receiver
        confrontations = []  # (distance to x_i, i)
        compromises = []  # (criterion, i)
        for i in range(n):
            if i == j or x[i] == x[j]:
                continue
            a = expected_utility(x, salience, prob, i, j, risk[j], q, t, mu)  # EU_j(i→j)
            b = expected_utility(x, salience, prob, j, i, risk[j], q, t, mu)  # EU_j(j→i)
            if a > b > 0:
                kind[i, j] = CONFLICT
                target[i, j] = x[i]
                confrontations.append((abs(x[i] - x[j]), i))
            elif a > 0 > b and a > abs(b):
                kind[i, j] = COMPROMISE
                target[i, j] = x[j] + (x[i] - x[j]) * abs(b / a)
                criterion = (abs(b) * x[j] + abs(a) * x[i]) / (abs(a) + abs(b))
                compromises.append((criterion, i))
        if confrontations:
            # nearest x_i; ties by actor order (tuples compare the index second)
            _, winner = min(confrontations)
            new_x[j] = x[winner]
            moved_to[j] = winner
        elif compromises:
            _, sender = min(compromises)
            new_x[j] = target[sender, j]
            moved_to[j] = sender
    return {"risk": risk, "prob": prob, "eu_own": own, "eu_target": target_eu, "kind": kind,
            "target": target, "new_x": new_x, "moved_to": moved_to, "median": mu}


def round_standard(x, salience, capability, q, t, draws=None, rank=None):
    """One round of the standard variant (BDM; Masad 2016), simultaneous moves.

    Args:
        x: normalised positions; salience, capability: per actor.
        q, t: BDM's Q and T.
        draws: N×N symmetric uniforms; a conflict between a and b is won by the actor of lower rank
            iff draws[a][b] < P(it beats the other).
        rank: rank of each actor (default: list order).

    Returns a dict like :func:`round_scholz` (kind may also be "capitulate"), plus ``winner``:
    {(a, b): index of the winner} for every pair that fought (both orders).
    """
    n = len(x)
    if rank is None:
        rank = list(range(n))
    mu = median(x, capability, salience)
    prob = p_standard_matrix(x, capability, salience)
    risk = risk_exponents(x, salience, prob, q, t, mu)
    own, target_eu = eu_matrices(x, salience, prob, risk, q, t, mu)

    # Offers and responses.
    kind, target = {}, {}
    for i in range(n):  # sender
        for j in range(n):  # receiver
            if i == j or x[i] == x[j]:
                continue
            if not own[i][j] > 0:  # i sends an offer only if EU_i(i→j) > 0
                continue
            a = expected_utility(x, salience, prob, i, j, risk[j], q, t, mu)  # EU_j(i→j)
            b = expected_utility(x, salience, prob, j, i, risk[j], q, t, mu)  # EU_j(j→i)
            if not a > 0:
                continue  # not credible
            if b > 0:
                kind[i, j] = CONFLICT
            elif b < 0 and abs(b) < a:
                kind[i, j] = COMPROMISE
                target[i, j] = x[j] + (x[i] - x[j]) * abs(b / a)
            else:
                kind[i, j] = CAPITULATE
                target[i, j] = x[i]

    # Conflicts: one contest per unordered pair, whoever started it.
    winner = {}
    lost_to = [[] for _ in range(n)]  # lost_to[l] = winners of conflicts that l lost
    for a in range(n):
        for b in range(n):
            if rank[a] >= rank[b]:
                continue  # decide each pair once, from the side of the lower-ranked actor a
            if kind.get((a, b)) != CONFLICT and kind.get((b, a)) != CONFLICT:
                continue
            if draws is None:
                raise ValueError("conflicts need random draws")
            if draws[a][b] < prob[a][b]:
                w, loser = a, b
            else:
                w, loser = b, a
            winner[a, b] = winner[b, a] = w
            lost_to[loser].append(w)

    new_x, moved_to = list(x), [-1] * n
    for j in range(n):
        if lost_to[j]:
            # The loser adopts the winner's position: nearest winner, ties by actor order.
            best = min(lost_to[j], key=lambda w: (abs(x[w] - x[j]), w))
            new_x[j] = x[best]
            moved_to[j] = best
            continue
        # Otherwise accept at most one compromise/capitulation: the smallest move, ties by the
        # highest sender EU, then actor order.
        best = None
        for i in range(n):
            if kind.get((i, j)) not in (COMPROMISE, CAPITULATE):
                continue
            key = (abs(target[i, j] - x[j]), -own[i][j], i)
            if best is None or key < best[0]:
                best = (key, i)
        if best is not None:
            sender = best[1]
            new_x[j] = target[sender, j]
            moved_to[j] = sender
    return {"risk": risk, "prob": prob, "eu_own": own, "eu_target": target_eu, "kind": kind,
            "target": target, "new_x": new_x, "moved_to": moved_to, "winner": winner,
            "median": mu}


def eu_round(x, salience, capability, variant, q=1.0, t=1.0, draws=None, rank=None):
    """Dispatch to :func:`round_standard` or :func:`round_scholz` (scholz ignores q, t, draws)."""
    if variant == "scholz":
        return round_scholz(x, salience, capability)
    if variant == "standard":
        return round_standard(x, salience, capability, q, t, draws, rank)
    raise ValueError(f"unknown variant {variant!r}")
