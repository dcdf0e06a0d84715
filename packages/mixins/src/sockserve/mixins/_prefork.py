"""`Prefork`: any sockserve server, served by N worker processes under a supervisor.

The supervisor binds nothing itself: it forks workers from the bound server
(which share its listening socket, or bind their own with ``SO_REUSEPORT``),
restarts a worker that dies (backing off one that dies young), replaces
them one at a time on SIGHUP, and drains them all on SIGTERM or Ctrl-C.
Every child is reaped; a worker whose supervisor dies drains and exits.
"""

from __future__ import annotations

import contextlib
import logging
import os
import selectors
import signal
import socket as _socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import FrameType
from typing import Self

from sockserve.core import (
    AddressT,
    BaseServer,
    DrainResult,
    Generic,
    RequestCounts,
    RequestT,
    Waker,
    check_limit,
    drain_grace,
)

from ._child_exit import reap
from ._prefork_slots import Slots
from ._prefork_worker import CUT_SIGNAL, SUPERVISOR_SIGNALS, WorkerPlan, run_worker

__all__ = ["Prefork"]

logger = logging.getLogger("sockserve.mixins")

#: A worker that dies within this many seconds of its start died young:
#: its restart waits, doubling from `FIRST_RESTART_DELAY` to `MAX_RESTART_DELAY`.
YOUNG = 1.0
FIRST_RESTART_DELAY = 0.1
MAX_RESTART_DELAY = 10.0
#: After a drain's grace, workers are told to cut what they still serve
#: (`CUT_SIGNAL`), and get this many seconds to exit before they are killed.
EXIT_MARGIN = 2.0
#: How often children are polled where pidfds are missing, seconds.
_POLL = 0.05


@dataclass
class _Worker:
    pid: int
    slot: int
    started: float
    pidfd: int | None
    ready: bool = False


