"""How long a student waits for Export, measured through the session objects the classroom server uses.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python tools/bench_classroom_export.py [--students 8]

The server's start first (``apps.serve.preload``: the export's imports and the default game's model
agents' runs, in the background), then students one after another, each a
:class:`~sim.classroom.session.Session` that takes a seat, plays to the end and presses Export (30
model-agent runs compared, as in the app). Two cases:

* ``ready``: the game lasted long enough for the background runs of its scenario and seed to be done
  (in class a game lasts minutes; here the bench waits for them before pressing Export);
* ``cold``: a seed nobody played yet, exported the moment the game ends (the runs are computed then).

Prints each Export's wall time and CPU time (this process's, all threads: close to what an idle machine
would take), the medians, and the machine's load average (on a shared machine wall time grows with it).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's sim/ and apps/
from tests.support.classroom import play_to_end  # noqa: E402

SEATS = ("ukraine", "russia", "usa", "nato")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=8)
    args = parser.parse_args()
    start = time.perf_counter()
    from apps.serve import preload

    preload()
    print(f"server start: imports {time.perf_counter() - start:.2f} s (the default game's runs go on in the background)")
    from sim.classroom.session import Session
    from sim.report.debrief.replicates import replicate_runs

    root = tempfile.mkdtemp()
    times: dict[str, list[float]] = {"ready": [], "cold": []}
    cpus: dict[str, list[float]] = {"ready": [], "cold": []}  # this process's CPU time: what an idle machine's wait is
    for n in range(args.students):
        case = "ready" if n % 2 == 0 else "cold"
        session = Session(class_name="bench", root=root, replicates=30)
        if case == "cold":
            session.choose("seed", str(100 + n))
            session.reset()
        session.choose("play_as", SEATS[n % len(SEATS)])
        play_to_end(session, accept=n % 4 < 2)
        if case == "ready":  # what minutes of play give the background thread: its runs are done
            from omegaconf import OmegaConf

            replicate_runs(OmegaConf.to_container(session.model.cfg, resolve=True), session.model.seed, 30)
        began, cpu = time.perf_counter(), time.process_time()
        session.export()
        took, cpu = time.perf_counter() - began, time.process_time() - cpu
        times[case].append(took)
        cpus[case].append(cpu)
        print(f"student {n + 1}: {case}, {session.model.play_as}, seed {session.model.seed}: Export {took:.2f} s "
              f"(CPU {cpu:.2f} s) {session.error}")
    for case, values in times.items():
        if values:
            print(f"Export ({case}): median {statistics.median(values):.2f} s, max {max(values):.2f} s, "
                  f"CPU median {statistics.median(cpus[case]):.2f} s, {len(values)} students")
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
