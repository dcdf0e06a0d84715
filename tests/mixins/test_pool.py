"""`ThreadPoolMixIn`: a bounded pool of threads, and backpressure when every one is busy."""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Callable
from typing import ClassVar

import pytest

from sockserve.core import BaseRequestHandler, DatagramRequest, StreamRequest

from .conftest import WAIT, Address, PoolDatagramServer, PoolServer, connect

Build = Callable[..., PoolServer]
Serve = Callable[..., threading.Thread]


class Busy:
    """What the handlers of one test share: a gate, and who is inside it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.release = threading.Event()
        self.inside = 0
        self.most_inside = 0
        self.threads: set[str] = set()
        self.entered = threading.Semaphore(0)

    def enter(self) -> None:
        with self.lock:
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
            self.threads.add(threading.current_thread().name)
        self.entered.release()

    def leave(self) -> None:
        with self.lock:
            self.inside -= 1


def gated_handler(busy: Busy) -> type[BaseRequestHandler[StreamRequest, PoolServer, Address]]:
    class Gated(BaseRequestHandler[StreamRequest, PoolServer, Address]):
        def handle(self) -> None:
            busy.enter()
            try:
                busy.release.wait(WAIT)
                self.request.sendall(self.request.recv(64))
            finally:
                busy.leave()

    return Gated


class Accepts(PoolServer):
    """Counts the connections it has accepted: the pool's bound is on this count."""

    accepted = 0

    def get_request(self) -> tuple[socket.socket, Address]:
        got = super().get_request()
        type(self).accepted += 1
        return got


def test_the_bound_holds_under_a_burst_and_every_client_is_served(
    build: Build, serve: Serve
) -> None:
    busy = Busy()

    class FourThreads(Accepts):
        pool_size = 4
        accepted = 0

    server = build(FourThreads, gated_handler(busy))
    serve(server)
    clients = [connect(server) for _ in range(40)]
    try:
        for _ in range(4):
            assert busy.entered.acquire(timeout=WAIT)
        time.sleep(0.2)  # give the server every chance to take more
        assert FourThreads.accepted == 4  # the other 36 wait in the kernel's backlog
        assert server.request_counts().active == 4
        busy.release.set()
        for number, client in enumerate(clients):
            client.sendall(b"%d" % number)
            assert client.recv(64) == b"%d" % number
    finally:
        busy.release.set()
        for client in clients:
            client.close()
    assert busy.most_inside == 4
    assert len(busy.threads) == 4
    assert all("-pool-" in name for name in busy.threads)


def test_datagrams_beyond_the_pool_wait_in_the_socket_buffer(build: Build, serve: Serve) -> None:
    busy = Busy()

    class Slow(BaseRequestHandler[DatagramRequest, PoolDatagramServer, Address]):
        def handle(self) -> None:
            busy.enter()
            try:
                busy.release.wait(WAIT)
                data, sock = self.request
                sock.sendto(data, self.client_address)
            finally:
                busy.leave()

    class TwoThreads(PoolDatagramServer):
        pool_size = 2

    server = build(TwoThreads, Slow)
    serve(server)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        client.settimeout(WAIT)
        for number in range(10):
            client.sendto(b"%d" % number, server.server_address)
        for _ in range(2):
            assert busy.entered.acquire(timeout=WAIT)
        time.sleep(0.2)
        assert server.request_counts().accepted == 2
        busy.release.set()
        replies = sorted(client.recv(64) for _ in range(10))
    assert replies == sorted(b"%d" % n for n in range(10))
    assert busy.most_inside == 2


def test_shutdown_is_prompt_while_the_pool_is_full(build: Build, serve: Serve) -> None:
    busy = Busy()

    class OneThread(PoolServer):
        pool_size = 1
        block_on_close = False

    server = build(OneThread, gated_handler(busy))
    thread = serve(server)
    clients = [connect(server) for _ in range(3)]
    try:
        assert busy.entered.acquire(timeout=WAIT)
        started = time.monotonic()
        server.shutdown()
        assert time.monotonic() - started < WAIT / 2
        thread.join(WAIT)
        assert not thread.is_alive()
    finally:
        busy.release.set()
        for client in clients:
            client.close()


def test_errors_go_to_handle_error_and_base_exceptions_leave_the_worker_alive(
    build: Build,
    serve: Serve,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hooked: list[object] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: hooked.append(args.exc_value))

    class Failing(BaseRequestHandler[StreamRequest, PoolServer, Address]):
        def handle(self) -> None:
            word = self.request.recv(16)
            if word == b"error":
                raise ValueError("a handler error")
            if word == b"exit":
                sys.exit(4)
            self.request.sendall(word)

    class Single(PoolServer):
        pool_size = 1
        shut_down: ClassVar[list[str]] = []

        def shutdown_request(self, request: socket.socket) -> None:
            self.shut_down.append("shut")
            super().shutdown_request(request)

    server = build(Single, Failing)
    serve(server)
    for word in (b"error", b"exit"):
        with connect(server) as client:
            client.sendall(word)
            assert client.recv(16) == b""
    with connect(server) as client:  # the one worker still serves
        client.sendall(b"ok")
        assert client.recv(16) == b"ok"
    assert "ValueError: a handler error" in capfd.readouterr().err
    assert [type(e) for e in hooked] == [SystemExit]  # as a ThreadingMixIn thread's would
    assert server.drain(WAIT).cut == 0  # returns once every request has ended
    counts = server.request_counts()
    assert (counts.completed, counts.failed, counts.active) == (1, 2, 0)
    assert Single.shut_down == ["shut"] * 3


def test_an_idle_timeout_frees_a_worker_held_by_a_quiet_client(serve: Serve) -> None:
    class Echo(BaseRequestHandler[StreamRequest, PoolServer, Address]):
        def handle(self) -> None:
            self.request.sendall(self.request.recv(64))

    class Quick(PoolServer):
        pool_size = 1
        idle_timeout = 0.2
        timed_out = False

        def handle_error(self, request: socket.socket, client_address: Address) -> None:
            self.timed_out = isinstance(sys.exc_info()[1], TimeoutError)

    with Quick(("127.0.0.1", 0), Echo) as server:
        serve(server)
        with connect(server) as quiet, connect(server) as waiting:
            waiting.sendall(b"served")
            assert waiting.recv(64) == b"served"  # once the quiet one timed out
            assert quiet.recv(64) == b""
        server.shutdown()  # before the with block closes the server
        assert server.timed_out


def test_server_close_waits_for_requests_in_flight_then_stops_the_workers(
    build: Build, serve: Serve
) -> None:
    finished = threading.Event()

    class Slow(BaseRequestHandler[StreamRequest, PoolServer, Address]):
        def handle(self) -> None:
            self.request.recv(8)
            time.sleep(0.2)
            finished.set()

    server = build(PoolServer, Slow)
    serve(server)
    with connect(server) as client:
        client.sendall(b"x")
        time.sleep(0.05)
        server.shutdown()
        server.server_close()
        assert finished.is_set()  # server_close waited for it
    assert not [t for t in threading.enumerate() if "-pool-" in t.name and t.is_alive()]


@pytest.mark.parametrize(
    ("size", "error"), [(0, ValueError), (-3, ValueError), ("8", TypeError), (None, TypeError)]
)
def test_a_bad_pool_size_is_an_error_naming_it(
    size: object, error: type[Exception], build: Build
) -> None:
    server = build(type("Bad", (PoolServer,), {"pool_size": size}), BaseRequestHandler)
    with pytest.raises(error, match="pool_size"):
        server.serve_forever()
