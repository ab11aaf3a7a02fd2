"""Scenarios (MODEL.md §1): the frozen data (:mod:`sim.domain.scenario.data`) and building and
validating it from a config, a CSV file or arrays (:mod:`sim.domain.scenario.build`). Both are
importable from here."""

from __future__ import annotations

from sim.domain.scenario.build import (OUTSIDE_OPTION_KINDS, build_scenario, scenario_from_arrays, scenario_from_config,
                                       scenario_from_csv, scenario_source)
from sim.domain.scenario.data import Actor, Issue, OutsideOption, Package, RedLine, Rules, Scenario

__all__ = ["OUTSIDE_OPTION_KINDS", "Actor", "Issue", "OutsideOption", "Package", "RedLine", "Rules", "Scenario",
           "build_scenario", "scenario_from_arrays", "scenario_from_config", "scenario_from_csv", "scenario_source"]
