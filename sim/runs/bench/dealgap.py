"""The deal gap's cost (``python -m experiments.bench dealgap``): the exact decision and least relaxations of
``jan2022``'s declared rules, cold in a fresh process and again from the scenario's cache, against the
targets of docs/performance.md ("The deal gap")."""

from __future__ import annotations

import time

from sim.runs.bench.timing import in_fresh_process, markdown_table, median_time, verdict

#: Targets: the exact gap of jan2022 (all rules) cold, and from the scenario's cache.
COLD_TARGET, CACHED_TARGET = 0.5, 0.020


def _timed_gap(name: str, repeats: int) -> tuple[float, float, float, str]:
    """(seconds to load the scenario, cold seconds of its deal gap, median cached seconds, the gap's line),
    in this process: run it in a fresh one."""
    import sim
    from sim.kernels.deal_gap import scenario_deal_gap

    start = time.perf_counter()
    scenario = sim.load_scenario(name)
    loaded = time.perf_counter() - start
    start = time.perf_counter()
    gap = scenario_deal_gap(scenario)
    cold = time.perf_counter() - start
    cached = median_time(lambda: scenario_deal_gap(scenario), repeats)
    rules = ", ".join(gap.relaxations[0].rules) if gap.relaxations else "no relaxation needed"
    return loaded, cold, cached, f"{gap.gap:.1f} points ({rules})"


def bench_deal_gap(repeats: int = 7, scenarios: tuple[str, ...] = ("jan2022", "jan2022_no_red_lines")) -> str:
    """A table: per scenario, the deal gap cold (its own fresh process) and cached, with the targets."""
    rows = []
    for name in scenarios:
        loaded, cold, cached, gap = in_fresh_process(_timed_gap, name, repeats)
        rows.append([name, gap, f"{loaded * 1000:.1f}", f"{cold * 1000:.1f}", verdict(cold < COLD_TARGET),
                     f"{cached * 1000:.3f}", verdict(cached < CACHED_TARGET)])
    return markdown_table(["scenario", "deal gap", "first scenario load, imports included (ms)", "gap cold (ms)",
                           f"< {COLD_TARGET * 1000:.0f} ms", "gap cached (ms)",
                           f"< {CACHED_TARGET * 1000:.0f} ms"], rows)
