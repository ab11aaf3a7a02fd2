"""The deal gap (sim/kernels/deal_gap.py) against closed forms: when does a bundle exist that every needed actor
accepts, and what is the least relaxation of the declared rules that opens one."""

from __future__ import annotations

import numpy as np
import pytest

from sim.domain.scenario import scenario_from_config
from sim.kernels.deal_gap import Consent, deal_gap
from sim.kernels.programs import value_model
from sim.kernels.utility import disagreement_values


def two_on_one_issue(a: dict | None = None, b: dict | None = None, rules: dict | None = None, risk: float = 1.0):
    """Actor a at 0, actor b at 100 on one issue (status quo 50); extra actor keys in ``a``/``b``."""
    actors = {"a": {"capability": 1.0, "position": {"x": 0.0}, "salience": {"x": 1.0}, "risk_exponent": risk, **(a or {})},
              "b": {"capability": 1.0, "position": {"x": 100.0}, "salience": {"x": 1.0}, "risk_exponent": risk,
                    **(b or {})}}
    return scenario_from_config({"id": "t", "issues": {"x": {"label": "x", "status_quo": 50.0}}, "actors": actors,
                                 "rules": {"red_lines": True, "package": True, **(rules or {})}})


def gap_of(scenario, consent=Consent()):
    return deal_gap(scenario, value_model(scenario), disagreement_values(scenario), consent)


def test_crossed_red_lines_need_their_distance_and_either_line_opens_the_deal():
    anything = {"kind": "reservation", "value": 0.0}  # any bundle beats no deal: only the red lines bind
    s = two_on_one_issue(a={"red_lines": {"x": {"max": 40}}, "outside_option": anything},
                         b={"red_lines": {"x": {"min": 60}}, "outside_option": anything})
    gap = gap_of(s)
    assert gap.gap == pytest.approx(20.0)
    assert {r.rules for r in gap.relaxations[:2]} == {("a.red_line.x",), ("b.red_line.x",)}
    move = gap.relaxations[0].moves[0]
    assert abs(move.relaxed - move.declared) == pytest.approx(20.0)


def test_red_lines_bind_nothing_when_switched_off_and_outside_options_then_decide():
    lines = dict(a={"red_lines": {"x": {"max": 40}}}, b={"red_lines": {"x": {"min": 60}}})
    assert gap_of(two_on_one_issue(**lines, rules={"red_lines": False})).ranges["a"] == pytest.approx((0.5, 0.5))
    # with the lines on, the status quo outside options (only z = 50 gives both 0.5) need both lines moved to 50
    gap = gap_of(two_on_one_issue(**lines))
    assert gap.gap == pytest.approx(20.0) and gap.relaxations[0].rules == ("a.red_line.x", "b.red_line.x")


def test_outside_options_above_every_split_cost_their_sum_in_points():
    # u_a = 1 - z/100 >= 0.7 needs z <= 30; u_b = z/100 >= 0.7 needs z >= 70: 0.4 of utility short = 40 points
    s = two_on_one_issue(a={"outside_option": {"kind": "reservation", "value": 0.7}},
                         b={"outside_option": {"kind": "reservation", "value": 0.7}})
    gap = gap_of(s)
    assert gap.gap == pytest.approx(40.0)
    assert set(gap.relaxations[0].rules) <= {"a.outside_option", "b.outside_option"}


def test_a_single_acceptable_bundle_gives_zero_width_ranges():
    s = two_on_one_issue(a={"outside_option": {"kind": "reservation", "value": 0.5}},
                         b={"outside_option": {"kind": "reservation", "value": 0.5}})
    gap = gap_of(s)
    assert gap.feasible and gap.rules == ""
    assert gap.ranges["a"] == pytest.approx((0.5, 0.5)) and gap.ranges["b"] == pytest.approx((0.5, 0.5))


def test_ranges_span_the_acceptable_bundles():
    # status quo outside options (0.5 each) on one issue: only z = 50 is acceptable to both; with reservation
    # 0.3 each, z in [30, 70]: a's utility from 0.3 to 0.7
    s = two_on_one_issue(a={"outside_option": {"kind": "reservation", "value": 0.3}},
                         b={"outside_option": {"kind": "reservation", "value": 0.3}})
    assert gap_of(s).ranges["a"] == pytest.approx((0.3, 0.7))


def test_convex_losses_are_met_exactly_by_cuts():
    # rho = 2: u_a = 1 - (z/100)^2 >= 0.91 needs z <= 30; u_b = 1 - ((100-z)/100)^2 >= 0.91 needs z >= 70.
    # The least total shortfall over z in [30, 70] is at z = 50 (symmetric): 2 (0.25 - 0.09) = 0.32 -> 32 points
    s = two_on_one_issue(a={"outside_option": {"kind": "reservation", "value": 0.91}},
                         b={"outside_option": {"kind": "reservation", "value": 0.91}}, risk=2.0)
    gap = gap_of(s)
    assert gap.gap == pytest.approx(32.0, abs=1e-5)
    assert gap.relaxations[0].bundle[0] == pytest.approx(50.0, abs=0.5)  # the sum is flat (quadratic) at its minimum


def test_a_veto_holder_is_needed_only_when_its_issue_moves():
    # c forbids any move of y (red line at its status quo) and holds a veto on y only; a and b agree on x.
    issues = {"x": {"label": "x", "status_quo": 50.0}, "y": {"label": "y", "status_quo": 50.0}}
    actor = lambda x, y, **extra: {"capability": 1.0, "position": {"x": x, "y": y}, "salience": {"x": 1.0, "y": 1.0},
                                   **extra}
    s = scenario_from_config({"id": "v", "issues": issues, "rules": {"red_lines": True},
                              "actors": {"a": actor(80, 80), "b": actor(80, 80),
                                         "c": actor(0, 50, veto=["y"], red_lines={"y": {"min": 50, "max": 50},
                                                                                 "x": {"max": 10}})}})
    principals = np.array([True, True, False])
    assert gap_of(s, Consent("veto", principal=principals)).feasible  # y stays at 50: c is not asked
    assert gap_of(s).gap == pytest.approx(40.0)  # unanimity: c's line on x (10) vs a and b's sq 50 at least


def test_jan2022_gap_is_the_package_against_the_western_red_lines():
    """Not an input: Russia's package allows a weighted mean of 35; the West's red lines (enlargement >= 75,
    Ukraine military >= 50, force posture >= 50) hold that mean at (1.0*75 + 0.9*50 + 0.9*50) / 2.8 at least."""
    import sim

    s = sim.load_scenario("jan2022")
    gap = gap_of(s)
    assert gap.gap == pytest.approx((1.0 * 75 + 0.9 * 50 + 0.9 * 50) / 2.8 - 35)
    assert gap.rules == "russia.package"
    assert gap.relaxations[0].moves[0].relaxed == pytest.approx(165 / 2.8)
    assert len(gap.relaxations) > 1 and all(r.points >= gap.gap - 1e-9 for r in gap.relaxations)
    assert not any(set(gap.relaxations[0].rules) <= set(r.rules) for r in gap.relaxations[1:])
