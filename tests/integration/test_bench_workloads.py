"""python -m experiments.bench workloads: each workload runs both paths, checks they agree, and reports both."""

from __future__ import annotations

from sim.runs.bench import workloads


def test_the_calibration_workload_times_both_paths_on_the_same_statistics():
    result = workloads.bench_calibration(particles=2, repeats=1)  # raises if the statistics differ
    assert result["runs"] == 6 and result["previous"] > 0 and result["new"] > 0


def test_the_scenario_workloads_time_both_paths():
    load = workloads.bench_scenario_load(repeats=1)  # raises if the containers differ from OmegaConf's
    assert load["previous"] > 0 and load["new"] > 0
    folder = workloads.bench_scenario_folder(files=30, asked=3, repeats=1)
    assert folder["files"] == 30 and folder["previous"] > 0 and folder["new"] > 0


def test_the_generated_scenario_has_25_actors():
    from sim.domain.scenario import scenario_from_config
    import yaml

    scenario = scenario_from_config(yaml.safe_load(workloads.scenario_yaml()))
    assert scenario.n_actors == 25 and scenario.n_issues == 11


def test_the_previous_folder_key_reads_every_file(tmp_path):
    for index in range(3):
        (tmp_path / f"s{index}.yaml").write_text(f"id: s{index}\n")
    before = workloads.previous_folder_digest(tmp_path / "s0.yaml")
    (tmp_path / "s2.yaml").write_text("id: changed\n")
    assert workloads.previous_folder_digest(tmp_path / "s0.yaml") != before  # the cost this workload measures


def test_the_scenario_batch_gives_the_same_rows_both_ways():
    batch = workloads.bench_scenario_batch(files=20, asked=2, replicates=2)  # raises if the rows differ
    assert batch["asked"] == 2 and batch["previous"] > 0 and batch["new"] > 0


def test_the_random_offers_workload_times_both_paths():
    from sim.engine.protocols.offers import OffersProtocol
    from sim.kernels.programs import solvers

    result = workloads.bench_offers_mechanisms(per_point=1, repeats=1)
    assert result["runs"] == 7 and result["previous"] > 0 and result["new"] > 0
    assert result["compared"] == 7 and result["within"] and not result["exact_columns"]
    assert OffersProtocol.skip_doomed and not solvers.REBUILD and not solvers.HOT  # this code's path restored
    assert result["differ"] == 0  # the default path: bitwise the previous answers


def test_the_offers_row_comparison_reports_a_change_beyond_the_tolerance():
    rows = [{"agreement": False, "ending": "deadline", "bundle_x": 50.0, "utility_a": 0.5}]
    close = [{**rows[0], "bundle_x": 50.0 + 1e-7}]  # 1e-7 <= 1e-8 x 50
    far = [{**rows[0], "bundle_x": 50.0 + 1e-5}]
    flipped = [{**rows[0], "ending": "agreement"}]
    assert workloads.compare_offers_rows(rows, close) | {"columns": None} == {
        "compared": 1, "differ": 1, "columns": None, "exact_columns": [], "within": True}
    assert not workloads.compare_offers_rows(rows, far)["within"]
    assert workloads.compare_offers_rows(rows, flipped)["exact_columns"] == ["ending"]
    infinite = [{**rows[0], "utility_a": float("-inf")}]
    assert workloads.compare_offers_rows(infinite, infinite)["differ"] == 0
    assert not workloads.compare_offers_rows(rows, infinite)["within"]
    assert workloads.compare_offers_rows(rows, rows) == {"compared": 1, "differ": 0, "columns": {},
                                                         "exact_columns": [], "within": True}


def test_the_offers_diagnostics_count_highs_runs():
    share = workloads.offers_highs_share(per_point=1)
    assert share["previous"]["highs_runs_per_run"] > share["new"]["highs_runs_per_run"] > 0  # the skip skips
    assert 0 < share["new"]["highs_share"] < 1


def test_the_nash_workload_times_both_paths_and_compares_them():
    rows = workloads.bench_nash(sizes=(6,), issues=3)
    assert rows[0]["previous"] > 0 and rows[0]["new"] > 0 and rows[0]["difference"] <= 1e-3


def test_the_protocol_scaling_stops_growing_a_protocol_past_its_budget():
    rows = workloads.bench_protocol_scaling(sizes=(3, 4), issues=2, stop_after=0.0)
    assert [(r["protocol"], r["actors"]) for r in rows] == [("eu", 3), ("offers", 3), ("exchange", 3)]


def test_the_eu_block_rows_workload_times_both_paths_on_equal_rows():
    """bench_eu_block_rows raises if the block's rows differ from the rows read off each restored model."""
    from sim.runs.bench.workloads import bench_eu_block_rows, eu_block_rows

    found = bench_eu_block_rows(600)  # two chunks (sim.runs.batch.CHUNK = 512)
    assert found["runs"] == 600 and found["previous"] > 0 and found["new"] > 0
    assert "600 runs" in eu_block_rows(found)[0][0]


def test_the_nash_workload_on_own_outside_options_times_both_best_value_paths():
    rows = workloads.bench_nash_own_outside(sizes=(10,), issues=3)
    row = rows[0]
    assert row["previous"] > 0 and row["new"] > 0 and row["previous_best"] > 0 and row["new_best"] > 0
    assert row["difference"] <= 1e-12 and 0 <= row["no_gain"] <= 10
