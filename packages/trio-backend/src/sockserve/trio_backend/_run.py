"""One serving run of a trio server: its receive loop, its requests' tasks, its drain.

A run takes requests from the family's own ``get_request()`` (on the socket
the family class bound) and decides only where each is handled: in a task
of its own, a trio worker thread (sync handlers), or in the receive loop
itself (datagrams one at a time). What a request goes through there is
`serve_request_async` for async handlers and the core's ``serve_request``
for sync ones, as in every other sockserve concurrency model.
"""

from __future__ import annotations

import contextvars
import math
import os
import socket as _socket
from typing import TYPE_CHECKING

import trio
from trio.lowlevel import checkpoint, wait_readable

from sockserve.core import (
    AcceptBackoff,
    AddressT,
    AdmissionError,
    DrainResult,
    Generic,
    Outcome,
    RequestCounts,
    RequestT,
    Ticket,
    has_admission_steps,
    log_overdue,
    log_refusal,
    serve_request,
)

from ._admission import admit_async
from ._idle import IdleWatch
from ._plan import Plan
from ._stream import on_stream_made

if TYPE_CHECKING:
    from ._mixin import TrioMixIn

__all__ = [
    "Run",
    "run_of_current_task",
    "serve_request_async",
]

# Bound once: an enum member's lookup costs, and this is on every request's path.
_COMPLETED, _FAILED, _REFUSED = Outcome.COMPLETED, Outcome.FAILED, Outcome.REFUSED

#: Requests taken per receive-loop step before it lets other tasks run: a
#: flood of connections must not keep the handlers of the last ones waiting.
_MAX_BATCH = 64
#: A sync datagram handler's reply blocks on the server's socket through a
#: twin that waits this long at most (the socket stays non-blocking for trio).
_REPLY_TIMEOUT = 60.0

#: The run whose request the current task handles (None outside handlers).
_current_run: contextvars.ContextVar[object] = contextvars.ContextVar(
    "sockserve_current_run", default=None
)


def run_of_current_task() -> object:
    """The run whose request the calling trio task is handling; None if none."""
    return _current_run.get()


async def serve_request_async(
    server: TrioMixIn[RequestT, AddressT],
    request: RequestT,
    client_address: AddressT,
    ticket: Ticket,
) -> None:
    """The async twin of the core's ``serve_request``: verify, handle, report, shut down.

    ``verify_request`` runs here, in the request's own task, then the
    core's admission steps (PROXY header, access control, TLS handshake:
    `admit_async`). An
    `Exception` goes to ``handle_error``; a cancellation is not reported (an
    idle timeout's counts as completed; a drain's, as cut). The ticket ends
    with the outcome.
    """
    outcome = _FAILED
    try:
        if server.verify_request(request, client_address):
            if has_admission_steps(server):
                request, client_address = await admit_async(server, request, client_address)
            await server.finish_request_async(request, client_address)
            outcome = _COMPLETED
        else:
            outcome = _REFUSED
    except AdmissionError as refusal:
        outcome = _REFUSED
        log_refusal(client_address, refusal)
    except Exception:
        server.handle_error(request, client_address)
    except trio.Cancelled:
        outcome = _COMPLETED
        raise
    finally:
        try:
            server.shutdown_request(request)
        finally:
            ticket.end(outcome)


