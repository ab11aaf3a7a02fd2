"""One way to memoise: bounded, thread-safe caches keyed by content, and one registry to clear them all.

A module that remembers answers between calls (reference solutions per scenario, program answers,
loaded records, ...) does it with a :class:`BoundedCache` or the :func:`memo` decorator, never with a
dict of its own. Keys are content — strings, bytes, numbers, tuples of them; a scenario enters by its
:attr:`~sim.domain.scenario.data.Scenario.digest`, arrays by :func:`content_digest` — never an object's
identity: two equal scenarios share their answers, and a new object at a recycled address cannot
read another's. A key of any other type is refused (``TypeError``). Every cache is least-recently-used
with a bound, so memory does not grow with the number of runs, and registered under a name:
:func:`clear_all` forgets every answer (benchmarks timing a first run, tests).
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections import OrderedDict
from typing import Any, Callable, Hashable, TypeVar

import numpy as np

T = TypeVar("T")

_REGISTRY: dict[str, "BoundedCache"] = {}
_CONTENT = (str, bytes, int, float, complex, bool, type(None), np.generic)


class BoundedCache:
    """A least-recently-used map from content keys to answers, at most ``maxsize`` entries.

    Args:
        name: registry name (by convention the module and function, e.g. ``sim.kernels.solutions.nash``).
        maxsize: entries kept; the least recently used goes first.
        copy: applied to an answer going in and coming out (answers that callers may change), or None
            to hand out the stored object itself.
    """

    def __init__(self, name: str, maxsize: int, copy: Callable[[Any], Any] | None = None):
        self.name, self.maxsize, self.copy = name, int(maxsize), copy
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        _REGISTRY[name] = self

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The answer stored under ``key``, else ``compute()`` stored and returned. ``compute`` runs
        outside the lock (it may ask other caches, or this one for another key)."""
        check_key(key)
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._out(self._entries[key])
        value = compute()
        with self._lock:
            self._entries[key] = self._out(value)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)
        return value

    def _out(self, value: Any) -> Any:
        return value if self.copy is None else self.copy(value)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"BoundedCache({self.name!r}, {len(self)}/{self.maxsize})"


def memo(maxsize: int, key: Callable[..., Hashable] | None = None, name: str | None = None,
         copy: Callable[[Any], Any] | None = None) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Memoise a function in a :class:`BoundedCache`.

    Args:
        maxsize: entries kept.
        key: the content key of a call, given the call's arguments (default: the positional arguments
            as a tuple, which must then be content themselves).
        name: registry name (default: the function's module and name).
        copy: see :class:`BoundedCache`.

    The wrapped function has ``cache`` (its :class:`BoundedCache`) and ``cache_clear``.
    """
    def decorate(function: Callable[..., T]) -> Callable[..., T]:
        cache = BoundedCache(name or f"{function.__module__}.{function.__qualname__}", maxsize, copy)
        make_key = key or (lambda *args: args)

        @functools.wraps(function)
        def wrapper(*args: Any) -> T:
            return cache.get_or_compute(make_key(*args), lambda: function(*args))

        wrapper.cache = cache  # type: ignore[attr-defined]
        wrapper.cache_clear = cache.clear  # type: ignore[attr-defined]
        return wrapper

    return decorate


def check_key(key: Any) -> None:
    """Refuse a key that is not content (an object would be compared by identity)."""
    if isinstance(key, tuple):
        for part in key:
            check_key(part)
    elif not isinstance(key, _CONTENT):
        raise TypeError(f"cache keys must be content (str, bytes, numbers, tuples of them), not {type(key).__name__}; "
                        "use a digest (Scenario.digest, content_digest)")


def content_digest(*parts: Any, start: "hashlib._Hash | None" = None) -> bytes:
    """SHA-256 of the parts' content: strings and numbers by their text, arrays by dtype, shape and
    bytes, None as itself. Equal content, equal digest, whichever objects hold it. ``start``: a
    :func:`content_hash` of the leading parts (not changed): the digest of those parts followed by these."""
    return content_hash(*parts, start=start).digest()


def content_hash(*parts: Any, start: "hashlib._Hash | None" = None) -> "hashlib._Hash":
    """:func:`content_digest`'s SHA-256 object after ``parts`` (continuing a copy of ``start``), to be
    continued by later parts."""
    digest = hashlib.sha256() if start is None else start.copy()
    for part in parts:
        if part is None:
            digest.update(b"|none")
        elif isinstance(part, np.ndarray):
            array = np.ascontiguousarray(part)
            digest.update(f"|{array.dtype.str}{array.shape}".encode())
            digest.update(array.tobytes())
        else:
            digest.update(f"|{type(part).__name__}:{part!r}".encode())
    return digest


def caches() -> dict[str, BoundedCache]:
    """Every registered cache by name."""
    return dict(_REGISTRY)


def snapshot() -> dict[str, list]:
    """Every registered cache's entries (key, answer), oldest first, by cache name: what this process has
    computed, for another process to start with (:func:`load`; a sweep's workers)."""
    out = {}
    for name, cache in list(_REGISTRY.items()):
        with cache._lock:
            if cache._entries:
                out[name] = list(cache._entries.items())
    return out


def load(entries: dict[str, list]) -> None:
    """Put :func:`snapshot`'s entries into the caches of the same names in this process (names it does not
    have are skipped: their module is not imported here, so nothing would ask for them)."""
    for name, items in entries.items():
        cache = _REGISTRY.get(name)
        if cache is None:
            continue
        with cache._lock:
            for key, value in items:
                cache._entries[key] = value
                cache._entries.move_to_end(key)
            while len(cache._entries) > cache.maxsize:
                cache._entries.popitem(last=False)


def clear_all() -> None:
    """Forget every memoised answer in every registered cache."""
    for cache in list(_REGISTRY.values()):
        cache.clear()
