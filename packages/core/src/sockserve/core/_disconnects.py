"""Clients that go away mid-request: one log line each, at most one a second.

A peer that resets, times out or closes before its reply is the network's
doing, not a bug: a full traceback per such client (the stdlib's report)
buries real errors under thousands of lines when many leave at once.
"""

from __future__ import annotations

import errno
import threading
import time

__all__ = ["DisconnectLog", "is_disconnect"]

_DISCONNECT_ERRNOS = frozenset(
    {errno.EPIPE, errno.ECONNRESET, errno.ECONNABORTED, errno.ETIMEDOUT, errno.ENOTCONN}
)


def is_disconnect(error: BaseException | None) -> bool:
    """Whether ``error`` says the peer went away (reset, timed out, closed), not a bug.

    An error raised from one (a trio stream's ``BrokenResourceError``, say) counts too.
    """
    while error is not None:
        if isinstance(error, ConnectionError | TimeoutError):
            return True
        if isinstance(error, OSError) and error.errno in _DISCONNECT_ERRNOS:
            return True
        error = error.__cause__
    return False


class DisconnectLog:
    """Reports clients that went away: one line, then at most one per ``interval`` seconds.

    The lines held back are counted, and the next line says how many.
    Thread-safe.
    """

    def __init__(self, interval: float = 1.0) -> None:
        self._interval = interval
        self._lock = threading.Lock()
        self._next = 0.0
        self._held_back = 0

    def report(self, client_address: object, error: BaseException) -> None:
        """Log that ``client_address`` went away with ``error`` (or count it, if too soon)."""
        now = time.monotonic()
        with self._lock:
            if now < self._next:
                self._held_back += 1
                return
            held_back, self._held_back = self._held_back, 0
            self._next = now + self._interval
        import logging  # only now: a server whose clients stay never loads it

        more = f" ({held_back} more since the last line)" if held_back else ""
        logging.getLogger("sockserve.core").info(
            "client %s went away: %s: %s%s", client_address, type(error).__name__, error, more
        )
