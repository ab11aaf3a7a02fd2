"""The last module the sweep's forkserver imports (:data:`sim.runs.sweep.execution.WORKER_PRELOAD`): it asks
the kernel to kill the server when the sweep's process ends, however it ends (:mod:`sim.runs.lifeline`). The
workers forked from the server ask the same of it, so ``kill -9`` of a sweep leaves no process behind.

Imported anywhere but in the forkserver, it does nothing.
"""

from sim.runs.lifeline import die_with_parent, in_forkserver

if in_forkserver():
    die_with_parent()
