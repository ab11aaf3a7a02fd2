"""Shared fixtures and hypothesis strategies."""

from __future__ import annotations

import functools
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as experiments/__init__.py: small matrices, one thread
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings, strategies as st

from sim.domain.scenario import Scenario, scenario_from_arrays, scenario_from_config

REPO = Path(__file__).resolve().parent.parent

settings.register_profile("default", deadline=None, max_examples=40)
settings.register_profile("ci", deadline=None, max_examples=80)
settings.load_profile("ci" if os.environ.get("CI") else "default")


make_scenario = functools.partial(scenario_from_arrays, scenario_id="test")  # actors a0.., issues i0..


@st.composite
def scenarios(draw, min_actors=2, max_actors=6, min_issues=1, max_issues=4, risk=False):
    """Random valid scenarios on 0-100 scales with distinct-ish positions."""
    n = draw(st.integers(min_actors, max_actors))
    k = draw(st.integers(min_issues, max_issues))
    unit = st.floats(0.0, 1.0, allow_nan=False)
    positions = np.array([[draw(st.floats(0.0, 100.0, allow_nan=False)) for _ in range(k)]
                          for _ in range(n)])
    saliences = [[draw(st.floats(0.05, 1.0)) for _ in range(k)] for _ in range(n)]
    capabilities = [draw(st.floats(0.05, 1.0)) for _ in range(n)]
    status_quo = [draw(unit) * 100.0 for _ in range(k)]
    exponents = [draw(st.sampled_from([1.0, 1.5, 2.0])) for _ in range(n)] if risk else None
    return make_scenario(positions, saliences, capabilities, status_quo, exponents)


@pytest.fixture(scope="session")
def ec():
    import sim

    return sim.load_scenario("ec_emissions")


def play_to_the_end(model, accept: bool) -> None:
    """Step a classroom model to its end; the person's seat answers ``accept`` and proposes its ideal."""
    while model.running:
        model.step()
        if model.waiting == "respond":
            model.respond(accept)
        elif model.waiting == "propose":
            model.propose(model.negotiation.positions[model.seat])
