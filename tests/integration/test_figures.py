"""Publication figures: readable labels (never a raw column name), captions, proportions with
binomial intervals, integer rounds, every actor in utility space, categorical heatmaps, re-plotting.
Checked on the Matplotlib artists, not on pixels."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

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
from tests.support.pdf import font_subtypes, page_size, text_scales, text_sizes
from tests.support.sweeps import sweep as run_sweep


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
    assert figure.get_suptitle() == ""  # run details go to captions.md beside the figure (plots.save) ...
    assert figure.sim_caption == "jan2022 · protocol eu"
    with plots.layout(details=True):  # ... and into the figure for slides (figures.details=true)
        figure = plots.positions_figure(eu_run.rounds, eu_run.issues, labels=labels, caption="jan2022 · protocol eu")
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
    broke = compared.runs.assign(agreement=False, breakdown_cause="not_individually_rational:russia")
    shown = assert_readable(plots.comparison_figure(broke, compared.issues, labels=labels, caption="x"), forbidden)
    assert any("worse than no deal for Russia" in t for t in shown)  # the cause in words, by the actor's name
    assert not any(re.search(r"[a-z]+_[a-z_]+:[a-z]", t) for t in shown), shown  # never a cause code


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
    ("figures.width=wide", "figures.width: 'wide'; allowed: single (3.5 in), double (7.2 in) or inches from 2 to 20"),
    ("figures.width=0.5", "figures.width"),
    ("figures.details=maybe", "figures.details: 'maybe'; allowed: true, false"),
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


# ---- figures a journal accepts: drawn at their final width, TrueType fonts, run details in captions.md ----
SINGLE = plots.WIDTHS["single"]
#: What PDF fonts a journal takes: TrueType, embedded whole (TrueType) or as a CID font (Type0 over CIDFontType2).
TRUETYPE = {"TrueType", "Type0", "CIDFontType2"}


def assert_fits(figure, width: float = SINGLE) -> None:
    """At its final width: no text under 7 pt, nothing past the figure's edges (it is saved uncropped)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    assert figure.get_figwidth() == pytest.approx(width)
    small = [(t.get_text(), t.get_fontsize()) for t in figure.findobj(matplotlib.text.Text)
             if t.get_visible() and t.get_text().strip() and t.get_fontsize() < plots.MIN_TEXT]
    assert not small, small
    drawn = figure.get_tightbbox(canvas.get_renderer())  # inches
    assert drawn.x0 >= -0.02 and drawn.y0 >= -0.02, drawn
    assert drawn.x1 <= width + 0.02 and drawn.y1 <= figure.get_figheight() + 0.02, drawn


def assert_journal_pdf(path: Path, width: float = SINGLE) -> None:
    """Read from the file: only TrueType fonts, every text run at 7 pt or more, unscaled, on a page as wide as asked."""
    fonts = font_subtypes(path)
    assert fonts and fonts <= TRUETYPE and "Type3" not in fonts, (path.name, fonts)
    sizes = text_sizes(path)
    assert sizes and min(sizes) >= plots.MIN_TEXT, (path.name, sorted(set(sizes)))
    assert all(scale == pytest.approx(1.0) for scale in text_scales(path)), path.name
    assert page_size(path)[0] == pytest.approx(width * 72, abs=0.5), (path.name, page_size(path))


@pytest.fixture(scope="module")
def index_sweeps(tmp_path_factory):
    """A small Sobol and a small Morris sweep folder (offers, belief noise, two parameters)."""
    folders = {}
    for design, samples in (("sobol", 4), ("morris", 2)):
        folder = tmp_path_factory.mktemp(design)
        run_sweep(folder, {"name": design, "design": design, "samples": samples, "replicates": 2, "seed": 1,
                           "outputs": ["bundle_missiles", "utility_east"],
                           "parameters": {"scenario.actors.west.position.channels": {"low": 30, "high": 100},
                                          "scenario.actors.east.salience.missiles": {"low": 0.5, "high": 0.9}}},
                  overrides=("scenario=classroom/warmup_two_by_two", "protocol=offers", "protocol.belief_noise=0.05",
                             "rounds=6"))
        folders[design] = folder
    return folders


@pytest.mark.subprocess
def test_replot_at_a_column_width_writes_pdfs_with_truetype_fonts_and_no_text_under_7pt(small_sweep, index_sweeps):
    for folder in (small_sweep, *index_sweeps.values()):
        done = plot_cli(str(folder), "figures.format=pdf", "figures.width=single")
        assert done.returncode == 0, done.stderr
        pdfs = [Path(line) for line in done.stdout.splitlines() if line.endswith(".pdf")]
        assert pdfs, done.stdout
        for pdf in pdfs:
            assert_journal_pdf(pdf)
        captions = (folder / "figures" / "captions.md").read_text()
        for pdf in pdfs:  # run details beside the figure, not in it
            assert f"## {pdf.name}" in captions
        assert "n = " in captions and "master seed" in captions
    names = {p.name for p in (index_sweeps["sobol"] / "figures").glob("*.pdf")}
    assert {"sobol_bundle_missiles.pdf", "sobol_utility_east.pdf"} <= names


