"""Agent-based bargaining simulation (Mesa + Hydra).

Python API for notebooks, without Hydra::

    import sim
    scenario = sim.load_scenario("jan2022")
    result = sim.run(scenario, protocol="eu", seed=1, rounds=20)
    result.rounds          # tidy per-round positions (pandas)
    sim.plots.positions_figure(result.rounds, result.issues)
    saved = sim.load_results("results/sweeps/rr")   # a results folder: tables, manifest, config
    saved.runs.groupby("protocol")["agreement"].mean()
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Public names and the modules that define them, imported on first use: ``import sim`` stays cheap (a
# sweep worker or ``--help`` does not pay for Mesa, pandas, scipy and matplotlib until it needs them).
_LAZY = {
    "plots": "sim.report.plots", "solutions": "sim.kernels.solutions", "ConfigError": "sim.domain.errors", "BargainingModel": "sim.engine.model",
    "Results": "sim.runs.results", "load_results": "sim.runs.results", "RunResult": "sim.runs.result",
    "load_scenario": "sim.runs.runner", "run": "sim.runs.runner",
    "Actor": "sim.domain.scenario", "Issue": "sim.domain.scenario", "Scenario": "sim.domain.scenario",
    "scenario_from_config": "sim.domain.scenario", "scenario_from_csv": "sim.domain.scenario",
    "RunSpec": "sim.runs.spec", "specs_from_config": "sim.runs.spec",
}

__all__ = sorted(_LAZY)

if TYPE_CHECKING:  # pragma: no cover
    from sim.kernels import solutions
    from sim.report import plots
    from sim.domain.errors import ConfigError
    from sim.engine.model import BargainingModel
    from sim.runs.results import Results, load_results
    from sim.runs.result import RunResult
    from sim.runs.runner import load_scenario, run
    from sim.domain.scenario import scenario_from_csv
    from sim.domain.scenario import Actor, Issue, Scenario, scenario_from_config
    from sim.runs.spec import RunSpec, specs_from_config


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    loaded = importlib.import_module(module)
    value = loaded if module.endswith(f".{name}") else getattr(loaded, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
