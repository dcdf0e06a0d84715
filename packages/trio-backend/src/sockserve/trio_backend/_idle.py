"""The idle timeout of async connections: one watcher task, no cost per receive or send.

Each connection's stream counts its successful receives and sends; a watcher
wakes every eighth of the timeout and cancels the connections whose count
has not moved for a whole timeout. A connection is so cut between
``timeout`` and 1.25 times ``timeout`` after its last byte.
"""

from __future__ import annotations

import logging
import math

import trio

from ._stream import BufferedSocketStream

__all__ = ["IdleWatch", "WatchedConnection"]

logger = logging.getLogger("sockserve.trio_backend")

#: Sweeps per timeout: the cut comes at most a quarter of a timeout late.
_SWEEPS_PER_TIMEOUT = 8


class WatchedConnection:
    """One connection under the idle timeout: its cancel scope and its stream."""

    __slots__ = ("client_address", "last_activity", "quiet_since", "scope", "stream", "timed_out")

    def __init__(self, scope: trio.CancelScope, client_address: object, now: float) -> None:
        self.scope = scope
        self.client_address = client_address
        self.stream: BufferedSocketStream | None = None
        self.last_activity = -1
        self.quiet_since = now
        self.timed_out = False

    def attach(self, stream: BufferedSocketStream) -> None:
        """Watch ``stream``, the first made in the connection's task, for activity."""
        if self.stream is None:
            self.stream = stream

    def check(self, now: float, timeout: float) -> None:
        """Cancel the connection if nothing moved on its stream for ``timeout``."""
        activity = -1 if self.stream is None else self.stream.activity
        if activity != self.last_activity:
            self.last_activity, self.quiet_since = activity, now
        elif now - self.quiet_since >= timeout and not self.timed_out:
            self.timed_out = True
            self.scope.cancel()
            logger.info(
                "closing the connection from %s: idle for %.3g s", self.client_address, timeout
            )


class IdleWatch:
    """Watches every async connection of a run for the idle timeout.

    Args:
        timeout: Seconds of no receive or send after which a connection is cut.
    """

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._connections: set[WatchedConnection] = set()

    def watch(self, scope: trio.CancelScope, client_address: object) -> WatchedConnection:
        """Start watching the connection whose handler runs in ``scope``."""
        connection = WatchedConnection(scope, client_address, trio.current_time())
        self._connections.add(connection)
        return connection

    def forget(self, connection: WatchedConnection) -> None:
        """Stop watching a connection that has ended."""
        self._connections.discard(connection)

    async def run(self) -> None:
        """Sweep the connections until cancelled."""
        interval = self.timeout / _SWEEPS_PER_TIMEOUT
        if not math.isfinite(interval) or interval <= 0:
            return
        while True:
            await trio.sleep(interval)
            now = trio.current_time()
            for connection in list(self._connections):
                connection.check(now, self.timeout)
