"""The exchange protocol (Stokman & van Oosten 1994; MODEL.md §4.3)."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.protocols.exchange import candidate_exchanges, expected_outcome
from tests.conftest import make_scenario

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
