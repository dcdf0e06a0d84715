"""The counters prefork workers share with their parent: one slot each, in shared memory."""

from __future__ import annotations

import mmap
import struct

from sockserve.core import DrainResult, RequestCounts

__all__ = ["Slots"]

# A slot: accepted, active, completed, failed, refused, cut, drained completed, drained cut.
_SLOT = struct.Struct("=8q")


class Slots:
    """``count`` slots of counters in an anonymous shared mapping, inherited by forked workers.

    A worker writes its own slot (`write`); the parent reads them all
    (`read`). A write is eight machine words: a reader may see a slot half
    updated, off by the requests of one report interval at most.
    """

    def __init__(self, count: int) -> None:
        self._count = count
        self._memory = mmap.mmap(-1, _SLOT.size * count)

    def write(self, index: int, counts: RequestCounts, drained: DrainResult) -> None:
        """Store a worker's counters and its last drain in slot ``index``."""
        _SLOT.pack_into(
            self._memory,
            index * _SLOT.size,
            counts.accepted,
            counts.active,
            counts.completed,
            counts.failed,
            counts.refused,
            counts.cut,
            drained.completed,
            drained.cut,
        )

    def read(self, index: int) -> tuple[RequestCounts, DrainResult]:
        """The counters and the last drain stored in slot ``index``."""
        *counts, completed, cut = _SLOT.unpack_from(self._memory, index * _SLOT.size)
        return RequestCounts(*counts), DrainResult(completed, cut)

    def clear(self, index: int) -> None:
        """Zero slot ``index``, for the next worker that uses it."""
        self.write(index, RequestCounts(0, 0, 0, 0, 0, 0), DrainResult(0, 0))

    def close(self) -> None:
        """Unmap the memory (in the process that calls it)."""
        self._memory.close()

    def __len__(self) -> int:
        return self._count
