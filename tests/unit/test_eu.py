"""Tests of the ``eu`` protocol (MODEL.md §4.1) against the published EC-emissions numbers and
against the plain-Python oracle in ``tests/support/eu_oracle.py``."""

from __future__ import annotations

import math

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.kernels.eu import (KIND_COMPROMISE, KIND_CONFLICT, eu_round, normalise, win_probability_standard)
from sim.domain.scenario import scenario_from_config
from sim.kernels.solutions import scenario_compromise, scenario_median

from tests.support import REPO, eu_oracle as oracle

EC_PATH = REPO / "configs" / "scenario" / "ec_emissions.yaml"
IMPLEMENTATIONS = ("kernel", "oracle")


def close_to_printed(value: float, printed: float, decimals: int) -> bool:
    """``value`` rounds to ``printed`` at ``decimals`` places (half-unit tolerance)."""
    return abs(value - printed) <= 0.5 * 10.0 ** -decimals + 1e-12


# --------------------------------------------------------------------------------------------------
# EC emissions fixture and a common view of one round from either implementation
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ec():
    with open(EC_PATH) as handle:
        return scenario_from_config(yaml.safe_load(handle))


def idx(scenario, actor_id: str) -> int:
    return scenario.actor_ids.index(actor_id)


def one_round(scenario, x_norm: np.ndarray, variant: str, impl: str, q=1.0, t=1.0,
              draws=None, rank=None) -> dict:
    """One round on issue 0 of ``scenario`` at normalised positions ``x_norm`` (N,), as plain arrays:
    risk (N,), prob (N, N), eu_own (N, N), eu_target (N, N), new_x (N,), moved_to (N,), kind."""
    n = len(x_norm)
    if impl == "kernel":
        res = eu_round(x_norm[:, None], scenario.saliences[:, :1], scenario.capabilities, variant,
                       q, t, None if draws is None else draws[:, :, None], rank)
        return {"risk": res.risk[:, 0], "prob": res.probability[:, :, 0],
                "eu_own": res.eu_own[:, :, 0], "eu_target": res.eu_target[:, :, 0],
                "new_x": res.new_x[:, 0], "moved_to": res.moved_to[:, 0],
                "kind": {(i, j): res.kind[i, j, 0] for i in range(n) for j in range(n)}}
    res = oracle.eu_round(list(map(float, x_norm)), list(map(float, scenario.saliences[:, 0])),
                          list(map(float, scenario.capabilities)), variant, q, t,
                          None if draws is None else draws.tolist(), rank)
    codes = {oracle.CONFLICT: KIND_CONFLICT, oracle.COMPROMISE: KIND_COMPROMISE}
    return {"risk": np.array(res["risk"]), "prob": np.array(res["prob"]),
            "eu_own": np.array(res["eu_own"]), "eu_target": np.array(res["eu_target"]),
            "new_x": np.array(res["new_x"]), "moved_to": np.array(res["moved_to"]),
            "kind": {key: codes.get(value, -1) for key, value in res["kind"].items()}}


def ec_normalised(scenario):
    x, low, span = normalise(scenario.positions)
    return x[:, 0], float(low[0]), float(span[0])


# --------------------------------------------------------------------------------------------------
# EC emissions reference numbers (MODEL.md §4.1)
# --------------------------------------------------------------------------------------------------


def test_ec_compromise_and_median(ec):
    assert math.isclose(scenario_compromise(ec)[0], 7.389955686853767, rel_tol=1e-12)
    assert scenario_median(ec)[0] == 7
    # Oracle side: Σcsx/Σcs by hand, and the Condorcet (pairwise-vote) median.
    c, s, x = list(ec.capabilities), list(ec.saliences[:, 0]), list(ec.positions[:, 0])
    mean = sum(ci * si * xi for ci, si, xi in zip(c, s, x)) / sum(ci * si for ci, si in zip(c, s))
    assert math.isclose(mean, 7.389955686853767, rel_tol=1e-12)
    assert oracle.median(x, c, s) == 7


STANDARD_R = {"netherlands": 1.12, "belgium": 1.00, "luxembourg": 0.50, "germany": 1.12,
              "france": 1.02, "italy": 1.02, "uk": 2.00, "ireland": 0.65, "denmark": 1.45,
              "greece": 1.56}


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_ec_standard_round0_risk_exponents(ec, impl):
    x, _, _ = ec_normalised(ec)
    n = len(x)
    res = one_round(ec, x, "standard", impl, q=1.0, t=1.0, draws=np.full((n, n), 0.5))
    for actor, printed in STANDARD_R.items():
        assert close_to_printed(res["risk"][idx(ec, actor)], printed, 2), (actor, res["risk"])


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
@pytest.mark.parametrize("challenger, target, printed", [
    ("france", "luxembourg", 1.64),
    ("uk", "denmark", -0.70),
    ("belgium", "luxembourg", 0.85),
])
def test_ec_standard_round0_expected_utilities(ec, impl, challenger, target, printed):
    x, _, _ = ec_normalised(ec)
    n = len(x)
    res = one_round(ec, x, "standard", impl, q=1.0, t=1.0, draws=np.full((n, n), 0.5))
    value = res["eu_own"][idx(ec, challenger), idx(ec, target)]
    assert close_to_printed(value, printed, 2), value


