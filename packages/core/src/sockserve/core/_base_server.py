"""`BaseServer`: the request loop and hooks of the stdlib's ``socketserver.BaseServer``."""

from __future__ import annotations

import selectors
import socket as _socket
import sys
import threading
import time
from collections.abc import Callable

from ._admission import admit, log_refusal
from ._backoff import AcceptBackoff
from ._deadline import DeadlineWatch
from ._disconnects import DisconnectLog, is_disconnect
from ._drain import PendingDrain
from ._ledger import DrainResult, Outcome, RequestCounts, RequestLedger
from ._refusal import AdmissionError
from ._scope import Scope
from ._serve_request import apply_idle_timeout, has_admission_steps, in_worker_of
from ._settings import check_idle_timeout, check_limit, check_seconds, drain_grace
from ._types import TYPE_CHECKING, AddressT, Generic, RequestT
from ._wakeup import NO_WAKER_TICK, Waker, open_waker

if TYPE_CHECKING:
    import ssl
    from typing import Self

    from ._proxy_protocol import ProxyProtocol

__all__ = ["BaseServer"]

# Bound once: an enum member's lookup costs, and this is on every request's path.
_COMPLETED, _FAILED, _REFUSED = Outcome.COMPLETED, Outcome.FAILED, Outcome.REFUSED

# poll() watches any descriptor number with one syscall; select() is the fallback
# (Windows). Third-party tests patch this name, as they do the stdlib's.
_ServerSelector: type[selectors.BaseSelector] = (
    selectors.PollSelector if hasattr(selectors, "PollSelector") else selectors.SelectSelector
)