class Run(Generic[RequestT, AddressT]):
    """The state of one ``serve()`` (or one ``handle_request()``) of a trio server.

    Created, with the `Plan` checked beforehand, inside the nursery that its
    requests' tasks run in. All of its methods run in the trio thread.
    """

    def __init__(
        self,
        server: TrioMixIn[RequestT, AddressT],
        plan: Plan,
        nursery: trio.Nursery,
        backoff: AcceptBackoff,
    ) -> None:
        self.server = server
        self.nursery = nursery
        self.backoff = backoff
        self.token = trio.lowlevel.current_trio_token()
        self.is_stream = plan.is_stream
        self.is_async = plan.is_async
        self.limit = plan.limit
        self.inline = not self.is_stream and self.limit == 1
        self.threads = None if self.is_async else trio.CapacityLimiter(self.limit or 1)
        timeout = plan.idle_timeout
        self.idle = IdleWatch(timeout) if timeout is not None and self.is_async else None
        # Sync handlers' deadline is the core's DeadlineWatch (the mix-in runs it).
        self.request_deadline = plan.request_deadline if self.is_async else None
        self.ledger = server._ledger
        self.active = 0
        self.stopping = False
        self.deadline = math.inf
        self.finished = trio.Event()
        self.result = DrainResult(0, 0)
        self._counts_at_stop = RequestCounts(0, 0, 0, 0, 0, 0)
        self._drained = trio.Event()
        self._wait_scope: trio.CancelScope | None = None
        self._drain_scope: trio.CancelScope | None = None
        self._request_ended: trio.Event | None = None
        self._failed_attempts = 0
        self._reply_socket = None if self.is_async or self.is_stream else _twin(server.socket)

    # -- where requests come from ------------------------------------------------

    async def receive_until_stopped(self) -> None:
        """Take requests and start handling each, until `stop` (or cancellation).

        While ``limit`` requests are being handled, takes none: connections
        wait in the kernel's backlog, datagrams in the socket's buffer.
        """
        token = _current_run.set(self)  # inherited by every request task started below
        try:
            if self.idle is not None:
                self.nursery.start_soon(self.idle.run)
            batch = 0
            while not self.stopping:
                if self.limit is not None and self.active >= self.limit:
                    await self._pause(math.inf)
                    continue
                got = self._next_request()
                if got is None:
                    await self._wait_for_requests()
                    batch = 0
                    continue
                request, client_address = got
                ticket = self._ticket_for(request)
                if self.inline:
                    await self._serve(request, client_address, ticket)
                else:
                    self.nursery.start_soon(self._serve, request, client_address, ticket)
                batch += 1
                if batch == _MAX_BATCH:
                    batch = 0
                    await checkpoint()
        finally:
            _current_run.reset(token)

    async def serve_one(self, timeout: float | None) -> bool:
        """Wait up to ``timeout`` seconds for one request and handle it to the end.

        Returns False if none came in time (an accept that failed counts as
        one, dropped silently, as the stdlib's ``handle_request`` does).
        """
        with trio.move_on_after(math.inf if timeout is None else timeout):
            failures = self._failed_attempts
            while (got := self._next_request()) is None:
                if self._failed_attempts != failures:
                    return True
                await self._wait_for_requests()
            token = _current_run.set(self)
            try:
                await self._serve(*got, self._ticket_for(got[0]))
            finally:
                _current_run.reset(token)
            return True
        return False

    def _next_request(self) -> tuple[RequestT, AddressT] | None:
        """Take one request if one is ready; None if none is (or the attempt failed)."""
        try:
            request, client_address = self.server.get_request()
        except BlockingIOError:
            return None
        except OSError as exc:  # the family's get_request() failed for this request
            self._failed_attempts += 1
            self.backoff.failed(exc)
            return None
        if self.backoff.delay:
            self.backoff.succeeded()
        return request, client_address

    async def _wait_for_requests(self) -> None:
        """Wait until the socket is readable, an accept pause is over, or `stop`."""
        pause = self.backoff.remaining()
        if pause:
            await self._pause(trio.current_time() + pause)
            return
        with trio.CancelScope() as self._wait_scope:
            await wait_readable(self.server.socket)
        self._wait_scope = None

    async def _pause(self, until: float) -> None:
        """Wait until ``until`` (trio's clock), a request ends, or `stop`."""
        self._request_ended = trio.Event()
        with trio.CancelScope(deadline=until) as self._wait_scope:
            await self._request_ended.wait()
        self._wait_scope = self._request_ended = None

    # -- where requests are handled ----------------------------------------------

    def start(self, request: RequestT, client_address: AddressT) -> None:
        """Start handling ``request`` in a task of its own (``process_request``)."""
        self.nursery.start_soon(self._serve, request, client_address, self._ticket_for(request))

    def _ticket_for(self, request: RequestT) -> Ticket:
        self.active += 1
        # A sync handler blocked in recv() is unblocked by shutting its socket
        # down; async ones are cancelled (`cut`), with no socket to shut.
        return self.ledger.begin(None if self.is_async else request)

    async def _serve(self, request: RequestT, client_address: AddressT, ticket: Ticket) -> None:
        try:
            if self.request_deadline is None:
                await self._serve_by_kind(request, client_address, ticket)
            else:
                await self._serve_within(self.request_deadline, request, client_address, ticket)
        finally:
            self._ended()

    async def _serve_by_kind(
        self, request: RequestT, client_address: AddressT, ticket: Ticket
    ) -> None:
        if not self.is_async:
            await self._serve_in_thread(request, client_address, ticket)
        elif self.idle is None:
            await serve_request_async(self.server, request, client_address, ticket)
        else:
            await self._serve_watched(request, client_address, ticket, self.idle)

    async def _serve_within(
        self, deadline: float, request: RequestT, client_address: AddressT, ticket: Ticket
    ) -> None:
        """Serve an async handler, cancelled at ``deadline`` seconds.

        The async twin of the core's DeadlineWatch, which cuts sync handlers'
        connections (the mix-in runs it for them).
        """
        with trio.move_on_after(deadline) as scope:
            await self._serve_by_kind(request, client_address, ticket)
        if scope.cancelled_caught:
            log_overdue(1, deadline)

    async def _serve_watched(
        self, request: RequestT, client_address: AddressT, ticket: Ticket, idle: IdleWatch
    ) -> None:
        with trio.CancelScope() as scope:
            connection = idle.watch(scope, client_address)
            on_stream_made(connection.attach)
            try:
                await serve_request_async(self.server, request, client_address, ticket)
            finally:
                idle.forget(connection)

    async def _serve_in_thread(
        self, request: RequestT, client_address: AddressT, ticket: Ticket
    ) -> None:
        if self._reply_socket is not None:
            request = (request[0], self._reply_socket)  # type: ignore[index, assignment]  # a datagram request
        started: list[bool] = []
        try:
            await trio.to_thread.run_sync(
                _in_worker,
                self.server,
                request,
                client_address,
                ticket,
                started,
                limiter=self.threads,
            )
        finally:
            if not started:  # cancelled before the thread began: the request is ours to end
                self.server.shutdown_request(request)
                ticket.end(_FAILED)

    def _ended(self) -> None:
        self.active -= 1
        if self._request_ended is not None:
            self._request_ended.set()
        if self.stopping and not self.active:
            self._drained.set()

    # -- how a run ends ----------------------------------------------------------

    def stop(self, grace: float) -> None:
        """Stop taking requests; those in flight get ``grace`` seconds, then are cut.

        Safe to call again: the earlier deadline wins.
        """
        deadline = trio.current_time() + grace
        if not self.stopping:
            self.stopping = True
            self._counts_at_stop = self.ledger.counts()
            if self._wait_scope is not None:
                self._wait_scope.cancel()
            if not self.active:
                self._drained.set()
        if deadline < self.deadline:
            self.deadline = deadline
            if self._drain_scope is not None:
                self._drain_scope.deadline = deadline

    async def drain(self) -> DrainResult:
        """After `stop`: wait for the requests in flight until the deadline, cut the rest.

        Returns what became of the requests that were in flight at `stop`.
        """
        with trio.CancelScope(deadline=self.deadline) as self._drain_scope:
            await self._drained.wait()
        self._drain_scope = None
        self.cut()
        self.result = DrainResult.between(self._counts_at_stop, self.ledger.counts())
        return self.result

    def cut(self) -> None:
        """Cut every request in flight, and end the run's own tasks (the idle watch).

        Cancels the tasks and shuts the sync handlers' sockets.
        """
        self.ledger.cut_all()
        self.nursery.cancel_scope.cancel()

    def close(self) -> None:
        """Release what the run holds of its own (the sync reply socket)."""
        if self._reply_socket is not None:
            self._reply_socket.close()


def _in_worker(
    server: TrioMixIn[RequestT, AddressT],
    request: RequestT,
    client_address: AddressT,
    ticket: Ticket,
    started: list[bool],
) -> None:
    """In a trio worker thread: the core's steps, verify_request first."""
    started.append(True)
    serve_request(server, request, client_address, ticket, verify=True)


def _twin(sock: _socket.socket) -> _socket.socket:
    """A second socket object for ``sock``'s descriptor, that waits where ``sock`` would not.

    Sync datagram handlers reply through it: a timeout makes Python wait in
    ``poll()`` on a full buffer, while the descriptor stays non-blocking, as
    trio needs it.
    """
    twin = _socket.socket(sock.family, sock.type, sock.proto, fileno=os.dup(sock.fileno()))
    twin.settimeout(_REPLY_TIMEOUT)
    return twin
