"""CPU time and resident memory of a server's whole process tree, read from ``/proc``.

A forking server's children are part of its cost, so every figure covers the
server process and all its descendants; children already reaped are counted
through their parent's ``cutime``/``cstime``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class TreeSample:
    """One reading of a process tree.

    Attributes:
        pids: The root and its live descendants.
        cpu_s: User plus system CPU seconds of all of them, reaped children included.
        rss_bytes: The sum of their resident set sizes.
    """

    pids: tuple[int, ...]
    cpu_s: float
    rss_bytes: int


def _stat_fields(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read()
    except OSError:  # it exited between the listing and the read
        return None
    return raw[raw.rindex(b")") + 2 :].decode().split()


def sample_tree(root: int) -> TreeSample:
    """Read ``root``'s tree now. A root that has exited reads as empty."""
    fields: dict[int, list[str]] = {}
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := _stat_fields(int(entry))) is not None:
            fields[int(entry)] = stat
            children.setdefault(int(stat[1]), []).append(int(entry))
    tree, todo = [], [root] if root in fields else []
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, ()))
    # Fields after the command name: utime, stime, cutime, cstime are 11-14; rss is 21.
    ticks = sum(int(f) for pid in tree for f in fields[pid][11:15])
    rss_pages = sum(int(fields[pid][21]) for pid in tree)
    return TreeSample(tuple(tree), ticks / _TICKS, rss_pages * _PAGE)


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
