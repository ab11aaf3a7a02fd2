"""Faults injected for real (issue 24): a worker killed, the parent killed, shards truncated or copied over,
a full disk, racing locks, a received folder whose config calls resolvers, a calibration killed mid-way.
Each asserts the one line, the exit status, the manifest's flag, no temp file left, and the identical table
after the same command runs again. Faults inside a command come from :mod:`tests.support.faults`.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from sim.domain.errors import CommandFailed, ConfigError
from sim.runs.sweep import SweepLock

from tests.support import REPO, checkout_environment, experiment, experiment_command, run_python

pytestmark = pytest.mark.subprocess

#: A small sweep (112 runs in 28 shards) that starts its two workers.
SWEEP = ("sweep=russia_resolve", "sweep.replicates=2", "sweep.shard_size=4", "rounds=8", "sweep.progress=false")


# ---- helpers ---------------------------------------------------------------------------------------------------
def processes() -> dict[int, tuple[int, int, str]]:
    """pid -> (parent pid, process group, state) of every process (Linux /proc)."""
    table = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            table[int(entry.name)] = (int(fields[1]), int(fields[2]), fields[0])
    return table


def living_in_group(group: int) -> list[int]:
    """The processes of a process group that still run (a zombie holds no memory: it waits to be reaped)."""
    return [pid for pid, (_, pgrp, state) in processes().items() if pgrp == group and state != "Z"]


def workers_of(sweep: int) -> list[int]:
    """The sweep's workers: the children of its forkserver (the child that has children)."""
    table = processes()
    children = [pid for pid, (ppid, _, state) in table.items() if ppid == sweep and state != "Z"]
    return [pid for pid, (ppid, _, state) in table.items() if ppid in children and state != "Z"]


def wait_for(condition, timeout: float = 120, step: float = 0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("timed out")


def faulty(command: str, *args: str, faults: dict[str, str], **kwargs) -> subprocess.CompletedProcess:
    """``python -m experiments.<command> args`` with the faults of :mod:`tests.support.faults`."""
    return run_python("-m", "tests.support.faults", command, *args,
                      env={**checkout_environment(), **faults}, **kwargs)


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.strip().splitlines() if line.startswith("error:")]


def one_line(done: subprocess.CompletedProcess, status: int, *words: str) -> str:
    """The command failed with ``status`` and said so in one line (no traceback) holding ``words``."""
    assert done.returncode == status, (done.returncode, done.stderr[-3000:])
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    lines = error_lines(done.stderr)
    assert len(lines) == 1, done.stderr[-3000:]
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def temp_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if ".tmp" in p.name]


def completed(folder: Path) -> bool:
    return json.loads((folder / "manifest.json").read_text())["completed"]


def same_runs(folder: Path, reference: Path) -> None:
    pd.testing.assert_frame_equal(pd.read_parquet(folder / "runs.parquet"), pd.read_parquet(reference / "runs.parquet"))


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """The small sweep run straight through, in this process's order of things: one worker."""
    folder = tmp_path_factory.mktemp("faults") / "reference"
    done = experiment("sweep", *SWEEP, "sweep.workers=1", f"sweep.out={folder}")
    assert done.returncode == 0, done.stderr[-3000:]
    assert completed(folder)
    return folder


def copy_of(reference: Path, where: Path) -> Path:
    shutil.copytree(reference, where)
    return where


