"""Running one experiment (DESIGN.md "How the parts meet").

Two ways in: the Python API for notebooks (:func:`load_scenario`, :func:`run`) and
:func:`run_config` for a composed Hydra config (``experiments/run.py``). Both return a
:class:`~sim.runs.result.RunResult` holding the run's tidy tables;
:func:`sim.report.run_report.write_run` writes them out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from sim.domain.config import REPO_ROOT, figure_settings
from sim.domain.scenario import Scenario, scenario_from_config
from sim.runs.configs import group_file, load_group
from sim.runs.result import RunResult, combine
from sim.runs.spec import RunSpec, specs_from_config


def load_scenario(name: str | Path, overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Load a scenario by config name (``"jan2022"``, ``"classroom/jan2022"``) or YAML path.

    Args:
        name: a name under ``configs/scenario/`` or a path to a YAML file.
        overrides: dotted keys inside the scenario, e.g. ``{"actors.russia.capability": 0.6}``.

    Raises:
        ConfigError: unknown scenario, or an invalid value (naming the file and key).
    """
    path = group_file("scenario", name)
    source = str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)
    return scenario_from_config(load_group("scenario", path, source=source, overrides=overrides), source=source)


def run(
    scenario: Scenario | str,
    protocol: str = "eu",
    seed: int | None = 0,
    rounds: int = 20,
    protocol_params: Mapping[str, Any] | None = None,
    strategy: str = "linear",
    strategy_exponent: float | None = None,
    record_rounds: bool = True,
    record_events: bool = True,
) -> RunResult:
    """Run one negotiation and return its tables (a :class:`~sim.runs.spec.RunSpec` built from the arguments).

    Args:
        scenario: a :class:`Scenario` or the name of one (see :func:`load_scenario`).
        protocol: ``eu`` (and the others registered in :mod:`sim.engine.protocols`).
        seed: the run's seed, a whole number >= 0 (``None`` draws OS entropy and is not reproducible).
        rounds: round limit.
        protocol_params: protocol settings, e.g. ``{"variant": "scholz"}``.
        strategy, strategy_exponent: default concession strategy (bundle protocols).
        record_rounds, record_events: keep the per-round and event tables.
    """
    if isinstance(scenario, str):
        scenario = load_scenario(scenario)
    return RunSpec(scenario, protocol=protocol, params=protocol_params, strategy=strategy,
                   strategy_exponent=strategy_exponent, rounds=rounds, seed=seed,
                   record_rounds=record_rounds, record_events=record_events).run()


def run_config(cfg: Any, source: str | None = None, relocated: Mapping[str, str] | None = None) -> RunResult:
    """Run the experiment a composed config describes: its run specifications
    (:func:`sim.runs.spec.specs_from_config`; several for ``protocol=all``, combined into one result).
    ``source``: the user's own scenario file, for error messages; ``relocated``: where a file the config
    names is read from now (a results folder's copy)."""
    figure_settings(cfg)  # a bad figures.format ends here, before the run
    results = [spec.run() for spec in specs_from_config(cfg, source=source, relocated=relocated)]
    return results[0] if len(results) == 1 else combine(results)
