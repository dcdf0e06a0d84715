"""Every request a server has taken and what became of it: live counters, and what a drain cuts.

Every concurrency model keeps its requests here: the serving loop counts
what it accepts and refuses; whoever runs a request (the serving thread, a
worker thread, a child's parent, a trio task) begins a `Ticket` for it and
ends it with its `Outcome`; a drain cuts the tickets still open.
"""

from __future__ import annotations

import collections
import enum
import socket as _socket
import threading
import time
from collections.abc import Callable

from ._types import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import NamedTuple

    class _Counts(NamedTuple):
        accepted: int
        active: int
        completed: int
        failed: int
        refused: int
        cut: int

    class _Drained(NamedTuple):
        completed: int
        cut: int

else:  # the same named tuples, without importing typing
    _Counts = collections.namedtuple("_Counts", "accepted active completed failed refused cut")
    _Drained = collections.namedtuple("_Drained", "completed cut")

__all__ = [
    "DrainResult",
    "Outcome",
    "RequestCounts",
    "RequestLedger",
    "Ticket",
    "cut_connection",
]


class Outcome(enum.IntEnum):
    """How a request that was not cut ended."""

    #: The handler returned.
    COMPLETED = 0
    #: The handler raised: ``handle_error`` reported it (or it ended the server).
    FAILED = 1
    #: ``verify_request`` said no; no handler ran.
    REFUSED = 2


class RequestCounts(_Counts):
    """A snapshot of a server's requests since it was made (a named tuple).

    Always ``accepted == active + completed + failed + refused + cut``.

    Attributes:
        accepted: Requests taken from the socket (connections accepted,
            datagrams received).
        active: Requests being handled (or about to be) now.
        completed: Requests whose handler returned.
        failed: Requests whose handler raised (reported through
            ``handle_error``, or ending the server with an exception).
        refused: Requests ``verify_request`` refused.
        cut: Requests cut at a drain's deadline.
    """

    __slots__ = ()

    def __add__(self, other: RequestCounts) -> RequestCounts:  # type: ignore[override]  # sums, not concatenates
        return RequestCounts(
            self.accepted + other.accepted,
            self.active + other.active,
            self.completed + other.completed,
            self.failed + other.failed,
            self.refused + other.refused,
            self.cut + other.cut,
        )


class DrainResult(_Drained):
    """What a graceful drain did with the requests in flight when it began (a named tuple).

    Attributes:
        completed: Requests that ended by themselves before the deadline
            (whether their handler returned, raised or refused them).
        cut: Requests still running at the deadline, whose handlers were
            cancelled (async) or whose connections were shut down (sync).
    """

    __slots__ = ()

    @classmethod
    def between(cls, then: RequestCounts, now: RequestCounts) -> DrainResult:
        """What ended between two snapshots of a server's counters."""
        ended = (now.completed + now.failed + now.refused) - (
            then.completed + then.failed + then.refused
        )
        return cls(ended, now.cut - then.cut)


def cut_connection(connection: _socket.socket) -> None:
    """Unblock a sync handler waiting on ``connection``: shut it down both ways.

    A ``recv()`` blocked in another thread returns ``b""`` (end of file) and
    a ``send()`` fails, so the handler ends. Never raises: a connection the
    peer or the handler has already closed needs no cutting.
    """
    # Not contextlib.suppress: this is on the drain path of every connection.
    # The base class's shutdown: a TLS socket's own would drop its TLS state
    # while its handler, in another thread, may be reading through it.
    try:  # noqa: SIM105
        _socket.socket.shutdown(connection, _socket.SHUT_RDWR)
    except OSError:
        pass


class Ticket:
    """One request being handled: how to cut it, and whether it was.

    Attributes:
        was_cut: Whether a drain cut the request; errors its handler raises
            afterwards are the cut's doing and are not reported.
    """

    __slots__ = ("_cut", "_ended", "_ledger", "_request", "overdue", "started", "was_cut")

    def __init__(
        self, ledger: RequestLedger, request: object, cut: Callable[[object], None] | None
    ) -> None:
        self._ledger = ledger
        self._request = request
        self._cut = cut
        self._ended = False
        self.was_cut: bool = False
        #: When it began (``time.monotonic()``), while a request deadline watches; else 0.
        self.started: float = 0.0
        #: Whether a request deadline cut it (it still ends with its own outcome).
        self.overdue: bool = False

    def end(self, outcome: Outcome) -> None:
        """Record that the request has ended with ``outcome`` (ignored if it was cut).

        A ticket counts once: ending it again does nothing.
        """
        if self._ended:  # without the lock: a model's fallback end() after the exact one
            return
        ledger = self._ledger
        with ledger._lock:
            if self not in ledger._open:  # another thread ended it meanwhile
                return
            self._ended = True
            ledger._open.remove(self)
            if self.was_cut:
                ledger._cut_open -= 1
            else:
                ledger._ended[outcome] += 1
            limit = ledger.limit
            made_room = ledger.full and (limit is None or len(ledger._open) < limit)
            if made_room:
                ledger.full = False
            if ledger._idle_waiters and not ledger._open:
                ledger._idle.notify_all()
        if made_room and ledger.on_room is not None:
            ledger.on_room()

    def retarget(self, request: object) -> None:
        """Cut ``request`` from now on: the connection a TLS handshake wrapped, say."""
        self._request = request

    def cut(self) -> None:
        """Unblock the request: its own ``cut(request)``, else shut its connection down."""
        if self._cut is not None:
            self._cut(self._request)
        elif isinstance(self._request, _socket.socket):
            cut_connection(self._request)


