"""The one cache helper (sim/domain/cache.py): content keys, a bound, copies, one registry."""

from __future__ import annotations

import numpy as np
import pytest

from sim.domain.cache import BoundedCache, caches, clear_all, content_digest, content_hash, memo


def test_answers_are_shared_by_content_and_the_least_recently_used_goes_first():
    calls = []

    @memo(2, name="test.square")
    def square(x):
        calls.append(x)
        return x * x

    assert [square(2), square(2.0), square(3)] == [4, 4, 9] and calls == [2, 3]  # 2 == 2.0: one entry
    square(2)  # 2 is now the most recently used
    square(4)  # evicts 3
    square(3)
    assert calls == [2, 3, 4, 3] and len(square.cache) == 2


def test_keys_that_are_objects_are_refused():
    cache = BoundedCache("test.objects", 4)
    with pytest.raises(TypeError, match="content"):
        cache.get_or_compute((object(), 1), lambda: 0)


def test_copies_keep_the_stored_answer_safe_from_callers():
    cache = BoundedCache("test.copies", 4, copy=np.copy)
    first = cache.get_or_compute("k", lambda: np.zeros(2))
    first[0] = 1.0
    again = cache.get_or_compute("k", lambda: np.ones(2))
    assert again.tolist() == [0.0, 0.0]
    again[1] = 5.0
    assert cache.get_or_compute("k", lambda: np.ones(2)).tolist() == [0.0, 0.0]


def test_clear_all_empties_every_registered_cache():
    from sim.kernels import programs, solutions  # importing them registers their caches

    assert programs.clear_cache and solutions.nash_solution
    cache = BoundedCache("test.clear", 4)
    cache.get_or_compute("k", lambda: 1)
    assert "sim.kernels.programs.solutions" in caches()
    assert any(name.startswith("sim.kernels.solutions.") for name in caches())
    clear_all()
    assert all(len(c) == 0 for c in caches().values())


def test_content_digests_see_content_dtype_and_shape():
    a = np.arange(4.0)
    assert content_digest("x", a, None) == content_digest("x", a.copy(), None)
    assert content_digest(a) != content_digest(a.reshape(2, 2))
    assert content_digest(a) != content_digest(a.astype(np.float32))
    assert content_digest(1, 2) != content_digest(12)


def test_a_digest_continued_from_a_kept_hash_is_the_digest_of_all_parts():
    a, b = np.arange(4.0), np.array([1.0, -np.inf])
    start = content_hash("x", 3, True, a)
    assert content_digest(b, None, start=start) == content_digest("x", 3, True, a, b, None)
    assert content_digest(b, start=start) != content_digest(a, start=start)
    assert content_digest(b, None, start=start) == content_digest(b, None, start=start)  # start is not changed


def test_a_programs_content_key_is_every_part_hashed_whatever_its_twins_hashed_before():
    from sim.kernels.programs import Consent, Program, value_model
    from sim.kernels.programs.builder import Goal
    from sim.kernels.programs.program import content_key
    from sim.runs.runner import load_scenario

    scenario = load_scenario("jan2022")
    n = scenario.n_actors
    program = Program(scenario, value_model(scenario), Consent("fixed", np.ones(n, bool)), np.full(n, 0.2))
    goal = Goal(np.eye(n)[0], np.full(n, 1e-6), np.eye(n)[0] != 0)
    for floors, shortfall in ((np.full(n, 0.2), False), (np.full(n, 0.3), True), (np.full(n, 0.3), False)):
        twin = program.with_floors(floors)
        v, c = twin.values, twin.consent
        full = content_digest(scenario.digest, c.mode, c.votes, twin.binding, shortfall, v.ideal, v.weight,
                              v.offset, v.rho, v.span, v.cap, v.delta, c.required, c.eligible, c.vetoes,
                              c.weights, c.thresholds, twin.floors, twin.rule_actors, twin.follows_rules,
                              goal.weight, goal.tie)
        assert content_key(twin, goal, shortfall) == full
