"""A user's own scenario, observed record, sweep and calibration files, wherever they are (issue 23):

* ``observed=<path>`` (a record or an observed config) and ``observed.rounds=<mapping>``, which replaces the
  chosen config's mapping; the same inside a calibration or sweep file, paths relative to that file;
* paths with spaces and any Unicode, on the command line and inside files;
* a run (and a sweep, a calibration) copies its input files into its results folder with their hash, and ``reproduce`` re-runs from the
  copy from any directory, after the original moved; ``reproduce`` of a calibration folder;
* every bad input in the user's files names the user's file (never a shipped one, never a bare config name);
* ``protocol=all``'s manifest lists the protocols it ran.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.support import REPO, experiment as command

pytestmark = pytest.mark.subprocess

JAN2022 = (REPO / "configs" / "scenario" / "jan2022.yaml").read_text()
RECORD = (REPO / "data" / "jan2022_observed.yaml").read_text()
CSV = (REPO / "tests" / "data" / "ExampleActors.csv").read_text()
QUICK = ("rounds=2", "record.figures=false")


def one_line(done: subprocess.CompletedProcess) -> str:
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    return lines[0]


def saved_config(folder: Path) -> dict:
    return yaml.safe_load((folder / "config.yaml").read_text())


# ---- observed records -----------------------------------------------------------------------------------
def test_observed_rounds_on_the_command_line_replace_the_default_mapping(tmp_path):
    done = command("run", *QUICK, "rounds=4", 'observed.rounds={1:"2022-02-17",4:"2022-02-24"}',
                   f"hydra.run.dir={tmp_path / 'out'}")
    assert done.returncode == 0, done.stderr
    assert saved_config(tmp_path / "out")["observed"]["rounds"] == {1: "2022-02-17", 4: "2022-02-24"}  # no round 2
    runs = pd.read_parquet(tmp_path / "out" / "runs.parquet")
    assert runs["score_end_round_error"].iloc[0] == abs(int(runs["rounds"].iloc[0]) - 4)  # the end date at round 4


def test_an_own_record_by_path_maps_its_dates_in_order_and_is_copied_with_its_hash(tmp_path):
    folder = tmp_path / "my récord"
    folder.mkdir()
    record = folder / "observed.yaml"
    record.write_text(RECORD.replace("force_posture: 70 ", "force_posture: 20 ", 1))
    done = command("run", *QUICK, f"observed={record}", f"hydra.run.dir={tmp_path / 'out'}")
    assert done.returncode == 0, done.stderr
    observed = saved_config(tmp_path / "out")["observed"]
    assert observed == {"path": str(record), "rounds": {1: "2022-02-17", 2: "2022-02-24"}}
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    entry = manifest["inputs"]["observed"]
    assert (tmp_path / "out" / entry["copy"]).read_text() == record.read_text()
    # the changed observation counts: the same run scored against the shipped record differs
    shipped = command("run", *QUICK, f"hydra.run.dir={tmp_path / 'shipped'}")
    mine, theirs = (pd.read_parquet(tmp_path / f / "runs.parquet") for f in ("out", "shipped"))
    assert mine["score_mae_force_posture"].iloc[0] != theirs["score_mae_force_posture"].iloc[0]


def test_a_calibration_file_names_its_scenario_and_record_relative_to_itself_and_reproduces(tmp_path):
    project = tmp_path / "projet à moi"
    (project / "cases").mkdir(parents=True)
    (project / "calib").mkdir()
    (project / "cases" / "cas.yaml").write_text(JAN2022.replace("id: jan2022", "id: mon_cas", 1))
    (project / "calib" / "obs.yaml").write_text(RECORD)
    calibration = yaml.safe_load((REPO / "configs" / "calibrate" / "jan2022_resolve.yaml").read_text())
    calibration["defaults"] = [{"override /scenario": "../cases/cas.yaml"}, {"override /protocol": "eu"},
                               {"override /observed": "obs.yaml"}]
    calibration["observed"] = {"rounds": {2: "2022-02-24"}}  # replaces the record's default {1: .., 2: ..}
    calibration["calibrate"].update(population=8, generations=1, predictive=3, replicates=1)
    calibration["sweep"]["workers"] = 1
    (project / "calib" / "mine.yaml").write_text("# @package _global_\n" + yaml.safe_dump(calibration))
    out = tmp_path / "out"
    done = command("calibrate", f"calibrate={project / 'calib' / 'mine.yaml'}", f"calibrate.out={out}",
                   cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    config = saved_config(out)
    assert config["scenario"]["id"] == "mon_cas"
    assert config["observed"] == {"path": str(project / "calib" / "obs.yaml"), "rounds": {2: "2022-02-24"}}
    moved = shutil.move(str(project), str(tmp_path / "elsewhere"))  # the originals are gone: the copies count
    again = command("reproduce", str(out), cwd="/")
    assert again.returncode == 0, again.stdout + again.stderr
    particles = len(pd.read_parquet(out / "posterior.parquet"))
    assert "pyabc's sampling is not re-run" in again.stdout
    assert f"{particles} of {particles} particles re-simulated): {particles} rows, identical" in again.stdout
    assert again.stdout.strip().endswith("reproduced: identical")
    # and it can fail: a particle whose recorded distance is not what its seeds give
    posterior = pd.read_parquet(out / "posterior.parquet")
    posterior.loc[0, "distance"] += 1.0
    posterior.to_parquet(out / "posterior.parquet")
    assert command("reproduce", str(out), cwd="/").returncode == 1
    assert Path(moved).exists()


def test_a_csv_in_a_folder_with_spaces_and_accents_runs_and_reproduces_from_the_root_after_it_moved(tmp_path):
    folder = tmp_path / "mes données" / "Zürich talks"
    folder.mkdir(parents=True)
    path = folder / "cas.csv"
    path.write_text(CSV)
    out = tmp_path / "out"
    done = command("run", f"scenario={path}", "protocol=eu", "rounds=5", "record.figures=false",
                   f"hydra.run.dir={out}", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert saved_config(out)["scenario"]["path"] == str(path)
    assert (out / "inputs" / "scenario" / "cas.csv").read_text() == CSV
    path.rename(tmp_path / "moved.csv")
    again = command("reproduce", str(out), cwd="/")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "from the folder's copy inputs/scenario/cas.csv (sha256 as recorded)" in again.stdout
    assert again.stdout.strip().endswith("reproduced: identical")


def test_protocol_all_records_every_protocol_in_its_manifest(tmp_path):
    done = command("run", "scenario=jan2022_core", "protocol=all", *QUICK, f"hydra.run.dir={tmp_path / 'out'}")
    assert done.returncode == 0, done.stderr
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    ran = list(dict.fromkeys(pd.read_parquet(tmp_path / "out" / "runs.parquet")["protocol"]))
    assert manifest["protocol"] == "all" and manifest["protocols"] == ran and len(ran) == 3


# ---- errors in the user's own files name them -----------------------------------------------------------
def _planted(text: str) -> str:
    assert "capability: 0.55" in text
    return text.replace("capability: 0.55", "capability: -1", 1)


def case_config_dir_copy_keeping_the_shipped_id(tmp):
    (tmp / "mine" / "scenario").mkdir(parents=True)
    (tmp / "mine" / "scenario" / "talks.yaml").write_text(_planted(JAN2022))
    return ["-cd", str(tmp / "mine"), "scenario=talks"], tmp / "mine" / "scenario" / "talks.yaml", "capability"


def case_config_dir_copy_with_its_own_id(tmp):
    (tmp / "mine" / "scenario").mkdir(parents=True)
    (tmp / "mine" / "scenario" / "talks.yaml").write_text(_planted(JAN2022).replace("id: jan2022", "id: talks", 1))
    return ["--config-dir", str(tmp / "mine"), "scenario=talks"], tmp / "mine" / "scenario" / "talks.yaml", "capability"


def case_config_dir_copy_chosen_by_a_sweep(tmp):
    (tmp / "mine" / "scenario").mkdir(parents=True)
    (tmp / "mine" / "sweep").mkdir()
    (tmp / "mine" / "scenario" / "talks.yaml").write_text(_planted(JAN2022).replace("id: jan2022", "id: t2", 1))
    (tmp / "mine" / "sweep" / "mine.yaml").write_text(
        "# @package _global_\ndefaults:\n  - override /scenario: talks\nsweep:\n  name: mine\n  parameters:\n"
        "    rounds: {values: [1, 2]}\n")
    return ["-cd", str(tmp / "mine"), "sweep=mine"], tmp / "mine" / "scenario" / "talks.yaml", "capability"


def case_path_copy_keeping_the_shipped_id(tmp):
    (tmp / "my dir").mkdir()
    (tmp / "my dir" / "cäse.yaml").write_text(_planted(JAN2022))
    return [f"scenario={tmp / 'my dir' / 'cäse.yaml'}"], tmp / "my dir" / "cäse.yaml", "capability"


def case_scenario_named_by_path_in_a_sweep_file(tmp):
    (tmp / "cases").mkdir()
    (tmp / "cases" / "c.yaml").write_text(_planted(JAN2022).replace("id: jan2022", "id: c", 1))
    (tmp / "sw.yaml").write_text("# @package _global_\ndefaults:\n  - override /scenario: cases/c.yaml\n"
                                 "sweep:\n  name: sw\n  parameters:\n    rounds: {values: [1, 2]}\n")
    return [f"sweep={tmp / 'sw.yaml'}"], tmp / "cases" / "c.yaml", "capability"


def case_csv_cell(tmp):
    (tmp / "données").mkdir()
    (tmp / "données" / "cas.csv").write_text(CSV.replace("Germany,0.16", "Germany,lots", 1))
    return [f"scenario={tmp / 'données' / 'cas.csv'}"], tmp / "données" / "cas.csv", "Capability"


def case_observed_value(tmp):
    (tmp / "obs.yaml").write_text(RECORD.replace("force_posture: 70 ", "force_posture: high ", 1))
    return [f"observed={tmp / 'obs.yaml'}"], tmp / "obs.yaml", "rounds.2022-02-17.usa.force_posture"


def case_observed_actor(tmp):
    (tmp / "obs.yaml").write_text(RECORD.replace("    usa:\n", "    usb:\n", 1))
    return [f"observed={tmp / 'obs.yaml'}"], tmp / "obs.yaml", "usb"


def case_observed_rounds_on_the_command_line(tmp):
    return ['observed.rounds={1:"2022-02-17",3:"2022-03-01"}'], "command line", "observed.rounds.3"


def case_observed_rounds_in_a_calibration_file(tmp):
    calibration = (REPO / "configs" / "calibrate" / "jan2022_resolve.yaml").read_text()
    (tmp / "cal.yaml").write_text(calibration + 'observed:\n  rounds: {1: "2022-02-17", 2: "2099-01-01"}\n')
    return [f"calibrate={tmp / 'cal.yaml'}"], tmp / "cal.yaml", "observed.rounds.2"


def case_missing_scenario_named_in_a_calibration_file(tmp):
    calibration = (REPO / "configs" / "calibrate" / "jan2022_resolve.yaml").read_text()
    (tmp / "cal.yaml").write_text(calibration.replace("override /scenario: jan2022", "override /scenario: nope/x.yaml"))
    return [f"calibrate={tmp / 'cal.yaml'}"], tmp / "cal.yaml", "defaults.scenario"


CASES = {name[len("case_"):]: case for name, case in dict(globals()).items() if name.startswith("case_")}
COMMANDS = {"config_dir_copy_chosen_by_a_sweep": "sweep", "scenario_named_by_path_in_a_sweep_file": "sweep",
            "observed_rounds_in_a_calibration_file": "calibrate", "missing_scenario_named_in_a_calibration_file": "calibrate"}


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_mistake_in_the_users_own_file_names_that_file(tmp_path, name):
    arguments, users_file, key = CASES[name](tmp_path)
    module = COMMANDS.get(name, "run")
    extra = [f"sweep.out={tmp_path / 'out'}"] if module == "sweep" else (
        [f"calibrate.out={tmp_path / 'out'}"] if module == "calibrate" else [*QUICK, f"hydra.run.dir={tmp_path / 'out'}"])
    line = one_line(command(module, *arguments, *extra, cwd=tmp_path))
    assert line.startswith(f"error: {users_file}: "), line
    assert key in line, line
    assert "configs/scenario/jan2022.yaml" not in line and not line.startswith("error: scenario '"), line
    assert not (tmp_path / "out" / "runs.parquet").exists()


def test_a_sweep_file_names_a_csv_beside_it_and_the_sweep_keeps_a_copy_that_reproduce_reads(tmp_path):
    folder = tmp_path / "étude de cas"
    folder.mkdir()
    (folder / "cas.csv").write_text(CSV)
    (folder / "sweep.yaml").write_text("# @package _global_\ndefaults:\n  - override /scenario: cas.csv\n"
                                       "  - override /protocol: eu\nsweep:\n  name: mine\n  parameters:\n"
                                       "    rounds: {values: [1, 2]}\n")
    out = tmp_path / "out"
    done = command("sweep", f"sweep={folder / 'sweep.yaml'}", f"sweep.out={out}", "sweep.progress=false",
                   "record.figures=false", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert saved_config(out)["scenario"]["path"] == str(folder / "cas.csv")
    entry = json.loads((out / "manifest.json").read_text())["inputs"]["scenario"]
    assert (out / entry["copy"]).read_text() == CSV and len(entry["sha256"]) == 64
    (folder / "cas.csv").rename(tmp_path / "moved.csv")  # the original is gone: reproduce reads the copy
    again = command("reproduce", str(out), cwd="/")
    assert again.returncode == 0 and again.stdout.strip().endswith("reproduced: identical"), again.stdout + again.stderr
    assert f"scenario: from the folder's copy {entry['copy']} (sha256 as recorded)" in again.stdout
