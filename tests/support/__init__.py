"""Support code the tests share (a package, not a test module: nothing here is collected).

* :data:`REPO`, the checkout's root;
* :func:`make_scenario` and the hypothesis strategy :func:`scenarios`, small scenarios from arrays;
* :func:`play_to_the_end`, a classroom game played through;
* :func:`run_python` and :func:`experiment`, the one way a test runs Python, or a command of
  ``experiments/``, in a fresh interpreter (tests that do are marked ``subprocess``).

Heavier helpers live in their own modules: :mod:`tests.support.sweeps` (configs and small sweeps) and
:mod:`tests.support.eu_oracle` (the plain-Python ``eu`` reference).
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from hypothesis import strategies as st

from sim.domain.scenario import scenario_from_arrays

REPO = Path(__file__).resolve().parents[2]

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


def play_to_the_end(model, accept: bool) -> None:
    """Step a classroom model to its end; the person's seat answers ``accept`` and proposes its ideal."""
    while model.running:
        model.step()
        if model.waiting == "respond":
            model.respond(accept)
        elif model.waiting == "propose":
            model.propose(model.negotiation.positions[model.seat])


# ---- a fresh interpreter ---------------------------------------------------------------------------------
def checkout_environment() -> dict[str, str]:
    """This process's environment with the checkout first on PYTHONPATH: a fresh interpreter (and the
    workers it starts) imports this checkout's ``sim`` and ``experiments`` from any folder."""
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path}


def experiment_command(module: str, *args: str) -> list[str]:
    """``python -m experiments.<module> args`` as an argument list, for a test that starts the process
    itself (to interrupt or kill it)."""
    return [sys.executable, "-m", f"experiments.{module}", *args]


def run_python(*args: str, cwd: Path | str = REPO, timeout: float = 600,
               **kwargs) -> subprocess.CompletedProcess:
    """``python args`` (this interpreter's executable) run to its end, its output as text (captured
    unless ``stdout`` or ``stderr`` is given); returns the completed process whatever its exit status.
    ``kwargs`` go to ``subprocess.run`` (``env`` defaults to :func:`checkout_environment`)."""
    kwargs.setdefault("env", checkout_environment())
    kwargs.setdefault("capture_output", "stdout" not in kwargs and "stderr" not in kwargs)
    return subprocess.run([sys.executable, *args], cwd=cwd, text=True, timeout=timeout, **kwargs)


def experiment(module: str, *args: str, **kwargs) -> subprocess.CompletedProcess:
    """``python -m experiments.<module> args`` run to its end (:func:`run_python`)."""
    return run_python("-m", f"experiments.{module}", *args, **kwargs)
