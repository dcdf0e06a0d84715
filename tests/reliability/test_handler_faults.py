"""Handler faults: each model does what its documentation says, and serves on.

* An `Exception` goes to ``handle_error`` (counted as failed); every model
  carries on.
* ``SystemExit`` and ``KeyboardInterrupt``: where the handler runs on the
  serving thread or task (sync, trio), they end ``serve_forever``, which
  raises them, as the stdlib's sync server does (``http.server``'s Ctrl-C
  relies on it); the loop can be started again. Where it runs in a thread
  of its own (threading, pool, prefork workers' pools), they reach
  ``threading.excepthook`` and the server carries on; in a forked child,
  the child exits and the request counts as failed.
* A child process that dies (forking, prefork) leaves no zombie, and the
  server carries on (a prefork worker is replaced).
* A handler that hangs: blocked on its connection, ``idle_timeout`` and
  ``request_deadline`` end it in every model (``test_slow_clients.py``);
  stuck in Python code, only a forked child can be ended (it is killed at
  the deadline), since no thread can be.
"""

from __future__ import annotations

import os
import threading
import time

import pytest

from harness.procstat import STATE, sample_tree, stat_fields
from sockserve.core.testing import Servable, serving

from .conftest import WAIT, RunServer, wait_for_workers
from .models import BY_NAME, Model, address_of, ask, build, counts_of

#: Where ``SystemExit`` and ``KeyboardInterrupt`` end the serving loop.
ENDS_THE_LOOP = {"sync", "trio-sync", "trio-async"}
FAULTS = 5


def test_exceptions_go_to_handle_error_and_serving_goes_on(run_server: RunServer) -> None:
    with run_server() as run:
        for _ in range(FAULTS):
            assert ask(run.address, b"boom\n") == b""  # the request was shut down
        counts = run.settle(accepted_at_least=FAULTS)
        assert counts.failed == FAULTS
        run.assert_serves()


class Loop:
    """``serve_forever`` in a thread of its own, keeping what it raised."""

    def __init__(self, server: Servable) -> None:
        self.server = server
        self.raised: list[BaseException] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        try:
            self.server.serve_forever()
        except BaseException as error:  # what the test is about
            self.raised.append(error)

    def start(self) -> Loop:
        self.thread.start()
        time.sleep(0.05)
        wait_for_workers(self.server)
        return self


@pytest.fixture
def thread_errors(monkeypatch: pytest.MonkeyPatch) -> list[type[BaseException]]:
    """What reaches ``threading.excepthook`` (recorded instead of printed)."""
    seen: list[type[BaseException]] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: seen.append(args.exc_type))
    return seen


@pytest.mark.parametrize("fault", [SystemExit, KeyboardInterrupt], ids=["exit", "interrupt"])
def test_system_exit_and_keyboard_interrupt(
    model: Model, fault: type[BaseException], thread_errors: list[type[BaseException]]
) -> None:
    command = b"exit\n" if fault is SystemExit else b"interrupt\n"
    server = build(model, quiet_disconnects=True)
    try:
        loop = Loop(server).start()
        address = address_of(server)
        assert ask(address, command) == b""  # the request is shut down whatever happens
        if model.name in ENDS_THE_LOOP:
            loop.thread.join(WAIT)
            assert not loop.thread.is_alive()
            assert [type(error) for error in loop.raised] == [fault]
            loop = Loop(server).start()  # and the loop can be started again
        else:
            assert loop.thread.is_alive()
            if not model.in_children:  # in a thread of this process: the hook saw it
                deadline = time.monotonic() + WAIT
                while fault not in thread_errors:
                    assert time.monotonic() < deadline, thread_errors
                    time.sleep(0.01)
        assert ask(address) == b"hello\n"
        server.drain(WAIT)  # type: ignore[attr-defined]  # every model has drain()
        loop.thread.join(WAIT)
        assert loop.raised == []
    finally:
        server.server_close()


def children_of_this_process() -> list[str]:
    """The states of this process's descendants (``Z`` is a zombie)."""
    states = (stat_fields(pid) for pid in sample_tree(os.getpid()).pids[1:])
    return [fields[STATE] for fields in states if fields is not None]


def test_a_child_that_dies_leaves_no_zombie(run_server: RunServer, model: Model) -> None:
    if not model.in_children:
        pytest.skip("handlers run in this process: a death here is the test's own")
    with run_server() as run:
        for _ in range(3):
            assert ask(run.address, b"die\n") == b""
        deadline = time.monotonic() + WAIT
        while True:
            try:
                assert ask(run.address, timeout=1.0) == b"hello\n"  # a prefork worker may restart
                break
            except (OSError, AssertionError):
                assert time.monotonic() < deadline, "never served again"
        while "Z" in children_of_this_process():
            assert time.monotonic() < deadline, children_of_this_process()
            time.sleep(0.05)
        run.assert_serves()


def test_a_forked_child_stuck_in_python_is_killed_at_the_deadline() -> None:
    # Forking only: no other model runs a request in a process of its own.
    server = build(BY_NAME["forking"], request_deadline=0.5, quiet_disconnects=True)
    with serving(server, drain_timeout=2.0):
        address = address_of(server)
        started = time.monotonic()
        assert ask(address, b"hang\n") == b""  # its connection closed as it was killed
        assert time.monotonic() - started < 0.5 * 1.125 + 2.0
        deadline = time.monotonic() + WAIT
        while counts_of(server).active:
            assert time.monotonic() < deadline, counts_of(server)
            time.sleep(0.02)
        assert ask(address) == b"hello\n"
