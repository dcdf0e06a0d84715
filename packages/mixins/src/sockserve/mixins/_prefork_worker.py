"""What a prefork worker process does: serve until told to drain, report, and exit.

A worker is a fork of the supervisor, so it has the server, bound, and (in
shared mode) its listening socket. It drains on SIGTERM, cuts what it still
serves on `CUT_SIGNAL` (the supervisor's word that the grace is over),
ignores SIGINT and SIGHUP (the supervisor handles those for the whole
group), drains too when
the supervisor dies (the end of a pipe only the supervisor writes), and
writes its counters to its slot as it serves and once more at the end.
"""

from __future__ import annotations

import os
import signal
import socket as _socket
import sys
import threading
import traceback
from collections.abc import Callable, Set
from types import FrameType
from typing import NoReturn

from sockserve.core import AddressT, BaseServer, DrainResult, RequestT

from ._prefork_slots import Slots

__all__ = ["CUT_SIGNAL", "SUPERVISOR_SIGNALS", "WorkerPlan", "run_worker"]

#: How often a worker writes its counters to its slot, seconds.
REPORT_INTERVAL = 0.1
#: The supervisor's "the drain's grace is over": cut every request in flight now.
CUT_SIGNAL = signal.SIGUSR2
#: The signals the supervisor and its workers handle differently.
SUPERVISOR_SIGNALS: Set[signal.Signals] = frozenset(
    {signal.SIGTERM, signal.SIGINT, signal.SIGHUP, CUT_SIGNAL}
)


class WorkerPlan:
    """What a worker needs from its supervisor, fixed before forking.

    Attributes:
        slot: The worker's slot in ``slots``.
        slots: The counters shared with the supervisor.
        grace: Seconds a drain gives requests in flight.
        reuse_port: Bind a socket of its own with ``SO_REUSEPORT``.
        alive_fd: Read end of the pipe whose end of file says the supervisor died.
        ready_fd: Write end of the pipe on which the worker says it serves.
        close_fds: The supervisor's descriptors the worker must not keep open.
    """

    def __init__(
        self,
        slot: int,
        slots: Slots,
        grace: float,
        reuse_port: bool,
        alive_fd: int,
        ready_fd: int,
        close_fds: tuple[int, ...],
    ) -> None:
        self.slot = slot
        self.slots = slots
        self.grace = grace
        self.reuse_port = reuse_port
        self.alive_fd = alive_fd
        self.ready_fd = ready_fd
        self.close_fds = close_fds


def run_worker(
    server: BaseServer[RequestT, AddressT], plan: WorkerPlan, *, unblock: Set[signal.Signals]
) -> NoReturn:
    """Serve ``server`` in this freshly forked process until drained; never returns.

    ``unblock``: the signals the supervisor blocked across the fork, unblocked
    here once the worker's own handlers are in place. Exits with status 0
    once ``serve_forever`` has returned, 1 if it raised (the traceback goes
    to stderr). ``os._exit``: the supervisor's atexit handlers and buffers
    are not the worker's to run or flush.
    """
    status = 1
    stop_reporting: Callable[[], None] = _nothing
    try:
        for fd in plan.close_fds:
            os.close(fd)
        _install_signals(server, plan.grace)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, unblock)
        _watch_supervisor(server, plan)
        if plan.reuse_port:
            _bind_own_socket(server)
        stop_reporting = _report_periodically(server, plan)
        os.write(plan.ready_fd, b"%d\n" % plan.slot)
        server.serve_forever()
        status = 0
    except BaseException:
        traceback.print_exc()
    finally:
        try:
            stop_reporting()  # the last report must not be overwritten by an older one
            _report(server, plan)
            sys.stderr.flush()
        finally:
            os._exit(status)


def _install_signals(server: BaseServer[RequestT, AddressT], grace: float) -> None:
    def drain(signum: int, frame: FrameType | None) -> None:
        server.request_drain(grace)

    def cut(signum: int, frame: FrameType | None) -> None:
        server.request_drain(0.0)

    signal.signal(signal.SIGTERM, drain)
    signal.signal(CUT_SIGNAL, cut)
    # Ctrl-C and SIGHUP reach the whole process group: the supervisor decides.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)


def _watch_supervisor(server: BaseServer[RequestT, AddressT], plan: WorkerPlan) -> None:
    """Drain, and exit after the grace, if the supervisor dies: no orphan serves on."""

    def watch() -> None:
        try:
            while os.read(plan.alive_fd, 1):
                pass  # nothing is ever written: only end of file matters
        except OSError:
            pass
        server.request_drain(plan.grace)
        # A drain that cannot end (a handler stuck off its socket) must not keep us.
        threading.Timer(plan.grace + 1.0, os._exit, args=(1,)).start()

    threading.Thread(target=watch, name="sockserve-supervisor-watch", daemon=True).start()


def _bind_own_socket(server: BaseServer[RequestT, AddressT]) -> None:
    """Replace the inherited listening socket with one of the worker's own, on the same port."""
    inherited = server.socket
    own = _socket.socket(inherited.family, inherited.type)
    try:
        own.setsockopt(_socket.SOL_SOCKET, _socket.SO_REUSEPORT, 1)
        server.socket = own
        server.server_bind()  # type: ignore[attr-defined]  # a socket server's hooks
        server.server_activate()
        own.setblocking(False)  # as the shared socket is: see Prefork._supervise
    except BaseException:
        own.close()
        raise
    inherited.close()


def _report_periodically(
    server: BaseServer[RequestT, AddressT], plan: WorkerPlan
) -> Callable[[], None]:
    """Write the counters to the slot every `REPORT_INTERVAL`; return how to stop (and join)."""
    stop = threading.Event()

    def report() -> None:
        while not stop.wait(REPORT_INTERVAL):
            _report(server, plan)

    reporter = threading.Thread(target=report, name="sockserve-counters", daemon=True)
    reporter.start()

    def stop_and_join() -> None:
        stop.set()
        reporter.join()

    return stop_and_join


def _nothing() -> None:
    pass


def _report(server: BaseServer[RequestT, AddressT], plan: WorkerPlan) -> None:
    drained: DrainResult = server._last_drain
    plan.slots.write(plan.slot, server.request_counts(), drained)
