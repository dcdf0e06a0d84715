"""`ThreadPoolMixIn`: requests served by a bounded pool of worker threads."""

from __future__ import annotations

import atexit
import functools
import queue
import sys
import threading
import weakref

from sockserve.core import (
    BaseServer,
    Generic,
    MixInAddressT,
    MixInRequestT,
    Ticket,
    check_limit,
    serve_request,
)

__all__ = ["ThreadPoolMixIn"]

#: The default pool: enough for a few dozen keep-alive clients, few enough
#: that an idle pool costs little (each thread reserves its stack).
DEFAULT_POOL_SIZE = 32

_Job = tuple[MixInRequestT, MixInAddressT, Ticket]


class _Pool(Generic[MixInRequestT, MixInAddressT]):
    """Worker threads taking handed-over requests, at most ``size`` at once."""

    def __init__(self, server: ThreadPoolMixIn[MixInRequestT, MixInAddressT], size: int) -> None:
        self._jobs: queue.SimpleQueue[_Job[MixInRequestT, MixInAddressT] | None]
        self._jobs = queue.SimpleQueue()
        # A worker per permit: a hand-over waits for one, so no job waits in the queue
        # (serve_forever never waits: it takes no request while the pool is full).
        self._idle = threading.Semaphore(size)
        self._threads = [
            threading.Thread(
                target=_work,
                args=(weakref.ref(server), self._jobs, self._idle),
                name=f"{type(server).__name__}-pool-{number}",
                daemon=True,  # idle workers must not hold the interpreter at exit
            )
            for number in range(1, size + 1)
        ]
        for thread in self._threads:
            thread.start()

    def hand_over(self, job: _Job[MixInRequestT, MixInAddressT]) -> None:
        """Give ``job`` to a worker; block while every worker is busy."""
        self._idle.acquire()
        self._jobs.put(job)

    def stop(self, *, wait: bool) -> None:
        """Let each worker finish its request and end; with ``wait``, block until they have."""
        for _ in self._threads:
            self._jobs.put(None)
        if wait:
            for thread in self._threads:
                if thread is not threading.current_thread():
                    thread.join()


def _work(
    server_ref: weakref.ref[ThreadPoolMixIn[MixInRequestT, MixInAddressT]],
    jobs: queue.SimpleQueue[_Job[MixInRequestT, MixInAddressT] | None],
    idle: threading.Semaphore,
) -> None:
    while (job := jobs.get()) is not None:
        server = server_ref()
        try:
            if server is not None:
                serve_request(server, *job)
        except BaseException:
            # As ThreadingMixIn's threads would, but the worker lives on for the next request.
            threading.excepthook(_hook_args(*sys.exc_info()))
        finally:
            del server, job
            idle.release()


def _hook_args(*exc_info: object) -> threading.ExceptHookArgs:
    return threading.ExceptHookArgs((*exc_info, threading.current_thread()))


class ThreadPoolMixIn(BaseServer[MixInRequestT, MixInAddressT]):
    """Handle requests on a bounded pool of threads: ``class S(ThreadPoolMixIn, TCPServer)``.

    List it first, as the stdlib's mix-ins.

    The threads start with the first request and serve one request at a
    time each. While every one is busy, ``serve_forever`` takes no request:
    connections wait in the kernel's listen backlog, datagrams in the
    socket's buffer; nothing queues in memory. A persistent connection holds
    its thread for as long as it lasts, so clients beyond `pool_size` wait
    until one ends: set ``idle_timeout`` to close connections that go quiet,
    and size the pool for the connections you expect to hold at once.

    Requests go through the same steps as under ``ThreadingMixIn``
    (``finish_request``, ``handle_error`` for an `Exception`,
    ``shutdown_request``); a `BaseException` reaches ``threading.excepthook``,
    and the thread serves on.

    Attributes:
        pool_size: How many worker threads (32). ``max_connections``, if
            lower, bounds the requests in flight instead.
        daemon_threads: `server_close` does not wait for requests in flight
            (and neither does the interpreter at exit).
        block_on_close: `server_close` waits for requests in flight to end
            (the default, as for ``ThreadingMixIn``).
    """

    pool_size: int = DEFAULT_POOL_SIZE
    daemon_threads: bool = False
    block_on_close: bool = True
    _pool: _Pool[MixInRequestT, MixInAddressT] | None = None
    _stop_at_exit: functools.partial[None] | None = None

    def _request_limit(self) -> int | None:
        size = self.__checked_pool_size()
        limit = super()._request_limit()
        return size if limit is None else min(limit, size)

    def __checked_pool_size(self) -> int:
        size = check_limit(self.pool_size, "pool_size")
        if size is None:
            raise TypeError("pool_size must be an int, got None")
        return size

    def process_request(self, request: MixInRequestT, client_address: MixInAddressT) -> None:
        """Hand the request to a worker thread; return at once.

        Blocks only while every worker is busy, which ``serve_forever`` never
        lets happen (``handle_request`` may).

        Raises:
            TypeError: `pool_size` is not an int.
            ValueError: `pool_size` is below 1.
        """
        if self._pool is None:
            self._pool = _Pool(self, self.__checked_pool_size())
            if self.__waits_for_requests():
                # The workers are daemon threads, so that idle ones never hold the
                # interpreter; at exit, requests in flight still get to finish, as
                # ThreadingMixIn's non-daemon threads would.
                self._stop_at_exit = functools.partial(_stop_pool_of, weakref.ref(self))
                atexit.register(self._stop_at_exit)
        self._pool.hand_over((request, client_address, self._ledger.begin(request)))

    def __waits_for_requests(self) -> bool:
        return self.block_on_close and not self.daemon_threads

    def server_close(self) -> None:
        """Close the server, then stop the pool; wait for requests in flight if `block_on_close`."""
        super().server_close()
        if self._stop_at_exit is not None:
            atexit.unregister(self._stop_at_exit)
            self._stop_at_exit = None
        _stop_pool_of(weakref.ref(self), wait=self.__waits_for_requests())


def _stop_pool_of(
    server_ref: weakref.ref[ThreadPoolMixIn[MixInRequestT, MixInAddressT]], *, wait: bool = True
) -> None:
    server = server_ref()
    if server is not None and server._pool is not None:
        pool, server._pool = server._pool, None
        pool.stop(wait=wait)
