"""pyabc's sampling for a calibration (:mod:`sim.runs.calibration`): seeded per generation, its draws made
without pyabc's per-call overhead, and its simulations computed ahead by worker processes.

* **Seeded.** numpy's global generator, from which pyabc draws every proposal, is seeded at the start of each
  generation from the master seed and the generation (:func:`sim.runs.calibration.generation_seed`): a
  calibration is the same history every time, killed and resumed at any generation or not.
* **The same draws, cheaper** (:func:`random_variable`, :func:`model_prior`, :func:`transition`). pyabc's
  defaults spend most of a proposal's time outside the draws themselves: scipy's generic argument handling
  for each prior density (three per proposal) and the model prior's mass, an SVD and a PSD check of the
  covariance, a validation of the weights and a pandas row for each perturbation. These subclasses draw the
  same numbers from numpy's generator in the same order (one uniform for the particle, standard normals for
  the perturbation) and compute the values with numpy's and scipy's own formulas, the fixed parts once per
  fit, so every proposal, weight and stored value is the same bit for bit (a fit checks its first draws
  against numpy's; ``tests/unit/test_calibration_sampler.py`` compares with pyabc's and scipy's).
* **Workers** (:func:`sampler` with ``workers`` > 1, :class:`Stream`). pyabc's single-core loop still runs
  in this process and decides everything: which proposals, which are accepted, when the generation ends.
  Its proposals do not depend on the simulations' results, so a copy of its generator, run ahead of it
  through pyabc's own ``simulate_one``, lists the proposals it is going to make, and ``workers`` processes
  compute them in order, a few each in flight, while the loop waits for each result in turn. The history is
  bit for bit the one-worker history, whatever the number of workers.
"""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator

import numpy as np
import pyabc
from pyabc.parameters import Parameter

from sim.runs.calibration_workers import Workers

# --------------------------------------------------------------------------------------------------
# The same draws and densities as pyabc's defaults, without their per-call overhead
# --------------------------------------------------------------------------------------------------


class FastRV(pyabc.RV):
    """pyabc's ``RV`` (a frozen scipy distribution) whose ``pdf`` and ``pmf`` at one point give scipy's value
    bit for bit, without scipy's generic argument handling: ``pdf`` evaluates the distribution's own
    ``_pdf`` on the arrays scipy's ``pdf`` passes it (the standardized point and the shape arguments as
    1-element arrays, divided by the scale), inside the same closed support; ``pmf`` remembers scipy's value
    per point (a model prior has a handful). Anything else goes to scipy."""

    def __setstate__(self, state: Any) -> None:  # (pyabc's RV.__init__ and copies come here)
        super().__setstate__(state)
        self._fast: Any = None
        self._pmf: dict[int, Any] = {}

    def _prepare(self) -> tuple | bool:
        frozen = self.distribution
        dist = getattr(frozen, "dist", None)
        if dist is None or not hasattr(dist, "_pdf"):
            return False
        shapes, loc, scale = dist._parse_args(*frozen.args, **frozen.kwds)
        shapes = tuple(np.asarray(a) for a in shapes)
        loc, scale = np.asarray(loc), np.asarray(scale)
        if loc.ndim or scale.ndim or any(a.ndim for a in shapes) or not (bool(dist._argcheck(*shapes)) and scale > 0):
            return False
        low, high = dist._get_support(*shapes)
        return dist, tuple(np.atleast_1d(a) for a in shapes), loc, scale, np.atleast_1d(scale), low, high

    def pdf(self, x: Any, *args: Any, **kwargs: Any) -> Any:
        if args or kwargs or np.ndim(x) != 0:
            return self.distribution.pdf(x, *args, **kwargs)
        if self._fast is None:
            self._fast = self._prepare()
        if self._fast is False:
            return self.distribution.pdf(x)
        dist, shapes, loc, scale, scale1, low, high = self._fast
        x = np.asarray(x)
        z = np.asarray((x - loc) / scale, dtype=np.promote_types(x.dtype, np.float64))
        if np.isnan(z):
            return self.distribution.pdf(x)
        if not (low <= z and z <= high):
            return z.dtype.type(0.0)
        return (dist._pdf(np.atleast_1d(z), *shapes) / scale1)[0]

    def pmf(self, x: Any, *args: Any, **kwargs: Any) -> Any:
        if args or kwargs or not isinstance(x, (int, np.integer)):
            return self.distribution.pmf(x, *args, **kwargs)
        key = int(x)
        if key not in self._pmf:
            self._pmf[key] = self.distribution.pmf(x)
        return self._pmf[key]


def random_variable(name: str, *args: Any) -> FastRV:
    """``pyabc.RV(name, *args)`` with fast densities at one point (the same values)."""
    return FastRV(name, *args)


