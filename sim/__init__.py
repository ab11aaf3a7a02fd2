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

from sim import plots
from sim.config import ConfigError
from sim.model import BargainingModel
from sim.runner import Results, RunResult, load_results, load_scenario, run
from sim.csv_import import scenario_from_csv
from sim.scenario import Actor, Issue, Scenario, scenario_from_config

__all__ = [
    "Actor", "BargainingModel", "ConfigError", "Issue", "Results", "RunResult", "Scenario", "load_results",
    "load_scenario", "plots", "run", "scenario_from_config", "scenario_from_csv",
]
