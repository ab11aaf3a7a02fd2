"""Classroom scenarios (configs/scenario/classroom/): each runs, carries a teacher's note, and the
warm-up's worked answer matches the Nash solution the library computes."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.domain.config import CONFIG_DIR
from sim.kernels.solutions import nash_solution

CLASSROOM = CONFIG_DIR / "scenario" / "classroom"
NAMES = sorted(p.stem for p in CLASSROOM.glob("*.yaml"))
EXPECTED = {"jan2022", "neutral_ukraine", "united_vs_divided_west", "arms_control_first",
            "deadline_pressure", "warmup_two_by_two"}

#: The warm-up's Nash bundle as stated in its teacher's note (answer): missiles 0, channels 100.
WARMUP_NASH = {"missiles": 0.0, "channels": 100.0}


def test_the_classroom_pack_is_complete():
    assert EXPECTED <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("protocol", ["eu", "offers", "exchange"])
def test_every_classroom_scenario_runs_two_rounds(name, protocol):
    result = sim.run(sim.load_scenario(f"classroom/{name}"), protocol, seed=0, rounds=2)
    assert len(result.runs) == 1 and result.runs["rounds"].iloc[0] <= 2


@pytest.mark.parametrize("name", NAMES)
def test_every_classroom_scenario_has_a_teachers_note(name):
    scenario = sim.load_scenario(f"classroom/{name}")
    assert scenario.id == f"classroom_{name}"
    note = scenario.classroom
    assert isinstance(note, dict)
    assert note["learning_goal"].strip()
    assert len(note["questions"]) >= 3 and all(q.strip() for q in note["questions"])
    assert 3 <= len(note["look_for"]) <= 5
    assert note["what_happened"].strip()
    assert note["minutes"] > 0


def test_warmup_nash_solution_is_the_worked_answer():
    scenario = sim.load_scenario("classroom/warmup_two_by_two")
    solution = nash_solution(scenario)
    assert solution is not None
    expected = np.array([WARMUP_NASH[k] for k in scenario.issue_ids])
    np.testing.assert_allclose(solution, expected, rtol=0, atol=1e-6)
    # the note states the same bundle
    answer = scenario.classroom["answer"]
    assert "missiles = 0" in answer and "channels = 100" in answer


def test_neutral_ukraine_changes_only_ukraines_enlargement_numbers():
    base, what_if = sim.load_scenario("classroom/jan2022"), sim.load_scenario("classroom/neutral_ukraine")
    u, k = base.actor_ids.index("ukraine"), base.issue_ids.index("enlargement")
    assert what_if.positions[u, k] == 25 and what_if.saliences[u, k] == 0.6
    changed = np.argwhere((base.positions != what_if.positions) | (base.saliences != what_if.saliences))
    assert changed.tolist() == [[u, k]]