def model_prior(models: int = 1) -> FastRV:
    """pyabc's default model prior (``RV("randint", 0, models)``) with a remembered ``pmf``."""
    return FastRV("randint", 0, models)


class FastTransition(pyabc.MultivariateNormalTransition):
    """pyabc's default perturbation kernel, whose single perturbations (``rvs_single``, one per proposal) give
    pyabc's parameter values from the same draws on numpy's global generator, without its per-call work.
    pyabc draws a particle by weight (``np.random.choice(range, p=w)``: one uniform, searched in the weights'
    normalized cumulative sum) and a ``np.random.multivariate_normal(0, cov)`` perturbation (standard
    normals times the covariance's SVD factor, which numpy recomputes and checks at every call) and adds
    them through a pandas row. Here the cumulative sum and the factor are computed once per fit, with
    numpy's own formulas; a fit whose first draws, on a scratch generator, are not numpy's bit for bit keeps
    pyabc's way."""

    def fit(self, X: Any, w: np.ndarray) -> None:
        super().fit(X, w)
        self._fast: tuple | None = None
        if not all(dtype == np.float64 for dtype in X.dtypes):  # (else pandas' row has another dtype)
            return
        _, s, v = np.linalg.svd(self.cov.astype(np.double))
        cdf = np.asarray(self.w, dtype=np.float64).cumsum()
        cdf /= cdf[-1]
        zeros = np.zeros(self.cov.shape[0])
        fast = (list(X.columns), X.to_numpy(), cdf, np.sqrt(s)[:, None] * v, zeros)
        for seed in (0, 1, 2):
            numpy_way, fast_way = np.random.RandomState(seed), np.random.RandomState(seed)
            index = numpy_way.choice(self._range, p=self.w, replace=True)
            step = numpy_way.multivariate_normal(zeros, self.cov)
            if (index, step.tobytes()) != _perturbation(fast, fast_way) or \
                    numpy_way.random_sample() != fast_way.random_sample():
                return
        self._fast = fast

    def rvs_single(self) -> Any:
        fast = getattr(self, "_fast", None)
        if fast is None:
            return super().rvs_single()
        index, step = _perturbation(fast, np.random, keep=True)  # numpy's global generator
        return Parameter(dict(zip(fast[0], (fast[1][index] + step).tolist())))


def _perturbation(fast: tuple, generator: Any, keep: bool = False) -> tuple:
    """A particle's index and a perturbation drawn as ``choice(range, p=w)`` and ``multivariate_normal(0,
    cov)`` draw them on ``generator`` (the cumulative weights and the SVD factor in ``fast``)."""
    _, _, cdf, factor, zeros = fast
    index = int(cdf.searchsorted(generator.random_sample(), side="right"))
    step = np.dot(generator.standard_normal([len(zeros)]).reshape(-1, len(zeros)), factor)
    step += zeros
    step = step.reshape(len(zeros))
    if keep:
        return index, step
    return index, step.tobytes()


def transition() -> FastTransition:
    """pyabc's default transition (``MultivariateNormalTransition()``), its single draws without pandas."""
    return FastTransition()


@contextlib.contextmanager
def kept_open(history: Any) -> Iterator[None]:
    """pyabc's ``History`` with one database engine and session for the duration of a ``with`` (a run of
    generations), closed after. Without, each access makes an engine and a session, checks the schema and
    closes them again, a dozen times between two generations, while the workers wait: 0.6 of the 3.0 s of CPU
    this process spent in a two-worker ``jan2022_resolve`` (docs/performance.md, "The calibration's workers"). The same queries and commits run on the kept session (one commit per
    generation, as before), so the history is the same, and one killed mid-run resumes as before. (pyabc keeps
    its in-memory databases open this way; its ``_make_session`` and ``_close_session`` are private, so a
    history without them, or already open, is left as it is.)"""
    if getattr(history, "_session", True) is not None or getattr(history, "_engine", True) is not None \
            or not hasattr(history, "_make_session") or not hasattr(history, "_close_session"):
        yield
        return
    history._make_session()
    try:
        yield
    finally:
        history._close_session()


# --------------------------------------------------------------------------------------------------
# The sampler: seeded, and with workers that compute ahead
# --------------------------------------------------------------------------------------------------


