"""pyabc's draws and densities without its per-call overhead (sim/runs/calibration_sampler.py): the same
values as pyabc's defaults and scipy, bit for bit, and the same draws on numpy's global generator."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyabc
import pytest

from sim.runs.calibration_sampler import model_prior, random_variable, transition


@pytest.mark.parametrize("args", [("loguniform", 0.2, 10.0), ("uniform", 0.0, 1.0), ("uniform", -3.0, 10.5),
                                  ("loguniform", 1e-3, 2.0)])
def test_a_prior_density_is_scipys_at_every_point(args):
    fast, scipy = random_variable(*args), pyabc.RV(*args)
    low, high = scipy.distribution.support()
    points = np.random.default_rng(1).uniform(low - 1, high + 1, 5000)
    edges = [low, high, np.nextafter(low, -np.inf), np.nextafter(low, np.inf), np.nextafter(high, np.inf)]
    for x in [*points, *edges, *(float(p) for p in points[:50])]:
        got, want = fast.pdf(x), scipy.pdf(x)
        assert got == want and type(got) is type(want), (x, got, want)
    assert 0 < sum(fast.pdf(x) > 0 for x in points) < len(points)  # points inside and outside the support


def test_the_model_prior_is_pyabcs():
    fast, scipy = model_prior(), pyabc.RV("randint", 0, 1)
    for m in (0, 1, -1, np.int64(0)):
        assert fast.pmf(m) == scipy.pmf(m) and type(fast.pmf(m)) is type(scipy.pmf(m))


def population(size: int = 60, seed: int = 3) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"protocol_q": rng.uniform(0, 1, size), "protocol_t": rng.beta(5, 1, size),
                          "capability": np.exp(rng.normal(1, 0.4, size))})
    weights = rng.uniform(0.1, 1, size)
    return frame, weights / weights.sum()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_perturbation_is_pyabcs_from_the_same_draws(seed):
    frame, weights = population(seed=seed)
    fast, default = transition(), pyabc.MultivariateNormalTransition()
    fast.fit(frame, weights)
    default.fit(frame, weights)
    assert fast._fast is not None  # the fast way passed its own check
    np.random.seed(seed)
    want = [default.rvs() for _ in range(500)]
    after = np.random.get_state()
    np.random.seed(seed)
    got = [fast.rvs() for _ in range(500)]
    for a, b in zip(got, want):
        assert list(a.items()) == list(b.items()) and all(type(a[k]) is type(b[k]) for k in a)
    state = np.random.get_state()
    assert state[2:] == after[2:] and np.array_equal(state[1], after[1])  # the generator where pyabc leaves it
    assert fast.pdf(got[0]) == default.pdf(want[0])
