"""``request_deadline``: a client dripping a byte at a time cannot hold a worker for ever."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable

import pytest

from sockserve.core import StreamRequestHandler

from .conftest import WAIT, ForkingServer, LoopbackServer, PoolServer, ThreadingServer

Serve = Callable[..., threading.Thread]
DEADLINE = 0.5


class Lines(StreamRequestHandler):
    """Reads a line, answers it, then waits for the client to hang up."""

    def handle(self) -> None:
        line = self.rfile.readline()
        if line:
            self.wfile.write(b"got " + line)
            self.wfile.flush()
            self.rfile.read()


def drip(address: tuple[str, int], stop: threading.Event) -> None:
    """A slowloris: a byte every 50 ms (an idle timeout of 0.1 s would never fire), no newline."""
    with socket.create_connection(address, timeout=WAIT) as client:
        while not stop.is_set():
            try:
                client.sendall(b"x")
            except OSError:  # cut: what the deadline is for
                return
            time.sleep(0.05)


def polite(address: tuple[str, int]) -> bytes:
    with socket.create_connection(address, timeout=WAIT) as client:
        client.sendall(b"hello\n")
        reply = client.recv(64)
        return reply


MODELS = [LoopbackServer, ThreadingServer, PoolServer, ForkingServer]


@pytest.mark.parametrize("model", MODELS, ids=["sync", "threading", "pool", "forking"])
def test_drippers_are_cut_at_the_deadline_and_a_polite_client_is_served(
    model: type[LoopbackServer], serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    class Bounded(model):  # type: ignore[valid-type, misc]
        request_deadline = DEADLINE
        idle_timeout = 0.1  # a drip resets it: it alone would not help
        pool_size = 2

    server = Bounded(("127.0.0.1", 0), Lines)
    serve(server)
    stop = threading.Event()
    drippers = [threading.Thread(target=drip, args=(server.server_address, stop)) for _ in range(2)]
    try:
        with caplog.at_level(logging.INFO, "sockserve.core"):
            for dripper in drippers:
                dripper.start()
            time.sleep(0.1)  # both hold a worker (the sync server's only one)
            started = time.monotonic()
            assert polite(server.server_address) == b"got hello\n"
            waited = time.monotonic() - started
            for dripper in drippers:
                dripper.join(WAIT)  # cut: the drip's send failed
                assert not dripper.is_alive()
    finally:
        stop.set()
    assert waited < WAIT / 2
    assert "ran past request_deadline" in caplog.text  # the parent's watcher, for forking too


def test_a_request_within_its_deadline_is_not_touched(serve: Serve) -> None:
    class Bounded(ThreadingServer):
        request_deadline = 5.0

    server = Bounded(("127.0.0.1", 0), Lines)
    serve(server)
    assert polite(server.server_address) == b"got hello\n"
    deadline = time.monotonic() + WAIT
    while server.request_counts().completed < 1:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert server.request_counts().failed == 0