class Prefork(Generic[RequestT, AddressT]):
    """Serve ``server`` in ``workers`` processes: ``Prefork(server, workers=4).serve_forever()``.

    ``server`` is any bound sockserve server (sync, threading, pool, forking,
    or the trio backend); each worker runs its ``serve_forever``. In the
    default mode the workers share the server's listening socket, and the
    kernel gives each connection to whichever worker accepts first. With
    ``reuse_port`` (IP servers built with ``allow_reuse_port = True``) each
    worker binds a socket of its own to the same address, and the kernel
    spreads connections over them evenly; the server's own socket stops
    listening as the ``Prefork`` is made (clients are refused, and retry,
    until the workers listen), so make it before announcing the address.

    Args:
        server: The bound server to run in every worker.
        workers: How many worker processes (default: one per CPU).
        reuse_port: Give each worker its own ``SO_REUSEPORT`` socket.
        drain_timeout: The grace a drain gives requests in flight, seconds:
            on SIGTERM, Ctrl-C, `shutdown`, and for each worker a rolling
            restart replaces.

    Raises:
        TypeError: ``workers`` is not an int, or ``drain_timeout`` not a number.
        ValueError: ``workers`` is below 1, ``drain_timeout`` is negative,
            or ``reuse_port`` is asked of a socket without ``SO_REUSEPORT``.
    """

    def __init__(
        self,
        server: BaseServer[RequestT, AddressT],
        workers: int | None = None,
        *,
        reuse_port: bool = False,
        drain_timeout: float = 30.0,
    ) -> None:
        count = check_limit(workers, "workers") or os.cpu_count() or 1
        self.server: BaseServer[RequestT, AddressT] = server
        self.workers: int = count
        self.reuse_port: bool = reuse_port
        self.drain_timeout: float = drain_grace(drain_timeout)
        if reuse_port:
            _check_reuse_port(server.socket)
            # Stop listening at once, bound still: a connection the kernel queued at
            # this socket, which no worker accepts, would be reset; now it is refused
            # (clients retry) until the workers listen on sockets of their own.
            with contextlib.suppress(OSError):
                server.socket.shutdown(_socket.SHUT_RD)
        self._slots = Slots(count * 2)  # room for a replacement beside each worker
        self._retired = RequestCounts(0, 0, 0, 0, 0, 0)
        self._retired_drains = DrainResult(0, 0)
        self._live: dict[int, _Worker] = {}
        # Re-entrant: the signal handlers take it, on the thread that may hold it.
        self._lock = threading.RLock()
        self._stopped = threading.Event()
        self._stopped.set()
        self._stop_grace: float | None = None
        self._restart_asked = False
        self._waker = Waker()
        self._alive_r, self._alive_w = os.pipe()
        self._ready_r, self._ready_w = os.pipe()
        os.set_blocking(self._ready_r, False)
        self._failures: dict[int, int] = {}  # by slot: deaths in a row, each young
        self._restart_at: dict[int, float] = {}  # by slot: when to start its next worker
        self._retiring: set[int] = set()  # pids told to drain: their exit is planned
        #: The exit codes of the workers that have exited, in order (negative: a signal).
        self.exit_codes: list[int] = []

    # -- the supervisor's public face ---------------------------------------------

    def serve_forever(self) -> None:
        """Start the workers and supervise them until a stop; then drain them and reap all.

        Blocks. In the main thread it handles SIGTERM and SIGINT (drain, for
        `drain_timeout`; a second one cuts what runs at once) and SIGHUP
        (rolling restart), and puts the previous handlers back when it
        returns. A worker still running `EXIT_MARGIN` seconds after its
        drain's deadline is killed (its requests then count as cut).

        Raises:
            RuntimeError: It is serving already, or so is the server.
            ValueError: The server is closed.
        """
        with self._lock:
            if not self._stopped.is_set():
                raise RuntimeError("this Prefork is already serving; it runs one supervisor")
            self.server._check_can_serve("serve_forever")
            self._stopped.clear()
        try:
            with self._signals_handled():
                try:
                    self._supervise()
                finally:
                    self._stop_all()
        finally:
            self._stopped.set()

    def shutdown(self) -> None:
        """Drain every worker (for `drain_timeout`), and block until `serve_forever` returns."""
        self.request_drain(self.drain_timeout)
        self._stopped.wait()

    def drain(self, timeout: float) -> DrainResult:
        """Drain every worker for up to ``timeout`` seconds; block until they have all exited.

        Returns:
            This drain's results, summed over the workers: how many requests
            completed, how many were cut.
        """
        before = self.drain_results()
        self.request_drain(timeout)
        self._stopped.wait()
        after = self.drain_results()
        return DrainResult(after.completed - before.completed, after.cut - before.cut)

    def request_drain(self, timeout: float) -> None:
        """Ask for a drain of every worker; never blocks. With several, the shortest wins.

        Raises:
            TypeError: ``timeout`` is not a number.
            ValueError: ``timeout`` is negative.
        """
        grace = drain_grace(timeout)
        with self._lock:
            if self._stop_grace is None or grace < self._stop_grace:
                self._stop_grace = grace
        self._waker.wake()

    def request_restart(self) -> None:
        """Ask for a rolling restart (as on SIGHUP); never blocks.

        Each worker in turn gets a replacement; once that serves, the old one
        drains (for `drain_timeout`) and exits. The listening socket always
        has a worker accepting, so no connection is refused, and none is cut.
        """
        with self._lock:
            self._restart_asked = True
        self._waker.wake()

    def request_counts(self) -> RequestCounts:
        """The counters of every worker so far, summed (the live ones as of their last report)."""
        total = self._retired
        with self._lock:
            slots = [w.slot for w in self._live.values()]
        for slot in slots:
            total += self._slots.read(slot)[0]
        return total

    def drain_results(self) -> DrainResult:
        """The drains of every worker that has exited so far, summed (rolling restarts too)."""
        return self._retired_drains

    def worker_pids(self) -> list[int]:
        """The pids of the workers alive now."""
        with self._lock:
            return sorted(self._live)

    def server_close(self) -> None:
        """Close the server and the supervisor's own descriptors. Call after serving."""
        self.server.server_close()
        for fd in (self._alive_r, self._alive_w, self._ready_r, self._ready_w):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._waker.close()
        self._slots.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server_close()

    # -- supervising ---------------------------------------------------------------

    def _supervise(self) -> None:
        if not self.reuse_port:
            # Every worker wakes for a connection and all but one find none: a blocking
            # accept() would then hang on, deaf to its SIGTERM (PEP 475 retries it).
            self.server.socket.setblocking(False)
        for slot in range(self.workers):
            self._spawn(slot)
        while not self._stop_requested():
            with self._lock:
                restart, self._restart_asked = self._restart_asked, False
            if restart:
                self._rolling_restart()
            else:
                self._step(self._until_next_respawn())
                self._respawn_due()

    def _spawn(self, slot: int) -> _Worker:
        self._slots.clear(slot)
        siblings = tuple(w.pidfd for w in self._live.values() if w.pidfd is not None)
        plan = WorkerPlan(
            slot,
            self._slots,
            self.drain_timeout,
            self.reuse_port,
            self._alive_r,
            self._ready_w,
            close_fds=(self._alive_w, self._ready_r, *siblings),
        )
        # Blocked across the fork: a signal must not reach the child before its own
        # handlers are in place (it would run ours, on a copy of this supervisor).
        masked = signal.pthread_sigmask(signal.SIG_BLOCK, SUPERVISOR_SIGNALS)
        try:
            pid = os.fork()
            if pid == 0:
                self._waker.close()
                run_worker(self.server, plan, unblock=SUPERVISOR_SIGNALS - masked)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, masked)
        worker = _Worker(pid, slot, time.monotonic(), _pidfd(pid))
        with self._lock:
            self._live[pid] = worker
        logger.info("worker %d started (slot %d)", pid, slot)
        return worker

    def _step(self, timeout: float | None) -> None:
        """Wait up to ``timeout`` seconds for something to happen, and deal with it."""
        with selectors.DefaultSelector() as selector:
            selector.register(self._waker, selectors.EVENT_READ)
            selector.register(self._ready_r, selectors.EVENT_READ)
            pidfds = [w.pidfd for w in self._live.values() if w.pidfd is not None]
            for pidfd in pidfds:
                selector.register(pidfd, selectors.EVENT_READ)
            if len(pidfds) < len(self._live):  # no pidfds here: poll for exits
                timeout = _POLL if timeout is None else min(timeout, _POLL)
            selector.select(timeout)
        self._waker.drain()
        self._read_ready()
        self._reap()

    def _reap(self) -> None:
        for pid, code in reap(list(self._live), block=False):
            self._retire(self._live[pid], code)

    def _retire(self, worker: _Worker, code: int) -> None:
        """Account for a worker that exited; schedule its replacement unless it was told to go."""
        with self._lock:
            del self._live[worker.pid]
            planned = worker.pid in self._retiring or self._stop_grace is not None
            self._retiring.discard(worker.pid)
        if worker.pidfd is not None:
            os.close(worker.pidfd)
        counts, drained = self._slots.read(worker.slot)
        if counts.active:  # ended with the process, unreported: killed, or crashed
            counts, drained = _lost_with_worker(counts, drained, planned=planned)
        self._retired += counts
        self._retired_drains = DrainResult(
            self._retired_drains.completed + drained.completed,
            self._retired_drains.cut + drained.cut,
        )
        self._slots.clear(worker.slot)
        self.exit_codes.append(code)
        if planned:
            logger.info("worker %d exited with status %d", worker.pid, code)
            return
        young = time.monotonic() - worker.started < YOUNG
        failures = self._failures.get(worker.slot, 0) + 1 if young else 0
        self._failures[worker.slot] = failures
        delay = _restart_delay(failures)
        logger.warning(
            "worker %d died with status %d; restarting it in %.2f s", worker.pid, code, delay
        )
        self._restart_at[worker.slot] = time.monotonic() + delay

    def _until_next_respawn(self) -> float | None:
        if not self._restart_at:
            return None
        return max(0.0, min(self._restart_at.values()) - time.monotonic())

    def _respawn_due(self) -> None:
        now = time.monotonic()
        for slot, when in list(self._restart_at.items()):
            if when <= now:
                del self._restart_at[slot]
                self._spawn(slot)

    def _rolling_restart(self) -> None:
        """Replace each worker in turn: start its successor, wait until it serves, drain it."""
        for old in sorted(self._live.values(), key=lambda w: w.slot):
            if old.pid in self._live and not self._replace(old):
                return
        logger.info("rolling restart done: workers %s", self.worker_pids())

    def _replace(self, old: _Worker) -> bool:
        """Start ``old``'s successor, and drain ``old`` once it serves; False to give up."""
        slot = self._free_slot()
        if slot is None:
            logger.warning("rolling restart stopped: no free slot for a new worker")
            return False
        new = self._spawn(slot)
        if not self._wait_for(lambda: new.ready or new.pid not in self._live):
            return False
        if new.pid not in self._live:
            # Its slot's restart would add a worker beyond the count: the old one serves on.
            self._restart_at.pop(new.slot, None)
            self._failures.pop(new.slot, None)
            logger.warning("rolling restart stopped: the new worker %d died", new.pid)
            return False
        with self._lock:
            self._retiring.add(old.pid)
        return self._end_workers([old.pid], lambda: self.drain_timeout, self._stop_requested)

    def _free_slot(self) -> int | None:
        used = {w.slot for w in self._live.values()} | set(self._restart_at)
        return next((s for s in range(len(self._slots)) if s not in used), None)

    def _wait_for(self, done: Callable[[], bool]) -> bool:
        """Deal with events until ``done()``; False if a stop was asked for first."""
        while not done():
            if self._stop_requested():
                return False
            self._step(self._until_next_respawn())
            self._respawn_due()
        return True

    def _stop_requested(self) -> bool:
        with self._lock:
            return self._stop_grace is not None

    def _stop_all(self) -> None:
        """Drain every worker left, cut what outlives the grace, kill the stragglers, reap all."""
        with self._lock:
            if self._stop_grace is None:  # serve_forever raised: stop at once
                self._stop_grace = 0.0
        self._restart_at.clear()
        self._end_workers(list(self._live), self._current_stop_grace, lambda: False)
        with self._lock:
            self._stop_grace = None

    def _current_stop_grace(self) -> float:
        with self._lock:
            return self._stop_grace or 0.0

    def _end_workers(
        self, pids: list[int], grace: Callable[[], float], give_up: Callable[[], bool]
    ) -> bool:
        """Drain ``pids`` and wait until all are reaped; False if ``give_up()`` first.

        Each gets SIGTERM (a drain); at ``grace()`` seconds (read anew each
        step: a second signal may shorten it) `CUT_SIGNAL` (cut now); after
        `EXIT_MARGIN` more, SIGKILL.
        """
        started = time.monotonic()
        self._signal(pids, signal.SIGTERM)
        escalations = [CUT_SIGNAL, signal.SIGKILL]
        while any(pid in self._live for pid in pids):
            if give_up():
                return False
            due = started + grace() + (EXIT_MARGIN if len(escalations) == 1 else 0.0)
            if escalations and time.monotonic() >= due:
                self._signal(pids, escalations.pop(0))
                continue
            wait = _POLL if not escalations else max(0.0, due - time.monotonic())
            respawn = self._until_next_respawn()
            self._step(wait if respawn is None else min(wait, respawn))
            self._respawn_due()
        return True

    def _signal(self, pids: list[int], signum: int) -> None:
        """Send ``signum`` to those of ``pids`` not reaped yet (a reaped pid may be reused)."""
        for pid in pids:
            if pid not in self._live:
                continue
            if signum == signal.SIGKILL:
                logger.warning("worker %d outlived the drain: killing it", pid)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    # -- plumbing ------------------------------------------------------------------

    def _read_ready(self) -> None:
        try:
            data = os.read(self._ready_r, 4096)
        except BlockingIOError:
            return
        slots = {int(line) for line in data.split()}
        with self._lock:
            for worker in self._live.values():
                if worker.slot in slots:
                    worker.ready = True

    @contextlib.contextmanager
    def _signals_handled(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        received: list[int] = []

        def stop(signum: int, frame: FrameType | None) -> None:
            received.append(signum)
            self.request_drain(self.drain_timeout if len(received) == 1 else 0.0)

        def restart(signum: int, frame: FrameType | None) -> None:
            self.request_restart()

        handlers = {signal.SIGTERM: stop, signal.SIGINT: stop, signal.SIGHUP: restart}
        previous = {sig: signal.signal(sig, handler) for sig, handler in handlers.items()}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def _restart_delay(failures: int) -> float:
    """How long to wait before restarting a worker after ``failures`` young deaths in a row."""
    if not failures:
        return 0.0
    return float(min(MAX_RESTART_DELAY, FIRST_RESTART_DELAY * 2 ** (failures - 1)))


def _lost_with_worker(
    counts: RequestCounts, drained: DrainResult, *, planned: bool
) -> tuple[RequestCounts, DrainResult]:
    """A dead worker's requests still active: cut (at a drain) or failed (a crash)."""
    lost = counts.active
    if planned:
        return (
            counts._replace(active=0, cut=counts.cut + lost),
            DrainResult(drained.completed, drained.cut + lost),
        )
    return counts._replace(active=0, failed=counts.failed + lost), drained


def _pidfd(pid: int) -> int | None:
    if not hasattr(os, "pidfd_open"):
        return None
    try:
        return os.pidfd_open(pid)
    except OSError:
        return None


def _check_reuse_port(sock: _socket.socket) -> None:
    if not hasattr(_socket, "SO_REUSEPORT"):
        raise ValueError("reuse_port needs SO_REUSEPORT, which this platform lacks")
    if not sock.getsockopt(_socket.SOL_SOCKET, _socket.SO_REUSEPORT):
        raise ValueError(
            "reuse_port needs a server built with allow_reuse_port = True: the "
            "workers' sockets can share the port only with one that allows it"
        )
