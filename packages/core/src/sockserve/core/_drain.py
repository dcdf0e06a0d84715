"""A graceful drain of a sync server: its deadline, the cut at the deadline, its result.

The serving loop stops taking requests as soon as a drain is asked for; the
requests in flight then have until the deadline, when a timer thread cuts
what is left (so a deadline holds even while a handler occupies the serving
thread itself); the loop's thread waits for the last request to end.
"""

from __future__ import annotations

import threading
import time

from ._ledger import DrainResult, RequestLedger

__all__ = ["PendingDrain"]


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
        self._timer = self._start_timer(grace)

    def _start_timer(self, grace: float) -> threading.Timer:
        timer = threading.Timer(grace, self._ledger.cut_all)
        timer.daemon = True  # a drain left pending must not keep the interpreter alive
        timer.name = "sockserve-drain-deadline"
        timer.start()
        return timer

    def shorten(self, grace: float) -> None:
        """Bring the deadline forward to ``grace`` seconds from now, if that is earlier."""
        deadline = time.monotonic() + grace
        if deadline < self._deadline:
            self._deadline = deadline
            self._timer.cancel()
            self._timer = self._start_timer(grace)

    def finish(self) -> DrainResult:
        """Once nothing is in flight: stop the timer; what became of the requests in flight."""
        self._timer.cancel()
        return DrainResult.between(self._baseline, self._ledger.counts())
