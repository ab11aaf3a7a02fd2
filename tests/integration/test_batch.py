"""Blocks of runs (sim.runs.batch) give exactly the rows of one run at a time, and the runs-axis eu kernel
gives every run exactly what it gets alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.runs.batch import one_run, run_block
from sim.runs.design import run_seeds, spec_from_config
from sim.engine.protocols.registry import build_params
from sim.kernels.eu import eu_round
from sim.runs.runner import load_scenario
from sim.runs.spec import RunSpec
from sim.runs.sweep import aggregate, execute_shard, pending_shards, plan, prepare_folder
from tests.support.sweeps import base


def spec_of(protocol, scenario="jan2022_core", rounds=8, **params):
    return RunSpec(load_scenario(scenario), protocol, params=build_params(protocol, params), rounds=rounds,
                   seed=0, record_rounds=False, record_events=False)


CASES = [
    ("eu", {}),  # conflicts drawn every round: the runs-axis path
    ("eu", {"shock_probability": 0.3, "q": 0.6, "t": 0.4}),  # saliences redrawn too, Q < 1
    ("eu", {"variant": "scholz"}),  # deterministic: one run, repeated
    ("offers", {}),  # round robin, exact beliefs: one run, repeated
    ("offers", {"order": "recognition", "belief_noise": 0.1}),  # draws: one at a time
    ("exchange", {}),  # deterministic
]


@pytest.mark.parametrize("protocol,params", CASES, ids=[f"{p}-{'-'.join(q) or 'default'}" for p, q in CASES])
@pytest.mark.parametrize("scenario", ["jan2022", "jan2022_no_red_lines"])
def test_a_block_gives_the_rows_of_one_run_at_a_time(protocol, params, scenario):
    spec = spec_of(protocol, scenario, **params)
    seeds = [int(s) for s in run_seeds(3, 12)]
    alone = pd.DataFrame([one_run(spec, seed) for seed in seeds])
    together = pd.DataFrame(run_block(spec, seeds))
    pd.testing.assert_frame_equal(together, alone, check_exact=True)
    if protocol == "eu" and not params:  # the replicates do differ: this is not one run repeated
        assert len(alone.filter(like="bundle_").drop_duplicates()) > 1


OBSERVED = {"path": "data/jan2022_observed.yaml", "rounds": {1: "2022-02-17", 2: "2022-02-24"}}

#: Scenarios whose rows take every path of the block's rows (sim.runs.batch.block_rows): breakdowns in war and
#: at the status quo, agreements (no red lines, several rounds), red lines and packages, power shifts (values and
#: outside options that change with the round talks end in), credibility.
BLOCK_SCENARIOS = [
    ("jan2022", {}),
    ("jan2022_no_red_lines", {}),
    ("jan2022", {"rules.power_shift": True, "rules.credibility": True}),
    ("jan2022_no_red_lines", {"rules.power_shift": True}),
    ("jan2022_extended", {}),
    ("jan2022_core", {}),
]


@pytest.mark.parametrize("references", [None, (), ("pareto", "nash")])
@pytest.mark.parametrize("params", [{}, {"shock_probability": 0.3, "q": 0.6, "t": 0.4, "convergence": 0.2}],
                         ids=["default", "shocks"])
def test_block_rows_are_the_rows_of_one_run_at_a_time_in_every_column(params, references):
    """The eu block builds its rows for all runs at once (outcomes on the runs axis, values per round, scores
    against the record as arrays): every column equal, bitwise, to the row of each run alone, scores included."""
    seeds = [int(s) for s in run_seeds(6, 31)]
    seen = set()
    for name, overrides in BLOCK_SCENARIOS:
        spec = RunSpec(load_scenario(name, overrides), "eu", params=build_params("eu", params), rounds=6, seed=0,
                       record_rounds=False, record_events=False, observed=OBSERVED, references=references)
        alone = pd.DataFrame([one_run(spec, seed) for seed in seeds])
        together = pd.DataFrame(run_block(spec, seeds))
        pd.testing.assert_frame_equal(together, alone, check_exact=True)
        assert list(together.columns) == list(alone.columns)
        seen |= set(alone["ending"]) | {f"rounds={r}" for r in alone["rounds"]}
        if name.startswith("jan2022") and name != "jan2022_core":
            assert "score_mae" in alone.columns
    assert {"agreement", "war", "status_quo", "rounds=6", "rounds=4"} <= seen, seen


def test_a_block_larger_than_a_chunk_gives_the_rows_of_one_run_at_a_time(monkeypatch):
    """Blocks advance in chunks (sim.runs.batch.CHUNK runs): every chunk starts from the scenario, not from
    where the previous chunk's runs ended."""
    import sim.runs.batch

    monkeypatch.setattr(sim.runs.batch, "CHUNK", 5)
    spec = spec_of("eu", "jan2022", rounds=10)
    seeds = [int(s) for s in run_seeds(8, 12)]
    alone = pd.DataFrame([one_run(spec, seed) for seed in seeds])
    pd.testing.assert_frame_equal(pd.DataFrame(run_block(spec, seeds)), alone, check_exact=True)
    assert (alone["rounds"] == 10).all()


