"""python -m experiments.benchmark deu: a quick run on 10 proposals through the command line (one row per
model, the results folder, resume, bad input), and the documented table regenerated from a fresh full run."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from tests.support import REPO, experiment

MODELS = ["compromise", "weighted_median", "nash_0", "ks_0", "nash_rp", "ks_rp", "reference_point", "eu_standard",
          "eu_scholz", "offers", "exchange", "compromise_cv"]


def benchmark(*args: str):
    return experiment("benchmark", "deu", *args)


@pytest.mark.subprocess
def test_a_quick_benchmark_on_10_proposals_with_equal_capabilities(tmp_path):
    folder = tmp_path / "b"
    done = benchmark("benchmark.proposals=10", "benchmark.capability=equal", "benchmark.workers=1",
                     "benchmark.progress=false", f"benchmark.out={folder}")
    assert done.returncode == 0, done.stderr
    assert "10 proposals, capability=equal" in done.stdout
    table = done.stdout.split("\n\n")[1]
    for model in MODELS:  # one row per model, with its numbers and (except the baseline) an interval
        assert re.search(rf"^\s*{model}\s+\w+\s+\d+\s+\d+\s+\d+\.\d", table, re.M), model
    assert "by procedure:" in done.stdout and "by voting rule:" in done.stdout
    for name in ("predictions.parquet", "errors.parquet", "scores.parquet", "folds.parquet", "tuning.parquet",
                 "config.yaml", "manifest.json", "figures/mae.png", "figures/predicted_vs_observed.png"):
        assert (folder / name).exists(), name
    predictions = pd.read_parquet(folder / "predictions.parquet")
    assert predictions["proposal"].nunique() == 10
    assert predictions.loc[predictions["model"] == "eu_standard", "replicate"].nunique() == 3
    folds = pd.read_parquet(folder / "folds.parquet")
    assert folds["proposal"].is_unique and len(folds) == 10
    errors = pd.read_parquet(folder / "errors.parquet")
    assert errors.groupby("issue")["proposal"].nunique().max() == 1
    again = benchmark("benchmark.proposals=10", "benchmark.capability=equal", "benchmark.workers=1",
                      "benchmark.progress=false", f"benchmark.out={folder}")  # resumes: every shard is there
    assert again.returncode == 0 and again.stdout.split("\n\n")[1] == table
    other = benchmark("benchmark.proposals=10", "benchmark.workers=1", f"benchmark.out={folder}")
    assert other.returncode == 2 and "other settings" in other.stderr


@pytest.mark.subprocess
def test_bad_benchmark_settings_end_in_one_line():
    done = benchmark("benchmark.capability=seats")
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert "benchmark.capability" in done.stderr and "allowed: votes, population, equal, gdp" in done.stderr


@pytest.mark.slow
@pytest.mark.subprocess  # the full benchmark's shards run in worker processes
def test_the_documented_table_is_what_a_fresh_run_prints(tmp_path):
    """docs/explanation/validation.md's table, regenerated from a fresh run of the default benchmark."""
    from sim.report.benchmark import markdown_table, run_benchmark
    from sim.runs.benchmark import BenchmarkSettings

    report = run_benchmark(BenchmarkSettings(workers=2, progress=False), tmp_path / "full")
    page = (REPO / "docs" / "explanation" / "validation.md").read_text()
    documented = page.split("<!-- table:start -->\n")[1].split("\n<!-- table:end -->")[0]
    assert documented == markdown_table(report.scores)
