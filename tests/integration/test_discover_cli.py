"""Scenario discovery's command as a user runs it (experiments/discover.py, docs/how-to/discover.md) on a
sweep folder: it prints boxes, writes its tables and figures, never overwrites them silently and
writes more outcomes and formats on request. (PRIM and bad input: tests/unit/test_discover.py.)"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.support import experiment
from tests.support.sweeps import planted_sweep_folder

pytestmark = pytest.mark.subprocess  # experiments.discover in a fresh interpreter


def test_the_command_prints_a_box_and_writes_tables_and_figures(tmp_path, capsys):
    folder = planted_sweep_folder(tmp_path / "sweep")
    done = experiment("discover", str(folder), "outcome=agreement", "boxes=1")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("PRIM on 400 runs: ") and "with agreement" in lines[0]
    box_line = next(line for line in lines if line.startswith("box 1: coverage"))
    coverage, density = float(box_line.split()[3]), float(box_line.split()[5])
    assert coverage >= 0.8 and density >= 0.8
    assert any(line.strip().startswith("scenario.actors.russia.package.max") for line in lines)
    out = folder / "discover" / "agreement"
    for name in ("boxes.parquet", "boxes.csv", "trajectory.parquet", "manifest.json",
                 "figures/peeling_trajectory.png", "figures/box_1_pairs.png"):
        assert (out / name).exists(), name
    boxes = pd.read_parquet(out / "boxes.parquet")
    assert {"coverage", "density", "mass", "low", "high", "parameter", "key"} <= set(boxes.columns)
    assert boxes.loc[boxes["key"] == "scenario.actors.russia.package.max", "low"].iloc[0] == pytest.approx(58, abs=2)
    trajectory = pd.read_parquet(out / "trajectory.parquet")
    assert trajectory["chosen"].sum() == 1 and trajectory["coverage"].iloc[0] == 1.0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["completed"] and manifest["runs"] == 400 and manifest["prim_package"].startswith("ema-workbench")

    from experiments.discover import main

    with pytest.raises(SystemExit) as exit_:  # never overwritten silently: one line, exit 2
        main([str(folder), "outcome=agreement"])
    again = capsys.readouterr().err.strip().splitlines()
    assert exit_.value.code == 2 and len(again) == 1, again
    assert str(out) in again[0] and "overwrite=true" in again[0]
    main([str(folder), "outcome=bargaining_range>0", "figures.format=svg"])
    assert "box 1: coverage" in capsys.readouterr().out
    assert (folder / "discover" / "bargaining_range_gt_0" / "figures" / "peeling_trajectory.svg").exists()
    main([str(folder), "outcome=agreement", "overwrite=true", "boxes=3"])
    assert "box 1: coverage" in capsys.readouterr().out