class RequestLedger:
    """A server's requests: counted, and those in flight kept for a drain to cut.

    Thread-safe: tickets end in any thread, under a lock. Tickets begin in
    the thread that hands requests over (the serving loop's), without one: a
    set's ``add`` is atomic, and a request then costs one lock. The serving
    loop alone bumps `refused_unhandled`. A request counts as accepted once
    its ticket begins or it is refused.

    Args:
        limit: How many tickets may be open before `full` is True; None: no limit.
    """

    def __init__(self, limit: int | None = None) -> None:
        # Re-entrant: a drain asked for from a signal handler reads the counters, on
        # the thread that may be ending a ticket. The condition is for waiters only.
        self._lock = threading.RLock()
        self._idle = threading.Condition(self._lock)
        self._idle_waiters = 0
        self._open: set[Ticket] = set()
        self._ended = [0, 0, 0]  # by Outcome
        self._cut = 0
        self._cut_open = 0  # cut, and not ended yet: counted as cut, not as active
        self.limit: int | None = limit
        #: Whether `limit` tickets are open: the serving loop takes no request then.
        self.full: bool = False
        #: Called, outside the lock, when a ticket's end takes the ledger off `full`.
        self.on_room: Callable[[], None] | None = None
        #: Requests the serving loop refused before any ticket began.
        self.refused_unhandled: int = 0
        #: Whether tickets note when they begin (a request deadline is watching).
        self.stamping: bool = False

    def begin(self, request: object = None, cut: Callable[[object], None] | None = None) -> Ticket:
        """Open a ticket for a request about to be handled.

        Args:
            request: The request; a drain shuts it down if it is a socket.
            cut: How to unblock the request instead, called with ``request``
                (must not block); with neither, the model cuts it itself (a
                trio task is cancelled).
        """
        ticket = Ticket(self, request, cut)
        if self.stamping:
            ticket.started = time.monotonic()
        self._open.add(ticket)
        if self.limit is not None and len(self._open) >= self.limit:
            self.full = True
        return ticket

    def cut_all(self) -> int:
        """Cut every request still open; return how many there were.

        Each is marked cut and unblocked (outside the lock). The requests end
        on their own afterwards, and count as cut, however they end.
        """
        with self._lock:
            # list() copies at once; a loop over the set could see a begin() mid-way.
            tickets = [t for t in list(self._open) if not t.was_cut]
            for ticket in tickets:
                ticket.was_cut = True
            self._cut += len(tickets)
            self._cut_open += len(tickets)
        for ticket in tickets:
            ticket.cut()
        return len(tickets)

    def cut_older_than(self, moment: float) -> int:
        """Cut the open requests that began before ``moment`` (monotonic); return how many.

        Unlike a drain's cut, the requests end with their own outcome: a
        request deadline is the request's failing, not the server's stop.
        """
        with self._lock:
            overdue = [t for t in list(self._open) if 0 < t.started < moment and not t.overdue]
            for ticket in overdue:
                ticket.overdue = True
        for ticket in overdue:
            ticket.cut()
        return len(overdue)

    def wait_until_idle(self, timeout: float | None = None) -> bool:
        """Block until no ticket is open, or ``timeout`` seconds; return whether idle."""
        with self._lock:
            self._idle_waiters += 1
            try:
                return self._idle.wait_for(lambda: not self._open, timeout)
            finally:
                self._idle_waiters -= 1

    def counts(self) -> RequestCounts:
        """A consistent snapshot of the counters."""
        with self._lock:
            completed, failed, refused = self._ended
            active, cut = len(self._open) - self._cut_open, self._cut
            unhandled = self.refused_unhandled
        refused += unhandled
        accepted = active + completed + failed + refused + cut
        return RequestCounts(accepted, active, completed, failed, refused, cut)

    def __len__(self) -> int:
        return len(self._open)
