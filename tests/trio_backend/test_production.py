"""Production behaviour: errors never stop the server, accept back-off, limits, idle timeout."""

from __future__ import annotations

import contextlib
import errno
import logging
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from typing import ClassVar

import pytest
import trio
import trio.testing

from sockserve.core import DrainResult, StreamRequestHandler
from sockserve.trio_backend import AsyncDatagramRequestHandler, AsyncStreamRequestHandler, TrioMixIn
from tests.conftest import script_server

from .conftest import (
    DATAGRAM_FAMILIES,
    WAIT,
    AsyncLineEcho,
    CoreTCPServer,
    Family,
    Serve,
    SyncLineEcho,
    connect,
    datagram_client,
)

Address = tuple[str, int]


class TrioTCP(TrioMixIn[socket.socket, Address], CoreTCPServer):
    """The server of these tests: core's TCP family, served by trio."""


class Recording(TrioTCP):
    """Records what ``handle_error`` saw, instead of printing it."""

    def __init__(self, handler: Callable[..., object]) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.errors: list[BaseException | None] = []

    def handle_error(self, request: socket.socket, client_address: Address) -> None:
        self.errors.append(sys.exc_info()[1])


class Fails(AsyncStreamRequestHandler):
    async def handle(self) -> None:
        line = await self.receive_line()
        if line == b"fail\n":
            raise ValueError("the handler failed")
        await self.send(line)


class SyncFails(StreamRequestHandler):
    def handle(self) -> None:
        line = self.rfile.readline()
        if line == b"fail\n":
            raise ValueError("the handler failed")
        self.wfile.write(line)


def exchange(server: TrioTCP, line: bytes) -> bytes:
    with connect(server) as client:
        client.sendall(line)
        reply: bytes = client.makefile("rb").readline()
        return reply


# ---------------------------------------------------------------------------- errors


@pytest.mark.parametrize("handler", [Fails, SyncFails], ids=["async", "sync"])
def test_a_handler_exception_goes_to_handle_error_and_the_server_carries_on(
    handler: type[object], serve: Serve
) -> None:
    server = Recording(handler)
    serve(server)
    assert exchange(server, b"fail\n") == b""  # its connection is closed
    assert exchange(server, b"next\n") == b"next\n"  # and the next client is served
    (error,) = server.errors
    assert isinstance(error, ValueError)


def test_the_default_handle_error_prints_the_stdlibs_report(
    serve: Serve, capfd: pytest.CaptureFixture[str]
) -> None:
    server = TrioTCP(("127.0.0.1", 0), Fails)
    serve(server)
    exchange(server, b"fail\n")
    assert exchange(server, b"ok\n") == b"ok\n"
    err = capfd.readouterr().err
    assert "Exception occurred during processing of request from ('127.0.0.1'" in err
    assert "ValueError: the handler failed" in err
    assert err.count("-" * 40) == 2


def test_verify_request_runs_in_the_request_and_can_refuse_it(serve: Serve) -> None:
    refused = threading.Event()

    class Picky(Recording):
        def verify_request(self, request: socket.socket, client_address: Address) -> bool:
            if not refused.is_set():
                refused.set()
                return False
            return True

    server = Picky(AsyncLineEcho)
    serve(server)
    assert exchange(server, b"first\n") == b""  # refused: closed unhandled
    assert exchange(server, b"second\n") == b"second\n"
    assert server.errors == []


def test_an_error_in_verify_request_is_reported_not_fatal(serve: Serve) -> None:
    class Broken(Recording):
        calls = 0

        def verify_request(self, request: socket.socket, client_address: Address) -> bool:
            type(self).calls += 1
            if self.calls == 1:
                raise KeyError("verify failed")
            return True

    server = Broken(AsyncLineEcho)
    serve(server)
    assert exchange(server, b"a\n") == b""
    assert exchange(server, b"b\n") == b"b\n"
    assert [type(e) for e in server.errors] == [KeyError]


