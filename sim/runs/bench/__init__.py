"""Benchmarks (a script, not a timed test): the tables of docs/performance.md (``python -m experiments.bench``).

:mod:`~sim.runs.bench.protocols` times single runs and one ``eu`` round, :mod:`~sim.runs.bench.sweeps`
the sweeps against other ways of running them, :mod:`~sim.runs.bench.workloads` the workloads researchers run
against the code paths they replaced, with :mod:`~sim.runs.bench.timing`'s tools.
:func:`run_benchmarks` prints the chosen ones as Markdown.
"""

from __future__ import annotations

import os
import platform
import time
from typing import Any, Callable

#: What ``python -m experiments.bench WHICH`` can run.
BENCHMARKS = ("all", "eu", "protocols", "sweep", "exchange", "offers", "workloads", "dealgap")


def run_benchmarks(which: str = "all", repeats: int = 7, oracle_budget: float = 20.0, quick: bool = False,
                   eu_oracle: Callable[[], Any] | None = None) -> None:
    """Print the benchmarks ``which`` (one of :data:`BENCHMARKS`) as Markdown; timings on stderr as they come.

    Args:
        repeats: timing repeats (the median is reported).
        oracle_budget: seconds the plain-Python oracle may take per cell before it is extrapolated.
        quick: the sweep benchmark on a tenth of the sizes (the targets need the full ones).
        eu_oracle: returns the module with the plain-Python ``eu_round`` (needed for ``eu``).
    """
    import numpy as np

    from sim.runs.bench import protocols
    from sim.runs.bench.sweeps import bench_sweeps
    from sim.runs.bench.timing import load_average

    print(f"# Benchmarks — {time.strftime('%Y-%m-%d %H:%M %Z')}, Python {platform.python_version()}, "
          f"numpy {np.__version__}, {platform.machine()}, {os.cpu_count()} cores, timer: time.perf_counter "
          f"(resolution {time.get_clock_info('perf_counter').resolution:.0e} s), "
          f"median of {repeats} repeats\n")
    print(f"Load average at start: {load_average()}\n")
    exchange_rows = offers_rows = None
    if which in ("all", "eu"):
        print("## One `eu` round\n")
        print(protocols.eu_table(protocols.bench_eu(repeats, oracle_budget, eu_oracle())))
    if which in ("all", "protocols"):
        print("\n## Full runs (50-round limit, default protocol settings)\n")
        print(protocols.protocol_table(protocols.bench_protocols(max(repeats, 11))))
    if which in ("all", "exchange"):
        print("\n## Exchange runs (incremental candidates)\n")
        exchange_rows = protocols.bench_exchange(repeats)
        print(protocols.exchange_table(exchange_rows))
    if which in ("all", "offers"):
        print("\n## Offers runs (exact proposer; answers shared across runs by content)\n")
        offers_rows = protocols.bench_offers(repeats)
        print(protocols.offers_table(offers_rows))
    if which in ("all", "workloads"):
        from sim.runs.bench.workloads import bench_workloads

        print("\n# Workloads (`workloads`): each against the code path it replaced, in one process\n")
        print(bench_workloads(quick))
    if which in ("all", "dealgap"):
        from sim.runs.bench.dealgap import bench_deal_gap

        print("\n## The deal gap (`dealgap`): cold in a fresh process, then from the scenario's cache\n")
        print(bench_deal_gap(repeats))
    if which in ("all", "sweep"):
        print("\n# Sweeps (`sweep`)\n")
        print(bench_sweeps(quick, exchange_rows, offers_rows))
    print(f"\nLoad average at end: {load_average()}")
