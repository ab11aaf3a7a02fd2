"""The exchange protocol (Stokman & van Oosten 1994; MODEL.md §4.3)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, strategies as st

import sim
from sim.engine.protocols.exchange import candidate_exchanges, expected_outcome
from tests.support import REPO, make_scenario, scenarios

ONES = np.ones


@pytest.mark.parametrize("positions, expected", [
    ([0, 100], 50.0),             # two actors at the ends
    ([0, 100, 100], 200 / 3),     # add one at 100
    ([100, 100, 100], 100.0),     # move the 0 actor to 100
    ([0, 0, 100], 100 / 3),       # one 100 actor to 0
])
def test_expected_outcome_checks_with_unit_capability_and_salience(positions, expected):
    x = np.array(positions, float)[:, None]
    assert expected_outcome(x, ONES(x.shape))[0] == pytest.approx(expected)


def test_two_actor_two_issue_exchange_follows_the_equal_gain_formulas():
    c = np.array([1.0, 2.0])
    x = np.array([[10.0, 20.0], [90.0, 70.0]])
    s = np.array([[0.3, 0.9], [0.6, 0.2]])  # i=0 cares about q=1, j=1 about p=0
    scenario = make_scenario(x, s, c)
    # by hand
    w = c[:, None] * s
    o = (w * x).sum(0) / w.sum(0)
    ratio = (s[0, 0] + s[1, 0]) / (s[0, 1] + s[1, 1])
    limit_p = min(abs(x[1, 0] - o[0]), abs(x[1, 0] - x[0, 0]) * w[0, 0] / w[:, 0].sum())
    limit_q = min(abs(x[0, 1] - o[1]), abs(x[0, 1] - x[1, 1]) * w[1, 1] / w[:, 1].sum())
    d_p = min(limit_p, limit_q / ratio)
    d_q = d_p * ratio
    move_i = d_p * w[:, 0].sum() / w[0, 0]
    move_j = -d_q * w[:, 1].sum() / w[1, 1]
    gain = d_p * (s[0, 1] * s[1, 0] - s[0, 0] * s[1, 1]) / (s[0, 1] + s[1, 1])
    # equal gains for both sides
    assert s[0, 1] * d_q - s[0, 0] * d_p == pytest.approx(s[1, 0] * d_p - s[1, 1] * d_q)
    assert s[0, 1] * d_q - s[0, 0] * d_p == pytest.approx(gain)
    found = candidate_exchanges(x, s, c, np.ones_like(x, bool))
    assert len(found["gain"]) == 1
    assert found["gain"][0] == pytest.approx(gain)
    model = sim.BargainingModel(scenario, "exchange", rounds=1, rng=0).run()
    np.testing.assert_allclose(model.positions, [[10 + move_i, 20], [90, 70 + move_j]])
    event = model.events_table().iloc[0]
    assert event["gain"] == pytest.approx(gain) and event["sender"] == "a0" and event["receiver"] == "a1"
    new_o = expected_outcome(model.positions, w)
    np.testing.assert_allclose(new_o - o, [d_p, -d_q])


def test_no_exchange_without_complementary_saliences():
    x = np.array([[0.0, 0.0], [100.0, 100.0]])
    s = np.array([[0.5, 0.5], [0.5, 0.5]])
    assert len(candidate_exchanges(x, s, np.ones(2), np.ones_like(x, bool))["gain"]) == 0


def test_exchange_run_records_externalities_on_third_actors():
    s = make_scenario([[0, 0], [100, 100], [30, 90]], [[1.0, 0.2], [0.2, 1.0], [0.5, 0.5]], [1, 1, 0.3])
    result = sim.run(s, "exchange", seed=0, rounds=5)
    events = result.events[result.events["kind"] == "exchange"]
    assert len(events) >= 1
    first = events.iloc[0]
    assert first["utility_change_a2"] == pytest.approx(first["externality_positive"] + first["externality_negative"])
    assert result.runs.iloc[0]["rounds"] <= 5


# ---- the incremental candidate table against a full recompute after every exchange ---------------------

def reference_candidates(positions, salience, capability, free):
    """The full recompute over all (i, j, p, q): the algorithm before the incremental table (slow)."""
    n, k = positions.shape
    weight = capability[:, None] * salience
    total = weight.sum(axis=0)
    outcome = expected_outcome(positions, weight)
    side = np.sign(positions - outcome)
    i, j, p, q = np.meshgrid(np.arange(n), np.arange(n), np.arange(k), np.arange(k), indexing="ij")
    i, j, p, q = i.ravel(), j.ravel(), p.ravel(), q.ravel()
    s_ip, s_iq, s_jp, s_jq = salience[i, p], salience[i, q], salience[j, p], salience[j, q]
    ok = (i < j) & (p != q) & free[i, p] & free[j, q]
    ok &= (side[i, p] * side[j, p] < 0) & (side[i, q] * side[j, q] < 0)
    ok &= s_ip * s_jq < s_jp * s_iq
    ok &= (weight[i, p] > 0) & (weight[j, q] > 0)
    i, j, p, q = i[ok], j[ok], p[ok], q[ok]
    s_ip, s_iq, s_jp, s_jq = s_ip[ok], s_iq[ok], s_jp[ok], s_jq[ok]
    ratio = (s_ip + s_jp) / (s_iq + s_jq)
    limit_p = np.minimum(np.abs(positions[j, p] - outcome[p]),
                         np.abs(positions[j, p] - positions[i, p]) * weight[i, p] / total[p])
    limit_q = np.minimum(np.abs(positions[i, q] - outcome[q]),
                         np.abs(positions[i, q] - positions[j, q]) * weight[j, q] / total[q])
    size_p = np.minimum(limit_p, limit_q / ratio)
    size_q = size_p * ratio
    direction_p = np.sign(positions[j, p] - outcome[p])
    direction_q = np.sign(positions[i, q] - outcome[q])
    gain = size_p * (s_iq * s_jp - s_ip * s_jq) / (s_iq + s_jq)
    return {"i": i, "j": j, "p": p, "q": q, "shift_p": direction_p * size_p, "shift_q": direction_q * size_q,
            "move_i": direction_p * size_p * total[p] / weight[i, p],
            "move_j": direction_q * size_q * total[q] / weight[j, q], "gain": gain}


def reference_step(protocol) -> list[tuple]:
    """One round the slow way: all candidates recomputed after every executed exchange. Returns the
    executed exchanges (i, j, p, q, move_i, move_j, gain)."""
    model, scenario = protocol.model, protocol.model.negotiation
    free = np.ones_like(model.positions, dtype=bool)
    executed = []
    while not protocol.params.max_per_round or len(executed) < protocol.params.max_per_round:
        found = reference_candidates(model.positions, model.saliences, scenario.capabilities, free)
        good = found["gain"] > protocol.params.min_gain
        if not good.any():
            break
        best = int(np.argmax(np.where(good, found["gain"], -np.inf)))
        i, j, p, q = (int(found[key][best]) for key in ("i", "j", "p", "q"))
        model.positions[i, p] += found["move_i"][best]
        model.positions[j, q] += found["move_j"][best]
        np.clip(model.positions, scenario.lower, scenario.upper, out=model.positions)
        free[i, p] = free[j, q] = False
        executed.append((i, j, p, q, found["move_i"][best], found["move_j"][best], found["gain"][best]))
    if not executed:
        protocol.done = True
    return executed


def assert_same_as_reference(scenario, rounds: int, **params) -> int:
    """Run the incremental protocol and the reference round by round from the same state; every
    executed exchange and the positions after each round must be bitwise identical."""
    fast = sim.BargainingModel(scenario, "exchange", params, rounds=rounds, rng=0, record_rounds=False)
    slow = sim.BargainingModel(scenario, "exchange", params, rounds=rounds, rng=0, record_rounds=False)
    total = 0
    while fast.running:
        before = len(fast.events)
        fast.step()
        expected = reference_step(slow.protocol)
        slow.round += 1
        events = fast.events.to_frame().iloc[before:] if len(fast.events) > before else None
        got = ([] if events is None else
               [(scenario.actor_ids.index(e.sender), scenario.actor_ids.index(e.receiver),
                 scenario.issue_ids.index(e.issue), scenario.issue_ids.index(e.issue_q),
                 e.move_sender, e.move_receiver, e.gain) for e in events.itertuples()])
        assert got == [tuple(float(v) if isinstance(v, np.floating) else v for v in row) for row in expected]
        assert np.array_equal(fast.positions, slow.positions)
        assert fast.protocol.done == slow.protocol.done
        total += len(expected)
    return total


SHIPPED = sorted(str(p.relative_to(REPO / "configs" / "scenario").with_suffix(""))
                 for p in (REPO / "configs" / "scenario").rglob("*.yaml") if p.stem != "from_csv")


@pytest.mark.parametrize("name", SHIPPED)
def test_incremental_exchanges_equal_the_full_recompute_on_shipped_scenarios(name):
    scenario = sim.load_scenario(name)
    if scenario.budget_issues:
        pytest.skip("exchange does not model a divisible pie")
    assert_same_as_reference(scenario, rounds=15)


@st.composite
def tied_scenarios(draw):
    """Small scenarios from few distinct values (tied gains, positions at the scale's ends)."""
    n, k = draw(st.integers(2, 6)), draw(st.integers(2, 4))
    positions = draw(st.lists(st.sampled_from([0.0, 25.0, 50.0, 100.0]), min_size=n * k, max_size=n * k))
    saliences = draw(st.lists(st.sampled_from([0.0, 0.25, 0.5, 1.0]), min_size=n * k, max_size=n * k))
    capabilities = draw(st.lists(st.sampled_from([0.5, 1.0]), min_size=n, max_size=n))
    return make_scenario(np.reshape(positions, (n, k)), np.reshape(saliences, (n, k)), capabilities)


@given(scenario=st.one_of(scenarios(max_actors=7, min_issues=2, max_issues=5), tied_scenarios()),
       max_per_round=st.sampled_from([0, 0, 1, 3]))
def test_incremental_exchanges_equal_the_full_recompute_on_random_scenarios(scenario, max_per_round):
    assert_same_as_reference(scenario, rounds=6, max_per_round=max_per_round)
