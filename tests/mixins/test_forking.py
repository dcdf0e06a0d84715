from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable

import pytest

from sockserve.core import (
    BaseRequestHandler,
    DatagramRequest,
    DatagramRequestHandler,
    DatagramServer,
    StreamRequest,
    StreamRequestHandler,
)
from sockserve.mixins import ForkingMixIn
from sockserve.mixins import _forking as forking_module

from .conftest import WAIT, Address, ForkingServer, connect

Build = Callable[[type[ForkingServer], Callable[..., object]], ForkingServer]


class ReportsItsPid(BaseRequestHandler[StreamRequest, ForkingServer, Address]):
    def handle(self) -> None:
        self.request.sendall(str(os.getpid()).encode())


class WaitsForGo(BaseRequestHandler[StreamRequest, ForkingServer, Address]):
    """Holds its child alive until the client sends b"go"."""

    def handle(self) -> None:
        self.request.settimeout(WAIT)
        self.request.sendall(b"in")
        self.request.recv(8)


def test_each_request_runs_in_its_own_child(build: Build) -> None:
    server = build(ForkingServer, ReportsItsPid)
    with connect(server) as client:
        server.handle_request()
        child = int(client.recv(32))
    assert child != os.getpid()
    assert server.active_children == {child} or server.active_children == set()
    server.server_close()
    assert not server.active_children


def test_the_parent_closes_its_copy_of_the_connection(build: Build) -> None:
    server = build(ForkingServer, WaitsForGo)
    with connect(server) as client:
        server.handle_request()
        assert client.recv(8) == b"in"
        client.sendall(b"go")
        assert client.recv(8) == b""  # only the child held it; it exited


class Recording(ForkingServer):
    max_children = 2

    def __init__(self, *args: object) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.alive_after_fork: list[int] = []

    def process_request(self, request: StreamRequest, client_address: Address) -> None:
        super().process_request(request, client_address)
        self.alive_after_fork.append(len(self.active_children or ()))


def handle_requests(server: ForkingServer, count: int) -> None:
    for _ in range(count):
        server.handle_request()


def test_max_children_is_enforced_before_forking(
    build: Callable[[type[Recording], Callable[..., object]], Recording],
) -> None:
    server = build(Recording, WaitsForGo)
    clients = [connect(server) for _ in range(3)]
    try:
        serving = threading.Thread(target=handle_requests, args=(server, 3))
        serving.start()
        assert [c.recv(8) for c in clients[:2]] == [b"in", b"in"]
        # The third request waits in process_request: no third child yet.
        clients[2].settimeout(0.3)
        with pytest.raises(TimeoutError):
            clients[2].recv(8)
        clients[0].sendall(b"go")  # its child exits, making room
        clients[2].settimeout(WAIT)
        assert clients[2].recv(8) == b"in"
        for client in clients[1:]:
            client.sendall(b"go")
        serving.join(WAIT)
    finally:
        for client in clients:
            client.close()
    assert max(server.alive_after_fork) <= Recording.max_children


def test_children_the_application_started_are_left_alone(build: Build) -> None:
    foreign = os.fork()
    if foreign == 0:
        time.sleep(0.2)
        os._exit(72)

    class OneAtATime(ForkingServer):
        max_children = 1

    server = build(OneAtATime, ReportsItsPid)
    for _ in range(3):  # each request must wait for the previous child
        with connect(server) as client:
            server.handle_request()
            assert client.recv(32)
    server.server_close()
    pid, status = os.waitpid(foreign, 0)
    assert pid == foreign
    assert os.waitstatus_to_exitcode(status) == 72


def test_an_exception_in_the_child_is_reported_and_exits_1(
    build: Build, capfd: pytest.CaptureFixture[str]
) -> None:
    class Fails(BaseRequestHandler[StreamRequest, ForkingServer, Address]):
        def handle(self) -> None:
            raise ValueError("child failed")

    server = build(ForkingServer, Fails)
    with connect(server) as client:
        server.handle_request()
        assert client.recv(8) == b""
    (child,) = server.active_children or set()
    _, status = os.waitpid(child, 0)
    server.active_children = set()
    assert os.waitstatus_to_exitcode(status) == 1
    assert "ValueError: child failed" in capfd.readouterr().err


def test_server_close_waits_for_children(build: Build) -> None:
    server = build(ForkingServer, WaitsForGo)
    with connect(server) as client:
        server.handle_request()
        assert client.recv(8) == b"in"
        # The child then exits. (Closing the client would not do: the child
        # inherited this test's copy of it.)
        threading.Timer(0.2, client.sendall, args=(b"go",)).start()
        started = time.monotonic()
        server.server_close()
        assert time.monotonic() - started >= 0.1
    assert server.active_children == set()


def test_bad_max_children_is_a_clear_error(
    build: Build, capsys: pytest.CaptureFixture[str]
) -> None:
    class Broken(ForkingServer):
        max_children = 0

    server = build(Broken, ReportsItsPid)
    with connect(server):
        server.handle_request()
    assert "ValueError: max_children must be a positive int, got 0" in capsys.readouterr().err
    assert server.active_children is None


