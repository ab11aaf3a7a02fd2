"""Sobol indices on a protocol that draws random numbers (offers with belief noise): one replicate per
design point lets seed noise pass for the parameters' effects and inflates the total indices; the mean of
several replicates per point does not, and the analysis says how much of the variance is seed noise.

The design has one parameter that moves the output (West's ideal point on channels) and one that cannot:
the majority quota, which the unanimity rule never reads. Its true total index is 0."""

from __future__ import annotations

import warnings

import pytest

from sim.analysis.sensitivity import seed_noise, settings_draw, sobol_indices
from sim.runs.design import spec_from_config

from tests.support.sweeps import base, sweep

OVERRIDES = ("scenario=classroom/warmup_two_by_two", "protocol=offers", "protocol.belief_noise=0.1", "rounds=10")
SPEC = {"name": "noisy", "design": "sobol", "samples": 16, "replicates": 8, "seed": 3, "shard_size": 1000,
        "outputs": ["bundle_missiles"],
        "parameters": {"scenario.actors.west.position.channels": {"low": 30, "high": 100},
                       "protocol.quota": {"low": 0.1, "high": 0.9}}}  # inert under unanimity
INERT = "protocol_quota"


@pytest.fixture(scope="module")
def noisy(tmp_path_factory):
    folder = tmp_path_factory.mktemp("noisy")
    return folder, sweep(folder, SPEC, overrides=OVERRIDES)


def totals(runs, spec):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SALib's note on constant subsets
        return sobol_indices(runs, spec, "bundle_missiles").set_index("parameter")["ST"]


def test_one_replicate_inflates_the_totals_and_the_mean_of_replicates_does_not(noisy):
    _, runs = noisy
    spec = spec_from_config(SPEC)
    one = runs[runs["replicate"] == 0]  # the same design with one run per point
    single, averaged = totals(one, spec), totals(runs, spec)
    assert single[INERT] > 0.4, single  # noise passes for an effect of a parameter nobody reads
    assert averaged[INERT] < 0.25 and averaged[INERT] < single[INERT] / 2, (single, averaged)
    noise = seed_noise(runs, spec, "bundle_missiles", draws=True)
    assert 0.3 < noise.run_share < 0.9 and noise.analysed_share < 0.2, noise  # most of a run's variance is noise
    assert not noise.notes() and "8 replicates averaged per point" in noise.line()
    warned = seed_noise(one, spec, "bundle_missiles", draws=True).notes()
    assert len(warned) == 1 and "one run" in warned[0] and "sweep.replicates" in warned[0]


def test_the_analysis_knows_which_settings_draw():
    spec = spec_from_config(SPEC)
    assert settings_draw(base(OVERRIDES), spec)
    exact = spec_from_config({**SPEC, "parameters": {"scenario.actors.west.position.channels": {"low": 30, "high": 100}}})
    assert not settings_draw(base(("scenario=classroom/warmup_two_by_two", "protocol=offers")), exact)
    assert settings_draw(base(("scenario=classroom/warmup_two_by_two", "protocol=offers")), spec_from_config(
        {**SPEC, "parameters": {"protocol.belief_noise": {"low": 0.0, "high": 0.2}}}))  # swept noise draws
    assert not settings_draw(base(("scenario=jan2022_core", "protocol=exchange")), exact)


def test_the_noise_share_and_its_warning_are_in_the_summary(noisy, tmp_path, capsys):
    from sim.report.sweep_report import plot_sweep

    folder, _ = noisy
    plot_sweep(folder)
    summary = (folder / "summary.md").read_text()
    assert "## Sobol indices" in summary and "8 replicates averaged per point" in summary
    assert "note: sobol bundle_missiles: seed noise:" in capsys.readouterr().err
    assert (folder / "sobol_bundle_missiles.csv").exists()
    # only the inert parameter swept: whatever varies is seed noise, and the analysis says so
    inert = {**SPEC, "samples": 4, "replicates": 4, "parameters": {"protocol.quota": {"low": 0.1, "high": 0.9}}}
    sweep(tmp_path, inert, overrides=OVERRIDES)
    noise = seed_noise(__import__("pandas").read_parquet(tmp_path / "runs.parquet"), spec_from_config(inert),
                       "bundle_missiles", draws=True)
    assert noise.analysed_share >= 0.5, noise
    plot_sweep(tmp_path)
    assert "warning: sobol bundle_missiles: seed noise dominates" in capsys.readouterr().err
    assert "seed noise dominates" in (tmp_path / "summary.md").read_text()