def sampler(seeds: Callable[[int], int], workers: int = 1, simulator: Any = None,
            rejected: dict[str, float] | None = None, pool: Workers | None = None) -> Any:
    """pyabc's sampler, numpy's global generator seeded with ``seeds(t)`` at the start of generation ``t``
    (:func:`sim.runs.calibration.generation_seed`). With ``workers`` > 1 and
    ``simulator`` (the calibration's model, with a ``simulate(values)`` method and an ``ahead`` attribute
    it asks before simulating), ``workers`` processes compute the simulations ahead (:class:`Stream`);
    ``rejected``: the statistics the model answers while the proposals are listed (an infinite distance);
    ``pool``: the workers, already forked (:class:`~sim.runs.calibration_workers.Workers`; None: forked when
    the first proposals are listed)."""
    class Seeded(pyabc.sampler.SingleCoreSampler):
        def sample_until_n_accepted(self, n, simulate_one, t, **kwargs):
            np.random.seed(seeds(t))
            return super().sample_until_n_accepted(n, simulate_one, t, **kwargs)

    if workers <= 1 or simulator is None:
        return Seeded()

    class Streamed(pyabc.sampler.SingleCoreSampler):
        def sample_until_n_accepted(self, n, simulate_one, t, **kwargs):
            np.random.seed(seeds(t))
            stream = simulator.ahead
            stream.begin(simulate_one)
            try:
                return super().sample_until_n_accepted(n, simulate_one, t, **kwargs)
            finally:
                stream.end()

    simulator.ahead = Stream(simulator, workers, dict(rejected or {"distance": float("inf")}), pool=pool)
    return Streamed()


class Stream:
    """Simulations computed ahead of pyabc's single-core loop by ``workers`` processes forked from this one
    (:class:`Workers`).

    At the start of a generation (:meth:`begin`, numpy's global generator just seeded) the generator's state
    is copied: the *listing*. pyabc's loop then runs as with one worker. Each time it asks the model for a
    simulation (:meth:`answer`), the listing is first carried far enough ahead that the next ``depth x
    workers`` proposals are known and sent to the workers: with numpy's global generator swapped for the
    listing's, pyabc's own ``simulate_one`` is called (the same calls on the same generator: the proposals
    the loop is going to make), and the model notes each proposal instead of simulating it (answering
    ``rejected``; pyabc rejects it and the particle is dropped). The loop's request then waits for its own
    result. When the loop has its population (:meth:`end`), the simulations still queued are dropped.

    Nothing here depends on the listing being right: each request is checked against it, and a request that
    differs (pyabc's loop, drawing nothing that depends on a result, makes none) is simulated in this
    process, as is every later one of that generation (``diverged`` counts such generations)."""

    def __init__(self, simulator: Any, workers: int, rejected: dict[str, float], depth: int = 6,
                 pool: Workers | None = None):
        self.simulator, self.workers, self.rejected = simulator, int(workers), rejected
        self.window = depth * self.workers
        self.pool: Workers | None = pool
        self.simulate_one: Any = None
        self.listing: Any = None  # numpy's global generator state of the listing (None: not in a generation)
        self.noting = False
        self.listed: list[dict[str, float]] = []
        self.sent = 0  # listed proposals sent to the workers
        self.asked = 0  # the loop's requests so far this generation
        self.off = False  # this generation's requests left the listing: simulated here
        self.diverged = 0  # generations whose requests left the listing
        self.computed = 0  # simulations the workers computed and the loop used
        self.dropped = 0  # simulations sent but not used (past the end of a generation; most never started)

    def begin(self, simulate_one: Any) -> None:
        self.simulate_one, self.listing = simulate_one, np.random.get_state()
        self.listed, self.sent, self.asked, self.off = [], 0, 0, False
        if self.pool is not None:
            self.pool.new_generation()

    def end(self) -> None:
        if self.pool is not None:
            self.dropped += self.pool.new_generation()
        self.simulate_one = self.listing = None
        self.listed = []

    def answer(self, values: dict[str, float]) -> dict[str, float] | None:
        """The statistics of ``values``: ``rejected`` while listing, else the workers' result (None: outside
        a generation or off the listing; the model simulates here)."""
        if self.noting:
            self.listed.append(values)
            return dict(self.rejected)
        if self.listing is None or self.off:
            return None
        index, self.asked = self.asked, self.asked + 1
        self._ahead(index + 1 + self.window)
        if index >= len(self.listed) or list(self.listed[index].items()) != list(values.items()):
            self.off = True
            self.diverged += 1
            self.dropped += self.pool.new_generation() if self.pool is not None else 0
            return None
        self.computed += 1
        return self.pool.result(index)

    def _ahead(self, count: int) -> None:
        """At least ``count`` proposals listed and sent to the workers."""
        if len(self.listed) < count:
            self._list(count - len(self.listed) + self.window)
        if self.pool is None:
            self.pool = Workers(self.simulator, self.workers)
        while self.sent < min(count, len(self.listed)):
            self.pool.send(self.sent, self.listed[self.sent])
            self.sent += 1

    def _list(self, count: int) -> None:
        """Carry the listing ``count`` proposals further (pyabc's ``simulate_one`` on the listing's generator)."""
        state = np.random.get_state()
        np.random.set_state(self.listing)
        self.noting = True
        try:
            for _ in range(count):
                self.simulate_one()
        finally:
            self.noting = False
            self.listing = np.random.get_state()
            np.random.set_state(state)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
            self.pool = None
