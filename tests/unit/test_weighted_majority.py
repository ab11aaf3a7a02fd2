"""The weighted-majority consent rule (scenario key ``voting``; ``protocol.consent=weighted``) against closed
forms: a coalition exactly at the threshold passes and one just below fails, and the agenda setter's best
offer jumps to the next pivot when the threshold moves just above a coalition's weight."""

from __future__ import annotations

import numpy as np
import pytest

from sim.domain.errors import ConfigError
from sim.domain.scenario import build_scenario, scenario_from_arrays
from sim.domain.scenario.build import _scenario_to_dict
from sim.engine.protocols.consent import ConsentRule
from sim.kernels.programs import Program, value_model
from sim.kernels.utility import disagreement_values


def voting_scenario(threshold: float, required=()):
    """A setter at 100 and three voters at 10, 30, 40 (weights 1, 2, 3) on one issue with status quo 0:
    voter i accepts z iff |z - x_i| <= x_i, i.e. z <= 2 x_i (20, 60, 80)."""
    base = scenario_from_arrays([[100.0], [10.0], [30.0], [40.0]], [[1.0]] * 4, [1.0] * 4, status_quo=[0.0])
    data = _scenario_to_dict(base)
    data["voting"] = {"voters": ["a1", "a2", "a3"], "required": list(required),
                      "quotas": {"votes": {"weights": {"a1": 1, "a2": 2, "a3": 3}, "threshold": threshold}}}
    return build_scenario(data, "test")


def best_offer(scenario) -> float:
    rule = ConsentRule.of("weighted", [], 0.5, scenario, "test")
    consent = rule.for_proposer(0, np.ones(scenario.n_actors, bool))
    floors = disagreement_values(scenario)
    objective = np.array([1.0, 0.0, 0.0, 0.0])
    return float(Program(scenario, value_model(scenario), consent, floors).maximise(objective).bundle[0])


@pytest.mark.parametrize("threshold, offer", [
    (3.0, 80.0),  # a3 alone (weight 3) is exactly enough: the setter goes to a3's limit, 2 x 40
    (3.0 + 1e-4, 60.0),  # just above (1e-4: above the MIP solver's integrality tolerance): a3 and a2 (5) are needed, the pivot is a2 at 2 x 30
    (5.0, 60.0),
    (5.0 + 1e-4, 20.0),  # just above 5: all three, the pivot is a1
    (6.0, 20.0),
])
def test_the_setters_offer_is_the_pivots_limit(threshold, offer):
    assert best_offer(voting_scenario(threshold)) == pytest.approx(offer, abs=1e-6)


def test_a_required_actor_binds_whatever_the_quota():
    # a1 required (the Parliament under co-decision, say): its limit 20 binds even with quota 3
    assert best_offer(voting_scenario(3.0, required=["a1"])) == pytest.approx(20.0, abs=1e-6)


def test_passes_at_the_threshold_and_not_below():
    scenario = voting_scenario(5.0)
    rule = ConsentRule.of("weighted", [], 0.5, scenario, "test")
    needed = rule.needed(np.array([[50.0]]))[:, 0]
    assert needed.all()  # everyone is asked
    assert rule.reached(np.array([False, False, True, True]), needed, proposer=0)  # 2 + 3 = 5
    assert not rule.reached(np.array([False, True, True, False]), needed, proposer=0)  # 1 + 2 = 3
    just_above = ConsentRule.of("weighted", [], 0.5, voting_scenario(5.0 + 1e-6), "test")
    assert not just_above.reached(np.array([False, False, True, True]), needed, proposer=0)
    assert just_above.reached(np.array([False, True, True, True]), needed, proposer=0)


