from __future__ import annotations

import re
import socket
import socketserver
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from sockserve.core import BaseRequestHandler, StreamRequest

from .conftest import WAIT, Address, ThreadingServer, connect

Build = Callable[[type[ThreadingServer], Callable[..., object]], ThreadingServer]


class ReportsItsThread(BaseRequestHandler[StreamRequest, ThreadingServer, Address]):
    def handle(self) -> None:
        thread = threading.current_thread()
        self.request.sendall(f"{thread.ident} {thread.daemon}".encode())


def ask(server: ThreadingServer) -> str:
    with connect(server) as client:
        return client.recv(128).decode()


def test_each_request_runs_in_a_new_thread(build: Build) -> None:
    server = build(ThreadingServer, ReportsItsThread)
    with connect(server) as client:
        server.handle_request()
        ident, daemon = client.recv(128).decode().split()
    assert int(ident) != threading.get_ident()
    assert daemon == "False"


def test_requests_run_concurrently(build: Build) -> None:
    both_in = threading.Barrier(2, timeout=WAIT)

    class Meets(BaseRequestHandler[StreamRequest, ThreadingServer, Address]):
        def handle(self) -> None:
            both_in.wait()  # only passes if two handlers run at the same time
            self.request.sendall(b"met")

    server = build(ThreadingServer, Meets)
    with connect(server) as first, connect(server) as second:
        server.handle_request()
        server.handle_request()
        assert first.recv(8) == b"met"
        assert second.recv(8) == b"met"


def test_finished_threads_are_reaped_as_they_go(build: Build) -> None:
    server = build(ThreadingServer, ReportsItsThread)
    before = threading.active_count()
    for _ in range(300):
        with connect(server) as client:
            server.handle_request()
            assert client.recv(128)
    # Each thread removes itself when its request is done. The last one or two
    # may still be finishing after their replies (on a loaded machine): wait for
    # them, but not for the record to be emptied by server_close().
    deadline = time.monotonic() + WAIT
    while len(server._threads) > 1 and time.monotonic() < deadline:
        time.sleep(0.001)
    assert len(server._threads) <= 1
    server.server_close()
    assert len(server._threads) == 0
    assert threading.active_count() == before


def test_daemon_threads_are_daemons_and_not_recorded(build: Build) -> None:
    class Daemonic(ThreadingServer):
        daemon_threads = True

    server = build(Daemonic, ReportsItsThread)
    with connect(server) as client:
        server.handle_request()
        assert client.recv(128).decode().endswith("True")
    assert len(server._threads) == 0


@pytest.mark.parametrize("block_on_close", [True, False])
def test_server_close_waits_for_handlers_only_if_block_on_close(
    build: Build, block_on_close: bool
) -> None:
    release = threading.Event()
    finished = threading.Event()

    class Slow(BaseRequestHandler[StreamRequest, ThreadingServer, Address]):
        def handle(self) -> None:
            release.wait(WAIT)
            finished.set()

    class Server(ThreadingServer):
        pass

    Server.block_on_close = block_on_close
    server = build(Server, Slow)
    with connect(server):
        server.handle_request()
        threading.Timer(0.2, release.set).start()
        server.server_close()
        assert finished.is_set() == block_on_close
        assert finished.wait(WAIT)


def test_a_handler_exception_goes_to_handle_error_in_the_thread(build: Build) -> None:
    reports: list[tuple[type[BaseException] | None, bool]] = []
    shut_down = threading.Event()

    class Fails(BaseRequestHandler[StreamRequest, ThreadingServer, Address]):
        def handle(self) -> None:
            raise ValueError("boom")

    class Server(ThreadingServer):
        def handle_error(self, request: StreamRequest, client_address: Address) -> None:
            reports.append((sys.exc_info()[0], threading.current_thread() is not main))

        def shutdown_request(self, request: StreamRequest) -> None:
            super().shutdown_request(request)
            shut_down.set()

    main = threading.current_thread()
    server = build(Server, Fails)
    with connect(server):
        server.handle_request()
        assert shut_down.wait(WAIT)
    assert reports == [(ValueError, True)]


def test_system_exit_reaches_threading_excepthook_after_shutdown_request(build: Build) -> None:
    seen: list[type[BaseException]] = []
    hooked = threading.Event()
    shut_down = threading.Event()

    class Exits(BaseRequestHandler[StreamRequest, ThreadingServer, Address]):
        def handle(self) -> None:
            raise SystemExit(3)

    class Server(ThreadingServer):
        def shutdown_request(self, request: StreamRequest) -> None:
            super().shutdown_request(request)
            shut_down.set()

    def hook(args: Any) -> None:
        seen.append(args.exc_type)
        hooked.set()

    original, threading.excepthook = threading.excepthook, hook
    try:
        server = build(Server, Exits)
        with connect(server):
            server.handle_request()
            assert hooked.wait(WAIT)
    finally:
        threading.excepthook = original
    assert shut_down.is_set()
    assert seen == [SystemExit]


def test_handler_threads_are_named_as_the_stdlibs() -> None:
    names: list[str] = []

    class Named(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            names.append(threading.current_thread().name)

    for server_class in (ThreadingServer, socketserver.ThreadingTCPServer):
        with server_class(("127.0.0.1", 0), Named) as server:  # type: ignore[arg-type]
            port = server.server_address[1]
            socket.create_connection(("127.0.0.1", port), timeout=WAIT).close()
            server.handle_request()
            server.server_close()  # joins the handler thread
    assert len(names) == 2
    stdlib_name = re.compile(r"Thread-\d+ \(process_request_thread\)")
    assert all(stdlib_name.fullmatch(name) for name in names), names
