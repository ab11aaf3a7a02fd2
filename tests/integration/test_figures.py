"""Publication figures: readable labels (never a raw column name), captions, proportions with
binomial intervals, integer rounds, every actor in utility space, categorical heatmaps, re-plotting.
Checked on the Matplotlib artists, not on pixels."""

from __future__ import annotations

import re
import subprocess

import matplotlib.text
import numpy as np
import pandas as pd
import pytest

import sim
from sim.report import plots
from sim.analysis.sensitivity import agreement_grid, utility_space
from sim.analysis.stats import binomial_interval
from sim.report.plots import Labels

from tests.support import experiment


def texts(figure) -> list[str]:
    """Every visible text of a figure: titles, axis labels, tick labels, legend entries, annotations."""
    figure.canvas.draw()  # tick labels exist only after a draw
    return [t.get_text() for t in figure.findobj(matplotlib.text.Text) if t.get_visible() and t.get_text()]


def raw_names(*tables: pd.DataFrame, extra: tuple[str, ...] = ()) -> set[str]:
    """Column names a reader should never see: snake_case columns of the tables and config keys."""
    return {c for t in tables for c in t.columns if "_" in c} | set(extra)


def assert_readable(figure, forbidden: set[str]) -> list[str]:
    shown = texts(figure)
    for text in shown:
        for name in forbidden:
            assert not re.search(rf"(?<![\w.]){re.escape(name)}(?![\w.])", text), f"raw name {name!r} in {text!r}"
    return shown


@pytest.fixture(scope="module")
def eu_run():
    return sim.run("jan2022", protocol="eu", seed=1, rounds=20)


@pytest.fixture(scope="module")
def compared():
    from sim.runs.result import combine
    from sim.runs.runner import run
    from sim.runs.spec import protocol_defaults

    # without the documented rules, so that offers are made and agreed (jan2022 itself breaks down at once)
    return combine([run("jan2022_no_red_lines", protocol=p, seed=3, protocol_params=protocol_defaults(p))
                    for p in ("eu", "offers", "exchange")])


def test_positions_figure_names_actors_levels_and_ends_with_integer_rounds(eu_run):
    labels = Labels.from_scenario(eu_run.scenario)
    figure = plots.positions_figure(eu_run.rounds, eu_run.issues, labels=labels, caption="jan2022 · protocol eu")
    shown = assert_readable(figure, raw_names(eu_run.rounds, eu_run.runs, eu_run.issues))
    assert "United States" in shown and "Russia" in shown  # actor names, not ids
    assert any(t.startswith("open door (75)") for t in shown)  # enlargement is discrete: level names
    panels = [ax for ax in figure.axes if ax.get_visible()]
    assert len(panels) == eu_run.scenario.n_issues
    for ax in panels:
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert all(float(t).is_integer() for t in ticks), ticks
        assert ax.get_ylim()[1] <= 105  # no head room for text drawn over the data
    assert figure.get_suptitle() == "jan2022 · protocol eu"


def test_utility_space_shows_every_actor(compared):
    labels = Labels.from_scenario(compared.scenario)
    outcomes = {r["protocol"]: np.array([r[f"outcome_{i}"] for i in compared.scenario.issue_ids])
                for _, r in compared.runs.iterrows()}
    space = utility_space(compared.scenario, compared.model.disagreement, outcomes, samples=256)
    figure = plots.utility_space_figure(space, labels=labels)
    panels = [ax for ax in figure.axes if ax.get_visible()]
    assert len(panels) == 6  # 4 actors: every pair
    names = {ax.get_xlabel() for ax in panels} | {ax.get_ylabel() for ax in panels}
    assert names == {f"utility of {a.name}" for a in compared.scenario.actors}
    assert_readable(figure, raw_names(compared.runs, space))


def test_utility_space_of_ten_actors_is_parallel_coordinates():
    result = sim.run("jan2022_extended", protocol="eu", seed=0, rounds=3)
    space = utility_space(result.scenario, result.model.disagreement, samples=128)
    figure = plots.utility_space_figure(space, labels=Labels.from_scenario(result.scenario))
    ax = figure.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == [a.name for a in result.scenario.actors]


def test_offers_and_comparison_figures_are_readable(compared):
    labels = Labels.from_scenario(compared.scenario)
    forbidden = raw_names(compared.runs, compared.events, compared.issues)
    offers = compared.events[compared.events["protocol"] == "offers"]
    shown = assert_readable(plots.offers_figure(offers, compared.issues, labels=labels), forbidden)
    assert any("(rejected)" in t or "(agreed)" in t for t in shown)
    assert_readable(plots.comparison_figure(compared.runs, compared.issues, caption="x"), forbidden)


@pytest.fixture(scope="module")
def sweep_runs():
    rng = np.random.default_rng(0)
    rows = []
    for protocol in ("eu", "offers", "exchange"):
        for scenario in ("jan2022", "jan2022_core"):
            for optimism in (0.5, 1.0, 2.0):
                for _ in range(5):
                    rows.append({"protocol": protocol, "scenario": scenario,
                                 "scenario_actors_russia_outside_option_optimism": optimism,
                                 "agreement": bool(rng.random() < 0.5), "outcome_enlargement": rng.uniform(0, 100)})
    return pd.DataFrame(rows)


KEY = "scenario.actors.russia.outside_option.optimism"
COLUMN = "scenario_actors_russia_outside_option_optimism"


