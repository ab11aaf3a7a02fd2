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
    "plots": "sim.plots", "ConfigError": "sim.config", "BargainingModel": "sim.model",
    "Results": "sim.runner", "RunResult": "sim.runner", "load_results": "sim.runner",
    "load_scenario": "sim.runner", "run": "sim.runner", "Actor": "sim.scenario", "Issue": "sim.scenario",
    "Scenario": "sim.scenario", "scenario_from_config": "sim.scenario", "scenario_from_csv": "sim.csv_import",
    "RunSpec": "sim.spec", "specs_from_config": "sim.spec",
}

__all__ = sorted(_LAZY)

if TYPE_CHECKING:  # pragma: no cover
    from sim import plots
    from sim.config import ConfigError
    from sim.model import BargainingModel
    from sim.runner import Results, RunResult, load_results, load_scenario, run
    from sim.csv_import import scenario_from_csv
    from sim.scenario import Actor, Issue, Scenario, scenario_from_config
    from sim.spec import RunSpec, specs_from_config


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    loaded = importlib.import_module(module)
    value = loaded if module == f"sim.{name}" else getattr(loaded, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
