"""Prior against posterior (sim/runs/calibration_diagnostics.py) on posteriors made by hand: the prior itself,
the prior cut at a threshold, a posterior piled against a bound, an informed one; the step of an acceptance
profile; and, with real simulations, the walk-out threshold of Russia's optimism on jan2022_no_red_lines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.runs import calibration
from sim.runs import calibration_diagnostics as diagnostics

SPEC = calibration.spec_from_config({"parameters": {
    "a.uniform": {"low": 0.0, "high": 10.0},
    "a.log": {"prior": "loguniform", "low": 0.1, "high": 10.0}}}, "test")
UNIFORM, LOG = SPEC.parameters


def posterior(values: dict[str, np.ndarray]) -> pd.DataFrame:
    n = len(next(iter(values.values())))
    return pd.DataFrame({**{p.column: values[p.key] for p in SPEC.parameters}, "weight": np.full(n, 1.0 / n)})


def by_key(found):
    return {d.parameter: d for d in found}


def test_the_prior_scale_and_sd():
    assert diagnostics.to_unit(LOG, [0.1, 1.0, 10.0]) == pytest.approx([0.0, 0.5, 1.0])
    assert diagnostics.from_unit(UNIFORM, [0.25]) == pytest.approx([2.5])
    assert diagnostics.prior_sd(UNIFORM) == pytest.approx(10 / 12 ** 0.5)
    draws = np.exp(np.random.default_rng(0).uniform(np.log(0.1), np.log(10.0), 400_000))
    assert diagnostics.prior_sd(LOG) == pytest.approx(draws.std(), rel=0.01)
    grid = np.linspace(0, 1, 101)
    assert diagnostics.ks_uniform(grid, np.ones(101)) < 0.01
    assert diagnostics.ks_uniform(grid * 0.5, np.ones(101)) == pytest.approx(0.5, abs=0.01)


def test_verdicts_from_the_particles_alone():
    rng = np.random.default_rng(1)
    n = 400
    # a.uniform is its prior; a.log is cut at 1 (the prior from there up: a threshold, but without a
    # simulation only its mass at the upper bound shows)
    found = by_key(diagnostics.diagnose(posterior({
        "a.uniform": rng.uniform(0, 10, n), "a.log": np.exp(rng.uniform(0.0, np.log(10.0), n))}), SPEC))
    prior = found["a.uniform"]
    assert prior.verdict == "prior" and prior.sd_ratio == pytest.approx(1.0, abs=0.08)
    assert prior.mass_low == pytest.approx(0.05, abs=0.03)
    assert "the posterior is the prior" in prior.warning() and "does not inform it" in prior.warning()
    cut = found["a.log"]
    assert cut.sd_ratio == pytest.approx(0.5, abs=0.05) and cut.mass_high == pytest.approx(0.1, abs=0.04)
    # piled against the lower bound; informed in the middle
    found = by_key(diagnostics.diagnose(posterior({
        "a.uniform": np.abs(rng.normal(0.0, 0.6, n)), "a.log": np.exp(rng.normal(0.0, 0.3, n))}), SPEC))
    piled = found["a.uniform"]
    assert piled.verdict == "bound" and piled.mass_low > 0.5
    assert piled.warning().startswith("warning: a.uniform: ") and "piled against the prior's lower bound" in piled.warning()
    informed = found["a.log"]
    assert informed.verdict == "informed" and informed.warning() is None and informed.sd_ratio < 0.3
    text = diagnostics.format_diagnostics(list(found.values()))
    assert text.startswith("prior vs posterior") and text.count("\nwarning: ") == 1


def test_a_step_in_the_acceptance_profile():
    plus = lambda text: np.array([c == "+" for c in text])  # noqa: E731 - a picture of the profile
    assert diagnostics.step(plus("......+++++")) == ("above", 5)
    assert diagnostics.step(plus("+++........")) == ("below", 2)
    assert diagnostics.step(plus(".....+.++++++++")) == ("above", 4)  # one stray point in fifteen
    assert diagnostics.step(plus("+++++++++++")) is None  # every value fits: no threshold
    assert diagnostics.step(plus("...........")) is None
    assert diagnostics.step(plus("+..........")) is None  # one point is not a side
    assert diagnostics.step(plus("...+++++...")) is None  # an interval, not a threshold


def test_the_walkout_threshold_of_russias_optimism_is_located_by_simulation():
    """jan2022 without its rules, offers in turn, no belief noise, cost of war 0: Russia walks out in round 1
    exactly when its optimism passes a threshold; a posterior that is the prior cut there is called so."""
    from omegaconf import OmegaConf

    from sim.runs.configs import base_config, compose_config

    cfg = compose_config(["scenario=jan2022_no_red_lines", "protocol=offers", "rounds=3",
                          "scenario.actors.russia.outside_option.cost=0.0"])
    base = base_config(cfg, also=())
    assert OmegaConf.select(cfg, "observed.path")
    spec = calibration.spec_from_config({"seed": 1, "parameters": {
        "scenario.actors.russia.outside_option.optimism": {"low": 0.5, "high": 4.0}}}, "test")
    # walk-out in round 1: mae of no change + 5 x one round early = 6.54; at the deadline: 20 more
    cut = pd.DataFrame({spec.parameters[0].column: np.random.default_rng(2).uniform(2.3, 4.0, 200),
                        "weight": np.full(200, 1 / 200)})
    found, = diagnostics.diagnose(cut, spec, base, epsilon=8.0)
    assert found.verdict == "threshold" and found.side == "above"
    assert found.accepted.startswith("....") and found.accepted.endswith("++++")
    # the runs themselves: Russia walks out in round 1 just above the threshold, not just below it
    from sim.runs.runner import load_scenario, run

    for optimism, walks_out in ((found.threshold + 0.03, True), (found.threshold - 0.03, False)):
        scenario = load_scenario("jan2022_no_red_lines", {"actors.russia.outside_option.optimism": optimism,
                                                          "actors.russia.outside_option.cost": 0.0})
        row = run(scenario, protocol="offers", seed=0, rounds=3, record_rounds=False, record_events=False).runs.iloc[0]
        assert str(row["breakdown_cause"]).startswith("walkout:russia") == walks_out, (optimism, row["breakdown_cause"])
    line = found.warning()
    assert "the record identifies only a threshold" in line and f"optimism above {found.threshold:.3g}" in line
