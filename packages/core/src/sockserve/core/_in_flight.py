"""The requests a server is handling now: what a graceful drain waits for, then cuts."""

from __future__ import annotations

import socket as _socket
import threading
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["DrainResult", "InFlight", "Ticket", "cut_connection"]


@dataclass(frozen=True)
class DrainResult:
    """What a graceful drain did with the requests in flight when it began.

    Attributes:
        completed: Requests that finished by themselves before the deadline.
        cut: Requests still running at the deadline, whose handlers were
            cancelled (async) or whose connections were shut down (sync).
    """

    completed: int
    cut: int


class Ticket:
    """One request's entry in an `InFlight`.

    Attributes:
        was_cut: Whether a drain cut the request; errors its handler raises
            afterwards are the cut's doing and are not reported.
    """

    __slots__ = ("_cut", "was_cut")

    def __init__(self, cut: Callable[[], None] | None) -> None:
        self._cut = cut
        self.was_cut = False


def cut_connection(connection: _socket.socket) -> None:
    """Unblock a sync handler waiting on ``connection``: shut it down both ways.

    A ``recv()`` blocked in another thread returns ``b""`` (end of file) and
    a ``send()`` fails, so the handler ends. Never raises: a connection the
    peer or the handler has already closed needs no cutting.
    """
    # Not contextlib.suppress: this is on the drain path of every connection.
    try:  # noqa: SIM105
        connection.shutdown(_socket.SHUT_RDWR)
    except OSError:
        pass


class InFlight:
    """The requests being handled, and how many finished or were cut so far.

    Thread-safe: workers add and remove their own tickets while a drain,
    from another thread, cuts what remains.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tickets: set[Ticket] = set()
        self._completed = 0
        self._cut = 0

    def add(self, cut: Callable[[], None] | None = None) -> Ticket:
        """Record a request that has started; ``cut`` is how to unblock it at a deadline.

        ``cut`` must not block. None: the model cuts the request itself (a
        trio backend cancels its handler tasks); the ticket is still counted.
        """
        ticket = Ticket(cut)
        with self._lock:
            self._tickets.add(ticket)
        return ticket

    def remove(self, ticket: Ticket) -> None:
        """Record that the request has ended; it counts as completed unless it was cut."""
        with self._lock:
            self._tickets.discard(ticket)
            if not ticket.was_cut:
                self._completed += 1

    def cut_all(self) -> int:
        """Cut every request still in flight; return how many there were.

        Each is marked cut and its ``cut`` called (outside the lock, so a cut
        may take other locks). The requests end on their own afterwards and
        must still be removed.
        """
        with self._lock:
            tickets = [t for t in self._tickets if not t.was_cut]
            for ticket in tickets:
                ticket.was_cut = True
            self._cut += len(tickets)
        for ticket in tickets:
            if ticket._cut is not None:
                ticket._cut()
        return len(tickets)

    def counts(self) -> DrainResult:
        """How many requests have completed, and how many were cut, so far."""
        with self._lock:
            return DrainResult(self._completed, self._cut)

    def __len__(self) -> int:
        return len(self._tickets)