@pytest.fixture
def warm_ups(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """The calls of the forking server's stream warm-up, as if none had run in this process."""
    calls: list[tuple[int, int]] = []
    monkeypatch.setattr(forking_module, "_stream_io_warm", False)
    monkeypatch.setattr(forking_module, "warm_stream_io", lambda r, w: calls.append((r, w)))
    return calls


def test_datagram_servers_fork_too_without_the_stream_warm_up(
    warm_ups: list[tuple[int, int]],
) -> None:
    class Server(ForkingMixIn[DatagramRequest, Address], DatagramServer[Address]):
        address_family = socket.AF_INET

    class Echo(DatagramRequestHandler[Server, Address]):
        def handle(self) -> None:
            self.wfile.write(str(os.getpid()).encode())

    with (
        Server(("127.0.0.1", 0), Echo) as server,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client,
    ):
        client.settimeout(WAIT)
        client.sendto(b"x", server.server_address)
        server.handle_request()
        assert int(client.recv(32)) != os.getpid()
    assert warm_ups == []


class TwoChildren(ForkingServer):
    max_children = 2


def test_serve_forever_at_max_children_takes_the_next_request_as_a_child_exits(
    build: Callable[[type[TwoChildren], Callable[..., object]], TwoChildren],
    serve: Callable[..., threading.Thread],
) -> None:
    server = build(TwoChildren, ReportsItsPid)
    serve(server, poll_interval=60)  # only a child's exit can wake the loop in time
    started = time.monotonic()
    for _ in range(6):  # each beyond the second waits for a child to exit
        with connect(server) as client:
            assert int(client.recv(32)) != os.getpid()
    assert time.monotonic() - started < WAIT / 2  # not a poll_interval per request


def test_shutdown_returns_at_once_with_max_children_busy(
    build: Callable[[type[TwoChildren], Callable[..., object]], TwoChildren],
    serve: Callable[..., threading.Thread],
) -> None:
    server = build(TwoChildren, WaitsForGo)
    thread = serve(server, poll_interval=60)
    clients = [connect(server) for _ in range(4)]  # two children, two in the backlog
    try:
        assert [c.recv(8) for c in clients[:2]] == [b"in", b"in"]
        started = time.monotonic()
        server.shutdown()
        assert time.monotonic() - started < 1.0  # not until the clients hang up
        thread.join(WAIT)
        assert not thread.is_alive()
        for client in clients[:2]:
            client.sendall(b"go")  # not a hang-up: children forked here hold copies of clients
    finally:
        for client in clients:
            client.close()
    server.server_close()  # reaps the two children
    assert not server.active_children


def test_max_connections_below_max_children_bounds_the_children(
    build: Callable[[type[TwoChildren], Callable[..., object]], TwoChildren],
    serve: Callable[..., threading.Thread],
) -> None:
    server = build(TwoChildren, WaitsForGo)
    server.max_connections = 1
    serve(server, poll_interval=60)
    first, second = connect(server), connect(server)
    with first, second:
        assert first.recv(8) == b"in"
        second.settimeout(0.3)
        with pytest.raises(TimeoutError):  # one child at most: the second waits
            second.recv(8)
        first.sendall(b"go")
        second.settimeout(WAIT)
        assert second.recv(8) == b"in"  # as soon as the first child exits
        second.sendall(b"go")


class BufferedEcho(StreamRequestHandler[ForkingServer, Address]):
    rbufsize = 4096
    wbufsize = -1

    def handle(self) -> None:
        self.wfile.write(self.rfile.readline())


def test_the_first_child_is_preceded_by_one_warm_up_with_the_handlers_buffers(
    build: Build, warm_ups: list[tuple[int, int]]
) -> None:
    server = build(ForkingServer, BufferedEcho)
    for _ in range(2):
        with connect(server) as client:
            client.sendall(b"ping\n")
            server.handle_request()
            assert client.recv(8) == b"ping\n"
    assert warm_ups == [(4096, -1)]  # once per process, before the first fork only


def test_each_server_warms_its_childrens_lookups_once_before_its_first_child(
    build: Build, monkeypatch: pytest.MonkeyPatch
) -> None:
    warmed: list[tuple[object, int, set[int] | None]] = []
    monkeypatch.setattr(
        forking_module,
        "warm_fork_lookups",
        lambda server: warmed.append((server, os.getpid(), set(server.active_children or ()))),
    )
    servers = [build(ForkingServer, BufferedEcho) for _ in range(2)]
    for server in (*servers, servers[0]):
        with connect(server) as client:
            client.sendall(b"ping\n")
            server.handle_request()
            assert client.recv(8) == b"ping\n"
    # In the parent, with no child yet: once per server, not once per request.
    assert warmed == [(servers[0], os.getpid(), set()), (servers[1], os.getpid(), set())]
