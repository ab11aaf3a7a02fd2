"""Benchmarks of single runs: one ``eu`` round (kernel, model step, plain-Python oracle) and full runs of
the protocols (``offers``, ``exchange``, ``eu``), each with its Markdown table for docs/performance.md."""

from __future__ import annotations

import statistics
import sys
import time
from typing import Any

import numpy as np

from sim.domain.scenario import scenario_from_arrays as make_scenario
from sim.engine.protocols.eu import eu_round, normalise
from sim.runs.bench.timing import markdown_table, median_time, random_problem, random_scenario
from sim.runs.spec import RunSpec


def bench_eu(repeats: int, oracle_budget: float, eu_oracle: Any) -> list[dict]:
    """One ``eu`` round for N = 10, 50, 200 and K = 1, 10, both variants: the vectorised kernel, a model's
    step() and ``eu_oracle`` (a module with the plain-Python ``eu_round`` the tests check the kernel
    against, tests/support/eu_oracle.py), issue by issue, extrapolated from one issue over ``oracle_budget`` s."""
    rows = []
    for variant in ("standard", "scholz"):
        for n in (10, 50, 200):
            for k in (1, 10):
                positions, saliences, capabilities = random_problem(n, k)
                x, _, _ = normalise(positions)
                rng = np.random.default_rng(0)
                draws = rng.random((n, n, k))
                draws = np.triu(draws.transpose(2, 0, 1), 1)
                draws = (draws + draws.transpose(0, 2, 1)).transpose(1, 2, 0)
                kernel = median_time(lambda: eu_round(x, saliences, capabilities, variant, 1.0, 1.0,
                                                      draws), repeats)
                scenario = make_scenario(positions, saliences, capabilities)

                def model_round():
                    model = RunSpec(scenario, "eu", {"variant": variant}, rounds=1, seed=0).build()
                    start = time.perf_counter()
                    model.step()
                    return time.perf_counter() - start

                step = statistics.median(model_round() for _ in range(repeats))
                # Oracle: one issue at a time; extrapolate to K issues when it would be too slow.
                column = lambda j: ([float(v) for v in x[:, j]], [float(v) for v in saliences[:, j]],  # noqa: E731
                                    [float(v) for v in capabilities])
                issue_draws = lambda j: [[float(v) for v in row] for row in draws[:, :, j]]  # noqa: E731

                def oracle_issue(j=0):
                    xs, ss, cs = column(j)
                    eu_oracle.eu_round(xs, ss, cs, variant, 1.0, 1.0, issue_draws(j), None)

                single = median_time(oracle_issue, 1 if n >= 200 else max(1, repeats // 2))
                if single * k <= oracle_budget:
                    oracle = median_time(lambda: [oracle_issue(j) for j in range(k)], 1)
                    note = ""
                else:
                    oracle = single * k
                    note = f"one issue timed, x{k}"
                rows.append({"variant": variant, "N": n, "K": k, "kernel_ms": kernel * 1e3,
                             "model_step_ms": step * 1e3, "oracle_ms": oracle * 1e3,
                             "speedup": oracle / kernel, "note": note})
                print(f"  eu {variant:8s} N={n:3d} K={k:2d}: kernel {kernel * 1e3:9.3f} ms, "
                      f"model step {step * 1e3:9.3f} ms, oracle {oracle * 1e3:11.1f} ms "
                      f"({oracle / kernel:8.0f}x) {note}", file=sys.stderr)
    return rows


def eu_table(rows: list[dict]) -> str:
    head = ("| variant | N | K | vectorised kernel (ms) | model.step() (ms) | plain-Python oracle (ms) "
            "| oracle / kernel | note |")
    lines = [head, "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['variant']} | {r['N']} | {r['K']} | {r['kernel_ms']:.3f} | "
                     f"{r['model_step_ms']:.3f} | {r['oracle_ms']:.1f} | {r['speedup']:.0f}x | "
                     f"{r['note']} |")
    return "\n".join(lines)


def bench_protocols(repeats: int, rounds: int = 50) -> list[dict]:
    """Full offers / exchange runs on jan2022 (construction included), and the share of that time
    spent outside the protocol's own numerical work (Mesa's step machinery, agent set-up, the data
    collector and event log)."""
    from sim.runs.runner import load_scenario
    from sim.engine.protocols import PROTOCOLS

    rows = []
    for protocol, name in (("offers", "jan2022"), ("offers", "jan2022_no_red_lines"), ("exchange", "jan2022"),
                           ("eu", "jan2022")):
        scenario = load_scenario(name)
        cls = PROTOCOLS[protocol]
        inside = [0.0]
        original_step, original_init = cls.step, cls.__init__

        def timed_step(self, _step=original_step):
            start = time.perf_counter()
            _step(self)
            inside[0] += time.perf_counter() - start

        def timed_init(self, *args, _init=original_init, **kwargs):
            start = time.perf_counter()
            _init(self, *args, **kwargs)
            inside[0] += time.perf_counter() - start

        totals, shares, used = [], [], 0
        cls.step, cls.__init__ = timed_step, timed_init
        try:
            for repeat in range(repeats):
                inside[0] = 0.0
                start = time.perf_counter()
                model = RunSpec(scenario, protocol, rounds=rounds, seed=repeat).build().run()
                total = time.perf_counter() - start
                totals.append(total)
                shares.append(1.0 - inside[0] / total)
                used = model.round
        finally:
            cls.step, cls.__init__ = original_step, original_init
        total = statistics.median(totals)
        rows.append({"protocol": protocol, "scenario": name, "rounds": used, "total_ms": total * 1e3,
                     "outside_share": statistics.median(shares)})
        print(f"  {protocol} on {name}: {total * 1e3:.2f} ms for {used} rounds, "
              f"{statistics.median(shares):.0%} outside the protocol", file=sys.stderr)
    return rows


def protocol_table(rows: list[dict]) -> str:
    return markdown_table(["protocol", "scenario", "rounds run", "full run (ms)",
                           "share outside the protocol (Mesa, data collection)"],
                          [[r["protocol"], r["scenario"], str(r["rounds"]), f"{r['total_ms']:.2f}",
                            f"{r['outside_share']:.0%}"] for r in rows])


def bench_exchange(repeats: int) -> list[dict]:
    """Full exchange runs, construction included: jan2022_extended (50-round limit, median of
    ``repeats``) and one random scenario of 50 actors x 20 issues (20 rounds; target: under 60 s)."""
    from sim.runs.runner import load_scenario

    rows = []
    cases = [("jan2022_extended", load_scenario("jan2022_extended"), 50, repeats, None),
             ("random 50 x 20", random_scenario(50, 20), 20, 1, 60.0)]
    for name, scenario, rounds, count, target in cases:
        times = []
        for repeat in range(count):
            start = time.perf_counter()
            model = RunSpec(scenario, "exchange", rounds=rounds, seed=repeat, record_rounds=False,
                            record_events=False).build().run()
            times.append(time.perf_counter() - start)
        total = statistics.median(times)
        rows.append({"scenario": name, "N": scenario.n_actors, "K": scenario.n_issues, "rounds": model.round,
                     "exchanges": model.protocol.exchanges, "seconds": total,
                     "target": "" if target is None else
                     f"< {target:g} s: {'met' if total < target else 'missed'}"})
        print(f"  exchange on {name}: {total:.3f} s, {model.round} rounds, "
              f"{model.protocol.exchanges} exchanges", file=sys.stderr)
    return rows


def exchange_table(rows: list[dict]) -> str:
    return markdown_table(["scenario", "N", "K", "rounds run", "exchanges", "full run (s)", "target"],
                          [[r["scenario"], str(r["N"]), str(r["K"]), str(r["rounds"]), str(r["exchanges"]),
                            f"{r['seconds']:.3f}", r["target"]] for r in rows])


def bench_offers(repeats: int) -> list[dict]:
    """Offers runs (20-round limit, construction included), CPU time: the first run of a scenario in
    the process solves the proposers' programs, later runs with exact beliefs reuse the answers
    (:mod:`sim.kernels.programs` memo); with belief noise each run solves its own. Target at N = 200, K = 11:
    under 2 s per run (later runs)."""
    from sim.runs.runner import load_scenario
    from sim.kernels.programs import clear_cache

    rows = []
    cases = [("jan2022", load_scenario("jan2022"), 0.0), ("jan2022_no_red_lines",
             load_scenario("jan2022_no_red_lines"), 0.0),
             ("jan2022_no_red_lines", load_scenario("jan2022_no_red_lines"), 0.1),
             ("random 200 x 11", random_scenario(200, 11), 0.0)]
    for name, scenario, noise in cases:
        clear_cache()
        times = []
        for repeat in range(max(repeats, 2)):
            start = time.process_time()
            model = RunSpec(scenario, "offers", {"belief_noise": noise}, rounds=20, seed=repeat,
                            record_rounds=False, record_events=False).build().run()
            times.append(time.process_time() - start)
        later = statistics.median(times[1:])
        target = f"< 2 s: {'met' if later < 2.0 else 'missed'}" if scenario.n_actors == 200 else ""
        rows.append({"scenario": name, "N": scenario.n_actors, "K": scenario.n_issues, "noise": noise,
                     "rounds": model.round, "first": times[0], "later": later, "target": target})
        print(f"  offers on {name} (noise {noise:g}): first run {times[0]:.3f} s, later runs {later:.3f} s",
              file=sys.stderr)
    return rows


def offers_table(rows: list[dict]) -> str:
    return markdown_table(["scenario", "N", "K", "belief noise", "rounds run", "first run (s CPU)",
                           "later runs (s CPU, median)", "target"],
                          [[r["scenario"], str(r["N"]), str(r["K"]), f"{r['noise']:g}", str(r["rounds"]),
                            f"{r['first']:.3f}", f"{r['later']:.3f}", r["target"]] for r in rows])
