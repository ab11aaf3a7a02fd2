"""Every command the documentation shows runs, so that a doc example cannot rot (issue 23, point 1).

The commands are read from the fenced shell blocks of README.md and docs/**/*.md
(:mod:`tests.support.doc_commands`). Each is either in :data:`RUN`, how this test runs it (in the docs'
order, in one temporary folder, so ``results/...`` is the one an earlier command wrote; quick settings
appended, placeholders such as ``path/to/ExampleActors.csv`` made real files), or in :data:`SKIP` with the
reason. A command added to the docs and to neither fails :func:`test_every_doc_command_is_run_or_skipped`.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import REPO, checkout_environment
from tests.support.doc_commands import doc_commands

QUICK = ["rounds=3", "record.figures=false"]  # a run's own settings the docs' commands keep; shorter here
SMALL_SWEEP = ["rounds=4", "sweep.replicates=1", "sweep.workers=1", "sweep.progress=false"]

#: command -> the arguments appended when the test runs it. In this order (later ones read earlier folders).
RUN: dict[str, list[str]] = {
    "python -m experiments.run --help": [],
    "python -m experiments.run scenario=jan2022 protocol=eu seed=1 rounds=20": QUICK,
    "python -m experiments.run scenario=ec_emissions protocol.variant=scholz protocol.q=1 seed=0 rounds=3": QUICK,
    "python -m experiments.run scenario=jan2022 scenario.actors.russia.salience.enlargement=0.9": QUICK,
    "python -m experiments.run scenario=jan2022 protocol=all seed=3": QUICK,
    "python -m experiments.run scenario=jan2022_no_red_lines protocol=offers seed=3": QUICK,
    "python -m experiments.run scenario=jan2022_extended protocol=eu seed=0 rounds=10": QUICK,
    "python -m experiments.run scenario=pie_two protocol=offers": QUICK,
    "python -m experiments.run scenario=path/to/ExampleActors.csv protocol=eu rounds=10": QUICK,
    "python -m experiments.run scenario=path/to/my_scenario.yaml figures.format=pdf": ["rounds=3"],
    "python -m experiments.run 'scenario=~/work/my_talks.yaml' protocol=offers rounds=30": QUICK,
    "python -m experiments.run scenario=tests/data/ExampleActors.csv protocol=eu rounds=10": QUICK,
    "python -m experiments.run scenario=ec_emissions": QUICK,
    "python -m experiments.run scenario=ec_emissions 'scenario.actors.france.veto=[emission_standards]'": QUICK,
    "python -m experiments.run scenario=ec_emissions '~scenario.actors.uk'": QUICK,
    "python -m experiments.run scenario=from_csv scenario.path=data.csv +scenario.status_quo.tariffs=50": QUICK,
    "python -m experiments.run scenario=data.csv protocol=eu": QUICK,
    "python -m experiments.run scenario=ec_emissions hydra.run.dir=/tmp/try": QUICK,  # /tmp/try: see _prepare
    "python -m experiments.run scenario=ec_emissions --cfg job": [],
    "python -m experiments.run protocol=all hydra.run.dir=results/run/all": ["record.figures=false"],
    "python -m experiments.score results/run/all": [],
    "python -m experiments.run protocol=all 'observed.rounds={2:\"2022-02-17\",4:\"2022-02-24\"}'": QUICK[1:],
    "python -m experiments.debrief 'results/run/<timestamp>'": [],
    "python -m experiments.calibrate calibrate=jan2022_resolve scenario=my/case.yaml observed=my/observed.yaml":
        ["calibrate.population=8", "calibrate.generations=1", "calibrate.predictive=2", "sweep.workers=1"],
    "python -m experiments.run scenario=my/case.yaml observed=my/observed.yaml 'observed.rounds={2:\"2022-02-24\"}'":
        QUICK,
    "python -m experiments.cards scenario=classroom/jan2022": [],
    "python -m experiments.cards scenario=classroom/jan2022 level=school": [],
    "python -m experiments.sweep 'sweep=~/work/my_sweep.yaml' sweep.out=results/sweeps/mine": SMALL_SWEEP,
    "python -m experiments.sweep sweep=smoke 'sweep.heatmap=[protocol,scenario]'": SMALL_SWEEP,
    "python -m experiments.sweep sweep=russia_resolve sweep.workers=2 sweep.out=results/sweeps/rr": SMALL_SWEEP,
    "python -m experiments.plot results/sweeps/rr": [],
    "python -m experiments.plot results/sweeps/rr figures.format=pdf figures.width=single": [],
    "python -m experiments.plot results/sweeps/rr 'plot.heatmap=[scenario.actors.russia.outside_option.cost,"
    "scenario.actors.russia.outside_option.optimism]'": [],
    "python -m experiments.reproduce results/sweeps/rr --sample 20": [],
    "python -m experiments.discover results/sweeps/rr outcome=agreement": [],
    "python -m experiments.sweep sweep=deal_space sweep.workers=1 sweep.out=results/sweeps/deal_space":
        ["sweep.samples=20", "sweep.progress=false"],
    "python -m experiments.discover results/sweeps/deal_space outcome=agreement": [],
    "python -m experiments.discover results/sweeps/deal_space 'outcome=bargaining_range>0'": [],
    "python -m experiments.discover results/sweeps/deal_space outcome=agreement boxes=2 out=results/discover/two": [],
}

#: command -> why the test does not run it.
SKIP: dict[str, str] = {
    "python -m experiments.sweep sweep=russia_resolve": "the same sweep as the sweep.out=results/sweeps/rr one, run",
    "python -m experiments.sweep sweep=russia_resolve sweep.replicates=2": "the rr sweep with other replicates, run",
    "python -m experiments.sweep sweep=russia_resolve protocol=all": "a long sweep (3 x 560 runs); protocol=all in a "
                                                                     "sweep: tests/integration/test_bad_input.py",
    "python -m experiments.sweep sweep=salience_sensitivity sweep.samples=8": "a Sobol sweep (minutes); Sobol: "
                                                                              "tests of sim/analysis/sensitivity.py",
    "python -m experiments.sweep sweep=salience_sensitivity sweep.design=morris sweep.samples=4": "a Morris sweep (minutes)",
    "python -m experiments.sweep sweep=salience_sensitivity sweep.workers=2 sweep.out=results/sweeps/sal":
        "a Sobol sweep of 64 x 8 points (minutes)",
    "python -m experiments.sweep sweep=protocol_comparison 'sweep.parameters.scenario.values=[jan2022]' "
    "sweep.workers=2 sweep.out=results/sweeps/retrodiction": "a long sweep (300 runs)",
    "python -m experiments.score results/sweeps/retrodiction": "reads the retrodiction sweep's folder (skipped); "
                                                               "score on a run folder is run (results/run/all)",
    "python -m experiments.calibrate calibrate=jan2022_resolve calibrate.out=results/calibrate/jan2022_resolve":
        "a calibration (~20 s); a small one with own files: tests/integration/test_own_files.py",
    "python -m experiments.calibrate calibrate=jan2022_walkout calibrate.out=results/calibrate/jan2022_walkout":
        "a calibration (minutes); tests/integration/test_calibration*.py",
    "python -m experiments.sweep sweep=belief_noise_sobol sweep.out=results/sweeps/bns":
        "a Sobol sweep of 512 offers runs (minutes); the noise share and the averaged indices: "
        "tests/integration/test_sensitivity_noise.py",
    "python -m experiments.sweep sweep=belief_noise_sobol sweep.replicates=1 sweep.out=results/sweeps/bns1":
        "the same Sobol sweep with one replicate (minutes); tests/integration/test_sensitivity_noise.py",
    "python -m experiments.benchmark deu": "the DEU benchmark (minutes)",
    "python -m experiments.benchmark deu benchmark.capability=equal": "the DEU benchmark (minutes)",
    "python -m experiments.benchmark deu benchmark.proposals=10": "the DEU benchmark; tests/integration/test_benchmark*.py",
    "python -m experiments.debrief --class results/classroom/monday-3rd": "needs a class's games exported by the app "
                                                                          "(make classroom)",
    "python -m experiments.debrief 'results/classroom/monday-3rd/<time>_<seat>_<tab>' --replicates 50":
        "needs a game a person played in the app",
}

PLACEHOLDERS = {"results/run/<timestamp>": "results/run/all"}


def test_every_doc_command_is_run_or_skipped():
    shown = doc_commands()
    missing = [f"{command}   ({', '.join(files)})" for command, files in shown.items()
               if command not in RUN and command not in SKIP]
    assert not missing, "commands in the docs that this test neither runs nor skips:\n" + "\n".join(missing)
    stale = [command for command in [*RUN, *SKIP] if command not in shown]
    assert not stale, "commands listed here that the docs no longer show:\n" + "\n".join(stale)
    assert not set(RUN) & set(SKIP)


def _prepare(folder: Path, home: Path) -> None:
    """The files the docs' commands name as placeholders, made real."""
    csv = (REPO / "tests" / "data" / "ExampleActors.csv").read_text()
    for path in ("path/to/ExampleActors.csv", "tests/data/ExampleActors.csv"):
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text(csv)
    rows = csv.strip().splitlines()
    (folder / "data.csv").write_text("\n".join([rows[0] + ",Issue"] + [r + ",tariffs" for r in rows[1:]]) + "\n")
    (folder / "my").mkdir()
    (folder / "my" / "case.yaml").write_text((REPO / "configs" / "scenario" / "jan2022.yaml").read_text().replace(
        "id: jan2022", "id: case", 1).replace("capability: 0.55", "capability: 0.6", 1))
    (folder / "my" / "observed.yaml").write_text((REPO / "data" / "jan2022_observed.yaml").read_text().replace(
        "force_posture: 70 ", "force_posture: 72 ", 1))
    core = (REPO / "configs" / "scenario" / "jan2022_core.yaml").read_text()
    (folder / "path" / "to" / "my_scenario.yaml").write_text(core.replace("id: jan2022_core", "id: my_scenario", 1))
    (home / "work").mkdir(parents=True)
    (home / "work" / "my_talks.yaml").write_text(core.replace("id: jan2022_core", "id: my_talks", 1))
    (home / "work" / "my_sweep.yaml").write_text(
        "# @package _global_\ndefaults:\n  - override /scenario: my_talks.yaml   # beside this file\n"
        "  - override /protocol: offers\nsweep:\n  name: my_sweep\n  parameters:\n"
        "    scenario.actors.russia.outside_option.cost: {values: [0.0, 0.2]}\n")


@pytest.mark.slow
@pytest.mark.subprocess
def test_the_doc_commands_run(tmp_path):
    folder, home = tmp_path / "work", tmp_path / "home"
    folder.mkdir()
    _prepare(folder, home)
    environment = {**checkout_environment(), "HOME": str(home), "OPENBLAS_NUM_THREADS": "1"}
    failed = []
    for command, extra in RUN.items():
        for placeholder, value in PLACEHOLDERS.items():
            command = command.replace(placeholder, value)
        words = shlex.split(command)
        if "hydra.run.dir=/tmp/try" in words:  # not into the machine's /tmp/try
            words[words.index("hydra.run.dir=/tmp/try")] = f"hydra.run.dir={tmp_path / 'try'}"
        arguments = [*words[1:], *extra] if words[-1] not in ("--help", "job") else words[1:]
        done = subprocess.run([sys.executable, *arguments], cwd=folder, env=environment, capture_output=True,
                              text=True, timeout=600)  # "~" in a path: the user's files take it (HOME here)
        if done.returncode != 0:
            failed.append(f"{command} {' '.join(extra)}: exit {done.returncode}: {done.stderr.strip()[-400:]}")
    assert not failed, "\n".join(failed)
