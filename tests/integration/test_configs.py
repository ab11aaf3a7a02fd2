"""Every config composes and runs; registries match config files; the CLI fails cleanly (exit 2)."""

from __future__ import annotations

import subprocess

import pandas as pd
import pytest
from hydra import compose, initialize_config_dir

from sim.domain.config import CONFIG_DIR, register_configs
from sim.domain.errors import ConfigError
from sim.engine.protocols import PROTOCOLS
from sim.runs.runner import run_config
from sim.domain.strategies import STRATEGIES

from tests.support import experiment

register_configs()


def options(group: str) -> list[str]:
    root = CONFIG_DIR / group
    return sorted(str(p.relative_to(root).with_suffix("")) for p in root.rglob("*.yaml"))


def composed(overrides: list[str]):
    with initialize_config_dir(version_base="1.3", config_dir=str(CONFIG_DIR)):
        return compose(config_name="config", overrides=overrides)


def test_registries_match_config_files():
    assert set(options("protocol")) - {"all"} == set(PROTOCOLS)  # all = every protocol in turn
    assert set(options("strategy")) == set(STRATEGIES)
    for name in options("protocol"):
        assert composed([f"protocol={name}"]).protocol.name == name
    assert list(composed(["protocol=all"]).protocol.protocols) == sorted(PROTOCOLS, key=["eu", "offers", "exchange"].index)
    for name in options("strategy"):
        assert composed([f"strategy={name}"]).strategy.name == name


@pytest.mark.parametrize("scenario", [s for s in options("scenario") if s != "from_csv"])
@pytest.mark.parametrize("protocol", [p for p in options("protocol") if p != "all"])
def test_every_scenario_composes_and_runs_two_rounds(scenario, protocol):
    cfg = composed([f"scenario={scenario}", f"protocol={protocol}", "rounds=2", "seed=5"])
    if cfg.scenario.budget is not None and protocol != "offers":
        with pytest.raises(ConfigError, match="divisible pie"):
            run_config(cfg)
        return
    result = run_config(cfg)
    assert len(result.runs) == 1 and result.runs["rounds"].iloc[0] <= 2
    assert set(result.rounds["round"]) <= {0, 1, 2}


@pytest.mark.parametrize("strategy", options("strategy"))
def test_every_strategy_config_composes_and_runs(strategy):
    result = run_config(composed(["scenario=ec_emissions", f"strategy={strategy}", "rounds=2"]))
    assert len(result.runs) == 1


def test_csv_scenario_runs(tmp_path):
    csv = tmp_path / "deu.csv"
    csv.write_text("Issue,Actor,Capability,Position,Salience\n"
                   "a,X,1,10,0.9\na,Y,2,90,0.4\na,Z,1,60,0.5\na,Status Quo,,50,\n")
    result = run_config(composed(["scenario=from_csv", f"scenario.path={csv}", "rounds=2"]))
    assert result.scenario.id == "deu" and result.scenario.actor_ids == ("x", "y", "z")


def cli(*args: str) -> subprocess.CompletedProcess:
    return experiment("run", *args)


@pytest.mark.subprocess
def test_end_to_end_scholz_run_writes_the_results_folder(tmp_path):
    out = tmp_path / "run"
    done = cli("scenario=ec_emissions", "protocol=eu", "protocol.variant=scholz", "protocol.q=1",
               "seed=0", "rounds=3", f"hydra.run.dir={out}")
    assert done.returncode == 0, done.stderr
    for name in ("config.yaml", "manifest.json", "runs.parquet", "rounds.parquet", "events.parquet",
                 "figures/positions.png"):
        assert (out / name).exists(), name
    rounds = pd.read_parquet(out / "rounds.parquet")
    belgium = rounds[rounds["actor"] == "belgium"].set_index("round")["position"]
    assert [round(belgium[r], 5) for r in (1, 2, 3)] == [8.41593, 9.61086, 9.96198]
    assert "emission_standards" in done.stdout and str(out) in done.stdout
    again = tmp_path / "again"
    cli("scenario=ec_emissions", "protocol.variant=scholz", "protocol.q=1", "seed=0", "rounds=3",
        f"hydra.run.dir={again}")
    pd.testing.assert_frame_equal(rounds, pd.read_parquet(again / "rounds.parquet"))
    import json

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["completed"] is True and manifest["master_seed"] == 0
    assert manifest["packages"]["mesa"].startswith("3.5")


