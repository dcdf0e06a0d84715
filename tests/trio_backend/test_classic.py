"""The classic way: ``serve_forever()``, ``handle_request()``, ``shutdown()``, ``with``.

Each server runs ``trio.run`` in its own thread (``serve_forever``) or in
the test's (``handle_request``); clients are plain blocking sockets.
"""

from __future__ import annotations

import signal
import socket
import sys
import threading
import time

import pytest
import trio

from sockserve.core import DrainResult, StreamRequestHandler
from sockserve.trio_backend import AsyncStreamRequestHandler, TrioMixIn
from tests.conftest import script_server

from .conftest import WAIT, AsyncLineEcho, CoreTCPServer, Serve, SyncLineEcho, connect

Address = tuple[str, int]


class TrioTCP(TrioMixIn[socket.socket, Address], CoreTCPServer):
    """The server of these tests: core's TCP family, served by trio."""


def echo_once(server: TrioTCP, line: bytes = b"ping\n") -> bytes:
    with connect(server) as client:
        client.sendall(line)
        reply: bytes = client.makefile("rb").readline()
        return reply


def run_in_thread(target: object, *args: object) -> threading.Thread:
    thread = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
    thread.start()
    return thread


@pytest.mark.parametrize("handler", [AsyncLineEcho, SyncLineEcho], ids=["async", "sync"])
def test_shutdown_from_another_thread_does_not_wait_for_the_poll_interval(
    handler: type[object], serve: Serve
) -> None:
    server = TrioTCP(("127.0.0.1", 0), handler)
    thread = serve(server, 30.0)  # the stdlib would take up to 30 s to notice
    assert echo_once(server) == b"ping\n"
    started = time.monotonic()
    server.shutdown()
    assert time.monotonic() - started < WAIT / 2
    thread.join(WAIT)
    assert not thread.is_alive()


def test_shutdown_cuts_open_connections_at_once(serve: Serve) -> None:
    server = TrioTCP(("127.0.0.1", 0), SyncLineEcho)
    serve(server)
    with connect(server) as idle_client:
        idle_client.sendall(b"hello\n")
        assert idle_client.recv(100) == b"hello\n"
        server.shutdown()
        assert idle_client.recv(100) == b""  # the sync handler was unblocked; we read EOF


def test_shutdown_before_serve_forever_makes_it_return_at_once() -> None:
    with TrioTCP(("127.0.0.1", 0), AsyncLineEcho) as server:
        stopper = run_in_thread(server.shutdown)
        stopper.join(WAIT)
        assert not stopper.is_alive()  # nothing was serving: nothing to wait for
        started = time.monotonic()
        server.serve_forever()  # the request was kept: it returns at once
        assert time.monotonic() - started < WAIT / 2


def test_a_server_serves_again_after_shutdown(serve: Serve) -> None:
    server = TrioTCP(("127.0.0.1", 0), AsyncLineEcho)
    for _ in range(2):
        thread = serve(server)
        assert echo_once(server) == b"ping\n"
        server.shutdown()
        thread.join(WAIT)


def test_handle_request_serves_one_request() -> None:
    with TrioTCP(("127.0.0.1", 0), AsyncLineEcho) as server:
        replies: list[bytes] = []
        client = run_in_thread(lambda: replies.append(echo_once(server)))
        server.handle_request()
        client.join(WAIT)
        assert replies == [b"ping\n"]


def test_handle_request_times_out_into_handle_timeout() -> None:
    timeouts: list[float] = []

    class Timing(TrioTCP):
        timeout = 0.05

        def handle_timeout(self) -> None:
            timeouts.append(time.monotonic())

    with Timing(("127.0.0.1", 0), AsyncLineEcho) as server:
        started = time.monotonic()
        server.handle_request()
        assert len(timeouts) == 1
        assert timeouts[0] - started >= 0.05


def test_handle_request_honours_the_sockets_own_timeout() -> None:
    timeouts: list[str] = []

    class Timing(TrioTCP):
        def handle_timeout(self) -> None:
            timeouts.append("timed out")

    with Timing(("127.0.0.1", 0), AsyncLineEcho) as server:
        server.socket.settimeout(0.05)
        server.handle_request()
        assert timeouts == ["timed out"]
        assert server.socket.gettimeout() == 0.05


def test_handle_request_after_server_close_raises_value_error() -> None:
    server = TrioTCP(("127.0.0.1", 0), AsyncLineEcho)
    server.server_close()
    with pytest.raises(ValueError, match="-1"):
        server.handle_request()


def test_the_context_manager_closes_the_socket() -> None:
    with TrioTCP(("127.0.0.1", 0), AsyncLineEcho) as server:
        pass
    assert server.socket.fileno() == -1


def test_drain_from_another_thread_reports_what_it_cut(serve: Serve) -> None:
    server = TrioTCP(("127.0.0.1", 0), SyncLineEcho)
    thread = serve(server)
    with connect(server) as client:
        client.sendall(b"x\n")
        assert client.recv(10) == b"x\n"
        assert server.drain(0.05) == DrainResult(completed=0, cut=1)
        assert client.recv(10) == b""
    thread.join(WAIT)
    assert not thread.is_alive()


