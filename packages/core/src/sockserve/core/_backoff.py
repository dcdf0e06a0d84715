"""Back-off after an accept that failed for lack of resources."""

from __future__ import annotations

import errno
import time

from ._types import TYPE_CHECKING

if TYPE_CHECKING:
    import logging

__all__ = ["ACCEPT_CAPACITY_ERRNOS", "AcceptBackoff"]


#: Errors that mean "out of resources", not "this connection failed": retrying
#: at once would fail again and spin the CPU. trio and gevent treat the same
#: set this way.
ACCEPT_CAPACITY_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})

#: The first pause; it doubles on each further failure up to the limit. gevent
#: uses the same range: short enough to recover fast when one descriptor frees
#: up, long enough that an exhausted process is not woken 100,000 times a second.
FIRST_DELAY = 0.01
MAX_DELAY = 1.0
#: Failures closer together than this are one episode, logged once.
EPISODE_GAP = 5.0


class AcceptBackoff:
    """Tracks capacity failures of ``accept()`` and how long to pause after one.

    Not thread-safe: it belongs to the one thread that runs the accept loop.
    """

    def __init__(self, first_delay: float = FIRST_DELAY, max_delay: float = MAX_DELAY) -> None:
        if not 0 < first_delay <= max_delay:
            raise ValueError(
                f"need 0 < first_delay <= max_delay, got {first_delay!r} and {max_delay!r}"
            )
        self._first_delay = first_delay
        self._max_delay = max_delay
        #: The current pause in seconds; 0 when the last accept succeeded. An
        #: attribute, not a property: the serving loop reads it on every pass.
        self.delay: float = 0.0
        self._resume_at = 0.0
        self._last_failure = 0.0
        self._episode_failures = 0

    def failed(self, exc: OSError) -> bool:
        """Record a failed accept; return whether it calls for a pause.

        Capacity errors (`ACCEPT_CAPACITY_ERRNOS`) start or lengthen a pause.
        The first of an episode is logged (a warning), not every retry: an
        episode lasts while failures come less than `EPISODE_GAP` seconds
        apart, however many accepts succeed in between (each descriptor
        freed lets one more connection in, then the next accept fails
        again). Any other error is the one connection's and is ignored.
        """
        if exc.errno not in ACCEPT_CAPACITY_ERRNOS:
            return False
        now = time.monotonic()
        if not self._episode_failures or now - self._last_failure > EPISODE_GAP:
            self._episode_failures = 0
            _logger().warning(
                "accept() failed: %s; pausing accepts (up to %.0f s at a time) until it works",
                exc.strerror or exc,
                self._max_delay,
            )
        self._episode_failures += 1
        self._last_failure = now
        self.delay = min(self._max_delay, self.delay * 2 or self._first_delay)
        self._resume_at = now + self.delay
        return True

    def succeeded(self) -> None:
        """Record a successful accept: the next failure starts from the first delay."""
        self.delay = 0.0

    @property
    def failures(self) -> int:
        """Failed accepts in the current (or the last) episode."""
        return self._episode_failures

    def remaining(self) -> float:
        """Seconds left in the current pause (0 when not pausing)."""
        if not self.delay:
            return 0.0
        return max(0.0, self._resume_at - time.monotonic())


def _logger() -> logging.Logger:
    import logging  # only now: a process that never fails an accept never loads it

    return logging.getLogger("sockserve.core")