class BaseServer(Generic[RequestT, AddressT]):
    """The request loop and overridable hooks, with no socket of its own.

    Behaves like the stdlib's ``socketserver.BaseServer`` with two fixes:

    * `shutdown` wakes `serve_forever` at once through a wake-up socket, where
      the stdlib notices only at the next ``poll_interval`` tick;
    * an ``accept()`` that fails for lack of resources (EMFILE, ENFILE,
      ENOBUFS, ENOMEM) is logged to the ``sockserve.core`` logger and paused
      for 10 ms, doubling up to 1 s, instead of being retried in a busy loop.

    And it adds what the stdlib lacks: `drain` (a graceful stop with a
    deadline), `request_counts` (live counters), and `max_connections`.

    Subclasses provide ``socket``, ``fileno()`` and `get_request` (see
    `sockserve.core.SocketServer`).

    Attributes:
        timeout: Seconds `handle_request` waits before `handle_timeout`;
            ``None`` (the default) waits forever. `serve_forever` ignores it.
        max_connections: The most requests in flight at once, for models that
            handle several (threads, a pool, children); at the limit
            `serve_forever` takes no request until one ends, so connections
            wait in the kernel's backlog. None (the default): no limit.
        idle_timeout: Seconds a connection's reads and writes may wait: its
            socket timeout, set before the handler runs (a handler's own
            ``timeout`` wins); a read that waits longer raises
            ``TimeoutError`` in the handler. None (the default): forever.
        request_deadline: Seconds a whole request may take, however its
            client paces its bytes (a socket timeout restarts at each one):
            past it, the connection is shut down both ways (a forked child is
            killed), between 1 and 1.125 times the deadline. Watched by one
            thread while `serve_forever` runs. None (the default): no deadline.
        quiet_disconnects: Report a client that resets, times out or goes
            away before its reply as one ``sockserve.core`` log line (at most
            one a second; the lines held back are counted), not the stdlib's
            traceback. False (the default, as in the stdlib and the drop-in).
        proxy_protocol: A `ProxyProtocol`: read each connection's PROXY
            header (v1 or v2) from a trusted proxy, and take the real
            client's address from it. None (the default): no header.
        access: Called as ``access(request, client_address)`` for each
            request, after any PROXY header; a string it returns is why the
            request is refused (closed at once, logged, counted). See
            `NetworkAccess`, and ``sockserve.unix.PeerAccess``. None: all in.
        ssl_context: An ``ssl.SSLContext`` (server side): each connection's
            TLS handshake runs in its own worker, within
            `handshake_timeout`, and the handler gets the TLS socket
            (``getpeercert()`` gives a verified client certificate). A failed
            or stalled handshake is logged and refused. Stream servers only.
        handshake_timeout: Seconds the whole TLS handshake may take.
        server_address: The address passed to the constructor.
        RequestHandlerClass: Called as ``RequestHandlerClass(request,
            client_address, server)`` once per request.
    """

    timeout: float | None = None
    max_connections: int | None = None
    idle_timeout: float | None = None
    quiet_disconnects: bool = False
    request_deadline: float | None = None
    proxy_protocol: ProxyProtocol | None = None
    access: Callable[[RequestT, AddressT], str | None] | None = None
    ssl_context: ssl.SSLContext | None = None
    handshake_timeout: float = 10.0
    socket: _socket.socket
    server_address: AddressT
    RequestHandlerClass: Callable[[RequestT, AddressT, Self], object]

    def __init__(
        self,
        server_address: AddressT,
        RequestHandlerClass: Callable[[RequestT, AddressT, Self], object],
    ) -> None:
        # Deliberately not cooperative (no super().__init__()), like the stdlib:
        # xmlrpc.server.SimpleXMLRPCServer has SimpleXMLRPCDispatcher after us
        # in its MRO and would have its settings reset.
        if not callable(RequestHandlerClass):
            # The stdlib takes anything, then fails on every request in handle_error.
            raise TypeError(
                "RequestHandlerClass must be a request handler class (or another callable), "
                f"got {RequestHandlerClass!r}"
            )
        self.server_address = server_address
        self.RequestHandlerClass = RequestHandlerClass
        self.__is_shut_down = threading.Event()
        self.__shutdown_request = False
        self.__wake: Callable[[], None] | None = None
        # Re-entrant: request_drain() from a signal handler may run on the thread holding it.
        self.__wake_lock = threading.RLock()
        self.__serving_thread: int | None = None
        self.__backoff = AcceptBackoff()
        self.__drain: PendingDrain | None = None
        self._ledger = RequestLedger()
        self._last_drain = DrainResult(0, 0)
        self.__watched: dict[int, Callable[[], None]] = {}
        self.__selector: selectors.BaseSelector | None = None
        self.__waiting_for_room = False

    if TYPE_CHECKING:
        # Subclasses provide these. Declared for the type checker only, so that
        # hasattr(BaseServer, "fileno") is False at run time, as in the stdlib.

        def fileno(self) -> int:
            """Return the descriptor `serve_forever` and `handle_request` watch."""
            ...

        def get_request(self) -> tuple[RequestT, AddressT]:
            """Accept or receive one request; see `ServerProtocol.get_request`."""
            ...

    def server_activate(self) -> None:
        """Hook called by a socket server's constructor; does nothing here."""

    def serve_forever(self, poll_interval: float | None = 0.5) -> None:
        """Handle requests one at a time until `shutdown` or `request_shutdown`.

        Blocks the calling thread. Calls `service_actions` after each request
        and at least every ``poll_interval`` seconds (never, if it is None).
        Exceptions other than those `handle_error` reports propagate, and the
        loop can then be started again. Returns at once if `shutdown` or a
        drain was asked for before it started.

        Raises:
            RuntimeError: The server is already serving, in another thread.
            ValueError: The server is closed, or ``poll_interval`` is not
                above 0.
            TypeError: ``poll_interval`` is neither None nor a number.
        """
        with self._serving():
            try:
                if not self._shutdown_requested():  # asked to stop before it started
                    self.__serve_until_shutdown(poll_interval)
            finally:  # a drain asked for is over even if the loop raised: drain() waits for it
                self._finish_drain()

    def __serve_until_shutdown(self, poll_interval: float | None) -> None:
        if poll_interval is not None:
            check_seconds(poll_interval, "poll_interval")
        self._check_open("serve_forever")
        ledger = self._ledger
        ledger.limit = self._request_limit()
        check_idle_timeout(self.idle_timeout)
        deadline = self.request_deadline
        if deadline is not None:
            with DeadlineWatch(ledger, check_seconds(deadline, "request_deadline")):
                self.__serve_until_shutdown_watched(poll_interval)
        else:
            self.__serve_until_shutdown_watched(poll_interval)

    def __serve_until_shutdown_watched(self, poll_interval: float | None) -> None:
        ledger = self._ledger
        with (
            _ServerSelector() as selector,
            open_waker() as waker,
            self._waking_on_shutdown(waker.wake),
        ):
            if isinstance(waker, Waker):
                selector.register(waker, selectors.EVENT_READ)
            elif poll_interval is None or poll_interval > NO_WAKER_TICK:
                poll_interval = NO_WAKER_TICK  # nothing wakes the loop: it looks, often
            selector.register(self, selectors.EVENT_READ)
            for fd, on_ready in self.__watched.items():
                selector.register(fd, selectors.EVENT_READ, on_ready)
            self.__selector = selector
            ledger.on_room = waker.wake
            backoff = self.__backoff
            holding = False  # whether the socket is off the selector: a pause, or full
            try:
                # The flag itself, not _shutdown_requested(): after each fork, every
                # page the parent writes (a called function's refcount) is copied.
                while not self.__shutdown_request:
                    wait = poll_interval
                    if backoff.delay or ledger.full or holding:
                        wait, holding = self.__prepare_wait(selector, poll_interval)
                    ready = selector.select(wait)
                    if self.__shutdown_request:  # bpo-35017: accept nothing after shutdown()
                        # mypy narrows the flag to False, but another thread sets it.
                        break  # type: ignore[unreachable]
                    for key, _events in ready:
                        if key.fileobj is self:
                            self._handle_request_noblock()
                        elif key.fileobj is waker:
                            waker.drain()
                        else:
                            key.data()
                    self.service_actions()
            finally:
                ledger.on_room = None
                if self.__waiting_for_room:
                    self.__waiting_for_room = False
                    self._waiting_for_room(False)
                self.__selector = None

    def _waiting_for_room(self, waiting: bool) -> None:
        """Hook: `serve_forever` waits at the request limit (True), or no longer (False).

        For mix-ins whose requests end without a word to the loop (a child
        process's exit): they `_watch` what will tell, while it matters only.
        """

    def _watch(self, fd: int, on_ready: Callable[[], None]) -> None:
        """Have the serving loop call ``on_ready`` whenever ``fd`` is readable; serving thread only.

        The loop then learns at once, not at its next ``poll_interval`` tick.
        Watched until `_unwatch`.
        """
        self.__watched[fd] = on_ready
        if self.__selector is not None:
            self.__selector.register(fd, selectors.EVENT_READ, on_ready)

    def _unwatch(self, fd: int) -> None:
        """Stop watching ``fd`` (before it is closed); serving thread only."""
        del self.__watched[fd]
        if self.__selector is not None:
            self.__selector.unregister(fd)

    def _request_limit(self) -> int | None:
        """How many requests may be in flight at once; None: no limit.

        Mix-ins that bound their workers lower it (a pool to its size).

        Raises:
            TypeError: `max_connections` is neither None nor an int.
            ValueError: `max_connections` is below 1.
        """
        return check_limit(self.max_connections, "max_connections")

    def _serving(self, method: str = "serve_forever") -> Scope:
        """Mark the calling thread as serving, for `shutdown` to wait on; for serving loops.

        Use as ``with self._serving():``; marks at the call. On leaving the
        block the shutdown request is consumed, so the server can serve
        again, and every `shutdown` waiting returns. Each loop (this class's,
        or another concurrency model's) runs inside exactly one of these.

        Raises:
            RuntimeError: A loop runs already (the message names ``method``).
        """
        with self.__wake_lock:  # two threads starting at once: exactly one serves
            self.__check_not_serving(method)
            self.__is_shut_down.clear()
            self.__serving_thread = threading.get_ident()
        return Scope(self.__stop_serving)

    def __stop_serving(self) -> None:
        self.__serving_thread = None
        self.__shutdown_request = False
        self.__is_shut_down.set()

    def _waking_on_shutdown(self, wake: Callable[[], None]) -> Scope:
        """Have `request_shutdown` call ``wake`` (from any thread) inside a ``with`` block.

        ``wake`` must not block and must be safe to call from any thread; it
        interrupts the loop's wait so that the loop sees `_shutdown_requested`.
        """
        with self.__wake_lock:
            self.__wake = wake
        return Scope(self.__stop_waking)

    def __stop_waking(self) -> None:
        with self.__wake_lock:
            self.__wake = None

    def _shutdown_requested(self) -> bool:
        """Whether `shutdown` or `request_shutdown` asked the loop to stop."""
        # For loops outside this class (the trio backend's): the flag's name is
        # mangled, and another thread sets it mid-loop, so it is read afresh.
        return self.__shutdown_request

    def _is_serving_thread(self) -> bool:
        """Whether the calling thread is the one running the serving loop."""
        return self.__serving_thread == threading.get_ident()

    def _is_serving(self) -> bool:
        """Whether a serving loop runs now, in any thread."""
        return self.__serving_thread is not None

    def shutdown(self) -> None:
        """Stop `serve_forever` and block until it has returned.

        Returns within milliseconds whatever the ``poll_interval``. Called
        when the server is not serving, it returns at once, and the next
        `serve_forever` returns at once too (the stdlib's waits for a loop to
        run, forever if none does). Does not close the socket (see
        `server_close`).

        Raises:
            RuntimeError: Called from the thread running `serve_forever` (for
                instance from a handler of a non-threading server), where
                waiting would deadlock: use `request_shutdown` there.
        """
        if self._is_serving_thread():
            raise RuntimeError(
                "shutdown() called from the thread running serve_forever() would wait "
                "for itself forever; call request_shutdown() there instead"
            )
        self.request_shutdown()
        self._wait_until_shut_down()

    def _wait_until_shut_down(self) -> None:
        """Block until no serving loop runs: at once if none runs now.

        Race-free against a loop starting meanwhile: the caller has set the
        stop request first, and a loop checks it after marking itself serving.
        """
        if self.__serving_thread is not None:
            self.__is_shut_down.wait()

    def _check_open(self, method: str) -> None:
        """Raise a `ValueError` naming ``method`` if the server is closed."""
        if self.fileno() < 0:
            raise ValueError(
                f"{method}() on a closed {type(self).__name__}: server_close() was called"
            )

    def _check_can_serve(self, method: str) -> None:
        """Raise what `serve_forever` would before serving: for loops that are not its own.

        Raises:
            RuntimeError: The server is already serving.
            ValueError: The server is closed.
        """
        self.__check_not_serving(method)
        self._check_open(method)

    def __check_not_serving(self, method: str) -> None:
        if self.__serving_thread is not None:
            raise RuntimeError(
                f"{method}(): this {type(self).__name__} is already serving; "
                "a server runs one serving loop at a time"
            )

    def request_shutdown(self) -> None:
        """Ask `serve_forever` to return, without waiting for it. Never blocks.

        Safe from any thread, including a handler running on the serving
        thread: the loop returns once that request has been handled.
        """
        self._request_stop()

    def _request_stop(self) -> None:
        """Set the shutdown flag and wake the serving loop: what every way to stop shares."""
        self.__shutdown_request = True
        with self.__wake_lock:
            if self.__wake is not None:
                self.__wake()

    def service_actions(self) -> None:
        """Hook called by `serve_forever` on every pass through its loop."""

    def handle_request(self) -> None:
        """Wait for one request and handle it, or call `handle_timeout`.

        Blocks for up to the smaller of `timeout` and ``socket.gettimeout()``;
        forever if both are None.

        Raises:
            ValueError: The socket is closed.
        """
        self._check_open("handle_request")
        timeout = self._request_timeout()
        deadline = None if timeout is None else time.monotonic() + timeout
        if not self.__sit_out_backoff(deadline):
            return self.handle_timeout()
        with _ServerSelector() as selector:
            selector.register(self, selectors.EVENT_READ)
            while True:
                if selector.select(timeout):
                    return self._handle_request_noblock()
                if deadline is not None:
                    timeout = deadline - time.monotonic()
                    if timeout < 0:
                        return self.handle_timeout()

    def _request_timeout(self) -> float | None:
        # The socket's own timeout predates BaseServer.timeout; the stdlib
        # honours both and so must we (urllib's tests rely on it).
        timeout = self.socket.gettimeout()
        if timeout is None:
            return self.timeout
        if self.timeout is None:
            return timeout
        return min(timeout, self.timeout)

    def _handle_request_noblock(self) -> None:
        """Get one request, which must be ready, and dispatch it.

        Private in the stdlib yet overridden by third parties; kept with the
        same name and contract. An `OSError` from `get_request` drops that
        request silently (capacity errors start an accept back-off).
        """
        try:
            request, client_address = self.get_request()
        except OSError as exc:
            if not self.__backoff.failed(exc) and self.fileno() < 0:
                self._stop_before_close()  # closed under the loop: stop, do not spin
            return
        if self.__backoff.delay:
            self.__backoff.succeeded()
        # One method, not two: this runs once per request, and a call costs.
        if not self.verify_request(request, client_address):
            self._ledger.refused_unhandled += 1
            self.shutdown_request(request)
            return
        try:
            self.process_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
            self.shutdown_request(request)
        except BaseException:
            self.shutdown_request(request)
            raise

    def _stop_before_close(self) -> None:
        """``server_close()`` while serving in another thread: stop that loop, with a warning."""
        import logging  # only now: a server closed the right way never loads it

        logging.getLogger("sockserve.core").warning(
            "server_close() while serve_forever() runs in another thread: it returns "
            "(call shutdown() first)"
        )
        self._request_stop()

    def handle_timeout(self) -> None:
        """Hook called when `handle_request` times out; does nothing here."""

    def verify_request(self, request: RequestT, client_address: AddressT) -> bool:
        """Return True to process the request; False shuts it down unprocessed."""
        return True

    def process_request(self, request: RequestT, client_address: AddressT) -> None:
        """Call `finish_request`, then `shutdown_request`. Mix-ins override this.

        The request counts as in flight meanwhile (`request_counts`), and a
        drain's deadline can cut it from another thread. An exception
        propagates (the serving loop reports it), as in the stdlib.
        """
        ticket = self._ledger.begin(request)
        accepted = request
        try:
            if has_admission_steps(self):
                request, client_address = admit(self, request, client_address, ticket)
            if self.idle_timeout is not None:
                apply_idle_timeout(self, request)
            self.finish_request(request, client_address)
        except AdmissionError as refusal:
            log_refusal(client_address, refusal)
            self.shutdown_request(request)
            ticket.end(_REFUSED)
            return
        except Exception:
            ticket.end(_FAILED)
            if not ticket.was_cut:
                self.__shut_wrapped(request, accepted)
                raise
            # The error is the cut's doing (a drain shut the connection): not reported.
            self.shutdown_request(request)
            return
        except BaseException:
            ticket.end(_FAILED)
            self.__shut_wrapped(request, accepted)
            raise
        try:
            self.shutdown_request(request)
        finally:
            ticket.end(_COMPLETED)

    def __report_disconnect(self, client_address: AddressT) -> None:
        error = sys.exc_info()[1]
        assert error is not None
        log = self.__dict__.get("_disconnect_log")
        if log is None:
            log = self.__dict__.setdefault("_disconnect_log", DisconnectLog())
        log.report(client_address, error)

    def __shut_wrapped(self, request: RequestT, accepted: RequestT) -> None:
        """Shut a TLS-wrapped request down: the serving loop only knows the one it accepted."""
        if request is not accepted:
            self.shutdown_request(request)

    def request_counts(self) -> RequestCounts:
        """A snapshot of this server's request counters; never blocks for long.

        Counts the requests that sockserve's models ran (a ``process_request``
        override that runs requests its own way is not seen).
        """
        return self._ledger.counts()

    def drain(self, timeout: float) -> DrainResult:
        """Stop gracefully; block until `serve_forever` has returned. Any other thread.

        Stops taking requests at once (new connections wait in the listen
        backlog); the requests in flight get ``timeout`` seconds to finish;
        then the connections of those still running are shut down both ways
        (a handler blocked in ``recv()`` reads end of file). Returns once
        every one has ended. Called when the server is not serving, it
        returns ``DrainResult(0, 0)`` at once, and the next `serve_forever`
        returns at once.

        Returns:
            How many requests in flight completed, and how many were cut.

        Raises:
            TypeError: ``timeout`` is not a number.
            ValueError: ``timeout`` is negative or NaN.
            RuntimeError: Called from the serving thread or one of the
                server's own handlers, which it would wait for: use
                `request_drain` there.
        """
        grace = drain_grace(timeout)
        if self._is_serving_thread() or in_worker_of(self):
            raise RuntimeError(
                "drain() from the serving thread or one of the server's handlers would "
                "wait for itself; call request_drain() there instead"
            )
        self.request_drain(grace)
        if not self._is_serving():  # nothing in flight; the request waits for the next loop
            return DrainResult(0, 0)
        self._wait_until_shut_down()
        return self._last_drain

    def request_drain(self, timeout: float) -> None:
        """Start a drain as `drain` does, without waiting; `serve_forever` returns once it is over.

        Never blocks; safe from any thread, a signal handler, or the server's
        own handlers. With several drains, the earliest deadline wins.

        Raises:
            TypeError: ``timeout`` is not a number.
            ValueError: ``timeout`` is negative or NaN.
        """
        self._begin_drain(drain_grace(timeout))
        self._request_stop()

    def _begin_drain(self, grace: float) -> None:
        """Record a drain asked for: its deadline, and the cut there (a timer thread)."""
        with self.__wake_lock:
            if self.__drain is None:
                self.__drain = PendingDrain(self._ledger, grace)
            else:
                self.__drain.shorten(grace)

    def _finish_drain(self) -> None:
        """After the serving loop: if a drain is pending, wait out its requests; keep its result."""
        with self.__wake_lock:
            drain = self.__drain
        if drain is None:
            return
        self._wait_until_drained()
        with self.__wake_lock:
            self.__drain = None
        self._last_drain = drain.finish()

    def _wait_until_drained(self) -> None:
        """Block until no request is in flight (the drain's timer cuts them at the deadline)."""
        self._ledger.wait_until_idle()

    def finish_request(self: Self, request: RequestT, client_address: AddressT) -> None:
        """Handle the request by instantiating `RequestHandlerClass`."""
        self.RequestHandlerClass(request, client_address, self)

    def server_close(self) -> None:
        """Release the server's resources; does nothing here."""

    def shutdown_request(self, request: RequestT) -> None:
        """Shut down and close one request; here, just `close_request`."""
        self.close_request(request)

    def close_request(self, request: RequestT) -> None:
        """Release one request's resources; does nothing here."""

    def handle_error(self, request: RequestT, client_address: AddressT) -> None:
        """Print the exception being handled to ``sys.stderr``, and carry on.

        Called inside the ``except`` block, so overrides may use
        ``sys.exc_info()`` or a bare ``raise``. The report is the stdlib's,
        line for line; with `quiet_disconnects`, a client that went away is
        one log line instead (at most one a second, the rest counted).
        """
        if self.quiet_disconnects and is_disconnect(sys.exc_info()[1]):
            self.__report_disconnect(client_address)
            return
        import traceback  # here, as the stdlib does: a forked child copies every module loaded

        print("-" * 40, file=sys.stderr)
        print(
            "Exception occurred during processing of request from", client_address, file=sys.stderr
        )
        traceback.print_exc()
        print("-" * 40, file=sys.stderr)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *args: object) -> None:
        self.server_close()

    def __prepare_wait(
        self, selector: selectors.BaseSelector, poll_interval: float | None
    ) -> tuple[float | None, bool]:
        """During an accept back-off or at the request limit: watch the socket only after.

        Returns how long to wait, and whether the socket is now off the
        selector. The loop comes here while either holds, and once more to
        watch the socket again. At the limit, the ledger wakes the loop when
        a request ends.
        """
        pause = self.__backoff.remaining()
        full = self._ledger.full
        if full != self.__waiting_for_room:
            self.__waiting_for_room = full
            self._waiting_for_room(full)
        hold = bool(pause) or full
        watching = self in selector.get_map()
        if hold and watching:
            selector.unregister(self)
        elif not hold and not watching:
            selector.register(self, selectors.EVENT_READ)
        if pause and (poll_interval is None or pause < poll_interval):
            return pause, hold
        return poll_interval, hold

    def __sit_out_backoff(self, deadline: float | None) -> bool:
        """Sleep through an accept pause; return False if the deadline passes first."""
        pause = self.__backoff.remaining()
        if not pause:
            return True
        if deadline is not None and time.monotonic() + pause >= deadline:
            time.sleep(max(0.0, deadline - time.monotonic()))
            return False
        time.sleep(pause)
        return True