def test_an_exception_out_of_handle_error_ends_the_server_and_propagates() -> None:
    class Strict(TrioTCP):
        def handle_error(self, request: socket.socket, client_address: Address) -> None:
            raise  # re-raise what the handler raised, as CPython's tests do

    with Strict(("127.0.0.1", 0), Fails) as server:
        client = threading.Thread(target=exchange, args=(server, b"fail\n"), daemon=True)
        client.start()
        with pytest.raises(ValueError, match="the handler failed"):
            server.serve_forever()
        client.join(WAIT)


# ---------------------------------------------------------------------------- accept back-off


class ExhaustedAccept(TrioTCP):
    """Its ``accept()`` fails with ``failing_errno`` until told to stop.

    A fault that real sockets cannot produce on demand: a real connection is
    accepted, then closed, and the error raised instead.
    """

    failing_errno: ClassVar[int] = errno.EMFILE

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), AsyncLineEcho)
        self.failing = True
        self.attempts = 0

    def get_request(self) -> tuple[socket.socket, Address]:
        request, address = super().get_request()  # a real connection is waiting
        if self.failing:
            self.attempts += 1
            request.close()
            raise OSError(self.failing_errno, "simulated")
        return request, address


def test_accept_out_of_descriptors_backs_off_logs_and_recovers(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    server = ExhaustedAccept()
    serve(server)
    stop = time.monotonic() + 0.5
    clients: list[socket.socket] = []
    try:
        while time.monotonic() < stop:  # keep a connection always waiting
            clients.append(connect(server))
            time.sleep(0.005)
        attempts = server.attempts
        server.failing = False
        assert exchange(server, b"back\n") == b"back\n"
    finally:
        for client in clients:
            client.close()
    # Pauses of 10, 20, 40, 80, 160, 320 ms: a handful of attempts in 0.5 s, not thousands.
    assert 2 <= attempts <= 12
    warnings = [r for r in caplog.records if "accept() failed" in r.getMessage()]
    assert warnings
    assert warnings[0].levelno == logging.WARNING


def test_an_accept_error_of_one_connection_is_dropped_without_a_pause(serve: Serve) -> None:
    class Aborted(ExhaustedAccept):
        failing_errno = errno.ECONNABORTED

    server = Aborted()
    serve(server)
    for _ in range(5):
        connect(server).close()
    deadline = time.monotonic() + WAIT
    while server.attempts < 5 and time.monotonic() < deadline:
        time.sleep(0.005)
    server.failing = False
    assert server.attempts == 5
    assert exchange(server, b"fine\n") == b"fine\n"


# ---------------------------------------------------------------------------- connection limit


class Held(AsyncStreamRequestHandler[TrioTCP, Address]):
    """Counts itself in, then holds its connection until the test lets go."""

    started: ClassVar[list[object]]
    release: ClassVar[trio.Event]

    async def handle(self) -> None:
        self.started.append(self.client_address)
        await self.release.wait()
        await self.send(b"released\n")


async def test_at_max_connections_the_server_stops_accepting_until_one_ends() -> None:
    class Limited(TrioTCP):
        max_connections = 2
        accepts = 0

        def get_request(self) -> tuple[socket.socket, Address]:
            got = super().get_request()
            type(self).accepts += 1
            return got

    class handler(Held):  # noqa: N801  # a fresh class, so the test owns its class attributes
        started: ClassVar[list[object]] = []
        release: ClassVar[trio.Event] = trio.Event()

    with Limited(("127.0.0.1", 0), handler) as server:
        async with trio.open_nursery() as nursery:
            address = await nursery.start(server.serve)
            clients = [await trio.open_tcp_stream(*address) for _ in range(3)]
            await trio.testing.wait_all_tasks_blocked()
            await trio.sleep(0.05)  # give the kernel time to queue the third
            await trio.testing.wait_all_tasks_blocked()
            assert len(handler.started) == 2
            assert Limited.accepts == 2  # the third waits in the kernel's backlog
            handler.release.set()
            replies = [await c.receive_some() for c in clients]
            assert replies == [b"released\n"] * 3
            assert Limited.accepts == 3
            for client in clients:
                await client.aclose()
            nursery.cancel_scope.cancel()


def test_sync_handlers_are_limited_by_max_threads(serve: Serve) -> None:
    inside = threading.Semaphore(0)
    running = [0, 0]  # now, most at once
    lock = threading.Lock()
    release = threading.Event()

    class Counting(StreamRequestHandler):
        def handle(self) -> None:
            with lock:
                running[0] += 1
                running[1] = max(running)
            inside.release()
            release.wait(WAIT)
            self.wfile.write(self.rfile.readline())
            with lock:
                running[0] -= 1

    class TwoThreads(TrioTCP):
        max_threads = 2

    server = TwoThreads(("127.0.0.1", 0), Counting)
    serve(server)
    clients = [connect(server) for _ in range(5)]
    try:
        for _ in range(2):
            assert inside.acquire(timeout=WAIT)
        assert not inside.acquire(timeout=0.2)  # a third thread never started
        release.set()
        for client in clients:
            client.sendall(b"x\n")
            assert client.makefile("rb").readline() == b"x\n"
    finally:
        release.set()
        for client in clients:
            client.close()
    assert running[1] == 2


@pytest.mark.parametrize("family", DATAGRAM_FAMILIES, ids=lambda f: f.name)
async def test_datagrams_run_concurrently_up_to_max_connections(
    family: Family, sock_dir: str
) -> None:
    started: list[bytes] = []
    release = trio.Event()

    class Slow(AsyncDatagramRequestHandler):
        async def handle(self) -> None:
            started.append(self.packet)
            await release.wait()
            await self.reply(self.packet)

    server_class = type("Limited", (family.trio_class(),), {"max_connections": 3})
    address = family.bind_address(sock_dir)
    with server_class(address, Slow) as server:
        async with trio.open_nursery() as nursery:
            await nursery.start(server.serve)
            with datagram_client(server, sock_dir) as client:
                for i in range(5):
                    client.sendto(b"%d" % i, server.server_address)
                await trio.sleep(0.05)
                await trio.testing.wait_all_tasks_blocked()
                assert sorted(started) == [b"0", b"1", b"2"]  # two wait in the socket's buffer
                release.set()
                replies = [await trio.to_thread.run_sync(client.recv, 100) for _ in range(5)]
            assert sorted(replies) == [b"0", b"1", b"2", b"3", b"4"]
            nursery.cancel_scope.cancel()


@pytest.mark.parametrize(
    ("attribute", "value", "error"),
    [
        ("max_connections", 0, ValueError),
        ("max_connections", "8", TypeError),
        ("max_threads", None, ValueError),
        ("idle_timeout", -1, ValueError),
        ("idle_timeout", "1", TypeError),
    ],
)
def test_a_bad_setting_is_an_error_naming_it_before_serving(
    attribute: str, value: object, error: type[Exception]
) -> None:
    server_class = type("Bad", (TrioTCP,), {attribute: value})
    handler = SyncLineEcho if attribute == "max_threads" else AsyncLineEcho
    with server_class(("127.0.0.1", 0), handler) as server:
        for serve in (server.serve_forever, server.handle_request, lambda: trio.run(server.serve)):
            with pytest.raises(error, match=attribute):
                serve()


# ---------------------------------------------------------------------------- idle timeout


class IdleAfter10s(TrioTCP):
    idle_timeout = 10.0


async def test_an_idle_connection_is_closed_after_the_idle_timeout(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "sockserve.trio_backend")
    with IdleAfter10s(("127.0.0.1", 0), AsyncLineEcho) as server:
        async with trio.open_nursery() as nursery:
            address = await nursery.start(server.serve)
            async with await trio.open_tcp_stream(*address) as quiet:
                opened = trio.current_time()
                assert await quiet.receive_some() == b""  # closed by the server
                waited = trio.current_time() - opened
            nursery.cancel_scope.cancel()
    assert 10.0 <= waited <= 12.5
    assert any("idle" in r.getMessage() for r in caplog.records)


async def test_a_connection_that_keeps_talking_is_not_idle(
    autojump_clock: trio.testing.MockClock,
) -> None:
    with IdleAfter10s(("127.0.0.1", 0), AsyncLineEcho) as server:
        async with trio.open_nursery() as nursery:
            address = await nursery.start(server.serve)
            async with await trio.open_tcp_stream(*address) as chatty:
                for _ in range(8):  # 48 s in all, a line every 6 s
                    await trio.sleep(6)
                    await chatty.send_all(b"still here\n")
                    assert await chatty.receive_some() == b"still here\n"
            nursery.cancel_scope.cancel()


def test_a_sync_handlers_connection_gets_the_idle_timeout_as_its_socket_timeout(
    serve: Serve,
) -> None:
    class Idle(Recording):
        idle_timeout = 0.1

    server = Idle(SyncLineEcho)
    serve(server)
    with connect(server) as quiet:
        assert quiet.recv(10) == b""
    (error,) = server.errors
    assert isinstance(error, TimeoutError)


# ---------------------------------------------------------------------------- counters


@pytest.mark.parametrize("handler", [Fails, SyncFails], ids=["async", "sync"])
def test_the_counters_account_for_every_request(handler: type[object], serve: Serve) -> None:
    class Picky(Recording):
        def verify_request(self, request: socket.socket, client_address: Address) -> bool:
            return request.recv(16, socket.MSG_PEEK) != b"refuse\n"

    server = Picky(handler)
    serve(server)
    for line in (b"ok\n", b"fail\n", b"refuse\n", b"ok\n"):
        exchange(server, line)
    server.drain(WAIT)
    counts = server.request_counts()
    assert (counts.accepted, counts.completed, counts.failed, counts.refused) == (4, 2, 1, 1)
    assert (counts.active, counts.cut) == (0, 0)


async def test_a_drain_counts_what_it_cut() -> None:
    release = trio.Event()

    class Stuck(AsyncStreamRequestHandler):
        async def handle(self) -> None:
            await self.receive_line()
            await release.wait()

    with TrioTCP(("127.0.0.1", 0), Stuck) as server:
        async with trio.open_nursery() as nursery:
            address = await nursery.start(server.serve)
            clients = [await trio.open_tcp_stream(*address) for _ in range(3)]
            for client in clients:
                await client.send_all(b"go\n")
            await trio.testing.wait_all_tasks_blocked()
            assert server.request_counts().active == 3
            assert await server.adrain(0) == DrainResult(completed=0, cut=3)
            for client in clients:
                await client.aclose()
    counts = server.request_counts()
    assert (counts.accepted, counts.cut, counts.active) == (3, 3, 0)


SIGNAL_SERVER = """
import socket, sys
from sockserve.core import StreamServer, drain_on_signals
from sockserve.trio_backend import AsyncStreamRequestHandler, TrioMixIn
import trio

class Server(TrioMixIn, StreamServer):
    address_family = socket.AF_INET

class Slow(AsyncStreamRequestHandler):
    async def handle(self):
        await self.receive_line()
        await trio.sleep(0.3)
        await self.send(b"finished\\n")

with Server(("127.0.0.1", 0), Slow) as server, drain_on_signals(server, 10):
    print(server.server_address[1], flush=True)
    server.serve_forever()
    print(server.request_counts(), flush=True)
"""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_drains_a_trio_server_gracefully(signum: int) -> None:
    with script_server(SIGNAL_SERVER) as (process, port):
        address = ("127.0.0.1", int(port))
        clients = [socket.create_connection(address, timeout=WAIT) for _ in range(3)]
        for client in clients:
            client.sendall(b"go\n")
        time.sleep(0.1)
        process.send_signal(signum)
        for client in clients:
            with client:
                assert client.makefile("rb").readline() == b"finished\n"
        assert process.wait(WAIT) == 0
        assert process.stdout is not None
        assert "accepted=3, active=0, completed=3" in process.stdout.read()


def test_an_idle_timeout_does_not_keep_serving_alive_after_a_drain(serve: Serve) -> None:
    server = IdleAfter10s(("127.0.0.1", 0), AsyncLineEcho)
    thread = serve(server)
    assert exchange(server, b"hi\n") == b"hi\n"
    assert server.drain(1).cut == 0  # the request above may end during the drain, or before
    thread.join(WAIT)
    assert not thread.is_alive()


def test_an_idle_timeout_does_not_keep_handle_request_waiting() -> None:
    class Quick(IdleAfter10s):
        timeout = 0.05

    with Quick(("127.0.0.1", 0), AsyncLineEcho) as server:
        started = time.monotonic()
        server.handle_request()  # times out: no client
        assert time.monotonic() - started < WAIT / 2


async def test_a_long_send_to_a_slow_reader_is_not_idle() -> None:
    payload = b"x" * (2 * 1024 * 1024)  # one send_all(), lasting several idle timeouts
    small_buffer = 64 * 1024

    class IdleAfterAFifth(TrioTCP):
        idle_timeout = 0.2

    class Big(AsyncStreamRequestHandler):
        async def handle(self) -> None:
            await self.receive_line()
            self.request.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, small_buffer)
            await self.send(payload)

    with IdleAfterAFifth(("127.0.0.1", 0), Big) as server:
        async with trio.open_nursery() as nursery:
            address = await nursery.start(server.serve)
            slow = trio.socket.socket()
            slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, small_buffer)
            with slow:
                await slow.connect(address)
                await slow.send(b"go\n")
                received = 0
                started = trio.current_time()
                with trio.fail_after(WAIT * 4):
                    while received < len(payload):  # 32 KiB each 20 ms: about 1.3 s in all
                        await trio.sleep(0.02)
                        chunk = await slow.recv(32 * 1024)
                        assert chunk, "the server cut a connection that was still sending"
                        received += len(chunk)
                assert trio.current_time() - started > 3 * IdleAfterAFifth.idle_timeout
            nursery.cancel_scope.cancel()