def test_shares_unanimity_and_several_quotas():
    base = scenario_from_arrays([[0.0], [10.0], [30.0], [40.0]], [[1.0]] * 4, [1.0] * 4)
    data = _scenario_to_dict(base)
    data["voting"] = {"quotas": {"members": {"share": 1.0}}}  # unanimity among every actor
    rule = build_scenario(data, "test").voting
    ids = ["a0", "a1", "a2", "a3"]
    assert rule.passes([True] * 4, ids) and not rule.passes([True, True, True, False], ids)
    data["voting"] = {"quotas": {"members": {"share": 0.5}, "weight": {"weights": {"a0": 6, "a1": 1, "a2": 1, "a3": 1},
                                                                       "share": 0.65}}}
    rule = build_scenario(data, "test").voting  # half the members and 65 % of 9 = 5.85
    assert rule.passes([True, True, False, False], ids)  # 2 of 4 members, weight 7
    assert not rule.passes([False, True, True, True], ids)  # 3 members but weight 3
    assert not rule.passes([True, False, False, False], ids)  # weight 6 but 1 member


@pytest.mark.parametrize("voting, key", [
    ({"quotas": {"v": {"share": 0.5, "threshold": 2}}}, "scenario.voting.quotas.v"),
    ({"quotas": {"v": {"threshold": 99}}}, "scenario.voting.quotas.v.threshold"),
    ({"quotas": {"v": {"share": 0.5}}, "required": ["zz"]}, "scenario.voting.required"),
    ({"quotas": {"v": {"share": 0.5, "weights": {"a0": -1, "a1": 1, "a2": 1, "a3": 1}}}},
     "scenario.voting.quotas.v.weights.a0"),
    ({"quotas": {"v": {"share": 0.5}}, "rule": "qmv"}, "scenario.voting.rule"),
])
def test_bad_voting_keys_name_the_key(voting, key):
    data = _scenario_to_dict(scenario_from_arrays([[0.0], [10.0], [30.0], [40.0]], [[1.0]] * 4, [1.0] * 4))
    data["voting"] = voting
    with pytest.raises(ConfigError) as error:
        build_scenario(data, "my.yaml")
    assert error.value.key == key and "my.yaml" in str(error.value)


def test_weighted_consent_needs_a_voting_rule():
    base = scenario_from_arrays([[0.0], [10.0]], [[1.0]] * 2, [1.0] * 2)
    with pytest.raises(ConfigError, match="protocol.consent.*scenario.voting"):
        ConsentRule.of("weighted", [], 0.5, base, "configs/protocol/offers.yaml")



def test_the_deal_gap_needs_only_a_winning_coalition():
    """The voters accept z in [0, 20], [0, 60], [0, 80] (module's scenario); a3 also draws a red line at z >= 70.
    Unanimity: a1 and a3 are 50 points apart. Quota 3: a3 alone carries the offer (z in [70, 80]), no gap.
    Quota 6: every voter is needed again, the 50 points are back. A required actor is needed always."""
    from sim.kernels.deal_gap import scenario_deal_gap

    def lined(threshold):
        data = _scenario_to_dict(voting_scenario(threshold))
        data["voting"] = {"voters": ["a1", "a2", "a3"],
                          "quotas": {"votes": {"weights": {"a1": 1, "a2": 2, "a3": 3}, "threshold": threshold}}}
        data["actors"]["a3"]["red_lines"] = {"i0": {"min": 70}}
        return build_scenario(data, "test")

    assert scenario_deal_gap(lined(3.0)).gap == pytest.approx(50.0)  # unanimity (the default)
    for threshold, gap in ((3.0, 0.0), (6.0, 50.0)):
        scenario = lined(threshold)
        consent = ConsentRule.of("weighted", [], 0.5, scenario, "test").gap_consent()
        assert consent.mode == "weighted" and not consent.principal.any()
        assert scenario_deal_gap(scenario, consent).gap == pytest.approx(gap), threshold
    required = ConsentRule.of("weighted", [], 0.5, voting_scenario(3.0, required=["a1"]), "test").gap_consent()
    assert list(required.principal) == [False, True, False, False]
