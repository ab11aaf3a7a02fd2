"""Benchmarks (a script, not a timed test). Prints tables for docs/performance.md.

    python -m experiments.bench            # all benchmarks available
    python -m experiments.bench eu         # one eu round: vectorised kernel vs the plain-Python oracle
    python -m experiments.bench protocols  # full offers / exchange / eu runs on jan2022
    python -m experiments.bench sweep      # sweeps vs Mesa batch_run and a Hydra job per run, workers,
                                           # the block's limit, peak memory, every issue target met/missed
    python -m experiments.bench sweep --quick  # the same on a tenth of the sizes (for trying things)
    python -m experiments.bench exchange   # exchange runs: jan2022_extended, and 50 actors x 20 issues
    python -m experiments.bench offers     # offers runs: the first run of a scenario, then the others
    python -m experiments.bench classroom  # 30 classroom sessions: first render, time per click (p95)
    python -m experiments.bench workloads  # calibration, a folder of scenarios: against the previous path
    python -m experiments.bench dealgap    # jan2022's deal gap, cold and from the scenario's cache

``eu``: median wall time of one round for N = 10, 50, 200 actors and K = 1, 10 issues, for the
vectorised kernel (``sim.engine.protocols.eu.eu_round``), for a full ``BargainingModel.step()`` (kernel +
Mesa + data collection + event log), and for the plain-Python reference implementation used by the
tests as an oracle (``tests/support/eu_oracle.py``). The oracle is run issue by issue (issues are independent
contests); where running it K times would take minutes, it is timed on one issue and multiplied by K,
and the table says so.
"""

from __future__ import annotations

import argparse

from sim.runs.bench import BENCHMARKS, run_benchmarks


def eu_oracle():
    """The plain-Python oracle the tests check the ``eu`` kernel against (tests/support/eu_oracle.py): run this
    from the repository root, as ``python -m experiments.bench``, which puts the root on the import path."""
    from tests.support import eu_oracle

    return eu_oracle


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("which", nargs="?", default="all",
                        choices=[*BENCHMARKS, "classroom"])
    parser.add_argument("--repeats", type=int, default=7, help="timing repeats (median is reported)")
    parser.add_argument("--oracle-budget", type=float, default=20.0,
                        help="seconds the oracle may take per cell before extrapolating from one issue")
    parser.add_argument("--quick", action="store_true",
                        help="sweep: the same measurements on a tenth of the sizes (the targets need the "
                             "full ones)")
    args = parser.parse_args(argv)
    if args.which == "classroom":  # sim.classroom sits above sim.runs: not one of run_benchmarks'
        from sim.classroom.bench import bench_classroom, classroom_table

        print(classroom_table(bench_classroom()))
        return
    run_benchmarks(args.which, args.repeats, args.oracle_budget, args.quick, eu_oracle)


if __name__ == "__main__":
    from experiments.cli import run_command

    run_command(main)
