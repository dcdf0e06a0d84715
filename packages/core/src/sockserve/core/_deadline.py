"""A deadline for each whole request, that a client dripping bytes cannot stretch.

A socket timeout restarts at each byte: a client sending one byte a second
holds its worker for ever. While a server with ``request_deadline`` serves,
one watcher thread looks at the requests in flight every eighth of the
deadline and cuts those older than it (a connection is shut down both
ways, so its handler ends at its next read or write; a forked child is
killed). A request is so cut between its deadline and 1.125 times it.
"""

from __future__ import annotations

import threading
import time
from types import TracebackType

from ._ledger import RequestLedger

__all__ = ["DeadlineWatch", "log_overdue"]

_CHECKS_PER_DEADLINE = 8


class DeadlineWatch:
    """Cuts every request of ``ledger`` that runs longer than ``deadline`` seconds, inside.

    Args:
        ledger: The server's requests; their tickets are stamped as they begin.
        deadline: Seconds a request may take, from the moment it is handed
            over to its end.
    """

    def __init__(self, ledger: RequestLedger, deadline: float) -> None:
        self._ledger = ledger
        self._deadline = deadline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="sockserve-deadline", daemon=True)

    def __enter__(self) -> DeadlineWatch:
        self._ledger.stamping = True
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        self._ledger.stamping = False

    def _watch(self) -> None:
        interval = self._deadline / _CHECKS_PER_DEADLINE
        while not self._stop.wait(interval):
            overdue = self._ledger.cut_older_than(time.monotonic() - self._deadline)
            if overdue:
                log_overdue(overdue, self._deadline)


def log_overdue(count: int, deadline: float) -> None:
    """Log (info) that ``count`` requests were cut for running past ``deadline`` seconds."""
    import logging  # only now: a server whose requests end in time never loads it

    logging.getLogger("sockserve.core").info(
        "cut %d request(s) that ran past request_deadline (%g s)", count, deadline
    )
