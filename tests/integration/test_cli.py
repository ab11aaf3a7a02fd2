"""The command line a researcher meets: --help, own files by path, the plain BDM/DEU CSV."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.support import REPO, experiment as command

pytestmark = pytest.mark.subprocess  # every test runs a command

EXAMPLE_ACTORS = REPO / "tests" / "data" / "ExampleActors.csv"  # Actor,Capability,Position,Salience only


@pytest.mark.parametrize("module, examples", [
    ("run", ["python -m experiments.run scenario=jan2022", "scenario=my_data.csv"]),
    ("sweep", ["python -m experiments.sweep sweep=russia_resolve", "sweep=my_sweep.yaml"]),
])
def test_help_is_short_names_the_command_and_gives_examples(module, examples):
    done = command(module, "--help")
    lines = done.stdout.splitlines()
    assert done.returncode == 0 and lines[0].startswith(f"usage: python -m experiments.{module}")
    assert len(lines) < 40, len(lines)
    assert "Examples:" in done.stdout and all(e in done.stdout for e in examples)
    assert "scenario:\n" not in done.stdout and "_self_" not in done.stdout  # no config dump
    assert "--cfg job" in done.stdout


def test_plain_bdm_csv_runs_under_eu_by_path(tmp_path):
    done = command("run", f"scenario={EXAMPLE_ACTORS}", "protocol=eu", "rounds=10",
                   f"hydra.run.dir={tmp_path / 'out'}")
    assert done.returncode == 0, done.stderr
    runs = pd.read_parquet(tmp_path / "out" / "runs.parquet")
    assert runs["protocol"].iloc[0] == "eu" and bool(runs["agreement"].iloc[0])
    assert runs["outcome_exampleactors"].iloc[0] == pytest.approx(7.0)  # BDM 1994's forecast, 7 years


@pytest.mark.parametrize("protocol", ["offers", "all"])
def test_bundle_protocols_say_in_one_line_that_they_need_a_status_quo(tmp_path, protocol):
    done = command("run", f"scenario={EXAMPLE_ACTORS}", f"protocol={protocol}", "rounds=2",
                   f"hydra.run.dir={tmp_path / 'out'}")
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1, done.stderr
    assert "ExampleActors.csv" in lines[0] and "scenario.status_quo.exampleactors" in lines[0]
    assert "needs a status quo" in lines[0] and "protocol=eu" in lines[0]


def test_own_yaml_scenario_and_sweep_by_path(tmp_path):
    scenario = tmp_path / "my_pie.yaml"
    scenario.write_text((REPO / "configs" / "scenario" / "pie_two.yaml").read_text())
    done = command("run", f"scenario={scenario}", "protocol=offers", "strategy=equilibrium",
                   f"hydra.run.dir={tmp_path / 'run'}")
    assert done.returncode == 0, done.stderr
    assert pd.read_parquet(tmp_path / "run" / "runs.parquet")["scenario"].iloc[0] == "pie_two"
    sweep = tmp_path / "my_sweep.yaml"
    sweep.write_text((REPO / "configs" / "sweep" / "smoke.yaml").read_text())
    done = command("sweep", f"sweep={sweep}", f"sweep.out={tmp_path / 'sweep'}", "sweep.progress=false",
                   "sweep.replicates=1")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "sweep" / "runs.parquet").exists()


@pytest.mark.parametrize("argument, words", [
    ("scenario=nowhere/my.yaml", "no such file"),
    ("scenario=data.txt/", "must end in .yaml or .csv"),
    ("sweep=data.csv", "must end in .yaml"),
])
def test_bad_paths_are_one_line(tmp_path, argument, words):
    done = command("run", argument, f"hydra.run.dir={tmp_path / 'out'}")
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and words in lines[0], done.stderr


def test_reproduce_leads_with_the_config_then_counts_per_table(tmp_path):
    out = tmp_path / "run"
    done = command("run", "scenario=ec_emissions", "protocol.variant=scholz", "protocol.q=1", "rounds=3",
                   f"hydra.run.dir={out}")
    assert done.returncode == 0, done.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["command"] == ("python -m experiments.run scenario=ec_emissions protocol.variant=scholz "
                                   f"protocol.q=1 rounds=3 hydra.run.dir={out}")
    same = command("reproduce", str(out))
    lines = same.stdout.splitlines()
    assert same.returncode == 0 and lines[0] == "config.yaml: unchanged since the run"
    assert "runs.parquet: 1 row, identical" in lines and lines[-1] == "reproduced: identical"
    config = out / "config.yaml"
    config.write_text(config.read_text().replace("capability: 0.08", "capability: 0.3", 1))
    changed = command("reproduce", str(out))
    lines = changed.stdout.splitlines()
    assert changed.returncode == 1
    assert lines[0].startswith("config.yaml: CHANGED since the run: 1 key: scenario.actors.")
    assert "capability (saved 0.08, now 0.3)" in lines[0]
    assert "runs.parquet: 1 of 1 rows differ" in lines
    assert lines[-1].startswith("not reproduced:")
