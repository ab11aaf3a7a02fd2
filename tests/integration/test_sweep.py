"""Sweeps: seeding, invariance to workers and shards, resume after SIGKILL, failures, lock, cluster split."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from sim.domain.config import CONFIG_DIR
from sim.domain.errors import ConfigError
from sim.runs.design import design_points, run_seeds, run_table, spec_from_config
from sim.runs.sweep import SweepLock, check_points, plan, prepare_folder

from tests.support import REPO, experiment, experiment_command, run_python
from tests.support.sweeps import SPEC, base, sweep


def test_seeds_are_spawned_by_run_index_and_distinct():
    seeds = run_seeds(42, 1000)
    assert len(set(seeds)) == 1000 and np.all(seeds >= 0)
    spawned = np.random.SeedSequence(42).spawn(1000)  # exactly SeedSequence.spawn, child by child
    assert seeds[[0, 1, 999]].tolist() == [int(spawned[i].generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
                                            for i in (0, 1, 999)]
    assert run_seeds(42, 10).tolist() == seeds[:10].tolist()  # a longer design keeps the first seeds
    table = run_table(spec_from_config(SPEC))
    assert len(table) == 2 * 2 * 3 and table.groupby("point")["seed"].nunique().eq(3).all()


def test_results_do_not_depend_on_workers_or_shard_size(tmp_path, monkeypatch):
    import sim.runs.sweep.execution

    monkeypatch.setattr(sim.runs.sweep.execution, "POOL_WORTH", 0.0)  # workers even for this small sweep
    one = sweep(tmp_path / "a", workers=1, shard_size=4)
    two = sweep(tmp_path / "b", workers=2, shard_size=3)
    pd.testing.assert_frame_equal(one, two)
    assert list(one["run_index"]) == list(range(12))
    assert {"protocol", "scenario_actors_russia_outside_option_optimism", "replicate", "seed",
            "agreement", "outcome_enlargement", "config_hash"} <= set(one.columns)


@pytest.mark.parametrize("design, extra", [
    ("random", {"samples": 7}), ("lhs", {"samples": 7}), ("sobol", {"samples": 8}), ("morris", {"samples": 3}),
])
def test_sampling_designs_stay_in_bounds_and_are_reproducible(design, extra):
    spec = spec_from_config({"name": "d", "design": design, **extra, "parameters": {
        "a.b": {"low": 0.2, "high": 0.9}, "c.d": {"low": 1.0, "high": 4.0}}})
    points = design_points(spec)
    assert points["a_b"].between(0.2, 0.9).all() and points["c_d"].between(1.0, 4.0).all()
    pd.testing.assert_frame_equal(points, design_points(spec))
    if design == "sobol":
        assert len(points) == 8 * (2 + 2)


@pytest.mark.parametrize("bad, key", [
    ({"design": "magic"}, "sweep.design"),
    ({"replicates": 0}, "sweep.replicates"),
    ({"parameters": {}}, "sweep.parameters"),
    ({"parameters": {"x.y": {"low": 2, "high": 1, "steps": 3}}}, "sweep.parameters.x.y"),
    ({"design": "sobol", "samples": 4, "parameters": {"protocol": {"values": ["eu"]}}}, "sweep.parameters.protocol"),
    ({"colour": "red"}, "sweep.colour"),
])
def test_bad_specs_name_the_key(bad, key):
    with pytest.raises(ConfigError) as caught:
        spec_from_config({**SPEC, **bad}, "configs/sweep/t.yaml")
    assert key in str(caught.value) and "configs/sweep/t.yaml" in str(caught.value)


def test_a_small_sweep_starts_no_workers(tmp_path, monkeypatch):
    """Workers cost a fresh interpreter each: a sweep whose work is done in moments runs in this process."""
    import concurrent.futures

    def no_pool(*args, **kwargs):
        raise AssertionError("a worker pool was started for a small sweep")

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", no_pool)
    runs = sweep(tmp_path / "small", workers=2, shard_size=2, replicates=1)
    assert len(runs) == 4


def test_a_failing_run_is_recorded_and_the_sweep_goes_on(tmp_path, monkeypatch):
    import sim.runs.sweep.execution

    real = sim.runs.sweep.execution.execute_run

    def crash_at_two(context, run):  # a run that raises while running (every point is valid)
        if run["scenario_actors_russia_outside_option_optimism"] == 2.0:
            raise RuntimeError("solver crashed")
        return real(context, run)

    real_block = sim.runs.sweep.execution.execute_block

    def crash_block_at_two(context, runs):  # the same runs, as a block of replicates (shard 1: runs 2, 3)
        if any(run["scenario_actors_russia_outside_option_optimism"] == 2.0 for run in runs):
            raise RuntimeError("solver crashed")
        return real_block(context, runs)

    monkeypatch.setattr(sim.runs.sweep.execution, "execute_run", crash_at_two)
    monkeypatch.setattr(sim.runs.sweep.execution, "execute_block", crash_block_at_two)
    spec = {"name": "f", "replicates": 2, "seed": 1, "shard_size": 2,
            "parameters": {"scenario.actors.russia.outside_option.optimism": {"values": [1.0, 2.0, 3.0]}}}
    runs = sweep(tmp_path / "f", spec)
    failures = pd.read_parquet(tmp_path / "f" / "failures.parquet")
    assert sorted(runs["run_index"]) == [0, 1, 4, 5]
    assert sorted(failures["run_index"]) == [2, 3]
    assert failures["traceback"].str.contains("solver crashed").all() and failures["seed"].notna().all()


def test_an_invalid_design_point_ends_the_sweep_before_any_file(tmp_path):
    spec = spec_from_config({"name": "f", "replicates": 2, "seed": 1, "design": "lhs", "samples": 20,
                             "parameters": {"scenario.actors.russia.capability": {"low": -0.5, "high": 1.0}}},
                            "my_sweep.yaml")
    context = plan(tmp_path / "out", spec, base(("scenario=jan2022_core",)), source="my_sweep.yaml")
    with pytest.raises(ConfigError) as caught:
        check_points(context)
    message = str(caught.value)
    assert message.startswith("my_sweep.yaml: sweep.parameters.scenario.actors.russia.capability:")
    assert "must be > 0" in message and "at design point" in message
    assert not (tmp_path / "out").exists()


def cli(*args, **kwargs):
    return experiment("sweep", *args, **kwargs)


@pytest.mark.subprocess
def test_cli_failing_runs_exit_1_with_one_line_summary(tmp_path):
    crash = ("import sys, sim.runs.sweep.execution as s\n"
             "real = s.execute_run\n"
             "def crash(context, run):\n"
             "    if run['run_index'] >= 2: raise RuntimeError('solver crashed')\n"
             "    return real(context, run)\n"
             "s.execute_run = crash\n"
             "import runpy\n"
             "runpy.run_module('experiments.sweep', run_name='__main__', alter_sys=True)\n")
    done = run_python("-c", crash, "sweep=smoke", "sweep.replicates=1",
                      "sweep.parameters.protocol={values: [eu, offers]}",
                      "sweep.parameters.scenario={values: [jan2022_core, jan2022]}", "rounds=3",
                      f"sweep.out={tmp_path / 'out'}", "sweep.progress=false")
    assert done.returncode == 1, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "2 of 4 runs raised" in lines[0] and "failures.parquet" in lines[0]
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["runs_done"] == 2 and manifest["runs_failed"] == 2


@pytest.mark.subprocess
def test_cli_invalid_point_exits_2_naming_the_users_sweep_file_and_writes_nothing(tmp_path):
    extra = tmp_path / "configs" / "sweep"
    extra.mkdir(parents=True)
    (extra / "failing.yaml").write_text(
        "# @package _global_\ndefaults:\n  - override /scenario: jan2022_core\nrounds: 5\nsweep:\n"
        "  name: failing\n  replicates: 2\n  shard_size: 2\n  parameters:\n"
        "    scenario.actors.russia.capability: {values: [0.5, -1.0]}\n")
    done = cli("--config-dir", str(tmp_path / "configs"), "sweep=failing", f"sweep.out={tmp_path / 'out'}",
               "sweep.progress=false")
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().count("\n") == 0 and "sweep.parameters.scenario.actors.russia.capability" in done.stderr
    assert not (tmp_path / "out" / "design.json").exists() and not (tmp_path / "out" / "shards").exists()


@pytest.mark.subprocess
def test_second_sweep_on_the_same_folder_is_refused(tmp_path):
    with SweepLock(tmp_path):
        done = cli("sweep=smoke", f"sweep.out={tmp_path}", "sweep.progress=false")
    assert done.returncode == 2
    assert "another sweep" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_a_folder_holding_another_sweep_is_refused(tmp_path):
    sweep(tmp_path, replicates=1)
    with pytest.raises(ConfigError, match="different sweep"):
        prepare_folder(plan(tmp_path, spec_from_config({**SPEC, "replicates": 2}), base(("scenario=jan2022_core", "rounds=8"))))


@pytest.mark.subprocess
def test_killed_sweep_resumes_to_the_same_table(tmp_path):
    args = ["sweep=russia_resolve", "sweep.replicates=2", "sweep.shard_size=4", "sweep.progress=false", "rounds=12"]
    killed = tmp_path / "killed"
    process = subprocess.Popen(experiment_command("sweep", *args, f"sweep.out={killed}"),
                               cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and len(list((killed / "shards").glob("shard-*.parquet"))) < 3:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    shards_before = len(list((killed / "shards").glob("shard-*.parquet")))
    assert 3 <= shards_before < 28 and not (killed / "runs.parquet").exists()
    resumed = cli(*args, f"sweep.out={killed}")
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming" in resumed.stderr
    straight = cli(*args, f"sweep.out={tmp_path / 'straight'}")
    assert straight.returncode == 0, straight.stderr
    pd.testing.assert_frame_equal(pd.read_parquet(killed / "runs.parquet"),
                                  pd.read_parquet(tmp_path / "straight" / "runs.parquet"))
    assert (killed / "figures" / "agreement_heatmap.png").exists()
    assert experiment("reproduce", str(killed), "--sample", "5").returncode == 0


@pytest.mark.subprocess
def test_submitit_local_jobs_give_the_local_aggregate(tmp_path):
    common = ["sweep=smoke", "sweep.replicates=2", "sweep.progress=false", "rounds=6"]
    split = tmp_path / "split"
    jobs = cli("-m", *common, f"sweep.out={split}", "sweep.jobs=2", "sweep.job=0,1",
               "hydra/launcher=submitit_local", "hydra.launcher.timeout_min=10",
               f"hydra.sweep.dir={tmp_path / 'multirun'}")
    assert jobs.returncode == 0, jobs.stderr[-2000:]
    assert not (split / "runs.parquet").exists() and not pending_shards_of(split)
    final = cli(*common, f"sweep.out={split}")
    assert final.returncode == 0, final.stderr
    local = cli(*common, f"sweep.out={tmp_path / 'local'}")
    assert local.returncode == 0, local.stderr
    pd.testing.assert_frame_equal(pd.read_parquet(split / "runs.parquet"),
                                  pd.read_parquet(tmp_path / "local" / "runs.parquet"))


def pending_shards_of(folder: Path) -> list[int]:
    design = json.loads((folder / "design.json").read_text())["spec"]
    total = -(-len(pd.read_parquet(folder / "design.parquet")) // design["shard_size"])
    return [i for i in range(total) if not (folder / "shards" / f"shard-{i:06d}.parquet").exists()]


@pytest.mark.parametrize("every_protocol", [False, True], ids=["as shipped", "protocol=all"])
@pytest.mark.parametrize("name", sorted(p.stem for p in (CONFIG_DIR / "sweep").glob("*.yaml")))
def test_every_sweep_config_composes_and_its_first_runs_run(name, every_protocol, tmp_path):
    from sim.runs.sweep import check_points, execute_run

    with initialize_config_dir(version_base="1.3", config_dir=str(CONFIG_DIR)):
        cfg = compose(config_name="config", overrides=[f"sweep={name}"] + ["protocol=all"] * every_protocol)
    settings = OmegaConf.to_container(cfg.sweep, resolve=True)
    spec = spec_from_config({k: v for k, v in settings.items()
                             if k not in ("workers", "out", "jobs", "job", "progress")}, f"configs/sweep/{name}.yaml")
    data = OmegaConf.to_container(cfg, resolve=True)
    data.pop("sweep")
    data["rounds"] = 3
    context = plan(tmp_path, spec, data)
    if every_protocol:
        check_points(context)
        assert set(context.runs["protocol"]) == {"eu", "offers", "exchange"}
    for run in context.runs.head(2).to_dict("records"):
        row = execute_run(context, run)
        assert row["seed"] == run["seed"] and "agreement" in row


@pytest.mark.parametrize("design, samples, files", [
    ("sobol", 8, ["sobol_bundle_enlargement.csv", "figures/sobol_bundle_enlargement.png"]),
    ("morris", 4, ["morris_bundle_enlargement.csv", "figures/morris_bundle_enlargement.png"]),
])
def test_sensitivity_indices_and_plots(tmp_path, design, samples, files):
    from sim.report.sweep_report import plot_sweep

    spec = {"name": design, "design": design, "samples": samples, "seed": 4, "shard_size": 50,
            "parameters": {"scenario.actors.russia.capability": {"low": 0.2, "high": 1.5},
                           "scenario.actors.ukraine.salience.enlargement": {"low": 0.2, "high": 1.0}},
            "outputs": ["bundle_enlargement"]}  # the eu forecast (outcome_ is NaN when talks end in war)
    folder = tmp_path / design
    sweep(folder, spec, overrides=("scenario=jan2022_core", "rounds=6"))
    (folder / "config.yaml").write_text("{}")
    written = plot_sweep(folder)
    for name in files:
        assert (folder / name).exists() and (folder / name) in written + [folder / name]
    table = pd.read_csv(folder / files[0])
    assert list(table["parameter"]) == ["scenario_actors_russia_capability",
                                        "scenario_actors_ukraine_salience_enlargement"]
    summary = pd.read_csv(folder / "summary.csv")
    assert summary["n"].sum() == len(pd.read_parquet(folder / "runs.parquet"))
