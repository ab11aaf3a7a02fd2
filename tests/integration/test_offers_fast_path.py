"""Random offers on the warm path give the previous path's results bit for bit (docs/performance.md, "Random
offers"): the proposer asks for the least-short bundle first when its last offer found nothing acceptable
(``OffersProtocol.skip_doomed``), and a program's rows are built once and re-bounded at other floors
(``sim.kernels.programs.solvers.REBUILD``), each level combination solved in turn (``solvers.HOT = False``).
The default hot path agrees with it to a stated tolerance: tests/integration/test_offers_hot_path.py."""

from __future__ import annotations

from contextlib import contextmanager
from unittest import mock

import numpy as np
import pandas as pd
import pytest

import sim
from sim.domain.cache import clear_all
from sim.engine.protocols import offers
from sim.engine.protocols.offers import DOOMED_MARGIN, OffersProtocol
from sim.kernels.programs import Goal, Program, solvers
from sim.kernels.programs.builder import build, level_combinations

NOISY = {"order": "recognition", "belief_noise": 0.1}
MECHANISMS = [  # points of sweep=mechanisms: none of the four mechanisms, red lines alone, credibility alone
    {"rules.red_lines": False, "rules.package": False},
    {"rules.package": False},
    {"rules.red_lines": False, "rules.package": False, "rules.credibility": True},
]


@contextmanager
def previous_path():
    with mock.patch.object(OffersProtocol, "skip_doomed", False), mock.patch.object(solvers, "REBUILD", True), \
            mock.patch.object(solvers, "HOT", False):
        yield


def runs(rules: dict, params: dict, seeds: range) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The runs with ``solvers.HOT`` off: the warm path, or the previous path inside :func:`previous_path`."""
    clear_all()  # each path solves its own programs (the answers are memoised by content)
    scenario = sim.load_scenario("jan2022", rules)
    with mock.patch.object(solvers, "HOT", False):
        results = [sim.run(scenario, "offers", protocol_params=params, seed=s, rounds=20) for s in seeds]
    return (pd.concat([r.runs for r in results], ignore_index=True),
            pd.concat([r.events for r in results], ignore_index=True))


@pytest.mark.parametrize("rules", MECHANISMS)
def test_mechanisms_runs_identical_to_previous_path(rules):
    new_runs, new_events = runs(rules, NOISY, range(4))
    with previous_path():
        old_runs, old_events = runs(rules, NOISY, range(4))
    pd.testing.assert_frame_equal(new_runs, old_runs, check_exact=True)
    pd.testing.assert_frame_equal(new_events, old_events, check_exact=True)  # every offer, answer and value
    assert (new_events["kind"] == "offer").sum() >= 4


def test_walkouts_identical_to_previous_path():
    """The documented rules: Russia walks out at once, its reasons found by counterfactual programs."""
    new_runs, _ = runs({}, NOISY, range(2))
    with previous_path():
        old_runs, _ = runs({}, NOISY, range(2))
    pd.testing.assert_frame_equal(new_runs, old_runs, check_exact=True)
    assert new_runs["breakdown_cause"].str.startswith("walkout:russia").all()


def test_veto_consent_identical_to_previous_path():
    """The veto rule's mixed-integer programs take the skip too (no level combinations to re-bound)."""
    params = {**NOISY, "consent": "veto", "principals": ["usa", "russia"]}
    new_runs, new_events = runs({}, params, range(2))
    with previous_path():
        old_runs, old_events = runs({}, params, range(2))
    pd.testing.assert_frame_equal(new_runs, old_runs, check_exact=True)
    pd.testing.assert_frame_equal(new_events, old_events, check_exact=True)


def test_a_shortfall_above_the_margin_means_nothing_is_acceptable():
    """Whenever the proposer skips the acceptable question, asking it anyway finds nothing."""
    skipped, checked = [], []
    original = OffersProtocol._short_of_acceptable

    def checking(self, p, program, objective, tie):
        answer = original(self, p, program, objective, tie)
        relaxed = program.maximise(objective, tie, shortfall=True)
        if relaxed is not None and relaxed.shortfall > DOOMED_MARGIN:
            skipped.append(relaxed.shortfall)
            assert program.maximise(objective, tie) is None
        checked.append(p)
        return answer

    with mock.patch.object(OffersProtocol, "_short_of_acceptable", checking):
        for rules in MECHANISMS:
            runs(rules, NOISY, range(3))
    assert len(skipped) > 10 and len(checked) > len(skipped)  # it skips, and not always


def test_program_rebounded_at_other_floors_is_the_program_built_there():
    scenario = sim.load_scenario("jan2022", {"rules.red_lines": False})
    values = offers.value_model(scenario)
    consent = offers.Consent("fixed", np.ones(scenario.n_actors, bool))
    own = np.eye(scenario.n_actors, dtype=bool)[0]
    first = Program(scenario, values, consent, np.array([0.5, 0.6, 0.4, 0.7]), rule_actors=own)
    twin = first.with_floors(np.array([0.45, 0.55, 0.35, 0.65]))
    goal = Goal(weight=own.astype(float), tie=np.where(own, 0.0, 1e-6), own=own)
    for shortfall in (False, True):
        fixed = level_combinations(first)[1]
        solvers.built_at_floors(first, goal, shortfall, fixed)  # built at the first floors
        reused, reused_parts = solvers.built_at_floors(twin, goal, shortfall, fixed)
        fresh, fresh_parts = build(twin, goal, shortfall, {}, fixed)
        assert reused.row_lo == fresh.row_lo and reused.row_hi == fresh.row_hi
        assert reused.lower == fresh.lower and reused.upper == fresh.upper
        for a, b in zip(reused.columns(), fresh.columns()):
            np.testing.assert_array_equal(a, b)
        assert reused_parts.floor_rows == fresh_parts.floor_rows
        assert first.structures is twin.structures and len(first.structures) == 1 + shortfall