# ---- 1. a worker that dies -------------------------------------------------------------------------------------
def test_a_killed_worker_costs_nothing_its_shard_runs_again(tmp_path, reference):
    folder = tmp_path / "killed-worker"
    process = subprocess.Popen(experiment_command("sweep", *SWEEP, "sweep.workers=2", f"sweep.out={folder}"),
                               cwd=REPO, env=checkout_environment(), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        victim = wait_for(lambda: workers_of(process.pid))[0]
        time.sleep(0.3)  # mid-shard
        os.kill(victim, signal.SIGKILL)
        _, stderr = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 0, stderr[-3000:]
    assert "Traceback" not in stderr and "BrokenProcessPool" not in stderr
    warnings = [line for line in stderr.splitlines() if "a worker died" in line]
    assert len(warnings) == 1 and "SIGKILL" in warnings[0] and "run again in a new worker" in warnings[0], stderr
    same_runs(folder, reference)
    assert completed(folder) and not (folder / "failures.parquet").exists()


@pytest.mark.slow  # two sweeps
def test_a_shard_whose_worker_dies_twice_is_recorded_and_the_same_command_completes_it(tmp_path, reference):
    folder = tmp_path / "dies-twice"
    done = faulty("sweep", *SWEEP, "sweep.workers=2", f"sweep.out={folder}", faults={"FAULT_KILL_SHARD": "9"})
    line = one_line(done, 1, "4 of 112 runs lost", "died twice", "shard 9", "failures.parquet",
                    "run the same command again")
    assert done.stderr.count("warning: a worker died") == 1, done.stderr  # the first death warns; the second: the line
    failures = pd.read_parquet(folder / "failures.parquet")
    assert failures["run_index"].tolist() == [36, 37, 38, 39], line
    assert failures["error"].str.contains("killed by SIGKILL").all()
    assert not completed(folder) and len(pd.read_parquet(folder / "runs.parquet")) == 108
    again = experiment("sweep", *SWEEP, "sweep.workers=2", f"sweep.out={folder}")
    assert again.returncode == 0, again.stderr[-3000:]
    same_runs(folder, reference)
    assert completed(folder) and not (folder / "failures.parquet").exists()


# ---- 2. no orphans ---------------------------------------------------------------------------------------------
def test_kill_9_of_the_sweep_leaves_no_process(tmp_path):
    """(That the same command then resumes to the same table: tests/integration/test_sweep.py.)"""
    folder = tmp_path / "killed-parent"
    process = subprocess.Popen(experiment_command("sweep", *SWEEP, "sweep.workers=2", f"sweep.out={folder}"),
                               cwd=REPO, env=checkout_environment(), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    wait_for(lambda: len(workers_of(process.pid)) == 2)
    assert len(living_in_group(process.pid)) >= 4  # the sweep, its resource tracker, forkserver, two workers
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    killed = time.time()
    while living_in_group(process.pid) and time.time() - killed < 5:
        time.sleep(0.05)
    left = living_in_group(process.pid)
    if left:
        for pid in left:  # (do not leave them to the next test)
            os.kill(pid, signal.SIGKILL)
    assert not left, f"{len(left)} processes of the sweep alive 5 s after kill -9"


@pytest.mark.slow  # two calibrations
def test_kill_9_of_a_calibration_leaves_none_of_pyabcs_workers(tmp_path):
    folder = tmp_path / "cal"
    process = subprocess.Popen(experiment_command("calibrate", *CALIBRATE, "sweep.workers=2", "calibrate.generations=40",
                                                  f"calibrate.out={folder}"),
                               cwd=REPO, env=checkout_environment(), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    # Two workers, forked by the calibration (sim.runs.calibration_sampler.Workers) once it has simulations to
    # compute ahead.
    def python_children() -> list[int]:  # not pyabc's passing `git` call
        def command(pid: int) -> str:
            try:
                return Path(f"/proc/{pid}/comm").read_text().strip()
            except OSError:
                return ""
        return [p for p, (ppid, _, s) in processes().items()
                if ppid == process.pid and s != "Z" and command(p).startswith("python")]

    wait_for(python_children, timeout=180)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    killed = time.time()
    while living_in_group(process.pid) and time.time() - killed < 5:
        time.sleep(0.05)
    left = living_in_group(process.pid)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f"{len(left)} of the calibration's processes alive 5 s after kill -9"


# ---- 3. shards you can trust -----------------------------------------------------------------------------------
def test_a_truncated_shard_and_a_shard_copied_over_another_are_named_and_run_again(tmp_path, reference):
    folder = copy_of(reference, tmp_path / "corrupt")
    truncated = folder / "shards" / "shard-000001.parquet"
    os.truncate(truncated, truncated.stat().st_size // 2)
    for suffix in (".parquet", ".json"):  # the shard and its record: a consistent pair, in the wrong place
        shutil.copy(folder / "shards" / f"shard-000003{suffix}", folder / "shards" / f"shard-000004{suffix}")
    done = experiment("sweep", *SWEEP, "sweep.workers=1", f"sweep.out={folder}")
    assert done.returncode == 0, done.stderr[-3000:]
    named = [line for line in done.stderr.splitlines() if "shards/shard-" in line]
    assert len(named) == 2, done.stderr
    assert str(truncated) in named[0] and "checksum differs" in named[0] and "run again" in named[0]
    assert "shard-000004.parquet" in named[1] and "run indices 12..15, not this shard's 16..19" in named[1]
    assert "Traceback" not in done.stderr
    same_runs(folder, reference)
    assert completed(folder)


def test_aggregate_refuses_a_run_index_twice(tmp_path):
    from sim.runs.sweep import aggregate, execute, pending_shards, plan, prepare_folder
    from sim.runs.design import spec_from_config

    from tests.support.sweeps import SPEC, base

    context = prepare_folder(plan(tmp_path, spec_from_config({**SPEC, "replicates": 1}), base(("rounds=4",))))
    execute(context, pending_shards(context))
    assert aggregate(context).missing == 0
    twice = pd.read_parquet(context.shard_path(0)).head(1).assign(error="x", traceback="")
    context.failure_path(1).parent.mkdir()
    twice.to_parquet(context.failure_path(1), index=False)  # run 0: a row of shard 0, and a failure of shard 1
    with pytest.raises(CommandFailed, match=r"run 0 in shards/shard-000000.parquet and failures/shard-000001.parquet"):
        aggregate(context)


def test_reproduce_finds_runs_twice_and_missing(tmp_path, reference):
    folder = copy_of(reference, tmp_path / "duplicated")
    runs = pd.read_parquet(folder / "runs.parquet")
    runs.iloc[4:10] = runs.iloc[40:46].to_numpy()  # six runs twice, six missing
    runs.to_parquet(folder / "runs.parquet", index=False)
    done = experiment("reproduce", str(folder), "--sample", "3")
    assert done.returncode == 1, done.stderr
    assert "runs.parquet run indices: of the design's 112 runs, 6 twice or more (40, 41, 42, 43, 44, ...); " \
           "6 missing (4, 5, 6, 7, 8, ...)" in done.stdout, done.stdout
    assert "not reproduced" in done.stdout


# ---- 4. complete means complete --------------------------------------------------------------------------------
def test_a_figure_that_cannot_be_written_leaves_the_sweep_incomplete(tmp_path, reference):
    folder = copy_of(reference, tmp_path / "full")
    before = (folder / "figures" / "agreement_heatmap.png").read_bytes()
    done = faulty("sweep", *SWEEP, f"sweep.out={folder}", faults={"FAULT_ENOSPC": "agreement_heatmap"})
    one_line(done, 1, f"{folder / 'figures' / 'agreement_heatmap.png'}: cannot write: the disk is full",
             "marked incomplete")
    assert not completed(folder) and not temp_files(folder)
    assert (folder / "figures" / "agreement_heatmap.png").read_bytes() == before  # the old figure, whole
    again = experiment("sweep", *SWEEP, f"sweep.out={folder}")
    assert again.returncode == 0 and completed(folder), again.stderr[-2000:]
    same_runs(folder, reference)


def test_a_manifest_that_cannot_be_marked_incomplete_is_removed(tmp_path, reference):
    folder = copy_of(reference, tmp_path / "full-manifest")
    done = faulty("sweep", *SWEEP, f"sweep.out={folder}", faults={"FAULT_ENOSPC": "manifest.json"})
    one_line(done, 1, f"{folder / 'manifest.json'}: cannot write: the disk is full")
    assert not (folder / "manifest.json").exists() and not temp_files(folder)  # no manifest says complete


@pytest.mark.slow  # a sweep
def test_a_shard_that_cannot_be_written_in_a_worker_ends_the_sweep_in_one_line(tmp_path, reference):
    folder = tmp_path / "full-shard"
    done = faulty("sweep", *SWEEP, "sweep.workers=2", f"sweep.out={folder}", faults={"FAULT_ENOSPC": "shard-000009"})
    one_line(done, 1, "shards/shard-000009.parquet: cannot write: the disk is full")
    assert not completed(folder) and not temp_files(folder) and not (folder / "runs.parquet").exists()
    again = experiment("sweep", *SWEEP, "sweep.workers=2", f"sweep.out={folder}")
    assert again.returncode == 0, again.stderr[-3000:]
    same_runs(folder, reference)


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("faults") / "run"
    done = experiment("run", "scenario=jan2022", "protocol=offers", "rounds=4", "seed=1", f"hydra.run.dir={folder}")
    assert done.returncode == 0, done.stderr[-2000:]
    return folder


@pytest.mark.parametrize("command, args, fault, written", [
    ("plot", lambda sweep, run, tmp: [str(sweep)], "summary.csv", lambda sweep, run, tmp: sweep / "summary.csv"),
    ("debrief", lambda sweep, run, tmp: [str(run), "--replicates", "0"], "report.html",
     lambda sweep, run, tmp: run / "report.html"),
    ("discover", lambda sweep, run, tmp: [str(sweep), "outcome=agreement", f"out={tmp / 'boxes'}"], "boxes.csv",
     lambda sweep, run, tmp: tmp / "boxes" / "boxes.csv"),
    ("cards", lambda sweep, run, tmp: ["scenario=jan2022", f"hydra.run.dir={tmp}"], "index.html",
     lambda sweep, run, tmp: tmp / "cards" / "index.html"),
], ids=["plot", "debrief", "discover", "cards"])
def test_every_command_names_the_file_it_cannot_write(command, args, fault, written, tmp_path, reference, run_folder):
    sweep, run = copy_of(reference, tmp_path / "sweep"), copy_of(run_folder, tmp_path / "run")
    done = faulty(command, *args(sweep, run, tmp_path), faults={"FAULT_ENOSPC": fault})
    line = one_line(done, 1, f"{written(sweep, run, tmp_path)}: cannot write: the disk is full")
    assert "marked incomplete" not in line  # these commands keep no manifest of their own
    assert not temp_files(tmp_path)
    if command == "discover":
        assert not (tmp_path / "boxes").exists()  # the output folder appears whole or not at all


@pytest.mark.slow  # a calibration
def test_a_calibration_table_that_cannot_be_written_leaves_it_incomplete(tmp_path):
    folder = tmp_path / "cal"
    done = faulty("calibrate", *CALIBRATE, "sweep.workers=1", "calibrate.generations=1", f"calibrate.out={folder}",
                  faults={"FAULT_ENOSPC": "posterior.parquet"})
    one_line(done, 1, f"{folder / 'posterior.parquet'}: cannot write: the disk is full")
    assert not completed(folder) and not temp_files(folder) and not (folder / "posterior.parquet").exists()


def test_a_really_full_disk_is_one_line(tmp_path, reference):
    """A small tmpfs, filled up: ``plot`` cannot write (needs root and a kernel that lets it mount)."""
    small = tmp_path / "small"
    small.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(small)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        folder = small / "sweep"
        folder.mkdir()
        for name in ("design.json", "runs.parquet", "config.yaml", "manifest.json"):
            shutil.copy(reference / name, folder / name)
        with open(small / "filler", "wb") as filler:  # fill what is left
            try:
                while True:
                    filler.write(b"\0" * 65536)
                    filler.flush()
            except OSError:
                pass
        done = experiment("plot", str(folder))
        one_line(done, 1, "cannot write: the disk is full", str(folder))
        assert not temp_files(folder)
    finally:
        subprocess.run(["umount", str(small)], check=False)


# ---- 5. calibration resumes to the same history ----------------------------------------------------------------
CALIBRATE = ("calibrate=jan2022_walkout", "scenario=jan2022", "calibrate.population=12", "calibrate.replicates=1",
             "calibrate.epsilons=[]", "calibrate.predictive=0")


def stored_generations(database: Path) -> int | None:
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=0.1) as connection:
            return connection.execute("select max(t) from populations").fetchone()[0]
    except sqlite3.Error:
        return None


@pytest.mark.slow  # five calibrations
def test_a_calibration_killed_at_two_different_generations_resumes_to_the_same_posterior(tmp_path):
    args = (*CALIBRATE, "sweep.workers=1", "calibrate.generations=3")
    straight = experiment("calibrate", *args, f"calibrate.out={tmp_path / 'straight'}")
    assert straight.returncode == 0, straight.stderr[-2000:]
    expected = pd.read_parquet(tmp_path / "straight" / "posterior.parquet")
    for generation in (0, 1):
        folder = tmp_path / f"killed-after-{generation}"
        process = subprocess.Popen(experiment_command("calibrate", *args, f"calibrate.out={folder}"), cwd=REPO,
                                   env=checkout_environment(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True)
        try:
            wait_for(lambda: (stored_generations(folder / "abc.db") or -1) >= generation or process.poll() is not None,
                     timeout=300, step=0.02)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        stored = stored_generations(folder / "abc.db")
        assert process.returncode == -signal.SIGKILL and stored is not None and generation <= stored < 2, stored
        assert not (folder / "posterior.parquet").exists()
        resumed = experiment("calibrate", *args, f"calibrate.out={folder}")
        assert resumed.returncode == 0, resumed.stderr[-2000:]
        pd.testing.assert_frame_equal(pd.read_parquet(folder / "posterior.parquet"), expected, check_exact=True)


# ---- 6. one lock holder, always --------------------------------------------------------------------------------
RACE = """
import json, multiprocessing, os, sys, time
from pathlib import Path
from sim.domain.errors import ConfigError
from sim.runs.sweep.store import SweepLock

def contend(folder, start, holders, doubles):
    start.wait()
    try:
        with SweepLock(Path(folder)):
            with holders.get_lock():
                holders.value += 1
                if holders.value > 1:
                    doubles.value += 1
            time.sleep(0.002)
            with holders.get_lock():
                holders.value -= 1
    except ConfigError:
        pass
    os._exit(0)

context = multiprocessing.get_context("fork")  # this interpreter has no other thread to fork
doubles, holders = context.Value("i", 0), context.Value("i", 0)
root = Path(sys.argv[1])
for trial in range(200):
    folder = root / f"t{trial % 4}"
    folder.mkdir(exist_ok=True)
    if trial % 2:  # half the trials start from a stale lock: its holder was killed with kill -9
        (folder / "sweep.lock").write_text(json.dumps({"pid": 999999999, "host": os.uname().nodename}))
    start = context.Barrier(3)
    racers = [context.Process(target=contend, args=(str(folder), start, holders, doubles)) for _ in range(3)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(30)
print(doubles.value)
"""


def test_200_racing_trials_never_give_two_lock_holders(tmp_path):
    done = run_python("-c", RACE, str(tmp_path))
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "0"


def test_the_lock_message_names_the_key_and_a_dead_holders_lock_is_taken(tmp_path):
    (tmp_path / "sweep.lock").write_text('{"pid": 999999999, "host": "x"}')  # kill -9 left it
    with SweepLock(tmp_path, what="calibration", key="calibrate.out"):
        with pytest.raises(ConfigError) as refused:
            with SweepLock(tmp_path, what="calibration", key="calibrate.out"):
                pass
    assert f"calibrate.out: another calibration (pid {os.getpid()})" in str(refused.value)
    assert "calibration.out" not in str(refused.value)
    assert not (tmp_path / "sweep.lock").exists()


# ---- 7. a received folder is data ------------------------------------------------------------------------------
def received(folder: Path) -> Path:
    """The run folder as someone might send it: a resolver that would read this machine's environment."""
    text = (folder / "config.yaml").read_text()
    (folder / "config.yaml").write_text(text.replace("name: ", "name: ${oc.env:SECRET_TOKEN,x}", 1))
    return folder


def test_a_received_folders_resolvers_are_refused(tmp_path, run_folder):
    from sim.runs.results import load_results

    folder = received(copy_of(run_folder, tmp_path / "received"))
    environment = {**checkout_environment(), "SECRET_TOKEN": "do-not-leak"}
    with pytest.raises(ConfigError, match=r"scenario.name: refused .*oc.env"):
        load_results(folder)
    for command, args in (("reproduce", [str(folder)]), ("debrief", [str(folder), "--replicates", "0"]),
                          ("score", [str(folder)])):
        done = experiment(command, *args, env=environment)
        one_line(done, 2, "config.yaml: scenario.name: refused", "oc.env")
        assert "do-not-leak" not in done.stdout + done.stderr
    assert not (folder / "report.html").exists()


if sys.platform != "linux":  # pragma: no cover
    pytestmark = [pytestmark, pytest.mark.skip("the fault suite reads /proc and relies on Linux's parent-death signal")]
