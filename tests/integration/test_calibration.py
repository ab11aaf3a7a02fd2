"""Calibration by ABC-SMC (sim/calibration.py, experiments/calibrate.py): recovery of known parameters from
data the model made, resume after SIGKILL, and bad input in one line."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from sim.runs import calibration, scoring
from sim.domain.errors import ConfigError
from sim.engine.model import BargainingModel
from sim.domain.scenario import scenario_from_config

from tests.support import REPO, experiment, experiment_command

CAPABILITY, POSITION = 2.0, 70.0  # the truth


def toy(capability: float, position: float) -> dict:
    """Four actors, two issues; a0's capability and a1's ideal point on i0 are the unknowns."""
    return {"id": "toy", "issues": {"i0": {"label": "i0", "status_quo": 50.0}, "i1": {"label": "i1", "status_quo": 50.0}},
            "actors": {
                "a0": {"capability": capability, "position": {"i0": 10.0, "i1": 80.0}, "salience": {"i0": 0.8, "i1": 0.4}},
                "a1": {"capability": 1.0, "position": {"i0": position, "i1": 20.0}, "salience": {"i0": 0.5, "i1": 0.9}},
                "a2": {"capability": 1.5, "position": {"i0": 90.0, "i1": 50.0}, "salience": {"i0": 0.6, "i1": 0.6}},
                "a3": {"capability": 0.7, "position": {"i0": 40.0, "i1": 100.0}, "salience": {"i0": 0.9, "i1": 0.3}}}}


def synthetic_record(path: Path) -> dict[int, str]:
    """Write the deterministic (Scholz) expected-utility model's own trajectory at the truth as an observed
    record; returns the round -> date mapping."""
    model = BargainingModel(scenario_from_config(toy(CAPABILITY, POSITION)), protocol="eu",
                            protocol_params={"variant": "scholz"}, rounds=4, rng=1)
    model.run()
    table = scoring.trajectory_table(model)
    rounds = {}
    for r in range(4):
        rows = table[table["round"] == r]
        entry = {"label": f"round {r}"}
        for actor, group in rows.groupby("actor"):
            entry[actor] = {issue: float(p) for issue, p in zip(group["issue"], group["position"])}
        rounds[f"d{r}"] = entry
    outcome = model.outcome()
    path.write_text(yaml.safe_dump({"scenario": "toy", "rounds": rounds, "outcome": {
        "agreement": bool(outcome.agreement), "ending": "agreement" if outcome.agreement else "status_quo",
        "broken_off_by": [], "date": "d3"}}))
    return {r: f"d{r}" for r in range(4)}


@pytest.mark.slow  # ~55 s of CPU: 8 generations of 30 particles
@pytest.mark.subprocess  # pyabc asks git for the commit it stores with the history
def test_calibration_recovers_two_known_parameters(tmp_path):
    record = tmp_path / "record.yaml"
    mapping = synthetic_record(record)
    base = {"scenario": toy(1.0, 50.0), "protocol": {"name": "eu", "variant": "scholz"},
            "strategy": {"name": "linear"}, "rounds": 4, "seed": 0,
            "record": {"rounds": True, "events": False, "figures": False},
            "observed": {"path": str(record), "rounds": mapping}}
    spec = calibration.spec_from_config({
        "name": "recover", "seed": 7, "population": 30, "generations": 8, "predictive": 0,
        "parameters": {"scenario.actors.a0.capability": {"low": 0.5, "high": 4.0},
                       "scenario.actors.a1.position.i0": {"low": 0.0, "high": 100.0}},
        "distance": {"trajectory": 1.0, "outcome": 0.0, "timing": 0.0}}, "test")
    calibration.check_parameters(spec, base, "test")
    history = calibration.calibrate(tmp_path / "out", spec, base, workers=1)
    posterior = calibration.posterior_table(history, spec)
    assert len(posterior) == 30 and posterior["weight"].sum() == pytest.approx(1.0)
    summary = calibration.posterior_summary(posterior, spec).set_index("parameter")
    for key, truth, width in (("scenario.actors.a0.capability", CAPABILITY, 3.5),
                              ("scenario.actors.a1.position.i0", POSITION, 100.0)):
        row = summary.loc[key]
        assert row["low"] <= truth <= row["high"], (key, row.to_dict())  # the truth is inside the 90 % interval
        assert abs(row["mean"] - truth) < 0.2 * width, (key, row.to_dict())  # and near the posterior mean
        assert row["sd"] < 0.9 * width / 12 ** 0.5, (key, row.to_dict())  # the data taught something: sd < prior's
    # an ideal point shows in the trajectory directly; a capability only through the others' moves
    assert summary.loc["scenario.actors.a1.position.i0", "high"] - summary.loc["scenario.actors.a1.position.i0", "low"] < 35
    # every accepted particle's first run re-runs from its recorded seed to the same distance
    best = posterior.sort_values("distance").iloc[0]
    context = calibration.sweep_context(spec, base, tmp_path)
    from sim.runs.sweep import execute_run

    values = {p.column: float(best[p.column]) for p in spec.parameters}
    assert int(best["seed_0"]) == calibration.simulation_seed(spec.seed, np.array(list(values.values())), 0)
    row = execute_run(context, {"run_index": 0, "point": 0, "replicate": 0, "seed": int(best["seed_0"]), **values})
    assert scoring.combined_distance(row, spec.weights) == pytest.approx(best["distance"])


def calibrate_command(*args: str) -> list[str]:
    return experiment_command("calibrate", *args)


# jan2022 under offers: Russia walks out at once (red lines, package rule), so each simulation is quick.
QUICK = ("calibrate=jan2022_resolve", "scenario=jan2022", "calibrate.population=12", "calibrate.replicates=1",
         "calibrate.epsilons=[]", "calibrate.predictive=0", "sweep.workers=2")


@pytest.mark.subprocess
def test_a_killed_calibration_resumes_the_same_history(tmp_path):
    import pyabc

    out = tmp_path / "cal"
    database = out / "abc.db"
    process = subprocess.Popen(calibrate_command(*QUICK, "calibrate.generations=60", f"calibrate.out={out}"),
                               cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    stored = -1
    deadline = time.time() + 120
    try:
        while time.time() < deadline and process.poll() is None:
            if database.exists():
                try:
                    stored = pyabc.History(f"sqlite:///{database}", create=False).max_t
                except Exception:  # noqa: BLE001 - the writer may hold the database for a moment
                    stored = -1
                if stored is not None and stored >= 0:
                    break
            time.sleep(0.2)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)  # the calibration and its sampler workers
        process.wait()
    assert stored is not None and 0 <= stored < 59, "the first population was not stored in time"
    before = pyabc.History(f"sqlite:///{database}", create=False)
    kept = before.max_t
    first = before.get_all_populations().set_index("t")["population_end_time"]
    assert not (out / "posterior.parquet").exists()  # no output that looks complete
    done = experiment("calibrate", *QUICK, f"calibrate.generations={kept + 3}", f"calibrate.out={out}")
    assert done.returncode == 0, done.stderr[-2000:]
    after = pyabc.History(f"sqlite:///{database}", create=False)
    assert len(after.all_runs()) == 1 and after.id == before.id  # the same ABC-SMC run, continued
    assert after.max_t == kept + 2
    again = after.get_all_populations().set_index("t")["population_end_time"]
    assert again.loc[first.index].equals(first)  # the stored generations are untouched
    assert (out / "posterior.parquet").exists() and (out / "figures" / "posterior_pairs.png").exists()


def write_calibration(path: Path, parameters: dict) -> Path:
    path.write_text(yaml.safe_dump({"calibrate": {"name": "mine", "population": 10, "generations": 1,
                                                  "parameters": parameters}}, sort_keys=False)
                    .replace("calibrate:", "# @package _global_\ncalibrate:", 1))
    return path


@pytest.mark.subprocess
@pytest.mark.parametrize("args, words", [
    (lambda tmp: [f"calibrate={write_calibration(tmp / 'a.yaml', {'scenario.actors.russia.outside_option.optimizm': {'low': 0, 'high': 1}})}"],
     "calibrate.parameters.scenario.actors.russia.outside_option.optimizm: unknown config key"),
    (lambda tmp: [f"calibrate={write_calibration(tmp / 'b.yaml', {'protocol.belief_noise': {'low': 0.3, 'high': 0.1}})}",
                  "protocol=offers"],
     "calibrate.parameters.protocol.belief_noise: low (0.3) must be below high (0.1)"),
    (lambda tmp: ["calibrate=jan2022_resolve", "scenario=jan2022_core"],
     "scenario 'jan2022_core' has no issue"),
    (lambda tmp: ["calibrate=jan2022_resolve", "observed.path=nowhere.yaml"], "observed.path: 'nowhere.yaml': no such file"),
])
def test_bad_calibration_input_is_one_line(tmp_path, args, words):
    done = experiment("calibrate", *args(tmp_path), f"calibrate.out={tmp_path / 'out'}")
    assert done.returncode == 2, done.stderr[-1500:]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], lines
    assert not (tmp_path / "out" / "abc.db").exists()


def test_spec_refuses_bad_priors_and_weights():
    good = {"parameters": {"a.b": {"low": 0, "high": 1}}}
    calibration.spec_from_config(good, "f")
    for change, words in ((dict(parameters={"a.b": {"prior": "normal", "low": 0, "high": 1}}), "unknown prior"),
                          (dict(parameters={"a.b": {"prior": "loguniform", "low": 0, "high": 1}}), "needs low > 0"),
                          (dict(distance={"shape": 1.0}), "unknown term"),
                          (dict(epsilons=[10, 20]), "decreasing"),
                          (dict(epsilons=[20, 10], generations=3), "at most one generation per threshold"),
                          (dict(parameters={}), "at least one parameter")):
        with pytest.raises(ConfigError, match=words):
            calibration.spec_from_config({**good, **change}, "f")
