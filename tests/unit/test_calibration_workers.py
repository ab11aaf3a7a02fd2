"""The calibration's worker processes (sim.runs.calibration_workers.Workers): a warm-up simulation first, then
the tasks in order; a task of an earlier generation skipped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim.runs.calibration_workers import Workers


class Recorder:
    """A simulator that writes each simulation it is asked for to a file (the worker's own record) and
    answers the sum of the values."""

    def __init__(self, path: Path):
        self.path = path

    def simulate(self, values):
        with self.path.open("a") as out:
            out.write(json.dumps(values) + "\n")
        if values.get("fail"):
            raise ValueError("asked to fail")
        return {"sum": sum(values.values())}


def test_a_worker_warms_up_on_the_given_values_before_its_first_task(tmp_path):
    record = tmp_path / "simulated.jsonl"
    pool = Workers(Recorder(record), 1, warm={"a": 0.5, "fail": 1.0})  # a failing warm-up is not reported
    try:
        pool.new_generation()
        for index in range(3):
            pool.send(index, {"a": float(index)})
        assert [pool.result(index) for index in range(3)] == [{"sum": 0.0}, {"sum": 1.0}, {"sum": 2.0}]
    finally:
        pool.close()
    lines = [json.loads(line) for line in record.read_text().splitlines()]
    assert lines == [{"a": 0.5, "fail": 1.0}, {"a": 0.0}, {"a": 1.0}, {"a": 2.0}]


def test_a_task_that_fails_raises_its_error_here(tmp_path):
    pool = Workers(Recorder(tmp_path / "simulated.jsonl"), 2)
    try:
        pool.new_generation()
        pool.send(0, {"a": 1.0, "fail": 1.0})
        with pytest.raises(ValueError, match="asked to fail"):
            pool.result(0)
    finally:
        pool.close()
