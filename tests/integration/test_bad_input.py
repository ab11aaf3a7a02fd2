"""Nothing a user does ends in a traceback or a lost run: each bad input is one line naming the user's
file, the key and what is allowed (exit 2); a failed write is one line (exit 1) and leaves the folder
marked incomplete; Ctrl-C stops a sweep within seconds and leaves it resumable; the unusual-but-valid
inputs work. And every entry point builds its model through the one run specification."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest

from tests.support import REPO, experiment as command, experiment_command, run_python

pytestmark = pytest.mark.subprocess  # all but three tests run a command in a fresh interpreter

PIE = (REPO / "configs" / "scenario" / "pie_two.yaml").read_text()
CSV_ROWS = [("Zürich", 1.0, 20, 0.9), ("Bogotá", 0.5, 80, 0.6), ("Status Quo", "", 50, "")]


def one_line(done: subprocess.CompletedProcess, status: int = 2) -> str:
    lines = done.stderr.strip().splitlines()
    assert done.returncode == status and len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert "Traceback" not in done.stderr
    return lines[0]


def csv_text() -> str:
    rows = ["Actor,Capability,Position,Salience"] + [",".join(map(str, row)) for row in CSV_ROWS]
    return "\r\n".join(rows) + "\r\n"


# ---- CSV files in the encodings spreadsheets save -----------------------------------------------------
@pytest.mark.parametrize("encoding", ["latin-1", "cp1252", "utf-16", "utf-8-sig"])
def test_csv_in_other_encodings_is_read_correctly(tmp_path, encoding):
    path = tmp_path / f"talks_{encoding.replace('-', '_')}.csv"
    path.write_bytes(csv_text().encode(encoding))
    done = command("run", f"scenario={path}", "protocol=offers", "rounds=2", f"hydra.run.dir={tmp_path / 'out'}")
    assert done.returncode == 0, done.stderr
    runs = pd.read_parquet(tmp_path / "out" / "runs.parquet")
    assert {"utility_zürich", "utility_bogotá"} <= set(runs.columns)
    from sim.domain.scenario import scenario_from_csv

    assert [a.name for a in scenario_from_csv(path).actors] == ["Zürich", "Bogotá"]


@pytest.mark.parametrize("content, words", [
    (b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 40, "Excel workbook"),
    ("Actor,Capability,Position,Salience\r\nA,1,2,0.5\r\n".encode("utf-16-le"), "UTF-16 without a byte-order mark"),
])
def test_csv_that_is_not_text_is_one_line_naming_the_file(tmp_path, content, words):
    path = tmp_path / "talks.csv"
    path.write_bytes(content)
    line = one_line(command("run", f"scenario={path}", f"hydra.run.dir={tmp_path / 'out'}"))
    assert str(path) in line and words in line
    assert not (tmp_path / "out").exists()


# ---- YAML the user wrote -------------------------------------------------------------------------------
YAML_MISTAKES = {
    "syntax": ("id: mine\nissues:\n  a: {label: A, status_quo: 5\nactors: {}\n", "line 4"),
    "tab": ("id: mine\nissues:\n\ta: {label: A}\n", "a tab character"),
    "duplicate": (PIE.replace("id: pie_two", "id: mine\nid: again"), "duplicate key"),
    "scale_one_number": (PIE.replace("status_quo: 0}", "status_quo: 0, scale: [0]}", 1), "scale"),
    "scale_too_wide": (PIE.replace("status_quo: 0}", "status_quo: 0, scale: [0, 1e308]}", 1), "scale"),
    "unknown_key": (PIE.replace("capability: 1.0", "capability: 1.0\n    capabilty: 2", 1), "capabilty"),
}


@pytest.mark.parametrize("name", sorted(YAML_MISTAKES))
def test_yaml_mistakes_in_a_users_scenario_name_the_users_file(tmp_path, name):
    text, words = YAML_MISTAKES[name]
    assert text != PIE
    path = tmp_path / f"my_{name}.yaml"
    path.write_text(text)
    line = one_line(command("run", f"scenario={path}", f"hydra.run.dir={tmp_path / 'out'}"))
    assert str(path) in line and words in line, line


@pytest.mark.parametrize("name", ["syntax", "unknown_key"])
def test_yaml_mistakes_in_a_users_config_dir_name_the_file(tmp_path, name):
    text, words = YAML_MISTAKES[name]
    (tmp_path / "configs" / "scenario").mkdir(parents=True)
    (tmp_path / "configs" / "scenario" / "mine.yaml").write_text(text)
    line = one_line(command("run", "--config-dir", str(tmp_path / "configs"), "scenario=mine",
                            f"hydra.run.dir={tmp_path / 'out'}"))
    assert "mine" in line and words in line, line


def test_a_users_scenario_with_a_shipped_id_is_reported_under_the_users_file(tmp_path):
    path = tmp_path / "my_core.yaml"
    path.write_text((REPO / "configs" / "scenario" / "jan2022_core.yaml").read_text().replace(
        "capability: 1.00", "capability: -3", 1))
    line = one_line(command("run", f"scenario={path}", f"hydra.run.dir={tmp_path / 'out'}"))
    assert line.startswith(f"error: {path}: scenario.actors.") and "capability" in line
    assert "configs/scenario/jan2022_core.yaml" not in line


# ---- overrides that used to be accepted silently, or crashed -------------------------------------------
@pytest.mark.parametrize("overrides, words", [
    (["seed=-1"], "seed: -1; allowed: a whole number >= 0"),
    (["protocol=exchange", "protocol.max_per_round=2.7"], "protocol.max_per_round"),
    (["protocol=offers", "protocol.principals=uk"], "protocol.principals"),
    (["scenario=jan2022", "scenario.path=tests/data/ExampleActors.csv"], "scenario.path"),
    (["scenario=from_csv", "scenario.path=tests/data/ExampleActors.csv", "+scenario.status_quo.nope=3",
      "protocol=eu"], "scenario.status_quo.nope"),
    (["scenario=from_csv", "scenario.path=tests/data/ExampleActors.csv", "scenario.scale=[0]", "protocol=eu"],
     "scenario.scale"),
])
def test_overrides_are_checked(tmp_path, overrides, words):
    line = one_line(command("run", *overrides, "rounds=2", f"hydra.run.dir={tmp_path / 'out'}"))
    assert words in line, line


def test_a_sweep_over_the_seed_is_one_line(tmp_path):
    # it was a traceback ("cannot insert seed, already exists"): seeds are spawned from sweep.seed
    line = one_line(command("sweep", "sweep=smoke", "+sweep.parameters.seed=[1,2]", f"sweep.out={tmp_path / 'out'}"))
    assert "sweep.parameters.seed" in line and "sweep.replicates" in line, line


def test_protocol_parameters_from_python_are_checked_like_the_command_line():
    import sim
    from sim.domain.errors import ConfigError

    scenario = sim.load_scenario("jan2022_core")
    with pytest.raises(ConfigError, match="max_per_round.*whole number"):
        sim.run(scenario, protocol="exchange", protocol_params={"max_per_round": 2.7}, rounds=1)
    with pytest.raises(ConfigError, match="principals.*a list"):
        sim.run(scenario, protocol="offers", protocol_params={"principals": "uk"}, rounds=1)
    with pytest.raises(ConfigError, match="seed"):
        sim.run(scenario, seed=-1, rounds=1)


# ---- where results go ------------------------------------------------------------------------------------
def test_an_output_folder_that_cannot_be_made_is_one_line_exit_1(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    line = one_line(command("run", "rounds=1", f"hydra.run.dir={blocker / 'out'}"), status=1)
    assert "a_file" in line and "cannot write" in line


def test_a_write_failure_leaves_the_run_folder_marked_incomplete(tmp_path, monkeypatch):
    import errno

    import sim
    from sim.runs import results as runner

    def full(frame, path):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(runner, "write_parquet", full)
    with pytest.raises(OSError):
        runner.write_run(sim.run("pie_two", protocol="offers", rounds=2), tmp_path / "run", figures=False)
    assert json.loads((tmp_path / "run" / "manifest.json").read_text())["completed"] is False
    from experiments.cli import write_error_line

    line = write_error_line(OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "run" / "runs.parquet")))
    assert "runs.parquet" in line and "disk is full" in line and "incomplete" in line


def test_a_sweep_whose_figures_fail_to_write_is_not_marked_complete(tmp_path):
    patch = ("import errno, runpy, sim.report.sweep_report as r\n"
             "def full(*a, **k): raise OSError(errno.ENOSPC, 'No space left on device', 'figures/agreement.png')\n"
             "r.plot_sweep = full\n"
             "runpy.run_module('experiments.sweep', run_name='__main__', alter_sys=True)\n")
    done = run_python("-c", patch, "sweep=smoke", "sweep.replicates=1", "rounds=2", "sweep.progress=false",
                      f"sweep.out={tmp_path / 'out'}")
    line = one_line(done, status=1)
    assert "disk is full" in line
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["completed"] is False


def test_runs_started_in_the_same_second_get_their_own_folders(tmp_path):
    out = tmp_path / "same"
    runs = [subprocess.Popen(experiment_command("run", "scenario=pie_two", "protocol=offers", f"seed={seed}",
                                                "rounds=2", "record.figures=false", f"hydra.run.dir={out}"),
                             cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for seed in (1, 2)]
    for process in runs:
        assert process.wait(timeout=300) == 0, process.stderr.read()
    folders = sorted(p for p in tmp_path.iterdir() if p.name.startswith("same"))
    assert [p.name for p in folders] == ["same", "same_2"]
    seeds = {int(pd.read_parquet(p / "runs.parquet")["seed"].iloc[0]) for p in folders}
    assert seeds == {1, 2}
    for folder in folders:  # each folder's tables and config are its own run's
        config_seed = [line for line in (folder / "config.yaml").read_text().splitlines() if line.startswith("seed:")]
        assert config_seed == [f"seed: {int(pd.read_parquet(folder / 'runs.parquet')['seed'].iloc[0])}"]


def test_a_sweep_given_only_its_folder_writes_nothing_elsewhere(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    done = command("sweep", "sweep=smoke", "sweep.replicates=1", "rounds=2", "sweep.progress=false",
                   f"sweep.out={tmp_path / 'mine'}", cwd=work, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr
    assert list(work.iterdir()) == [] and (tmp_path / "mine" / "runs.parquet").exists()


# ---- sweeps: protocol=all, Ctrl-C --------------------------------------------------------------------------
def test_protocol_all_in_a_sweep_runs_every_protocol(tmp_path):
    mine = tmp_path / "my_costs.yaml"
    mine.write_text("# @package _global_\nrounds: 3\nsweep:\n  name: my_costs\n  replicates: 1\n  parameters:\n"
                    "    scenario.actors.russia.outside_option.cost: {values: [0.1, 0.2]}\n")
    done = command("sweep", f"sweep={mine}", "scenario=jan2022_core", "protocol=all", "sweep.progress=false",
                   f"sweep.out={tmp_path / 'all'}")
    assert done.returncode == 0, done.stderr
    runs = pd.read_parquet(tmp_path / "all" / "runs.parquet")
    assert sorted(runs["protocol"]) == ["eu", "eu", "exchange", "exchange", "offers", "offers"]
    assert runs["run_index"].is_unique and runs.groupby("protocol")["spec_hash"].nunique().eq(2).all()


def test_ctrl_c_stops_a_sweep_within_seconds_and_the_same_command_resumes(tmp_path):
    args = ["sweep=russia_resolve", "sweep.replicates=2", "sweep.shard_size=4", "sweep.progress=false",
            "sweep.workers=2", "rounds=12"]
    folder = tmp_path / "interrupted"
    process = subprocess.Popen(experiment_command("sweep", *args, f"sweep.out={folder}"),
                               cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    deadline = time.time() + 180
    while time.time() < deadline and len(list((folder / "shards").glob("shard-*.parquet"))) < 2:
        time.sleep(0.05)
    pressed = time.time()
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole process group
    _, stderr = process.communicate(timeout=60)
    stopped = time.time() - pressed
    assert stopped < 10, f"took {stopped:.1f} s to stop"
    lines = stderr.strip().splitlines()
    assert process.returncode == 130 and len(lines) == 1 and "interrupted" in lines[0], stderr
    assert "run the same command again to resume" in lines[0] and "Traceback" not in stderr
    assert not (folder / "runs.parquet").exists() and not (folder / "sweep.lock").exists()
    resumed = command("sweep", *args, f"sweep.out={folder}")
    assert resumed.returncode == 0 and "resuming" in resumed.stderr, resumed.stderr
    straight = command("sweep", *args[:-2], "rounds=12", "sweep.workers=1", f"sweep.out={tmp_path / 'straight'}")
    assert straight.returncode == 0, straight.stderr
    pd.testing.assert_frame_equal(pd.read_parquet(folder / "runs.parquet"),
                                  pd.read_parquet(tmp_path / "straight" / "runs.parquet"))


@pytest.mark.parametrize("module", ["run", "sweep", "calibrate", "cards", "plot", "discover", "score", "debrief",
                                    "gallery", "reproduce", "mechanisms", "bench", "targets"])
def test_help_into_a_reader_that_stops_early_ends_quietly(module):
    """``--help | head``: the reader has gone before the help is written. No traceback, no message."""
    read, write = os.pipe()
    os.close(read)  # gone before the command starts: its first write (or exit flush) meets a closed pipe
    try:
        done = command(module, "--help", stdout=write, stderr=subprocess.PIPE, timeout=60)
    finally:
        os.close(write)
    assert done.returncode in (0, 1) and done.stderr == ""  # (argparse itself drops a failed write: 0)


PRESS_CTRL_C_WHILE_THE_SERVER_IMPORTS = """
import os, signal, time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import forkserver
from sim.runs.sweep import _worker_context
context = _worker_context()  # the workers' server starts, importing numpy, pandas, Mesa, scipy
status = f"/proc/{forkserver._forkserver._forkserver_pid}/status"
while not int(open(status).read().split("SigCgt:")[1].split()[0], 16) & 1 << signal.SIGINT - 1:
    time.sleep(0.001)  # until its Python has set up Ctrl-C as KeyboardInterrupt, before the imports
