"""The Mesa model under the eu protocol: reproducibility and invariants (DESIGN.md)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, strategies as st

import sim
from sim.engine.model import BargainingModel
from tests.support import scenarios


def final_positions(scenario, variant, seed, rounds=4, q=1.0):
    model = BargainingModel(scenario, "eu", {"variant": variant, "q": q, "t": 0.5}, rounds=rounds, rng=seed)
    model.run()
    return model


def test_one_agent_per_actor_viewing_model_state(ec):
    model = BargainingModel(ec, "eu", rng=0)
    assert [a.actor_id for a in model.actors] == list(ec.actor_ids)
    assert len(model.agents) == ec.n_actors
    model.positions[1, 0] = 9.0
    assert model.actors[1].position[0] == 9.0  # agents are views of the model's arrays


def test_same_seed_identical_rounds_table_and_different_seeds_can_differ():
    scenario = sim.load_scenario("ec_emissions")
    first = sim.run(scenario, "eu", seed=11, rounds=8)
    again = sim.run(scenario, "eu", seed=11, rounds=8)
    pd.testing.assert_frame_equal(first.rounds, again.rounds)
    pd.testing.assert_frame_equal(first.events, again.events)
    assert (first.events["response"] == "conflict").any()  # draws are actually used
    tables = {sim.run(scenario, "eu", seed=seed, rounds=8).rounds["position"].to_numpy().round(9).tobytes()
              for seed in range(8)}
    assert len(tables) > 1


def test_seed_zero_is_a_seed():
    scenario = sim.load_scenario("ec_emissions")
    a = sim.run(scenario, "eu", seed=0, rounds=6).rounds
    b = sim.run(scenario, "eu", seed=0, rounds=6).rounds
    pd.testing.assert_frame_equal(a, b)


@given(scenarios(max_actors=6, max_issues=3), st.sampled_from(["standard", "scholz"]),
       st.integers(0, 2**31 - 1), st.sampled_from([1.0, 0.5]))
def test_outcomes_stay_inside_issue_bounds(scenario, variant, seed, q):
    model = final_positions(scenario, variant, seed, q=q)
    assert np.all(model.positions >= scenario.lower - 1e-9)
    assert np.all(model.positions <= scenario.upper + 1e-9)
    bundle = model.outcome().bundle
    assert np.all(bundle >= scenario.lower - 1e-9) and np.all(bundle <= scenario.upper + 1e-9)


@given(scenarios(max_actors=6, max_issues=3), st.sampled_from(["standard", "scholz"]),
       st.integers(0, 2**31 - 1), st.randoms(use_true_random=False))
def test_permuting_actors_changes_nothing(scenario, variant, seed, shuffler):
    order = list(range(scenario.n_actors))
    shuffler.shuffle(order)
    base = final_positions(scenario, variant, seed)
    permuted = final_positions(scenario.permuted(order), variant, seed)
    np.testing.assert_allclose(permuted.positions, base.positions[order], atol=1e-9)
    np.testing.assert_allclose(permuted.outcome().bundle, base.outcome().bundle, atol=1e-9)


def test_salience_shocks_are_reproducible_and_change_saliences():
    scenario = sim.load_scenario("ec_emissions")
    params = {"variant": "scholz", "shock_probability": 0.2}
    a = BargainingModel(scenario, "eu", params, rounds=5, rng=3).run()
    b = BargainingModel(scenario, "eu", params, rounds=5, rng=3).run()
    np.testing.assert_array_equal(a.saliences, b.saliences)
    assert not np.array_equal(a.saliences, scenario.saliences)


def test_stop_rule_when_positions_stop_moving():
    from tests.support import make_scenario

    scenario = make_scenario([[0.0], [100.0], [90.0]], [[1.0], [0.6], [0.3]], [1.0, 0.5, 0.2])
    model = BargainingModel(scenario, "eu", rounds=200, rng=0).run()
    assert model.round < 200 and model.protocol.done
    outcome = model.outcome()
    assert "not_converged" not in outcome.causes  # everybody ended at one position ...
    # ... which is no agreement: a1 and a2 get less there than at the status quo (MODEL.md §3)
    assert outcome.causes == ("not_individually_rational:a1", "not_individually_rational:a2")


def test_scholz_dynamics_on_ec_emissions_keep_moving():
    # Scholz et al. (2011) warn that the model need not converge; on the EC data it cycles, so the
    # stop rule must not fire and the run ends at the round limit.
    scenario = sim.load_scenario("ec_emissions")
    model = BargainingModel(scenario, "eu", {"variant": "scholz"}, rounds=60, rng=0).run()
    assert model.round == 60 and not model.protocol.done


def test_outcome_row_has_every_model_md_column(ec):
    row = sim.run(ec, "eu", seed=1, rounds=3).runs.iloc[0]
    for column in ("agreement", "rounds", "breakdown_cause", "outcome_emission_standards",
                   "utility_france", "nash_product", "distance_to_nash", "pareto_efficient",
                   "distance_to_pareto", "bargaining_range", "seed", "config_hash"):
        assert column in row.index
    assert row["seed"] == 1 and row["rounds"] == 3


@pytest.mark.parametrize("protocol, name", [
    ("eu", "jan2022"), ("offers", "jan2022_no_red_lines"), ("offers", "jan2022_extended"),
    ("exchange", "jan2022_extended"), ("offers", "classroom/deadline_pressure")])
def test_event_table_is_the_concatenation_of_its_chunks(protocol, name):
    """EventLog.to_frame joins runs of chunks column by column: the same table, dtypes included, as
    one frame per chunk concatenated."""
    model = BargainingModel(sim.load_scenario(name), protocol, rounds=12, rng=3)
    model.run()
    log = model.events
    assert len(log._chunks) > 1
    reference = pd.concat([pd.DataFrame(chunk) for chunk in log._chunks], ignore_index=True)
    rows = log._rows_frame()
    pd.testing.assert_frame_equal(rows, reference)
    extra = pd.DataFrame({"kind": ["x"], "round": [np.int32(1)]})  # a different column set and order
    log.add(kind=np.array(["x"]), round=1)
    pd.testing.assert_frame_equal(log._rows_frame(), pd.concat([reference, extra], ignore_index=True),
                                  check_dtype=False)


def test_protocols_see_the_model_only_through_model_view(ec):
    """Every ``model.x`` / ``self.model.x`` in sim/engine/protocols/ is a member of ModelView, and the
    model has every member (so a protocol can run in anything that offers the view)."""
    import ast
    import typing
    from pathlib import Path

    from sim.engine.protocols.base import ModelView

    members = typing.get_protocol_members(ModelView)
    used = {}
    for path in sorted((Path(__file__).resolve().parents[2] / "sim" / "engine" / "protocols").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Attribute):
                continue
            owner = node.value
            if (isinstance(owner, ast.Name) and owner.id == "model") or (
                    isinstance(owner, ast.Attribute) and owner.attr == "model"
                    and isinstance(owner.value, ast.Name) and owner.value.id == "self"):
                used.setdefault(node.attr, path.name)
    assert set(used) <= members, {a: f for a, f in used.items() if a not in members}
    assert members <= set(used), f"ModelView lists members no protocol uses: {members - set(used)}"
    for protocol in ("eu", "offers", "exchange"):
        assert isinstance(BargainingModel(ec, protocol, rng=0), ModelView)
