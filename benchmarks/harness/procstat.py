"""CPU time and resident memory of a server's whole process tree, read from ``/proc``.

A forking server's children are part of its cost, so every figure covers the
server process and all its descendants; children already reaped are counted
through their parent's ``cutime``/``cstime``.

``/proc/PID/stat`` gives CPU time in whole clock ticks (10 ms), truncated per
process: 256 forked children using 6 ms each would read as nothing.
``/proc/PID/schedstat`` has nanoseconds, but for the main thread alone. A
process's own time is the larger of the two: exact for a single-threaded
process, within a tick for a multi-threaded one, and never smaller than an
earlier reading as threads come and go (``stat`` keeps ended threads' time).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass

_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")
# Indexes into /proc/PID/stat's fields after the command name (see proc(5)).
STATE, UTIME, STIME, CUTIME, CSTIME, THREADS, RSS = 0, 11, 12, 13, 14, 17, 21


@dataclass(frozen=True)
class TreeSample:
    """One reading of a process tree.

    Attributes:
        pids: The root and its live descendants.
        cpu_s: User plus system CPU seconds of all of them, reaped children included.
        rss_bytes: The sum of their resident set sizes.
        threads: The sum of their threads.
    """

    pids: tuple[int, ...]
    cpu_s: float
    rss_bytes: int
    threads: int


def stat_fields(pid: int) -> list[str] | None:
    """The fields of ``/proc/PID/stat`` after the command name (`STATE` first); None if gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read()
    except OSError:  # it exited between the listing and the read
        return None
    return raw[raw.rindex(b")") + 2 :].decode().split()


def open_fds(pids: tuple[int, ...]) -> int:
    """How many descriptors ``pids`` hold open between them (processes gone count none)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):  # exited, or a zombie: none left open
            total += len(os.listdir(f"/proc/{pid}/fd"))
    return total


def sample_tree(root: int) -> TreeSample:
    """Read ``root``'s tree now. A root that has exited reads as empty."""
    fields: dict[int, list[str]] = {}
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := stat_fields(int(entry))) is not None:
            fields[int(entry)] = stat
            children.setdefault(int(stat[1]), []).append(int(entry))
    tree, todo = [], [root] if root in fields else []
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, ()))
    cpu_s = sum(_cpu_s(pid, fields[pid]) for pid in tree)
    rss_pages = sum(int(fields[pid][RSS]) for pid in tree)
    threads = sum(int(fields[pid][THREADS]) for pid in tree)
    return TreeSample(tuple(tree), cpu_s, rss_pages * _PAGE, threads)


def _cpu_s(pid: int, stat: list[str]) -> float:
    """CPU seconds of ``pid`` and its reaped children, as precisely as ``/proc`` has them."""
    own = (int(stat[UTIME]) + int(stat[STIME])) / _TICKS
    reaped = (int(stat[CUTIME]) + int(stat[CSTIME])) / _TICKS
    return max(own, _main_thread_cpu_s(pid)) + reaped


def _main_thread_cpu_s(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/schedstat", "rb") as f:
            return int(f.read().split()[0]) / 1e9
    except (OSError, IndexError, ValueError):  # exited, or no schedstat in this kernel
        return 0.0


class TreeMonitor:
    """Tracks a tree over one load: its CPU seconds used and its peak RSS."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.first = sample_tree(root)
        self.peak_rss = self.first.rss_bytes
        self.last = self.first

    def poll(self) -> None:
        """Take a reading; call it often (every 50 ms or so) while the load runs."""
        self.last = sample_tree(self.root)
        self.peak_rss = max(self.peak_rss, self.last.rss_bytes)

    @property
    def cpu_s(self) -> float:
        """CPU seconds the tree used between the first reading and the latest."""
        return self.last.cpu_s - self.first.cpu_s
