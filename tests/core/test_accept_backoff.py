"""An accept that fails for lack of resources pauses the loop instead of spinning.

EMFILE cannot be produced on demand for one accept() without starving the
whole test process of descriptors, so these tests inject it by overriding
get_request(), and otherwise use a real listening socket with a real client.
"""

from __future__ import annotations

import errno
import logging
import socket
import threading
import time

import pytest

from sockserve.core import StreamRequest
from sockserve.core._backoff import AcceptBackoff

from .conftest import Address, LoopbackStreamServer, ServerFactory

WAIT = 10.0


class Exhausted(LoopbackStreamServer):
    """Fails the first `failures` accepts with EMFILE, as a process out of descriptors does."""

    failures = 4

    def __init__(self, *args: object) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.attempts = 0

    def get_request(self) -> tuple[StreamRequest, Address]:
        self.attempts += 1
        if self.attempts <= self.failures:
            raise OSError(errno.EMFILE, "Too many open files")
        return super().get_request()


def test_serve_forever_pauses_then_serves(
    make_server: ServerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    server = make_server(Exhausted)
    thread = threading.Thread(target=server.serve_forever, args=(0.001,), daemon=True)
    with caplog.at_level(logging.WARNING, logger="sockserve.core"):
        thread.start()
        with socket.create_connection(server.server_address, timeout=WAIT) as client:
            client.sendall(b"ping")
            assert client.recv(16) == b"ping"  # served once the failures stopped
        server.shutdown()
    thread.join(WAIT)
    # A busy loop would have called accept() thousands of times; the back-off
    # (10, 20, 40, 80 ms) keeps it to the failures plus the success.
    assert server.attempts == Exhausted.failures + 1
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, "one episode of failures, one warning"


def test_shutdown_is_instant_during_a_pause(
    make_server: ServerFactory,
) -> None:
    server = make_server(Exhausted)
    server._BaseServer__backoff = AcceptBackoff(first_delay=3600, max_delay=3600)  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, args=(3600,), daemon=True)
    thread.start()
    with socket.create_connection(server.server_address, timeout=WAIT):
        deadline = time.monotonic() + WAIT
        while server.attempts == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.attempts == 1
        stopper = threading.Thread(target=server.shutdown, daemon=True)
        stopper.start()
        stopper.join(WAIT)
        assert not stopper.is_alive()
    thread.join(WAIT)
    assert not thread.is_alive()


def test_handle_request_sits_out_the_pause(
    make_server: ServerFactory,
) -> None:
    server = make_server(Exhausted)
    with socket.create_connection(server.server_address, timeout=WAIT) as client:
        client.sendall(b"ping")
        for _ in range(Exhausted.failures):
            server.handle_request()  # dropped: EMFILE
        server.handle_request()
        assert client.recv(16) == b"ping"


def test_handle_request_times_out_during_a_long_pause(
    make_server: ServerFactory,
) -> None:
    timeouts: list[float] = []

    class Timed(Exhausted):
        timeout = 0.05

        def handle_timeout(self) -> None:
            timeouts.append(time.monotonic())

    server = make_server(Timed)
    server._BaseServer__backoff = AcceptBackoff(first_delay=3600, max_delay=3600)  # type: ignore[attr-defined]
    with socket.create_connection(server.server_address, timeout=WAIT):
        server.handle_request()  # EMFILE: the pause starts
        started = time.monotonic()
        server.handle_request()
    assert len(timeouts) == 1
    assert timeouts[0] - started < WAIT
    assert server.attempts == 1


def test_other_accept_errors_do_not_pause(
    make_server: ServerFactory,
) -> None:
    class Aborted(Exhausted):
        def get_request(self) -> tuple[StreamRequest, Address]:
            self.attempts += 1
            if self.attempts == 1:
                raise OSError(errno.ECONNABORTED, "Software caused connection abort")
            return LoopbackStreamServer.get_request(self)

    server = make_server(Aborted)
    with socket.create_connection(server.server_address, timeout=WAIT) as client:
        client.sendall(b"ping")
        server.handle_request()
        assert server._BaseServer__backoff.delay == 0  # type: ignore[attr-defined]
        server.handle_request()
        assert client.recv(16) == b"ping"