def test_categorical_heatmap_keeps_the_design_order_and_names_its_axes(sweep_runs):
    labels = Labels(actors={"russia": "Russia"})
    grid = agreement_grid(sweep_runs, "protocol", "scenario")
    figure = plots.heatmap_figure(grid, "protocol", "scenario", labels=labels,
                                  categories={"protocol": ["eu", "offers", "exchange"]})
    ax = figure.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["eu", "offers", "exchange"]
    assert ax.get_xlabel() == "protocol" and ax.get_ylabel() == "scenario"
    mixed = plots.heatmap_figure(agreement_grid(sweep_runs, COLUMN, "protocol"), COLUMN, "protocol", labels=labels,
                                 x_label=labels.parameter(KEY))
    assert mixed.axes[0].get_xlabel() == "Russia: war optimism (× win probability)"
    assert_readable(mixed, {COLUMN, KEY})


def test_agreement_is_a_proportion_with_wilson_intervals_not_a_box(sweep_runs):
    figure = plots.distributions_figure(sweep_runs, "protocol", ["agreement", "outcome_enlargement"],
                                        labels=Labels(issues={"enlargement": "NATO enlargement (Ukraine)"}))
    agreement, outcome = figure.axes[:2]
    assert agreement.get_title() == "Agreement" and outcome.get_title() == "Outcome: NATO enlargement"
    assert len(agreement.containers) == 1  # one errorbar: points with intervals
    assert not agreement.patches and len(outcome.lines) > 0  # no box for a yes/no output
    assert agreement.get_ylim()[0] >= -0.05 and agreement.get_ylim()[1] <= 1.05
    assert_readable(figure, raw_names(sweep_runs))


def test_wilson_interval_stays_inside_zero_one():
    low, high = binomial_interval(np.array([0, 5, 10]), np.array([10, 10, 10]))
    assert low[0] == pytest.approx(0.0, abs=1e-12) and high[0] == pytest.approx(0.2775, abs=1e-3)
    assert low[1] == pytest.approx(0.2366, abs=1e-3) and high[1] == pytest.approx(0.7634, abs=1e-3)
    assert high[2] == pytest.approx(1.0) and 0.7 < low[2] < 0.73


def test_parameter_and_output_labels():
    labels = Labels(actors={"russia": "Russia", "usa": "United States"},
                    issues={"enlargement": "NATO enlargement (Ukraine, Georgia)"})
    assert labels.parameter("scenario.actors.usa.salience.enlargement") == "United States: salience on NATO enlargement"
    assert labels.parameter("scenario.actors.russia.outside_option.cost") == "Russia: cost of war (utility)"
    assert labels.parameter("protocol.belief_noise") == "belief noise (σ)"
    assert labels.output("utility_russia") == "utility of Russia"
    assert labels.output("outcome_enlargement") == "outcome: NATO enlargement"
    assert labels.value(0.30000000000000004) == "0.3" and labels.value("offers") == "offers"


@pytest.mark.parametrize("fmt", ["png", "pdf", "svg"])
def test_save_writes_the_format(tmp_path, fmt, sweep_runs):
    figure = plots.distributions_figure(sweep_runs, "protocol", ["agreement"])
    path = plots.save(figure, tmp_path / "figure.png", dpi=72, format=fmt)
    assert path.suffix == f".{fmt}" and path.stat().st_size > 1000
    assert path.read_bytes()[:4] == {"png": b"\x89PNG", "pdf": b"%PDF", "svg": b"<?xm"}[fmt]


def plot_cli(*args: str) -> subprocess.CompletedProcess:
    return experiment("plot", *args)


SMALL_SWEEP = f"""# @package _global_
defaults:
  - override /scenario: jan2022_core
  - override /protocol: offers
rounds: 10
sweep:
  name: small_resolve
  design: grid
  replicates: 2
  seed: 3
  parameters:
    {KEY}: {{low: 0.5, high: 4.0, steps: 3}}
    protocol: {{values: [offers, eu]}}
  outputs: [agreement, outcome_enlargement]
  heatmap: [{KEY}, protocol]
"""


@pytest.fixture(scope="module")
def small_sweep(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sweep")
    (folder / "small_resolve.yaml").write_text(SMALL_SWEEP)
    out = folder / "rr"
    done = experiment("sweep", f"sweep={folder / 'small_resolve.yaml'}", f"sweep.out={out}",
                      "sweep.progress=false")
    assert done.returncode == 0, done.stderr
    return out


@pytest.mark.subprocess
def test_sweep_heatmap_over_a_category_then_replot_with_other_axes(small_sweep):
    heatmap = small_sweep / "figures" / "agreement_heatmap.png"
    assert heatmap.exists()
    heatmap.unlink()
    done = plot_cli(str(small_sweep), f"plot.heatmap=[protocol,{KEY}]", "plot.output=outcome_enlargement",
                    "figures.format=svg")
    assert done.returncode == 0, done.stderr
    svg = (small_sweep / "figures" / "outcome_enlargement_heatmap.svg").read_text()
    assert "war optimism" in svg and COLUMN not in svg


@pytest.mark.subprocess
@pytest.mark.parametrize("argument, words", [
    ("plot.heatmap=[protocol,nothing]", "'nothing' is not a swept parameter"),
    ("plot.heatmap=[protocol]", "give two swept parameters"),
    ("figures.format=gif", "allowed: png, pdf, svg"),
    ("plot.colour=red", "unknown option"),
])
def test_replot_mistakes_are_one_line(small_sweep, argument, words):
    done = plot_cli(str(small_sweep), argument)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and words in lines[0], done.stderr


@pytest.mark.subprocess
def test_a_bad_heatmap_stops_the_sweep_before_any_run(tmp_path):
    done = experiment("sweep", "sweep=russia_resolve", f"sweep.out={tmp_path / 'rr'}",
                      "sweep.heatmap=[protocol,rounds]")
    assert done.returncode == 2 and "sweep.heatmap" in done.stderr, done.stderr
    assert not (tmp_path / "rr" / "shards").exists()
