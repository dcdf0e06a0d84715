"""Waiting for one of a given set of child processes, and for no other.

``os.waitpid(-1, 0)`` would wait for any child of the process, including
children the application started for its own reasons, and reap them behind
its back (their exit status is then lost to it).
"""

from __future__ import annotations

import os
import selectors
import time
from collections.abc import Collection, Iterable

__all__ = ["reap", "wait_for_any_exit"]

# Used only where pidfds are unavailable (not Linux, or Linux before 5.3).
_FIRST_POLL = 0.001
_MAX_POLL = 0.05


def reap(pids: Iterable[int], *, block: bool) -> list[tuple[int, int]]:
    """Collect the exit status of each child of ``pids`` that has exited.

    Returns ``(pid, exit code)`` for each, in order; a child still running
    is left out. Blocks until each child exits if ``block``. The exit code
    is negative for a signal, as ``subprocess`` has it. A pid that is no
    longer our child (reaped elsewhere) counts as gone, with 0: its status
    is lost. Any other ``OSError`` leaves it to be tried again later.
    """
    # One call for every child: a forking server's parent runs this on each
    # pass, and each Python call is pages it copies after a fork.
    options = 0 if block else os.WNOHANG
    exited: list[tuple[int, int]] = []
    for pid in pids:
        try:
            reaped, status = os.waitpid(pid, options)
        except ChildProcessError:
            exited.append((pid, 0))
            continue
        except OSError:
            continue
        if reaped == pid:
            exited.append((pid, os.waitstatus_to_exitcode(status)))
    return exited


def wait_for_any_exit(pids: Collection[int]) -> None:
    """Block until at least one of ``pids`` has exited; reap none of them.

    Returns at once if ``pids`` is empty or one of them is already gone.
    """
    if not pids:
        return
    if hasattr(os, "pidfd_open"):
        try:
            _wait_on_pidfds(pids)
            return
        except ProcessLookupError:  # one of them is gone already
            return
        except OSError:  # no pidfds on this kernel: poll instead
            pass
    _poll_until_exit(pids)


def _wait_on_pidfds(pids: Collection[int]) -> None:
    descriptors: list[int] = []
    try:
        for pid in pids:
            descriptors.append(os.pidfd_open(pid))
        with selectors.DefaultSelector() as selector:
            for descriptor in descriptors:
                selector.register(descriptor, selectors.EVENT_READ)
            selector.select()
    finally:
        for descriptor in descriptors:
            os.close(descriptor)


def _has_exited(pid: int) -> bool:
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _poll_until_exit(pids: Collection[int]) -> None:
    delay = _FIRST_POLL
    while not any(_has_exited(pid) for pid in pids):
        time.sleep(delay)
        delay = min(delay * 2, _MAX_POLL)
