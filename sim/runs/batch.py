"""Blocks of runs: many seeds of one run specification, computed together (docs/how-to/sweeps.md,
"How the runs are computed"; figures in docs/performance.md).

A sweep point is one :class:`~sim.runs.spec.RunSpec` run under many seeds. :func:`run_block` returns
exactly the rows that running each seed alone gives (``spec.with_seed(s).build().run()`` and
``spec.row``: the test in ``tests/integration/test_batch.py`` compares the two tables value for value), with less work:

- **Runs that draw no random number** are one run. The first seed is run alone; if neither of its
  generators (numpy's and the standard library's, which Mesa seeds from the run's seed) moved from its
  seeded state, the result cannot depend on the seed, and its row is repeated with each other seed.
  Exchange, the offers protocol with round-robin order and exact beliefs, and the Scholz variant of eu
  are of this kind.
- **Protocols that advance runs together** (``advances_runs``: eu) step the block's seeds on a leading
  runs axis: one kernel call per round for the whole block, each run with its own generator drawing
  what it would draw alone, each stopping where it would stop alone. The outcome rows are then built
  for the whole chunk at once (:func:`block_rows`: the protocol's outcomes on the runs axis, values
  once per round, scores against the record as arrays), the same rows value for value; a caller that
  reads something else off each model (``read``) gets one model restored to each run's final state.
  (When the protocol's settings say every run draws — ``Protocol.draws`` — no seed is first run alone
  to check.)
- Everything else (belief noise or random recognition under offers, round or event recording) runs one
  seed at a time.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from sim.runs.spec import RunSpec


#: Runs advanced together at most: per run, the eu kernel is fastest at a few hundred to a thousand runs
#: (4 actors x 11 issues); beyond that its (runs, N, N, K) arrays outgrow the processor's caches.
CHUNK = 512


#: What a block reads off each finished model: ``read(spec_with_seed, model) -> row``.
Reader = Callable[["RunSpec", Any], dict[str, Any]]


def _row(spec: "RunSpec", model: Any) -> dict[str, Any]:
    return spec.row(model)


def one_run(spec: "RunSpec", seed: int, read: Reader = _row) -> dict[str, Any]:
    """The outcome row of ``spec`` run alone with ``seed`` (the reference path)."""
    spec = spec.with_seed(seed)
    return read(spec, spec.build().run())


def run_block(spec: "RunSpec", seeds: Sequence[int], read: Reader | None = None) -> list[dict[str, Any]]:
    """Outcome rows of ``spec`` run with each of ``seeds`` (in that order): the rows :func:`one_run`
    gives seed by seed, computed as a block (module docstring). ``read``: what to read off each finished
    model instead of the full outcome row (e.g. only the bundle, when the reference solutions of the row
    are not wanted); it must put the seed in its row under ``seed``."""
    read = read or _row
    seeds = [int(s) for s in seeds]
    if not seeds:
        return []
    spec.hash  # computed once here, so that every with_seed() copy carries it instead of hashing again
    if spec.record_rounds or spec.record_events:  # the recorders run round by round, one model each
        return [one_run(spec, s, read) for s in seeds]
    from sim.engine.protocols import PROTOCOLS

    protocol = PROTOCOLS[spec.protocol]
    if protocol.advances_runs and protocol.draws(spec.params) and len(seeds) > 1:
        return _together(spec, seeds, read)
    first = spec.with_seed(seeds[0])
    model = first.build()
    model.run()
    rows = [read(first, model)]
    if len(seeds) == 1:
        return rows
    if _drew_nothing(model, seeds[0]):
        return rows + [{**rows[0], "seed": s} for s in seeds[1:]]
    if protocol.advances_runs:
        return rows + _together(spec, seeds[1:], read)
    return rows + [one_run(spec, s, read) for s in seeds[1:]]


def _together(spec: "RunSpec", seeds: Sequence[int], read: Reader = _row) -> list[dict[str, Any]]:
    """Rows of the runs advanced together on the protocol's runs axis, one generator per seed (seeded
    as Mesa seeds a model: ``numpy.random.default_rng(seed)``)."""
    rows = []
    for start in range(0, len(seeds), CHUNK):  # arrays that stay in cache (docs/performance.md)
        chunk = seeds[start:start + CHUNK]
        template = spec.with_seed(chunk[0]).build()  # unstepped; restore() then replaces its state run by run
        state = template.protocol.advance_runs([np.random.default_rng(s) for s in chunk])
        if read is _row and hasattr(template.protocol, "outcomes"):  # the rows of the chunk at once
            rows += block_rows(spec, template, state, chunk)
            continue
        for index, seed in enumerate(chunk):
            template.protocol.restore(state, index)
            rows.append(read(spec.with_seed(seed), template))
        # The restored history is views into the chunk's arrays, and a Mesa model lives in reference cycles
        # (its agents point back to it), freed only by a full garbage collection: drop the views now, or a
        # long sweep holds every chunk's history for a while.
        template.position_history = []
    return rows


def block_rows(spec: "RunSpec", template: Any, state: Any, seeds: Sequence[int]) -> list[dict[str, Any]]:
    """The rows :meth:`RunSpec.row` reads off each run of ``state`` restored into ``template`` (run r
    seeded ``seeds[r]``), built for all runs at once: the protocol's outcomes on the runs axis
    (``outcomes(state)``), then :func:`sim.engine.metrics.outcome_rows` and
    :func:`sim.runs.scoring.score_columns_of_runs`. The same rows, value for value and column for column
    (``tests/integration/test_batch.py``)."""
    from sim.engine.metrics import outcome_rows
    from sim.runs.scoring import score_columns_of_runs
    from sim.runs.spec import check_seed

    seeds = [check_seed(s) for s in seeds]
    rows = outcome_rows(template, template.protocol.outcomes(state), state.rounds, seeds,
                        config_hash=spec.config_hash, references=spec.references)
    spec_hash = spec.hash
    for row in rows:
        row["spec_hash"] = spec_hash
    if spec.scoring is not None:
        scores = score_columns_of_runs(template, rows, np.stack(state.history), state.rounds, spec.scoring)
        for row, score in zip(rows, scores):
            row.update(score)
    return rows


def _drew_nothing(model: Any, seed: int) -> bool:
    """Whether a finished run (row included) drew no random number: both of its generators are still in
    the state its seed gave them (Mesa: ``numpy.random.default_rng(seed)`` and ``random.Random(seed)``)."""
    fresh = np.random.default_rng(seed).bit_generator.state
    return (model.rng.bit_generator.state == fresh
            and model.random.getstate() == random.Random(seed).getstate())