async def test_cancelling_before_sync_handlers_start_leaks_no_connection() -> None:
    for _ in range(20):
        with TrioTCP(("127.0.0.1", 0), SyncLineEcho) as server:
            clients = [socket.create_connection(server.server_address) for _ in range(10)]
            with trio.CancelScope() as scope:
                async with trio.open_nursery() as nursery:
                    await nursery.start(server.serve)
                    await trio.sleep(0)
                    scope.cancel()
            assert server.request_counts().active == 0
            for client in clients:
                client.settimeout(WAIT)
                with client, contextlib.suppress(ConnectionResetError):
                    assert client.recv(16) == b""  # closed, not left hanging


def test_the_test_helper_serves_a_trio_server_and_surfaces_its_handler_errors() -> None:
    from sockserve.core.testing import HandlerError, serving

    class Fails(AsyncStreamRequestHandler):
        async def handle(self) -> None:
            if await self.receive_line() == b"fail\n":
                raise ValueError("an async handler failed")
            await self.send(b"fine\n")

    server = TrioTCP(("127.0.0.1", 0), Fails)
    threads: list[threading.Thread] = []

    def a_good_request_then_a_failing_one() -> None:
        with serving(server, raise_handler_errors=True) as served:
            threads.append(served.thread)
            assert exchange(server, b"ok\n") == b"fine\n"
            assert exchange(server, b"fail\n") == b""

    with pytest.raises(HandlerError, match="an async handler failed"):
        a_good_request_then_a_failing_one()
    assert not threads[0].is_alive()
