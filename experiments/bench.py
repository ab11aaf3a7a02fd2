"""Benchmarks (a script, not a timed test). Prints tables for docs/performance.md.

    python -m experiments.bench            # all benchmarks available
    python -m experiments.bench eu         # one eu round: vectorised kernel vs the plain-Python oracle
    python -m experiments.bench protocols  # full offers / exchange / eu runs on jan2022
    python -m experiments.bench sweep      # sweep throughput vs Mesa batch_run and a Hydra job per run
    python -m experiments.bench exchange   # exchange runs: jan2022_extended, and 50 actors x 20 issues
    python -m experiments.bench offers     # offers runs: the first run of a scenario, then the others

``eu``: median wall time of one round for N = 10, 50, 200 actors and K = 1, 10 issues, for the
vectorised kernel (``sim.protocols.eu.eu_round``), for a full ``BargainingModel.step()`` (kernel +
Mesa + data collection + event log), and for the plain-Python reference implementation used by the
tests as an oracle (``tests/eu_oracle.py``). The oracle is run issue by issue (issues are independent
contests); where running it K times would take minutes, it is timed on one issue and multiplied by K,
and the table says so.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from sim.protocols.eu import eu_round, normalise
from sim.scenario import scenario_from_arrays as make_scenario
from sim.spec import RunSpec

REPO = Path(__file__).resolve().parent.parent


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


def bench_exchange(repeats: int) -> list[dict]:
    """Full exchange runs, construction included: jan2022_extended (50-round limit, median of
    ``repeats``) and one random scenario of 50 actors x 20 issues (20 rounds; target: under 60 s)."""
    import sim

    rows = []
    cases = [("jan2022_extended", sim.load_scenario("jan2022_extended"), 50, repeats, None),
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


def markdown_table(headers: list[str], rows: list[list[str]]) -> str:
    """A Markdown table (for docs/performance.md)."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def exchange_table(rows: list[dict]) -> str:
    return markdown_table(["scenario", "N", "K", "rounds run", "exchanges", "full run (s)", "target"],
                          [[r["scenario"], str(r["N"]), str(r["K"]), str(r["rounds"]), str(r["exchanges"]),
                            f"{r['seconds']:.3f}", r["target"]] for r in rows])


def bench_offers(repeats: int) -> list[dict]:
    """Offers runs (20-round limit, construction included), CPU time: the first run of a scenario in
    the process solves the proposers' programs, later runs with exact beliefs reuse the answers
    (:mod:`sim.programs` memo); with belief noise each run solves its own. Target at N = 200, K = 11:
    under 2 s per run (later runs)."""
    import sim
    from sim.programs import clear_cache

    rows = []
    cases = [("jan2022", sim.load_scenario("jan2022"), 0.0), ("jan2022_no_red_lines",
             sim.load_scenario("jan2022_no_red_lines"), 0.0),
             ("jan2022_no_red_lines", sim.load_scenario("jan2022_no_red_lines"), 0.1),
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


def bench_eu(repeats: int, oracle_budget: float) -> list[dict]:
    # The plain-Python oracle is the tests' (tests/eu_oracle.py): run this from the repository root,
    # as ``python -m experiments.bench``, which puts the root on the import path.
    from tests import eu_oracle

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


def bench_protocols(repeats: int, rounds: int = 50) -> list[dict]:
    """Full offers / exchange runs on jan2022 (construction included), and the share of that time
    spent outside the protocol's own numerical work (Mesa's step machinery, agent set-up, the data
    collector and event log)."""
    import sim
    from sim.protocols import PROTOCOLS

    rows = []
    for protocol, name in (("offers", "jan2022"), ("offers", "jan2022_no_red_lines"), ("exchange", "jan2022"),
                           ("eu", "jan2022")):
        scenario = sim.load_scenario(name)
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


def bench_sweep(runs: int = 1000, hydra_runs: int = 12) -> list[dict]:
    """Runs per second on jan2022 (20-round limit) per protocol: our sweep with 1 and 2 workers,
    Mesa's batch_run on the same model, runs and seeds, and one Hydra (multirun) job per run."""
    import subprocess
    import tempfile

    from hydra import compose, initialize_config_dir
    from mesa.batchrunner import batch_run
    from omegaconf import OmegaConf

    import sim
    from sim.config import CONFIG_DIR, register_configs
    from sim.design import run_seeds, spec_from_config
    from sim.model import BargainingModel
    from sim.sweep import aggregate, execute, pending_shards, plan, prepare_folder

    register_configs()
    with initialize_config_dir(version_base="1.3", config_dir=str(CONFIG_DIR)):
        cfg = compose(config_name="config", overrides=["scenario=jan2022", "rounds=20"])
    base = OmegaConf.to_container(cfg, resolve=True)
    base.pop("sweep", None)
    scenario = sim.load_scenario("jan2022")
    rows = []
    for protocol in ("eu", "offers", "exchange"):
        spec = spec_from_config({"name": f"bench_{protocol}", "replicates": runs, "seed": 1, "shard_size": 25,
                                 "parameters": {"protocol": {"values": [protocol]}}})
        rates = {}
        for workers in (1, 2):
            with tempfile.TemporaryDirectory() as folder:
                start = time.perf_counter()
                context = prepare_folder(plan(Path(folder), spec, base))
                execute(context, pending_shards(context), workers)
                aggregate(context)
                rates[workers] = runs / (time.perf_counter() - start)
        seeds = [int(v) for v in run_seeds(1, runs)]
        start = time.perf_counter()
        batch_run(BargainingModel, {"scenario": scenario, "protocol": protocol, "rounds": 20,
                                    "record_events": False}, rng=seeds, number_processes=1,
                  data_collection_period=-1, max_steps=20, display_progress=False)
        batch = runs / (time.perf_counter() - start)
        with tempfile.TemporaryDirectory() as folder:
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "experiments.run", "-m", "scenario=jan2022",
                            f"protocol={protocol}", "rounds=20", "record.figures=false", "record.events=false",
                            "record.rounds=false", f"seed={','.join(map(str, range(hydra_runs)))}",
                            f"hydra.sweep.dir={folder}"], cwd=REPO, check=True, capture_output=True)
            hydra_rate = hydra_runs / (time.perf_counter() - start)
        rows.append({"protocol": protocol, "sweep_1": rates[1], "sweep_2": rates[2], "batch_run": batch,
                     "hydra_per_run": hydra_rate})
        print(f"  sweep {protocol}: {rates[1]:.1f} / {rates[2]:.1f} runs/s (1/2 workers), batch_run "
              f"{batch:.1f}, hydra job per run {hydra_rate:.2f}", file=sys.stderr)
    return rows


