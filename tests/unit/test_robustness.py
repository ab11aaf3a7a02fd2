"""Robustness within the sources' ranges (sim/analysis/robustness.py): the ranges jan2022's comments declare, the
sweep derived from them, and the single perturbations' deal gaps."""

from __future__ import annotations

import importlib.machinery
import importlib.util

import pandas as pd
import pytest
import yaml

from sim.analysis.robustness import robustness_summary, single_perturbations
from sim.domain.yaml_comments import declared_ranges
from tests.support import REPO

SCENARIO = REPO / "configs" / "scenario" / "jan2022.yaml"


def test_every_number_of_jan2022_declares_a_range_that_holds_its_value():
    ranges = declared_ranges(SCENARIO)
    data = yaml.safe_load(SCENARIO.read_text())
    assert len(ranges) > 100
    for key, (low, high) in ranges.items():
        node = data
        for part in key.split("."):
            node = node[part]
        assert low < high and low <= float(node) <= high, key
    actors = {k.split(".")[1] for k in ranges if k.startswith("actors.")}
    assert actors == set(data["actors"])
    for actor in actors:  # every position and salience of every actor varies
        for kind in ("position", "salience"):
            assert {k.rsplit(".", 1)[1] for k in ranges if k.startswith(f"actors.{actor}.{kind}.")} == set(data["issues"])


def test_the_shipped_sweep_file_is_the_one_the_ranges_give():
    loader = importlib.machinery.SourceFileLoader("ranges_tool", str(REPO / "tools" / "source-ranges-sweep"))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader("ranges_tool", loader))
    loader.exec_module(module)
    assert (REPO / "configs" / "sweep" / "source_ranges.yaml").read_text() == module.render(SCENARIO), \
        "run tools/source-ranges-sweep"


def test_summary_counts_breakdowns_gaps_and_binding_rules():
    runs = pd.DataFrame({"run_index": [0, 1, 2, 3], "agreement": [False, False, True, False],
                         "ending": ["war", "war", "agreement", "status_quo"],
                         "deal_gap": [23.9, 10.0, 0.0, 5.0],
                         "deal_gap_rules": ["russia.package", "russia.package,usa.red_line.enlargement", "",
                                            "usa.red_line.enlargement"]})
    summary = robustness_summary(runs)
    assert summary["breakdowns"] == pytest.approx(0.75) and summary["deal_exists"] == pytest.approx(0.25)
    assert summary["binding"] == {"russia.package": 2, "usa.red_line.enlargement": 2}
    assert summary["closest"]["run_index"] == 2


def test_no_single_perturbation_within_the_ranges_closes_the_jan2022_gap():
    """Not an input: each of ~240 inputs alone at an end of its range, the gap stays open; the package
    threshold at its upper end (40) is closest, 165/2.8 - 40 points away."""
    singles = single_perturbations(SCENARIO)
    assert len(singles) == 2 * len(declared_ranges(SCENARIO))
    assert (singles["deal_gap"] > 1.0).all()
    best = singles.iloc[0]
    assert (best["key"], best["value"]) == ("actors.russia.package.max", 40.0)
    assert best["deal_gap"] == pytest.approx(165 / 2.8 - 40, abs=1e-5)
