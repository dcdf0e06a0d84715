"""`TrioMixIn`: any sockserve server, served by trio, in the classic or the structured way."""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import threading
from typing import Self

import trio

from sockserve.core import (
    AcceptBackoff,
    BaseServer,
    DeadlineWatch,
    DrainResult,
    MixInAddressT,
    MixInRequestT,
    drain_grace,
    in_worker_of,
)

from ._blocking import nonblocking, run_blocking
from ._handlers import AsyncBaseRequestHandler
from ._plan import Plan
from ._run import Run, run_of_current_task

__all__ = ["TrioMixIn"]

logger = logging.getLogger("sockserve.trio_backend")

# Guards every server's pending drain grace; taken only to request or begin a drain.
# Re-entrant: a signal handler asking for a drain may run on the thread holding it.
_grace_lock = threading.RLock()


class TrioMixIn(BaseServer[MixInRequestT, MixInAddressT]):
    """Serve with trio. List it first: ``class Server(TrioMixIn, TCPServer)``.

    The family class (``TCPServer``, ``UDPServer``, ``UnixStreamServer``,
    ``UnixDatagramServer``, or any sockserve socket server) creates, binds
    and cleans up the socket as it always does; this mix-in replaces only
    how requests are served. Each request runs in a trio task: async
    handlers (`AsyncStreamRequestHandler`, `AsyncDatagramRequestHandler`)
    in the task itself, sync handlers (``StreamRequestHandler``,
    ``DatagramRequestHandler``, ``http.server``'s) in a trio worker thread.

    Two ways to run:

    * classic: `serve_forever`, `handle_request`, `shutdown` (from another
      thread), `server_close`, ``with``; the server runs ``trio.run`` itself;
    * structured: ``address = await nursery.start(server.serve)`` inside
      your own trio program; cancelling the scope stops it, `adrain` drains it.

    Every request goes through ``verify_request`` (in its own task or
    thread), the handler, ``handle_error`` for an `Exception` (the server
    carries on), and ``shutdown_request``. An exception out of
    ``handle_error`` itself, or a `BaseException` such as ``SystemExit``,
    ends the server and propagates.

    Attributes:
        max_connections: The most requests handled at once: connections for
            a stream server, datagrams for a datagram server. At the limit
            the server takes no more (connections wait in the kernel's
            backlog, datagrams in the socket's buffer) until one ends; none
            queue in memory. None (the default): no limit for a stream
            server; 1 for a datagram server, whose datagrams are then
            handled one at a time in the receiving task, as ``UDPServer``
            handles them.
        max_threads: Sync handlers only: the most worker threads at once.
            It also caps ``max_connections``: a connection waits in the
            backlog until a thread is free for it.
        idle_timeout: Seconds a connection may go without receiving or
            sending before it is closed; None (the default): no limit. An
            async handler is cancelled between ``idle_timeout`` and 1.25
            times ``idle_timeout`` after the last byte through its ``stream``; a
            sync handler's connection gets it as its socket timeout (a read
            that waits longer raises ``TimeoutError``).
    """

    max_connections: int | None = None
    max_threads: int = 40
    idle_timeout: float | None = None

    _trio_run: Run[MixInRequestT, MixInAddressT] | None = None
    _last_drain: DrainResult = DrainResult(0, 0)
    _pending_grace: float = math.inf
    _accept_backoff: AcceptBackoff | None = None

    # -- structured ------------------------------------------------------------

    async def serve(
        self, *, task_status: trio.TaskStatus[MixInAddressT] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Serve until cancelled or drained: ``await nursery.start(server.serve)``.

        ``nursery.start`` returns once the server takes requests, with its
        `server_address` (the port chosen, for port 0). Cancelling the
        enclosing scope stops taking requests and cancels the handlers
        (sync handlers' connections are shut down, so they return); `adrain`,
        `drain` or `shutdown` make it return normally.

        Raises:
            RuntimeError: The server is already serving.
            TypeError: ``max_connections``, ``max_threads`` or
                ``idle_timeout`` is not a number.
            ValueError: One of them is out of range.
        """
        if not self._shutdown_requested():  # else it returns at once, closed or not
            self._check_open("serve")
        plan = Plan.of(self)
        with self._serving("serve"), nonblocking(self.socket), self._sync_deadline(plan):
            run: Run[MixInRequestT, MixInAddressT] | None = None
            try:
                async with trio.open_nursery() as nursery:
                    run = self._trio_run = Run(self, plan, nursery, self._run_backoff())
                    await self.__serve_run(run, task_status)
            finally:
                self._trio_run = None
                self.__take_grace()  # a drain asked for as this run ended is moot
                if run is not None:
                    run.close()
                    run.finished.set()

    def _sync_deadline(self, plan: Plan) -> contextlib.AbstractContextManager[object]:
        """The core's watcher of ``request_deadline``, for sync handlers (async ones: `Run`)."""
        if plan.is_async or plan.request_deadline is None:
            return contextlib.nullcontext()
        return DeadlineWatch(self._ledger, plan.request_deadline)

    async def __serve_run(
        self, run: Run[MixInRequestT, MixInAddressT], task_status: trio.TaskStatus[MixInAddressT]
    ) -> None:
        try:
            with self._waking_on_shutdown(functools.partial(self._wake_run, run)):
                if self._shutdown_requested():  # before we started: stop at once
                    run.stop(self.__take_grace() or 0.0)
                task_status.started(self.server_address)
                await run.receive_until_stopped()
                result = self._last_drain = await run.drain()
        except BaseException:
            run.cut()  # so that the nursery's worker threads return
            raise
        if result.completed or result.cut:
            logger.info("drained: %d requests completed, %d cut", result.completed, result.cut)

    async def adrain(self, timeout: float) -> DrainResult:
        """Drain the server serving in this trio run, and wait until it has stopped.

        Stops taking requests at once; the requests in flight get ``timeout``
        seconds to finish; then async handlers still running are cancelled
        and sync handlers' connections shut down. `serve` then returns.

        Returns:
            How many of the requests in flight completed, and how many were cut.

        Raises:
            TypeError: ``timeout`` is not a number.
            ValueError: ``timeout`` is negative or NaN.
            RuntimeError: `serve` is not running in this trio run, or this is
                one of the server's own handlers (it would wait for itself:
                use `request_drain` there).
        """
        grace = drain_grace(timeout)
        run = self._trio_run
        if run is None or run.token is not _current_token():
            raise RuntimeError("adrain() needs this server's serve() running in this trio run")
        if run_of_current_task() is run:
            raise RuntimeError(
                "adrain() from one of the server's own handlers would wait for itself; "
                "call request_drain() there"
            )
        self.request_drain(grace)
        await run.finished.wait()
        return run.result

    # -- classic ---------------------------------------------------------------

    def serve_forever(self, poll_interval: float | None = 0.5) -> None:
        """Serve in a trio run of the calling thread until `shutdown` or a drain.

        Blocks the calling thread. Calls `service_actions` every
        ``poll_interval`` seconds (never, if it is None). An exception that
        ends the server propagates as itself (``KeyboardInterrupt`` too).
        """
        run_blocking(self.__serve_forever, poll_interval)

    async def __serve_forever(self, poll_interval: float | None) -> None:
        async with trio.open_nursery() as nursery:
            if poll_interval is not None:
                nursery.start_soon(self.__call_service_actions, poll_interval)
            await self.serve()
            nursery.cancel_scope.cancel()

    async def __call_service_actions(self, poll_interval: float) -> None:
        while True:
            await trio.sleep(poll_interval)
            self.service_actions()

    def handle_request(self) -> None:
        """Wait for one request and handle it to the end, or call `handle_timeout`.

        Blocks for up to the smaller of ``timeout`` and ``socket.gettimeout()``
        (forever if both are None), then for as long as the handler runs.

        Raises:
            ValueError: The socket is closed, or a setting is out of range
                (see `serve`).
            TypeError: A setting is not a number (see `serve`).
        """
        if self.socket.fileno() == -1:
            raise ValueError("Invalid file descriptor: -1")
        plan = Plan.of(self)
        if not run_blocking(self.__handle_request, plan, self._request_timeout()):
            self.handle_timeout()

    async def __handle_request(self, plan: Plan, timeout: float | None) -> bool:
        with nonblocking(self.socket):
            run: Run[MixInRequestT, MixInAddressT] | None = None
            try:
                async with trio.open_nursery() as nursery:
                    run = Run(self, plan, nursery, self._run_backoff())
                    if run.idle is not None:
                        nursery.start_soon(run.idle.run)
                    handled = await run.serve_one(timeout)
                    run.cut()  # nothing is left in flight but the idle watch
            finally:
                if run is not None:
                    run.close()
        return handled

    def shutdown(self) -> None:
        """Stop serving at once and block until `serve_forever` (or `serve`) has returned.

        Cancels the async handlers still running and shuts down the sync
        handlers' connections; returns within milliseconds. For a graceful
        stop, see `drain`. Called before serving starts, it blocks until
        then, and serving returns at once.

        Raises:
            RuntimeError: Called from the server's own trio thread or one of
                its worker threads, where waiting would deadlock: use
                `request_shutdown` there.
        """
        self.__refuse_from_inside("shutdown")
        super().shutdown()

    def request_shutdown(self) -> None:
        """Ask the server to stop at once, as `shutdown` does, without waiting. Never blocks."""
        self.__note_grace(0.0)
        self._request_stop()

    def _begin_drain(self, grace: float) -> None:
        # The run keeps the deadline on trio's clock, and cuts in the trio thread.
        self.__note_grace(grace)

    def server_close(self) -> None:
        """Close the server; if it is serving (in another thread), shut it down first.

        Raises:
            RuntimeError: Called while serving, from the server's own trio
                thread or worker threads: `request_shutdown`, then close it
                once serving has returned.
        """
        if self._is_serving():
            if self._is_serving_thread() or in_worker_of(self):
                raise RuntimeError(
                    "server_close() from inside the server's own run: call "
                    "request_shutdown(), and close the server once serving has returned"
                )
            self.shutdown()
        super().server_close()

    # -- where a request runs ----------------------------------------------------

    def process_request(self, request: MixInRequestT, client_address: MixInAddressT) -> None:
        """Start handling ``request`` in a new task of the running server; return at once.

        Raises:
            RuntimeError: Not called from the trio thread of a serving run.
        """
        run = self._trio_run
        if run is None or run.token is not _current_token():
            raise RuntimeError("process_request() needs this server serving in this trio run")
        run.start(request, client_address)

    async def finish_request_async(
        self: Self, request: MixInRequestT, client_address: MixInAddressT
    ) -> None:
        """Handle the request with an async handler: create it, then await its methods.

        The async twin of ``finish_request``: ``setup``, ``handle`` and, even
        if ``handle`` raised or was cancelled, ``finish``.

        Raises:
            TypeError: ``RequestHandlerClass`` did not make an `AsyncBaseRequestHandler`.
        """
        handler = self.RequestHandlerClass(request, client_address, self)
        if not isinstance(handler, AsyncBaseRequestHandler):
            raise TypeError(
                f"RequestHandlerClass made {type(handler).__name__!r}, not an async handler"
            )
        await handler.setup()
        try:
            await handler.handle()
        finally:
            await handler.finish()

    # -- internals -------------------------------------------------------------

    def _run_backoff(self) -> AcceptBackoff:
        # Kept across runs: handle_request() makes a run per call.
        if self._accept_backoff is None:
            self._accept_backoff = AcceptBackoff()
        return self._accept_backoff

    def __refuse_from_inside(self, what: str) -> None:
        if self._is_serving_thread() or in_worker_of(self):
            raise RuntimeError(
                f"{what}() from the server's own trio thread or worker threads would wait "
                f"for itself forever; call request_{what}() there instead"
            )

    def __note_grace(self, grace: float) -> None:
        with _grace_lock:
            self._pending_grace = min(self._pending_grace, grace)

    def __take_grace(self) -> float | None:
        """The shortest grace asked for since the last take; None if none was."""
        with _grace_lock:
            grace, self._pending_grace = self._pending_grace, math.inf
        return None if grace == math.inf else grace

    def _wake_run(self, run: Run[MixInRequestT, MixInAddressT]) -> None:
        # Called by request_shutdown() from any thread: hand over to the trio thread.
        with contextlib.suppress(trio.RunFinishedError):
            run.token.run_sync_soon(self._begin_stop, run)

    def _begin_stop(self, run: Run[MixInRequestT, MixInAddressT]) -> None:
        grace = self.__take_grace()
        if grace is not None:  # else an earlier wake-up already took it
            run.stop(grace)


def _current_token() -> trio.lowlevel.TrioToken | None:
    try:
        return trio.lowlevel.current_trio_token()
    except RuntimeError:
        return None
