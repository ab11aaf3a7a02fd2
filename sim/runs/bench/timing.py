"""What the benchmarks measure with: medians of timings, fresh processes, random problems, Markdown tables."""

from __future__ import annotations

import os
import statistics
import sys
import time

import numpy as np

from sim.domain.config import REPO_ROOT as REPO
from sim.domain.scenario import scenario_from_arrays as make_scenario


def median_time(function, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def random_problem(n: int, k: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    positions = rng.uniform(0, 100, (n, k))
    saliences = rng.uniform(0.05, 1.0, (n, k))
    capabilities = rng.uniform(0.05, 1.0, n)
    return positions, saliences, capabilities


def random_scenario(n: int, k: int, seed: int = 1):
    """A random scenario of N actors and K issues on 0-100 scales (:func:`random_problem`)."""
    return make_scenario(*random_problem(n, k, seed))


def markdown_table(headers: list[str], rows: list[list[str]]) -> str:
    """A Markdown table (for docs/performance.md)."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def verdict(met: bool) -> str:
    """A target's verdict in a table (a missed one stands out)."""
    return "met" if met else "**missed**"


def in_fresh_process(function, *args):
    """``function(*args)`` in a new interpreter (spawned): every measurement starts cold, as a user's
    command does, whatever ran before it in this process (the per-process caches of scenarios, reference
    solutions and the offers programs would otherwise favour whatever runs second)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


def peak_rss(command: list[str]) -> tuple[float, float]:
    """(peak RSS in MiB, wall seconds) of a command in its own process (``os.wait4``: that child's own
    peak, not the largest of all children so far)."""
    import os
    import subprocess

    start = time.perf_counter()
    child = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    error = child.stderr.read().decode(errors="replace").strip().splitlines()
    child.stderr.close()
    if os.waitstatus_to_exitcode(status):
        raise RuntimeError(f"{' '.join(command)} failed: {error[-1:]}")
    return usage.ru_maxrss / 1024, seconds  # Linux: KiB


def median_process(code: list[str], repeats: int = 3, inner: bool = False) -> float:
    """Median wall seconds of a fresh ``python`` process running ``code`` (or, ``inner``, of the seconds the
    process prints last)."""
    import subprocess

    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        done = subprocess.run([sys.executable, *code], cwd=REPO, check=True, capture_output=True, text=True)
        times.append(float(done.stdout.split()[-1]) if inner else time.perf_counter() - start)
    return statistics.median(times)


def load_average() -> str:
    """The machine's load average over 1, 5 and 15 minutes (other work on the cores skews timings)."""
    return " / ".join(f"{v:.2f}" for v in os.getloadavg()) + " (1 / 5 / 15 min)"
