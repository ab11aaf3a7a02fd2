"""The one cache helper (sim/domain/cache.py): content keys, a bound, copies, one registry."""

from __future__ import annotations

import numpy as np
import pytest

from sim.domain.cache import BoundedCache, caches, clear_all, content_digest, memo


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