def test_ec_belgium_netherlands_votes(ec):
    x, _, _ = ec_normalised(ec)
    c, s = ec.capabilities, ec.saliences[:, 0]
    be, nl = idx(ec, "belgium"), idx(ec, "netherlands")
    # v_h(BE, NL) = c_h s_h (|x_h − x_NL| − |x_h − x_BE|), positions normalised by the range.
    v = [c[h] * s[h] * (abs(x[h] - x[nl]) - abs(x[h] - x[be])) for h in range(len(x))]
    for_belgium = sum(vote for vote in v if vote > 0)
    for_netherlands = -sum(vote for vote in v if vote < 0)
    assert close_to_printed(for_belgium, 0.2145, 4)
    assert close_to_printed(for_netherlands, 0.124, 3)
    p = for_belgium / (for_belgium + for_netherlands)
    assert close_to_printed(p, 0.6337, 4)
    # The kernel and the oracle agree with the hand computation.
    kernel_p = win_probability_standard(x[:, None], (c * s)[:, None])[be, nl, 0]
    oracle_p = oracle.p_standard(list(x), list(c), list(s), be, nl)
    assert close_to_printed(kernel_p, 0.6337, 4)
    assert close_to_printed(oracle_p, 0.6337, 4)
    assert math.isclose(kernel_p, p, rel_tol=1e-12)
    assert math.isclose(oracle_p, p, rel_tol=1e-12)


SCHOLZ_POSITIONS = {  # round → {actor: position (years)}
    1: {"belgium": 8.41593, "luxembourg": 7.0, "ireland": 4.0},
    2: {"belgium": 9.61086, "luxembourg": 8.41593, "ireland": 7.0},
    3: {"belgium": 9.96198},
}


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_ec_scholz_rounds_1_to_3(ec, impl):
    x, low, span = ec_normalised(ec)
    for round_number in (1, 2, 3):
        res = one_round(ec, x, "scholz", impl)
        x = res["new_x"]  # positions stay divided by the *initial* range
        years = low + x * span
        for actor, printed in SCHOLZ_POSITIONS[round_number].items():
            assert close_to_printed(years[idx(ec, actor)], printed, 5), (round_number, actor, years)


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_ec_scholz_round1_moves(ec, impl):
    """Belgium compromises with France (B = −0.11483, A = 0.24330); Luxembourg loses a
    confrontation to Belgium; Ireland loses to Luxembourg."""
    x, _, _ = ec_normalised(ec)
    res = one_round(ec, x, "scholz", impl)
    be, fr = idx(ec, "belgium"), idx(ec, "france")
    lu, ie = idx(ec, "luxembourg"), idx(ec, "ireland")
    b = res["eu_own"][be, fr]  # EU_BE(BE→FR), r_BE
    a = res["eu_target"][fr, be]  # EU_BE(FR→BE), r_BE
    assert close_to_printed(b, -0.11483, 5), b
    assert close_to_printed(a, 0.24330, 5), a
    assert res["kind"][fr, be] == KIND_COMPROMISE
    assert res["moved_to"][be] == fr
    assert res["kind"][be, lu] == KIND_CONFLICT
    assert res["moved_to"][lu] == be
    assert res["kind"][lu, ie] == KIND_CONFLICT
    assert res["moved_to"][ie] == lu


BELGIUM_OCTANTS = {"denmark": (-0.832, 0.242), "uk": (-0.655, 0.243), "france": (-0.115, 0.243),
                   "luxembourg": (0.606, 0.242)}


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
@pytest.mark.parametrize("other", sorted(BELGIUM_OCTANTS))
def test_ec_scholz_belgium_octant_pairs(ec, impl, other):
    x, _, _ = ec_normalised(ec)
    res = one_round(ec, x, "scholz", impl)
    be, k = idx(ec, "belgium"), idx(ec, other)
    own, seen = BELGIUM_OCTANTS[other]
    assert close_to_printed(res["eu_own"][be, k], own, 3), res["eu_own"][be, k]
    assert close_to_printed(res["eu_target"][k, be], seen, 3), res["eu_target"][k, be]


# --------------------------------------------------------------------------------------------------
# Property: one vectorised round equals the oracle round on random scenarios
# --------------------------------------------------------------------------------------------------