BAD_INPUTS = [
    (["scenario=ec_emissions", "scenario.actors.france.capability=-1"],
     "scenario.actors.france.capability"),
    (["scenario=ec_emissions", "scenario.actors.france.capability=abc"],
     "scenario.actors.france.capability"),
    (["scenario=ec_emissions", "scenario.actors.france.salience.emission_standards=1.5"],
     "salience.emission_standards"),
    (["scenario=ec_emissions", "scenario.actors.france.position.emission_standards=99"],
     "position.emission_standards"),
    (["scenario=ec_emissions", "scenario.actors.france.veto=[nothere]"], "veto"),
    (["scenario=ec_emissions", "scenario.actors.france.strategy=bogus"], "strategy"),
    (["protocol=bogus"], "allowed: all, eu, exchange, offers"),
    (["strategy=bogus"], "allowed: boulware"),
    (["scenario=atlantis"], "allowed:"),
    (["scenario=ec_emissions", "protocol.variant=nope"], "protocol.variant"),
    (["scenario=ec_emissions", "scenario.bogus=1"], "scenario.bogus"),
    (["scenario=ec_emissions", "+scenario.actors.france.colour=red"], "colour"),
    (["scenario=ec_emissions", "seed=x"], "seed"),
    (["scenario=ec_emissions", "strategy.exponent=-1"], "strategy.exponent"),
    (["scenario=ec_emissions", "scenario.budget.total=3"], "null"),
    (["scenario=ec_emissions", "protocol=offers", "protocol.consent=dictator"], "protocol.consent"),
    (["scenario=ec_emissions", "protocol=offers", "protocol.principals=[ghost]"], "protocol.principals"),
    (["scenario=ec_emissions", "protocol=exchange", "protocol.min_gain=-1"], "protocol.min_gain"),
]


@pytest.mark.subprocess
@pytest.mark.parametrize("overrides, key", BAD_INPUTS)
def test_bad_input_exits_2_with_one_line(tmp_path, overrides, key):
    done = cli(*overrides, f"hydra.run.dir={tmp_path / 'out'}")
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and key in lines[0], done.stderr
    assert not (tmp_path / "out" / "runs.parquet").exists()


@pytest.mark.subprocess
def test_bad_csv_exits_2_naming_file_and_key(tmp_path):
    csv = tmp_path / "bad.csv"
    csv.write_text("Actor,Capability,Position,Salience\nA,1,10,1.5\nB,1,90,0.5\nStatus Quo,,50,\n")
    done = cli("scenario=from_csv", f"scenario.path={csv}", f"hydra.run.dir={tmp_path / 'out'}")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and str(csv) in lines[0] and "Salience" in lines[0] and "1.5" in lines[0]


@pytest.mark.subprocess
def test_protocol_all_writes_the_comparison(tmp_path):
    out = tmp_path / "all"
    done = cli("scenario=jan2022_core", "protocol=all", "seed=3", f"hydra.run.dir={out}")
    assert done.returncode == 0, done.stderr
    comparison = pd.read_parquet(out / "comparison.parquet")
    assert list(comparison["protocol"]) == ["eu", "offers", "exchange"]
    for name in ("comparison.png", "utility_space.png", "offers_offers.png", "positions_eu.png"):
        assert (out / "figures" / name).exists(), name
    offers_line = next(line for line in done.stdout.splitlines() if line.strip().startswith("offers"))
    assert "agreement" in offers_line or "no agreement:" in offers_line
    assert "enlargement" in done.stdout


@pytest.mark.subprocess
def test_cli_prints_the_rubinstein_split(tmp_path):
    done = cli("scenario=pie_two", "protocol=offers", "scenario.actors.a.strategy=equilibrium",
               "scenario.actors.b.strategy=equilibrium", "scenario.actors.b.discount_factor=0.8",
               f"hydra.run.dir={tmp_path / 'pie'}")
    assert done.returncode == 0, done.stderr
    row = next(line for line in done.stdout.splitlines() if line.strip().startswith("share_a"))
    assert row.split()[-1] == "71.43"  # x1 = (1 - .8) / (1 - .9 * .8) = 0.71429
