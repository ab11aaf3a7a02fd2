"""Fixtures and settings for every test. Shared helpers (scenario builders, hypothesis strategies, the
way a test runs a command) are in :mod:`tests.support`, which test modules import; nothing imports
this file."""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as experiments/__init__.py: small matrices, one thread

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

settings.register_profile("default", deadline=None, max_examples=40)
settings.register_profile("ci", deadline=None, max_examples=80)
settings.load_profile("ci" if os.environ.get("CI") else "default")


@pytest.fixture(scope="session")
def ec():
    import sim

    return sim.load_scenario("ec_emissions")