@st.composite
def random_round(draw):
    n = draw(st.integers(2, 7))
    k_count = draw(st.integers(1, 3))
    unit = st.floats(0.0, 1.0, allow_nan=False)
    # Integers plus an offset that differs per actor: positions on an issue are never tied.
    grid = draw(st.lists(st.lists(st.integers(0, 99), min_size=k_count, max_size=k_count),
                         min_size=n, max_size=n))
    positions = np.array([[grid[i][k] + (i + 1) / (n + 1) for k in range(k_count)]
                          for i in range(n)])
    capability = np.array(draw(st.lists(st.floats(0.05, 1.0, exclude_min=True), min_size=n,
                                        max_size=n)))
    salience = np.array(draw(st.lists(st.lists(st.floats(0.05, 1.0), min_size=k_count,
                                               max_size=k_count), min_size=n, max_size=n)))
    variant = draw(st.sampled_from(("standard", "scholz")))
    q, t = draw(unit), draw(unit)
    if variant == "scholz":
        q = 1.0
    upper = np.array(draw(st.lists(unit, min_size=n * n * k_count, max_size=n * n * k_count)))
    upper = upper.reshape(n, n, k_count)
    draws = np.where(np.triu(np.ones((n, n), dtype=bool))[:, :, None], upper,
                     np.swapaxes(upper, 0, 1))  # symmetric
    rank = np.array(draw(st.permutations(range(n))))
    return positions, capability, salience, variant, q, t, draws, rank


@settings(max_examples=60, deadline=None)
@given(random_round())
def test_round_matches_oracle(case):
    positions, capability, salience, variant, q, t, draws, rank = case
    n, k_count = positions.shape
    x, _, _ = normalise(positions)
    result = eu_round(x, salience, capability, variant, q, t, draws, rank)
    off_diagonal = ~np.eye(n, dtype=bool)
    for k in range(k_count):
        expected = oracle.eu_round(list(x[:, k]), list(salience[:, k]), list(capability), variant,
                                   q, t, draws[:, :, k].tolist(), list(rank))
        np.testing.assert_allclose(result.risk[:, k], expected["risk"], rtol=0, atol=1e-9)
        np.testing.assert_allclose(result.probability[:, :, k][off_diagonal],
                                   np.array(expected["prob"])[off_diagonal], rtol=0, atol=1e-9)
        np.testing.assert_allclose(result.eu_own[:, :, k], expected["eu_own"], rtol=0, atol=1e-9)
        np.testing.assert_allclose(result.eu_target[:, :, k], expected["eu_target"], rtol=0,
                                   atol=1e-9)
        np.testing.assert_allclose(result.new_x[:, k], expected["new_x"], rtol=0, atol=1e-9)
        np.testing.assert_array_equal(result.moved_to[:, k], expected["moved_to"])


# --------------------------------------------------------------------------------------------------
# The O(N² log N) standard win probability equals the O(N³) definition
# --------------------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 30).flatmap(lambda n: st.tuples(
    st.lists(st.integers(0, 12), min_size=n, max_size=n),  # coarse grid: many tied positions
    st.lists(st.floats(0.05, 1.0), min_size=n, max_size=n),
)))
def test_win_probability_standard_matches_brute_force(case):
    grid, weight = case
    n = len(grid)
    x = np.array(grid, dtype=float)[:, None] / 12.0
    w = np.array(weight)[:, None]
    fast = win_probability_standard(x, w)[:, :, 0]
    slow = np.array(oracle.p_standard_matrix(list(x[:, 0]), list(w[:, 0]), [1.0] * n))
    # P is only defined (and only used) for distinct positions; for x_i = x_j every vote is 0.
    differs = x[:, 0][:, None] != x[:, 0][None, :]
    np.testing.assert_allclose(fast[differs], slow[differs], rtol=0, atol=1e-12)


@pytest.mark.parametrize("n", [2, 5, 30])
def test_win_probability_standard_brute_force_distinct(n):
    rng = np.random.default_rng(n)
    x = rng.uniform(0, 1, size=(n, 2))
    w = rng.uniform(0.05, 1, size=(n, 2))
    fast = win_probability_standard(x, w)
    for k in range(2):
        slow = np.array(oracle.p_standard_matrix(list(x[:, k]), list(w[:, k]), [1.0] * n))
        off = ~np.eye(n, dtype=bool)
        np.testing.assert_allclose(fast[:, :, k][off], slow[off], rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed", range(20))
def test_ec_standard_round_with_ties_matches_oracle(ec, seed):
    """The EC data hold many tied positions (exact ties in EU, in the smallest move, ...): a standard
    round with random draws, rank and Q, T agrees with the oracle."""
    rng = np.random.default_rng(seed)
    x, _, _ = ec_normalised(ec)
    n = len(x)
    upper = rng.uniform(size=(n, n))
    draws = np.triu(upper) + np.triu(upper, 1).T
    rank = rng.permutation(n)
    q, t = (1.0, 1.0) if seed == 0 else (float(rng.uniform()), float(rng.uniform()))
    kernel = one_round(ec, x, "standard", "kernel", q, t, draws, rank)
    expected = one_round(ec, x, "standard", "oracle", q, t, draws, list(rank))
    for key in ("risk", "eu_own", "eu_target", "new_x"):
        np.testing.assert_allclose(kernel[key], expected[key], rtol=0, atol=1e-9, err_msg=key)
    np.testing.assert_array_equal(kernel["moved_to"], expected["moved_to"])