@pytest.mark.slow  # about 35 s on a busy machine: every figure is laid out several times
def test_every_sweep_and_run_figure_fits_a_column(small_sweep, index_sweeps, compared, monkeypatch, tmp_path):
    """The figures as built, before saving: their Text artists at their final size."""
    from sim.report.run_report import write_figures
    from sim.report.sweep_report import plot_sweep

    saved, save = [], plots.save

    def checked(figure, path, *args, **kwargs):
        assert_fits(figure)
        saved.append(Path(path).name)
        return save(figure, path, *args, **kwargs)

    monkeypatch.setattr(plots, "save", checked)
    for folder in (small_sweep, *index_sweeps.values()):
        plot_sweep(folder, {"figures.width": "single"})
    written = write_figures(compared, tmp_path / "run", "pdf", 72, SINGLE)
    assert {"agreement_heatmap", "distributions_by_protocol", "sobol_utility_east", "morris_utility_east",
            "positions_eu", "offers_offers", "utility_space", "comparison", "deal_gap"} <= set(saved)
    for pdf in written:
        assert_journal_pdf(pdf)


def test_svg_keeps_text_as_text_and_run_details_only_on_request(sweep_runs, tmp_path):
    with plots.layout(SINGLE):
        figure = plots.distributions_figure(sweep_runs, "protocol", ["agreement"], caption="jan2022 · n = 90 runs")
    svg = plots.save(figure, tmp_path / "plain.svg").read_text()
    assert "<text" in svg and "share of runs" in svg and "n = 90 runs" not in svg
    assert "n = 90 runs" in (tmp_path / "captions.md").read_text()
    with plots.layout(SINGLE, details=True):
        figure = plots.distributions_figure(sweep_runs, "protocol", ["agreement"], caption="jan2022 · n = 90 runs")
    assert "n = 90 runs" in plots.save(figure, tmp_path / "slides.svg").read_text()


def test_titles_name_the_output_in_words():
    labels = Labels(issues={"enlargement": "NATO enlargement (Ukraine, Georgia)"}, actors={"russia": "Russia"})
    indices = pd.DataFrame({"parameter": ["scenario.actors.russia.salience.enlargement"], "S1": [0.5],
                            "S1_conf": [0.1], "ST": [0.6], "ST_conf": [0.1]})
    title = plots.sobol_figure(indices, "bundle_enlargement", labels=labels).axes[0].get_title()
    assert title.replace("\n", " ") == "Sobol indices of the bundle on the table on NATO enlargement"
    assert labels.phrase("utility_russia") == "the utility of Russia"


def test_the_predictive_check_draws_each_issue_on_its_own_scale():
    """A stockpile in kg (0-10 000) and enrichment in % (0-20) beside a 0-100 issue; an issue with no
    simulated or observed position gets no panel."""
    scales = {"stockpile": (0.0, 10000.0, "kg"), "enrichment": (0.0, 20.0, "%"), "sanctions": (0.0, 100.0, "")}
    rounds = pd.DataFrame([{"draw": d, "round": r, "actor": "iran", "issue": issue, "position": value + d + r}
                           for d in range(3) for r in range(3)
                           for issue, value in (("stockpile", 8000.0), ("enrichment", 3.67), ("sanctions", 40.0))])
    observed = pd.DataFrame([{"round": 2, "actor": "iran", "issue": i, "position": v}
                             for i, v in (("stockpile", 7500.0), ("enrichment", 3.67), ("sanctions", 50.0))])
    labels = Labels(actors={"iran": "Iran"}, scales=scales)
    figure = plots.predictive_figure(rounds, observed, ["stockpile", "enrichment", "sanctions", "inspections"], 2,
                                     labels=labels)
    panels = {ax.get_title(): ax for ax in figure.axes if ax.get_visible()}
    assert set(panels) == {"stockpile", "enrichment", "sanctions"}  # no empty panel for inspections
    for issue, (lower, upper, unit) in scales.items():
        low, high = panels[issue].get_ylim()
        assert low <= lower and high >= upper and high - low <= 1.2 * (upper - lower), (issue, low, high)
        assert panels[issue].get_ylabel() == (f"position ({unit})" if unit else "position")
