"""A graceful drain of a sync server: its deadline, the cut at the deadline, its result.

The serving loop stops taking requests as soon as a drain is asked for; the
requests in flight then have until the deadline, when a watcher thread cuts
what is left (so a deadline holds even while a handler occupies the serving
thread itself); the loop's thread waits for the last request to end.

A drain is often asked for from a signal handler, which runs in the middle
of whatever the main thread was doing, locks held. So beginning one takes
no lock that is not re-entrant and starts no ``threading.Thread`` (whose
``start()`` takes the threading module's own lock and waits on it): the
watcher is a bare ``_thread`` that waits on a bare lock.
"""

from __future__ import annotations

import _thread
import time

from ._ledger import DrainResult, RequestLedger

__all__ = ["PendingDrain"]

#: How often the watcher looks again at a deadline that may have moved, seconds.
_RECHECK = 0.05


class PendingDrain:
    """A drain asked for and not yet over.

    Args:
        ledger: The server's requests; cut at the deadline.
        grace: Seconds from now until the deadline.
    """

    def __init__(self, ledger: RequestLedger, grace: float) -> None:
        self._ledger = ledger
        self._baseline = ledger.counts()
        self._deadline = time.monotonic() + grace
        self._over = _thread.allocate_lock()
        self._over.acquire()  # released by finish(): the watcher then stops
        _thread.start_new_thread(self._cut_at_deadline, ())

    def _cut_at_deadline(self) -> None:
        while True:
            remaining = self._deadline - time.monotonic()
            if remaining <= 0:
                self._ledger.cut_all()
                return
            if self._over.acquire(timeout=min(remaining, _RECHECK)):
                return  # finished before the deadline

    def shorten(self, grace: float) -> None:
        """Bring the deadline forward to ``grace`` seconds from now, if that is earlier."""
        self._deadline = min(self._deadline, time.monotonic() + grace)

    def finish(self) -> DrainResult:
        """Once nothing is in flight: stop the watcher; what became of the requests in flight."""
        self._over.release()
        return DrainResult.between(self._baseline, self._ledger.counts())