try:
    os.killpg(0, signal.SIGINT)  # Ctrl-C reaches the whole group, the server mid-import included
    time.sleep(10)
except KeyboardInterrupt:
    print("interrupted", flush=True)
with ProcessPoolExecutor(1, mp_context=context) as pool:  # and the server is still there to fork workers
    print(pool.submit(os.getpid).result() != os.getpid(), flush=True)
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the server's signal state in /proc")
def test_ctrl_c_while_the_workers_server_starts_gives_no_traceback_of_its_own():
    """The sweep above stops at a moment it does not choose; this presses Ctrl-C at the worst one, while
    the workers' server is still importing (its own KeyboardInterrupt traceback once landed in CI)."""
    done = run_python("-c", PRESS_CTRL_C_WHILE_THE_SERVER_IMPORTS, timeout=120, start_new_session=True)
    assert (done.returncode, done.stdout.split(), done.stderr) == (0, ["interrupted", "True"], "")


# ---- one path from config to model -----------------------------------------------------------------------
def test_every_entry_point_builds_its_model_through_the_run_specification(tmp_path):
    """The same config gives the same spec hash in the single run's row, the sweep's rows, the
    classroom's model and the Python API's row: all four went through sim.runs.spec.RunSpec."""
    import sim
    from sim.classroom import ClassroomModel
    from sim.runs.spec import RunSpec, protocol_defaults

    done = command("run", "scenario=classroom/jan2022", "protocol=offers", "seed=4", "rounds=5",
                   "record.figures=false", f"hydra.run.dir={tmp_path / 'run'}")
    assert done.returncode == 0, done.stderr
    from_run = pd.read_parquet(tmp_path / "run" / "runs.parquet")["spec_hash"].iloc[0]
    done = command("sweep", "sweep=smoke", "scenario=classroom/jan2022", "protocol=offers", "rounds=5",
                   "sweep.parameters={protocol: {values: [offers]}, scenario: {values: [classroom/jan2022]}}",
                   "sweep.replicates=2", "sweep.progress=false", f"sweep.out={tmp_path / 'sweep'}")
    assert done.returncode == 0, done.stderr
    from_sweep = set(pd.read_parquet(tmp_path / "sweep" / "runs.parquet")["spec_hash"])
    classroom = ClassroomModel(scenario="classroom/jan2022", protocol="offers", seed=4, rounds=5)
    api = RunSpec(sim.load_scenario("classroom/jan2022"), "offers", protocol_defaults("offers"), rounds=5)
    assert from_sweep == {from_run} and classroom.spec.hash == from_run == api.hash
    assert sim.run("classroom/jan2022", "offers", seed=4, rounds=5,
                   protocol_params=protocol_defaults("offers")).runs["spec_hash"].iloc[0] == from_run
    other = RunSpec(sim.load_scenario("classroom/jan2022"), "offers", protocol_defaults("offers"), rounds=6)
    assert other.hash != from_run  # the hash is of the content


def test_the_point_cache_keys_on_content_not_object_identity(tmp_path):
    """Two sweep contexts built one after the other in one process (a notebook, the tests, the
    benchmark) must each get their own scenario, even when Python reuses the first one's id()."""
    import gc

    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from sim.domain.config import CONFIG_DIR, register_configs
    from sim.runs.design import spec_from_config
    from sim.runs.sweep import execute_run, plan

    register_configs()
    spec = spec_from_config({"name": "t", "replicates": 1, "parameters": {"rounds": {"values": [2]}}})
    seen = []
    for scenario in ("jan2022_core", "ec_emissions", "jan2022_extended"):
        with initialize_config_dir(version_base="1.3", config_dir=str(CONFIG_DIR)):
            cfg = compose(config_name="config", overrides=[f"scenario={scenario}", "protocol=eu"])
        base = OmegaConf.to_container(cfg, resolve=True)
        base.pop("sweep")
        context = plan(tmp_path, spec, base)
        seen.append(execute_run(context, context.runs.iloc[0].to_dict())["scenario"])
        del context
        gc.collect()
    assert seen == ["jan2022_core", "ec_emissions", "jan2022_extended"]