def test_drain_before_serving_makes_serving_return_at_once_with_nothing_drained() -> None:
    with TrioTCP(("127.0.0.1", 0), AsyncLineEcho) as server:
        results: list[DrainResult] = []
        drainer = run_in_thread(lambda: results.append(server.drain(5)))
        time.sleep(0.05)
        server.serve_forever()
        drainer.join(WAIT)
        assert results == [DrainResult(0, 0)]


class ShutdownFromHandler(AsyncStreamRequestHandler["StoppingServer", Address]):
    async def handle(self) -> None:
        await self.receive_line()
        try:
            self.server.shutdown()
        except RuntimeError as exc:
            self.server.refusals.append(str(exc))
        self.server.request_shutdown()
        await self.send(b"stopping\n")


class SyncShutdownFromHandler(StreamRequestHandler["StoppingServer", Address]):
    def handle(self) -> None:
        self.rfile.readline()
        for call in (self.server.shutdown, self.server.server_close, lambda: self.server.drain(1)):
            try:
                call()
            except RuntimeError as exc:
                self.server.refusals.append(str(exc))
        self.server.request_drain(WAIT)
        self.wfile.write(b"stopping\n")


class StoppingServer(TrioTCP):
    def __init__(self, handler: type[object]) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.refusals: list[str] = []


@pytest.mark.parametrize("handler", [ShutdownFromHandler, SyncShutdownFromHandler])
def test_a_handler_cannot_wait_for_its_own_server_but_can_ask_it_to_stop(
    handler: type[object],
) -> None:
    with StoppingServer(handler) as server:
        replies: list[bytes] = []
        client = run_in_thread(lambda: replies.append(echo_once(server)))
        server.serve_forever()  # returns: the handler asked it to stop
        client.join(WAIT)
        assert replies == [b"stopping\n"]
        assert server.refusals
        assert all("request_" in refusal for refusal in server.refusals)


def test_an_exception_that_ends_the_server_is_raised_as_itself() -> None:
    class Exits(AsyncStreamRequestHandler):
        async def handle(self) -> None:
            sys.exit(3)

    with TrioTCP(("127.0.0.1", 0), Exits) as server:
        client = run_in_thread(lambda: connect(server).close())
        with pytest.raises(SystemExit) as raised:
            server.serve_forever()
        client.join(WAIT)
        assert raised.value.code == 3


def test_service_actions_run_every_poll_interval(serve: Serve) -> None:
    calls: list[float] = []

    class Ticking(TrioTCP):
        def service_actions(self) -> None:
            calls.append(time.monotonic())

    server = Ticking(("127.0.0.1", 0), AsyncLineEcho)
    serve(server, 0.01)
    deadline = time.monotonic() + WAIT
    while len(calls) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    server.shutdown()
    assert len(calls) >= 3


def test_server_close_from_another_thread_while_serving_shuts_down_first(serve: Serve) -> None:
    server = TrioTCP(("127.0.0.1", 0), SyncLineEcho)
    thread = serve(server)
    assert echo_once(server) == b"ping\n"
    server.server_close()
    thread.join(WAIT)
    assert not thread.is_alive()
    assert server.socket.fileno() == -1


def test_process_request_outside_a_serving_run_is_refused() -> None:
    with TrioTCP(("127.0.0.1", 0), AsyncLineEcho) as server:
        left, right = socket.socketpair()
        with left, right, pytest.raises(RuntimeError, match="serving"):
            server.process_request(left, ("127.0.0.1", 1))


def test_serve_forever_inside_a_trio_run_is_refused() -> None:
    async def nested(server: TrioTCP) -> None:
        server.serve_forever()

    with (
        TrioTCP(("127.0.0.1", 0), AsyncLineEcho) as server,
        pytest.raises(RuntimeError, match="run"),
    ):
        trio.run(nested, server)


CTRL_C_SERVER = """
import socket, sys
from sockserve.core import StreamServer
from sockserve.trio_backend import AsyncStreamRequestHandler, TrioMixIn

class Server(TrioMixIn, StreamServer):
    address_family = socket.AF_INET

with Server(("127.0.0.1", 0), AsyncStreamRequestHandler) as server:
    try:  # the signal may come as soon as the port is printed
        print(server.server_address[1], flush=True)
        server.serve_forever()
    except KeyboardInterrupt:
        print("KeyboardInterrupt", flush=True)
        sys.exit(7)
"""


def test_ctrl_c_in_the_main_thread_raises_keyboard_interrupt_out_of_serve_forever() -> None:
    """As ``http.server``'s ``test()`` relies on: the stdlib's servers raise it as itself."""
    with script_server(CTRL_C_SERVER) as (process, port):
        assert port.isdigit()
        process.send_signal(signal.SIGINT)
        assert process.wait(WAIT) == 7
        assert process.stdout is not None
        assert process.stdout.read() == "KeyboardInterrupt\n"
