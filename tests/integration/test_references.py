"""Rows compute only the reference solutions their specification asks for (RunSpec.references,
sim.engine.metrics.REFERENCES): the skipped ones are never computed, their columns are there all the same
(NaN or None), every other value is the full row's, and a calibration's distance is what it was."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim.engine.metrics
import sim.kernels.deal_gap
import sim.kernels.solutions
from sim.domain.errors import ConfigError
from sim.engine.metrics import REFERENCES
from sim.engine.protocols.registry import build_params
from sim.runs import calibration
from sim.runs.batch import one_run, run_block
from sim.runs.design import run_seeds
from sim.runs.runner import load_scenario
from sim.runs.spec import RunSpec

SKIPPED = [column for columns in REFERENCES.values() for column in columns]


def spec_of(protocol, scenario, references=None, **params):
    return RunSpec(load_scenario(scenario), protocol, params=build_params(protocol, params), rounds=8, seed=0,
                   record_rounds=False, record_events=False, references=references)


def refuse(*args, **kwargs):
    raise AssertionError("a reference the specification does not ask for was computed")


@pytest.mark.parametrize("protocol,params", [("eu", {}), ("offers", {"order": "recognition", "belief_noise": 0.1}),
                                             ("exchange", {})])
def test_rows_without_references_compute_none_and_keep_every_column(protocol, params, monkeypatch):
    full = pd.DataFrame(run_block(spec_of(protocol, "jan2022_no_red_lines", **params), [1, 2, 3]))
    for name in ("nash_solution", "pareto_check", "bargaining_range", "bargaining_range_empty", "no_gain_actors",
                 "scenario_deal_gap"):
        monkeypatch.setattr(sim.engine.metrics, name, refuse)
    bare = pd.DataFrame(run_block(spec_of(protocol, "jan2022_no_red_lines", references=(), **params), [1, 2, 3]))
    assert list(bare.columns) == list(full.columns)  # the same columns, in the same place
    kept = [c for c in full.columns if c not in SKIPPED and c != "spec_hash"]
    pd.testing.assert_frame_equal(bare[kept], full[kept], check_exact=True)
    assert bare[[c for c, v in {**REFERENCES["nash"], **REFERENCES["pareto"], **REFERENCES["range"],
                                **REFERENCES["deal_gap"]}.items() if v is None]].isna().all().all()
    assert bare[["distance_to_nash", "distance_to_pareto", "bargaining_range", "deal_gap"]].dtypes.eq(float).all()
    assert bare["spec_hash"].nunique() == 1 and bare["spec_hash"].iloc[0] != full["spec_hash"].iloc[0]


def test_each_reference_alone_is_the_full_rows_value():
    full = one_run(spec_of("eu", "jan2022"), 5)
    for name, columns in REFERENCES.items():
        row = one_run(spec_of("eu", "jan2022", references=(name,)), 5)
        assert list(row) == list(full)
        for column in SKIPPED:
            if column in columns:
                assert row[column] == full[column] or (pd.isna(row[column]) and pd.isna(full[column])), column
            else:
                assert pd.isna(row[column]), column


def test_the_default_is_every_reference_and_its_hash_is_unchanged():
    spec = spec_of("eu", "jan2022")
    assert spec.references is None
    assert spec.with_references("all") is spec
    assert spec_of("eu", "jan2022", references=list(REFERENCES)).hash != spec.hash  # named: a spec of its own
    twin = spec.with_references(["range", "nash", "nash"])
    assert twin.references == ("nash", "range") and twin.hash != spec.hash and spec.references is None
    with pytest.raises(ConfigError, match="references.*unknown reference 'kalai'"):
        spec.with_references(["kalai"])


def test_a_calibration_distance_is_the_same_without_the_references(monkeypatch):
    """pyabc sees only the simulator's summary statistics: equal statistics, equal history and posterior
    under the same seed."""
    from sim.runs.configs import load_group

    base = {"scenario": load_group("scenario", "jan2022"), "protocol": load_group("protocol", "eu"), "strategy": {"name": "linear"},
            "rounds": 2, "seed": 0, "record": {"rounds": False, "events": False, "figures": False},
            "observed": load_group("observed", "jan2022", checked=False)}
    spec = calibration.spec_from_config({
        "name": "t", "seed": 3, "population": 4, "replicates": 2, "predictive": 0,
        "parameters": {"scenario.actors.russia.capability": {"prior": "loguniform", "low": 0.2, "high": 10.0},
                       "protocol.q": {"low": 0.0, "high": 1.0}}}, "test")
    everything = calibration.Simulator(calibration.sweep_context(spec, base, Path("."), references="all"), spec)
    particles = [{"scenario_actors_russia_capability": c, "protocol_q": q} for c, q in ((0.3, 0.2), (4.0, 0.9))]
    before = [everything(p) for p in particles]
    monkeypatch.setattr(sim.engine.metrics, "nash_solution", refuse)
    monkeypatch.setattr(sim.engine.metrics, "scenario_deal_gap", refuse)
    bare = calibration.Simulator(calibration.sweep_context(spec, base, Path(".")), spec)
    after = [bare(p) for p in particles]
    assert after == before
    assert np.isfinite([a["distance"] for a in after]).all()


def test_a_sweep_that_asks_for_no_references_writes_the_same_table_with_them_empty(tmp_path):
    from tests.support.sweeps import SPEC, sweep

    full = sweep(tmp_path / "full")
    bare = sweep(tmp_path / "bare", references=["deal_gap"])
    assert list(bare.columns) == list(full.columns)
    kept = [c for c in full.columns if c not in SKIPPED and c not in ("spec_hash", "elapsed")]
    pd.testing.assert_frame_equal(bare[kept], full[kept], check_exact=True)
    pd.testing.assert_series_equal(bare["deal_gap"], full["deal_gap"], check_exact=True)
    assert bare["distance_to_nash"].isna().all() and bare["pareto_efficient"].isna().all()


@pytest.mark.parametrize("changes,key", [({"references": ["kalai"]}, "sweep.references"),
                                         ({"references": "nash"}, "sweep.references"), ({"references": {"a": 1}}, "sweep.references"),
                                         ({"references": [], "outputs": ["deal_gap"]}, "sweep.outputs")])
def test_a_sweeps_references_are_checked(changes, key):
    from sim.runs.design import spec_from_config
    from tests.support.sweeps import SPEC

    with pytest.raises(ConfigError, match=key):
        spec_from_config({**SPEC, **changes})


def test_a_sweeps_design_hash_is_unchanged_unless_it_names_references():
    from sim.runs.design import spec_from_config
    from sim.runs.sweep import design_hash
    from tests.support.sweeps import SPEC

    assert "references" not in spec_from_config(SPEC).to_dict()
    assert design_hash(spec_from_config({**SPEC, "references": []}), {}) != design_hash(spec_from_config(SPEC), {})