def sweep_table(rows: list[dict]) -> str:
    lines = ["| protocol | sweep, 1 worker (runs/s) | sweep, 2 workers | 2 vs 1 | Mesa batch_run, 1 process | "
             "sweep(1) / batch_run | one Hydra job per run | sweep(2) / Hydra |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['protocol']} | {r['sweep_1']:.1f} | {r['sweep_2']:.1f} | {r['sweep_2'] / r['sweep_1']:.2f}x | "
                     f"{r['batch_run']:.1f} | {r['sweep_1'] / r['batch_run']:.2f}x | {r['hydra_per_run']:.2f} | "
                     f"{r['sweep_2'] / r['hydra_per_run']:.0f}x |")
    return "\n".join(lines)


def table(rows: list[dict]) -> str:
    head = ("| variant | N | K | vectorised kernel (ms) | model.step() (ms) | plain-Python oracle (ms) "
            "| oracle / kernel | note |")
    lines = [head, "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['variant']} | {r['N']} | {r['K']} | {r['kernel_ms']:.3f} | "
                     f"{r['model_step_ms']:.3f} | {r['oracle_ms']:.1f} | {r['speedup']:.0f}x | "
                     f"{r['note']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("which", nargs="?", default="all",
                        choices=["all", "eu", "protocols", "sweep", "exchange", "offers"])
    parser.add_argument("--repeats", type=int, default=7, help="timing repeats (median is reported)")
    parser.add_argument("--oracle-budget", type=float, default=20.0,
                        help="seconds the oracle may take per cell before extrapolating from one issue")
    args = parser.parse_args(argv)
    print(f"# Benchmarks — {time.strftime('%Y-%m-%d')}, Python {platform.python_version()}, "
          f"numpy {np.__version__}, {platform.machine()}, timer: time.perf_counter "
          f"(resolution {time.get_clock_info('perf_counter').resolution:.0e} s), "
          f"median of {args.repeats} repeats\n")
    if args.which in ("all", "eu"):
        print("## One `eu` round\n")
        print(table(bench_eu(args.repeats, args.oracle_budget)))
    if args.which in ("all", "protocols"):
        print("\n## Full runs (50-round limit, default protocol settings)\n")
        print(protocol_table(bench_protocols(max(args.repeats, 11))))
    if args.which in ("all", "exchange"):
        print("\n## Exchange runs (incremental candidates)\n")
        print(exchange_table(bench_exchange(args.repeats)))
    if args.which in ("all", "offers"):
        print("\n## Offers runs (exact proposer; answers shared across runs by content)\n")
        print(offers_table(bench_offers(args.repeats)))
    if args.which in ("all", "sweep"):
        print("\n## Sweep throughput on `jan2022` (20-round limit)\n")
        print(sweep_table(bench_sweep()))


if __name__ == "__main__":
    main()
