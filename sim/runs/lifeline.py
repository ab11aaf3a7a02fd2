"""Worker processes that end when the process they work for ends, however it ends (``kill -9`` included).

A sweep's workers are forked from a ``forkserver``, so their parent is the server, not the sweep: each asks
the kernel for SIGKILL when the server dies (:func:`die_with_parent`, Linux's parent-death signal) and
watches the sweep itself (:func:`watch`): when the sweep's process ends, the worker ends. The server then
ends on its own (it exits when no process holds its "alive" pipe any more: the sweep and its workers did).
pyabc's sampler workers are forked by the calibration itself: the parent-death signal alone covers them.
Elsewhere than on Linux both are no-ops (:func:`watch` falls back to polling).
"""

from __future__ import annotations

import os
import signal
import sys
import threading

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_parent(parent: int | None = None, sig: int = signal.SIGKILL) -> bool:
    """Ask the kernel to send ``sig`` to this process when its parent ends (``prctl(PR_SET_PDEATHSIG)``,
    through ctypes); if the parent (``parent``: its pid as the caller knew it) has already ended, end now.
    Returns whether the kernel took the request (False off Linux)."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        taken = libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False
    if taken and parent is not None and os.getppid() != parent:  # it ended before we asked
        os._exit(1)
    return taken


def watch(pid: int, interval: float = 0.5) -> threading.Thread:
    """A daemon thread that ends this process (``os._exit``) as soon as process ``pid`` ends: it waits on a
    pidfd (Linux >= 5.3), else checks every ``interval`` seconds. If ``pid`` has already ended, this
    process ends now."""
    import select

    try:
        fd: int | None = os.pidfd_open(pid)
    except ProcessLookupError:
        os._exit(1)
    except (AttributeError, OSError):
        fd = None

    def wait() -> None:
        if fd is not None:
            select.select([fd], [], [])
        else:
            while True:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                except PermissionError:
                    pass
                threading.Event().wait(interval)
        os._exit(1)

    thread = threading.Thread(target=wait, name=f"lifeline-{pid}", daemon=True)
    thread.start()
    return thread


def in_forkserver() -> bool:
    """Whether this code runs inside multiprocessing's forkserver while it imports its preload modules (a
    frame of ``multiprocessing.forkserver.main`` is on the stack)."""
    frame = sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        if code.co_name == "main" and code.co_filename.replace("\\", "/").endswith("multiprocessing/forkserver.py"):
            return True
        frame = frame.f_back
    return False


def die_with(pid: int) -> None:
    """End this process when process ``pid`` ends: by the parent-death signal when ``pid`` is this process's
    parent (a forked worker), else by a :func:`watch` (a worker forked by a server). A pool's initializer."""
    if os.getppid() == pid and die_with_parent(pid):
        return
    watch(pid)