def test_a_run_that_draws_nothing_is_run_once(monkeypatch):
    import sim.runs.batch

    built = []
    real = RunSpec.build
    monkeypatch.setattr(RunSpec, "build", lambda self: built.append(self.seed) or real(self))
    rows = sim.runs.batch.run_block(spec_of("exchange"), [5, 6, 7])
    assert built == [5] and [row["seed"] for row in rows] == [5, 6, 7]
    built.clear()
    sim.runs.batch.run_block(spec_of("eu"), [5, 6, 7])  # conflicts every round: all together, one template model
    assert built == [5]
    built.clear()
    sim.runs.batch.run_block(spec_of("eu", variant="scholz"), [5, 6, 7])  # deterministic: run once, repeated
    assert built == [5]


def test_the_eu_kernel_gives_each_run_its_own_result():
    rng = np.random.default_rng(4)
    n, k, runs = 7, 3, 5
    x = rng.uniform(0, 1, (runs, n, k))
    x[1] = np.round(x[1] * 3) / 3  # tied positions
    salience, capability = rng.uniform(0, 1, (runs, n, k)), rng.uniform(0.1, 1, n)
    draws = rng.random((runs, n, n, k))
    draws = np.triu(draws.transpose(0, 3, 1, 2), 1)
    draws = (draws + draws.transpose(0, 1, 3, 2)).transpose(0, 2, 3, 1)
    for variant in ("standard", "scholz"):
        batch = eu_round(x, salience, capability, variant, 0.8, 0.5, draws)
        for r in range(runs):
            alone = eu_round(x[r], salience[r], capability, variant, 0.8, 0.5, draws[r])
            for name in ("probability", "eu_own", "eu_target", "kind", "target", "new_x", "moved_to",
                         "conflict_winner", "risk"):
                assert np.array_equal(getattr(batch, name)[r], getattr(alone, name), equal_nan=True), (variant, name)


def test_a_sweep_gives_the_same_table_in_blocks_and_run_by_run(tmp_path: Path):
    """One design both ways, through the sweep's own shards: blocks of replicates vs one run at a time."""
    spec = spec_from_config({"name": "both", "replicates": 5, "seed": 9, "shard_size": 7,
                             "parameters": {"protocol": {"values": ["eu", "offers", "exchange"]},
                                            "scenario": {"values": ["jan2022", "jan2022_core"]}}})
    tables = []
    for together in (True, False):
        context = prepare_folder(plan(tmp_path / str(together), spec, base(("rounds=6",))))
        for index in pending_shards(context):
            execute_shard(context, index, together=together)
        aggregate(context)
        tables.append(pd.read_parquet(tmp_path / str(together) / "runs.parquet"))
    assert len(tables[0]) == 30
    pd.testing.assert_frame_equal(tables[0], tables[1], check_exact=True)


def test_shards_are_costed_by_protocol_scenario_and_rounds(tmp_path: Path):
    """Workers take the heaviest shards first: exchange on the extended scenario costs more than eu on
    the core one, and a shard's cost grows with its runs."""
    from sim.runs.sweep import shard_costs

    spec = spec_from_config({"name": "cost", "replicates": 4, "seed": 1, "shard_size": 2,
                             "parameters": {"protocol": {"values": ["eu", "exchange"]},
                                            "scenario": {"values": ["jan2022_core", "jan2022_extended"]}}})
    context = plan(tmp_path / "c", spec, base(("rounds=6",)))
    costs = shard_costs(context, range(8))
    by_point = {int(context.runs.iloc[2 * i]["point"]): costs[i] for i in range(8)}
    runs = context.runs.drop_duplicates("point").set_index("point")
    cost = {(runs.loc[p, "protocol"], runs.loc[p, "scenario"]): c for p, c in by_point.items()}
    assert cost[("exchange", "jan2022_extended")] > cost[("eu", "jan2022_extended")] > cost[("eu", "jan2022_core")]
    assert cost[("exchange", "jan2022_extended")] > cost[("exchange", "jan2022_core")]
