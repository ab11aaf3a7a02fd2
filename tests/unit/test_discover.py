"""Scenario discovery (sim/analysis/discovery.py, experiments/discover.py, docs/how-to/discover.md): PRIM
finds a planted box; the command (in this process) refuses bad input in one line, exit 2. The command
run as a user runs it: tests/integration/test_discover_cli.py."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.domain.errors import ConfigError
from sim.analysis.discovery import Outcome, choose, discover, in_box, outcome_flags, parse_outcome

from tests.support.sweeps import planted_sweep_folder


def planted(n: int = 2000, noise: float = 0.01, seed: int = 5) -> tuple[pd.DataFrame, np.ndarray]:
    """Five parameters (one categorical); the runs of interest are 1 < a < 3, b < 0, protocol != eu, with a
    share ``noise`` of the labels flipped."""
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({"a": rng.uniform(0, 4, n), "b": rng.uniform(-1, 1, n), "c": rng.random(n),
                      "d": rng.uniform(10, 20, n), "protocol": rng.choice(["eu", "offers", "exchange"], n)})
    inside = ((x["a"] > 1) & (x["a"] < 3) & (x["b"] < 0) & (x["protocol"] != "eu")).to_numpy()
    flip = rng.random(n) < noise
    return x, inside ^ flip


def test_prim_finds_a_planted_box_with_coverage_and_density_of_at_least_0_9():
    x, flags = planted()
    result = discover(x, flags, Outcome("agreement"), boxes=1)
    box = result.boxes[0]
    assert box.stats["coverage"] >= 0.9 and box.stats["density"] >= 0.9, box.stats
    limits = box.limits.set_index("parameter")
    assert set(limits.index) == {"a", "b", "protocol"}  # c and d do not matter and are left free
    assert limits.loc["a", "low"] == pytest.approx(1, abs=0.1) and limits.loc["a", "high"] == pytest.approx(3, abs=0.1)
    assert limits.loc["b", "high"] == pytest.approx(0, abs=0.05)
    assert limits.loc["protocol", "values"] == "exchange, offers"
    # the reported statistics are those of the runs the limits select
    inside = in_box(x, box.limits)
    assert inside.sum() == box.stats["n"] and flags[inside].sum() == box.stats["k"]
    assert flags[inside].mean() == pytest.approx(box.stats["density"])
    assert flags[inside].sum() / flags.sum() == pytest.approx(box.stats["coverage"])
    table = result.table()
    assert list(table["parameter"]) == list(box.limits["parameter"]) and (table["box"] == 1).all()


def test_no_structure_no_box():
    rng = np.random.default_rng(0)
    x = pd.DataFrame({"a": rng.random(600), "b": rng.random(600)})
    flags = rng.random(600) < 0.3
    result = discover(x, flags, Outcome("agreement"), boxes=2)
    assert all(b.stats["density"] < 0.7 for b in result.boxes)  # noise gives no dense box


def test_the_chosen_box_balances_coverage_and_density_among_those_that_cover_enough():
    trajectory = pd.DataFrame({"coverage": [1.0, 0.95, 0.85, 0.7, 0.5], "density": [0.2, 0.4, 0.8, 0.9, 1.0]})
    # harmonic means 0.33, 0.56, 0.82, 0.79, 0.67
    assert choose(trajectory, 0.5) == 2 and choose(trajectory, 0.9) == 1 and choose(trajectory, 1.0) == 0
    assert choose(trajectory.assign(coverage=0.1), 0.5) == 0  # none covers enough: the whole space


@pytest.mark.parametrize("text, expected", [
    ("agreement", Outcome("agreement")),
    ("bargaining_range>0", Outcome("bargaining_range", ">", 0.0)),
    (" outcome_enlargement <= 25 ", Outcome("outcome_enlargement", "<=", 25.0)),
    ("rounds==-1.5", Outcome("rounds", "==", -1.5)),
])
def test_outcomes_parse(text, expected):
    assert parse_outcome(text) == expected


@pytest.mark.parametrize("text", ["", "agreement>", "a > b", "1x", "agreement=>1"])
def test_a_bad_outcome_names_the_key(text):
    with pytest.raises(ConfigError, match="outcome"):
        parse_outcome(text)


def test_outcome_flags_threshold_missing_values_and_errors():
    runs = pd.DataFrame({"agreement": [True, False, True], "range": [0.0, 0.2, np.nan], "cause": ["a", "b", "c"]})
    assert outcome_flags(runs, parse_outcome("range>0"), "f").tolist() == [False, True, False]
    assert outcome_flags(runs, parse_outcome("agreement"), "f").tolist() == [True, False, True]
    with pytest.raises(ConfigError, match="range: is not yes/no"):
        outcome_flags(runs, parse_outcome("range"), "f")
    with pytest.raises(ConfigError, match="cause: is not numeric"):
        outcome_flags(runs, parse_outcome("cause>1"), "f")
    with pytest.raises(ConfigError, match="range: range>1 is false in every one of the 3 runs"):
        outcome_flags(runs, parse_outcome("range>1"), "f")


# --------------------------------------------------------------------------------------------------
# The command on a sweep folder
# --------------------------------------------------------------------------------------------------


def one_line(capsys, argv: list[str]) -> str:
    from experiments.discover import main

    with pytest.raises(SystemExit) as exit_:
        main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert exit_.value.code == 2 and len(err) == 1, err
    return err[0]


def test_a_sweep_without_the_outcome_column_is_one_line(tmp_path, capsys):
    folder = planted_sweep_folder(tmp_path / "sweep")
    line = one_line(capsys, [str(folder), "outcome=walkouts"])
    assert str(folder) in line and "walkouts" in line and "no such column" in line
    assert not (folder / "discover").exists()


def test_a_folder_that_is_not_a_sweep_is_one_line(tmp_path, capsys):
    line = one_line(capsys, [str(tmp_path), "outcome=agreement"])
    assert str(tmp_path) in line and "not a sweep folder" in line
    line = one_line(capsys, [str(tmp_path / "nowhere"), "outcome=agreement"])
    assert "nowhere" in line and "no such folder" in line


def test_a_constant_outcome_is_one_line(tmp_path, capsys):
    folder = planted_sweep_folder(tmp_path / "sweep", outcome="never")
    line = one_line(capsys, [str(folder), "outcome=agreement"])
    assert str(folder) in line and "agreement" in line and "false in every one of the 400 runs" in line
    assert not (folder / "discover").exists()


@pytest.mark.parametrize("argument, words", [
    ("boxes=0", "boxes"), ("min_coverage=1.5", "min_coverage"), ("colour=red", "unknown option"),
    ("parameters=[rounds]", "not a swept parameter"), ("figures.format=gif", "figures.format"),
])
def test_bad_options_are_one_line(tmp_path, capsys, argument, words):
    folder = planted_sweep_folder(tmp_path / "sweep")
    assert words in one_line(capsys, [str(folder), argument])


def test_the_figures_name_their_axes_and_mark_the_box():
    from sim.report import plots

    x, flags = planted(n=400)
    result = discover(x, flags, Outcome("agreement"))
    box = result.boxes[0]
    names = {"a": "a (units)", "b": "b (units)", "protocol": "protocol"}
    pairs = plots.box_pairs_figure(x, flags, box.limits, names=names, outcome="agreement",
                                   categories={k: list(v) for k, v in result.categories.items()}, caption="test")
    axes = [ax for ax in pairs.axes if ax.get_visible()]
    assert len(axes) == 6  # three restricted parameters: 3 diagonal + 3 pair panels
    assert {ax.get_xlabel() for ax in axes} >= {"a (units)", "b (units)", "protocol"}
    protocol_ticks = [t.get_text() for t in axes[-1].get_xticklabels()]
    assert protocol_ticks == ["eu", "exchange", "offers"]
    peeling = plots.peeling_figure(result.trajectories(), base_rate=result.base_rate, outcome="agreement")
    ax = peeling.axes[0]
    assert ax.get_xlabel().startswith("coverage") and ax.get_ylabel().startswith("density")
    assert "chosen box" in [t.get_text() for legend in peeling.legends for t in legend.get_texts()]  # below the panels
