"""`ForkingMixIn`: one child process per request, as the stdlib's, with two bugs fixed."""

from __future__ import annotations

import os
import socket

from sockserve.core import (
    BaseServer,
    MixInAddressT,
    MixInRequestT,
    Outcome,
    Ticket,
    serve_request,
    warm_fork_lookups,
    warm_stream_io,
)

from ._child_exit import reap, wait_for_any_exit

__all__ = ["ForkingMixIn"]

# Bound once: an enum member's lookup costs, and this is on every child's path.
_FAILED = Outcome.FAILED
# Whether this process has warmed the stream handler's file I/O for its children.
_stream_io_warm = False
# A child exits with its request's outcome as its status; a crash is a failure.
_OUTCOME_OF_STATUS = {int(outcome): outcome for outcome in Outcome}


class ForkingMixIn(BaseServer[MixInRequestT, MixInAddressT]):
    """Handle each request in a forked child. List it first: ``class S(ForkingMixIn, TCPServer)``.

    Unlike the stdlib's, it enforces `max_children` *before* forking (the
    stdlib forks first and only throttles afterwards): in `serve_forever`,
    at the limit it takes no connection until a child exits (connections wait
    in the kernel's backlog, and `shutdown` still returns at once; the exit
    is seen on the child's pidfd, where Linux has them, else at the next
    ``poll_interval``), and it only ever waits for its own children (the stdlib's
    ``waitpid(-1)`` can reap children the application started itself).
    Before its first child it runs a stream handler's file I/O once, on a
    socket pair (`sockserve.core.warm_stream_io`), and makes once the class
    attribute lookups every child makes (`sockserve.core.warm_fork_lookups`),
    so that children do not each warm them again.

    Attributes:
        timeout: As the stdlib's: `handle_request` calls `handle_timeout` (which
            reaps children) after 300 idle seconds.
        active_children: Pids of the children not yet reaped; None before the first.
        max_children: The most children alive at once (``max_connections``,
            if lower, bounds them too).
        block_on_close: `server_close` waits for every child to exit.
    """

    timeout: float | None = 300
    active_children: set[int] | None = None
    max_children: int = 40
    block_on_close: bool = True
    # The ledger's ticket of each child, ended when it is reaped.
    _child_tickets: dict[int, Ticket] | None = None
    # Each child's pidfd, watched by the serving loop: readable once the child exits.
    _child_pidfds: dict[int, int] | None = None

    def collect_children(self, *, blocking: bool = False) -> None:
        """Reap children that have exited; with ``blocking``, wait for all of them.

        Unlike the stdlib's, it does not block at `max_children`: that limit is
        enforced in `process_request`, before forking, so that the serving loop
        is never stuck here (where `shutdown` could not reach it).
        """
        children = self.active_children
        if not children:
            return
        # A copy: server_close() may reap while the serving thread's last pass does.
        for pid, code in reap(children.copy(), block=blocking):
            self.__forget_child(pid, code)

    def __forget_child(self, pid: int, code: int) -> None:
        """Child ``pid`` is reaped, with exit ``code``: forget it, end its ticket."""
        assert self.active_children is not None
        self.active_children.discard(pid)
        if self._child_pidfds is not None:
            pidfd = self._child_pidfds.pop(pid, None)
            if pidfd is not None:
                self._unwatch(pidfd)
                os.close(pidfd)
        ticket = self._child_tickets.pop(pid, None) if self._child_tickets else None
        if ticket is not None:
            ticket.end(_OUTCOME_OF_STATUS.get(code, _FAILED))

    def _request_limit(self) -> int | None:
        """`max_children`, or ``max_connections`` if lower: `serve_forever` waits for room.

        Raises:
            ValueError: `max_children` is not a positive integer.
        """
        connections = super()._request_limit()
        children = self.__checked_max_children()
        return children if connections is None else min(children, connections)

    def __checked_max_children(self) -> int:
        limit: object = self.max_children  # set by users: check, do not trust the annotation
        if not isinstance(limit, int) or limit < 1:
            raise ValueError(f"max_children must be a positive int, got {limit!r}")
        return limit

    def __make_room(self) -> None:
        """Block until fewer than `max_children` children are alive (`handle_request`'s path).

        Raises:
            ValueError: `max_children` is not a positive integer.
        """
        limit = self.__checked_max_children()
        while self.active_children and len(self.active_children) >= limit:
            wait_for_any_exit(self.active_children)
            self.collect_children()

    def handle_timeout(self) -> None:
        """Reap children that have exited."""
        self.collect_children()

    def service_actions(self) -> None:
        """Reap children that have exited (called by ``serve_forever`` on each pass)."""
        self.collect_children()

    def process_request(self, request: MixInRequestT, client_address: MixInAddressT) -> None:
        """Fork a child that handles the request and exits; return at once in the parent.

        Blocks first while `max_children` children are alive (only when
        called outside `serve_forever`, which waits for room before it
        accepts). The parent closes
        its copy of the request (``close_request``, not ``shutdown_request``,
        which would shut the child's connection down too). The child exits with
        status 0 after `finish_request`, 1 after an exception (an `Exception`
        is first reported through `handle_error`), or 2 if the request was
        refused (an admission step: access control, a PROXY header, TLS).
        """
        children, limit = self.active_children, self.max_children
        # The slow path checks max_children and waits; the fast path is two tests.
        if type(limit) is not int or limit < 1 or (children and len(children) >= limit):
            self.__make_room()
        tickets = self._child_tickets
        if children is None or tickets is None:
            children, tickets = self.__before_first_child(request)
        pid = os.fork()
        if pid:
            children.add(pid)
            # A drain's deadline ends a child by killing it: that closes its connection.
            tickets[pid] = self._ledger.begin(pid, _kill)
            self.close_request(request)
            return
        # Served here, not in a method of its own: each call is pages a child copies.
        status = _FAILED
        try:
            status = serve_request(self, request, client_address)
        finally:
            # _exit, not exit: the child must not run the parent's atexit
            # handlers or flush its copies of the parent's buffers.
            os._exit(status)

    def __before_first_child(self, request: object) -> tuple[set[int], dict[int, Ticket]]:
        """Make the books for children, and warm what each child would warm again."""
        if self.active_children is None:
            self.active_children = set()
        if self._child_tickets is None:
            self._child_tickets = {}
        global _stream_io_warm  # once per process: what it warms is the process's own
        if not _stream_io_warm and isinstance(request, socket.socket):
            _stream_io_warm = True
            handler = self.RequestHandlerClass
            warm_stream_io(getattr(handler, "rbufsize", -1), getattr(handler, "wbufsize", 0))
        # Last: the stream warm-up's own lookups may take the cache's places.
        warm_fork_lookups(self)
        return self.active_children, self._child_tickets

    def _waiting_for_room(self, waiting: bool) -> None:
        """At the limit, reap each child the moment it exits (where pidfds exist).

        Only then: a pidfd per child costs every request, and children that
        exit meanwhile are reaped on the loop's next pass anyway.
        """
        if waiting:
            for pid in self.active_children or ():
                self.__watch_exit(pid)
        else:
            self.__unwatch_exits()

    def __watch_exit(self, pid: int) -> None:
        try:
            pidfd = os.pidfd_open(pid)
        except (AttributeError, OSError):  # not Linux 5.3+: reaped at the next poll_interval
            return
        if self._child_pidfds is None:
            self._child_pidfds = {}
        self._child_pidfds[pid] = pidfd
        # Any exit reaps every child that has exited: one call, whichever pidfd woke.
        self._watch(pidfd, self.collect_children)

    def __unwatch_exits(self) -> None:
        pidfds = self._child_pidfds or {}
        for pidfd in pidfds.values():
            self._unwatch(pidfd)
            os.close(pidfd)
        pidfds.clear()

    def server_close(self) -> None:
        """Close the server, then reap children (waiting for all if `block_on_close`)."""
        super().server_close()
        self.collect_children(blocking=self.block_on_close)
        self.__unwatch_exits()

    def _wait_until_drained(self) -> None:
        # Children end their tickets only once reaped: reap as they exit.
        while self.active_children:
            wait_for_any_exit(self.active_children)
            self.collect_children()


def _kill(pid: object) -> None:
    """End a child at a drain's deadline; it may have exited already (not yet reaped)."""
    assert isinstance(pid, int)
    import signal  # only now: the signal module is a fork's cost on every request

    try:  # noqa: SIM105  # no contextlib either: a forked child copies every module loaded
        os.kill(pid, signal.SIGKILL)
    except OSError:  # exited already
        pass
