"""`ThreadingMixIn`: one thread per request, as the stdlib's, with threads reaped as they end."""

from __future__ import annotations

import threading

from sockserve.core import (
    BaseServer,
    MixInAddressT,
    MixInRequestT,
    Outcome,
    Ticket,
    adopt_ticket,
    serve_request,
)

__all__ = ["ThreadingMixIn"]

# Bound once: an enum member's lookup costs, and this is on every request's path.
_COMPLETED, _FAILED = Outcome.COMPLETED, Outcome.FAILED


class _NoThreads:
    """The record kept when nothing is to be waited for: daemon threads, or no block_on_close."""

    def add(self, thread: threading.Thread) -> None:
        """Record nothing."""

    def discard(self, thread: threading.Thread) -> None:
        """Forget nothing."""

    def join(self) -> None:
        """Wait for nothing."""

    def __len__(self) -> int:
        return 0


class _LiveThreads(_NoThreads):
    """The non-daemon handler threads still running; each removes itself as it ends.

    The stdlib (before 3.10) kept every finished thread until server_close();
    since then it rescans the whole list on each new request. Removal by the
    thread itself keeps the record at the live count, at O(1) per request.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._threads: set[threading.Thread] = set()

    def add(self, thread: threading.Thread) -> None:
        """Record a thread about to start."""
        with self._lock:
            self._threads.add(thread)

    def discard(self, thread: threading.Thread) -> None:
        """Forget a thread that has finished its request."""
        with self._lock:
            self._threads.discard(thread)

    def join(self) -> None:
        """Wait for every recorded thread to end."""
        with self._lock:
            threads, self._threads = self._threads, set()
        for thread in threads:
            thread.join()

    def __len__(self) -> int:
        return len(self._threads)


_UNTRACKED = _NoThreads()


class ThreadingMixIn(BaseServer[MixInRequestT, MixInAddressT]):
    """Handle each request in a new thread. List it first: ``class S(ThreadingMixIn, TCPServer)``.

    Attributes:
        daemon_threads: Make handler threads daemons: the interpreter exits
            without waiting for them, and `server_close` does not join them.
        block_on_close: `server_close` waits for the non-daemon handler
            threads still running (the default, as in the stdlib).
    """

    daemon_threads: bool = False
    block_on_close: bool = True
    _threads: _NoThreads = _UNTRACKED

    def process_request_thread(self, request: MixInRequestT, client_address: MixInAddressT) -> None:
        """Run in the handler thread: `finish_request`, then `shutdown_request`.

        An `Exception` goes to `handle_error`; a `BaseException` (such as
        SystemExit) reaches ``threading.excepthook`` after the request is shut down.
        """
        serve_request(self, request, client_address)

    def process_request(self, request: MixInRequestT, client_address: MixInAddressT) -> None:
        """Start a thread that runs `process_request_thread`; return at once.

        Raises:
            RuntimeError: The thread could not be started; the server reports
                it through ``handle_error`` and shuts the request down.
        """
        threads = self.__record_for_new_thread()
        ticket = self._ledger.begin(request)
        thread = threading.Thread(
            target=self.__run, args=(threads, request, client_address, ticket)
        )
        thread.daemon = self.daemon_threads
        threads.add(thread)
        try:
            thread.start()
        except BaseException:
            threads.discard(thread)
            ticket.end(_FAILED)
            raise

    def __record_for_new_thread(self) -> _NoThreads:
        """The record `server_close` joins, or a no-op one if it is not to wait."""
        if self.daemon_threads or not self.block_on_close:
            return _UNTRACKED
        if not isinstance(self._threads, _LiveThreads):
            self._threads = _LiveThreads()
        return self._threads

    def __run(
        self,
        threads: _NoThreads,
        request: MixInRequestT,
        client_address: MixInAddressT,
        ticket: Ticket,
    ) -> None:
        adopt_ticket(ticket)  # the default process_request_thread ends it exactly
        outcome = _FAILED
        try:
            self.process_request_thread(request, client_address)
            outcome = _COMPLETED
        finally:
            adopt_ticket(None)
            ticket.end(outcome)  # for an override that did not: counted once either way
            threads.discard(threading.current_thread())

    # Threads are named after their target: "Thread-7 (process_request_thread)",
    # as the stdlib's are, in every log line formatted with %(threadName)s.
    __run.__name__ = "process_request_thread"

    def server_close(self) -> None:
        """Close the server, then (if `block_on_close`) wait for its handler threads."""
        super().server_close()
        self._threads.join()
