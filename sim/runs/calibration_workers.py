"""The worker processes of a calibration (:class:`Workers`): forked from the calibration's process, each
computing the simulations it is sent, in order, over its own pipe (:class:`sim.runs.calibration_sampler.Stream`
decides what they compute).

This module does not import pyabc. :func:`sim.runs.calibration.calibrate` forks the workers before it imports
pyabc (about 2 s), so that they load the simulation's modules and fill its caches with a first simulation
(``warm``) while it does, instead of after, when the first generation waits for them. A worker never needs
pyabc: it is sent parameter values and sends back summary statistics.
"""

from __future__ import annotations

import os
from typing import Any, Mapping


class Workers:
    """``count`` processes forked from this one (they inherit its imports and caches, and die with it: the
    parent-death signal, :func:`sim.runs.lifeline.die_with_parent`), each computing ``simulator.simulate``
    on what it is sent, in order, over its own pipe. A task is sent to the worker with the fewest in flight;
    results are read as they are needed. :meth:`new_generation` drops what is still in flight (its results
    are read and discarded when they arrive)."""

    def __init__(self, simulator: Any, count: int, warm: Mapping[str, float] | None = None):
        import multiprocessing

        context = multiprocessing.get_context("fork")
        parent = os.getpid()
        self.current = context.RawValue("q", 0)  # the generation whose tasks are worth computing
        self.connections, self.processes = [], []
        for _ in range(int(count)):
            here, there = context.Pipe()
            process = context.Process(target=_work, args=(simulator, there, parent, self.current, warm), daemon=True)
            process.start()
            there.close()
            self.connections.append(here)
            self.processes.append(process)
        self.generation = 0
        self.flight: list[list[tuple[int, int]]] = [[] for _ in self.connections]  # (generation, index) per worker
        self.owner: dict[int, int] = {}
        self.results: dict[int, tuple[bool, Any]] = {}

    def send(self, index: int, values: dict[str, float]) -> None:
        worker = min(range(len(self.connections)), key=lambda w: len(self.flight[w]))
        self.connections[worker].send((self.generation, index, values))
        self.flight[worker].append((self.generation, index))
        self.owner[index] = worker

    def result(self, index: int) -> Any:
        """The simulation of task ``index`` of this generation (raises what the worker raised)."""
        while index not in self.results:
            self._receive(self.owner[index])
        self.owner.pop(index)
        ok, value = self.results.pop(index)
        if not ok:
            raise value
        return value

    def _receive(self, worker: int) -> None:
        try:
            generation, index, ok, value = self.connections[worker].recv()
        except (EOFError, OSError):
            raise RuntimeError(f"a calibration worker (pid {self.processes[worker].pid}) ended "
                               f"(exit code {self.processes[worker].exitcode})") from None
        self.flight[worker].remove((generation, index))
        if generation == self.generation:
            self.results[index] = (ok, value)

    def new_generation(self) -> int:
        """Drop what is in flight: a worker skips the tasks of an earlier generation it has not started, and
        what arrives of them is discarded. Returns how many were in flight."""
        dropped = sum(1 for flight in self.flight for g, _ in flight if g == self.generation)
        self.generation += 1
        self.current.value = self.generation
        self.owner, self.results = {}, {}
        return dropped

    def close(self) -> None:
        for connection in self.connections:
            try:
                connection.send(None)
            except OSError:
                pass
        for process, connection in zip(self.processes, self.connections):
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join()
            connection.close()


def _work(simulator: Any, connection: Any, parent: int, current: Any, warm: Mapping[str, float] | None = None) -> None:
    """A worker of :class:`Workers`: simulate what is sent, send back (generation, index, ok, result); a task
    of a generation that is over (``current``) is answered at once, unsimulated. ``warm``: parameter values
    simulated first and thrown away, to load the simulation's modules and fill the caches every simulation
    shares (a failure there is left to the first real task to report)."""
    from sim.runs.lifeline import die_with_parent

    die_with_parent(parent)
    try:  # below the calibration's process, whose turn every result waits for: it goes first when it wakes
        os.nice(2)
    except OSError:
        pass
    if warm is not None:
        try:
            simulator.simulate(dict(warm))
        except Exception:  # noqa: BLE001 - the same simulation fails in a task, which reports it
            pass
    while True:
        try:
            task = connection.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        generation, index, values = task
        if generation != current.value:
            connection.send((generation, index, False, None))
            continue
        try:
            reply = (generation, index, True, simulator.simulate(values))
        except Exception as error:  # noqa: BLE001 - sent to the calibration, which raises it
            reply = (generation, index, False, error)
        try:
            connection.send(reply)
        except (OSError, EOFError):  # the calibration is gone
            return
        except Exception as error:  # noqa: BLE001 - an error that does not pickle: its text
            connection.send((generation, index, False, RuntimeError(f"{type(reply[3]).__name__}: {reply[3]} "
                                                                    f"({type(error).__name__} sending it)")))
