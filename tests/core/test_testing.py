"""`sockserve.core.testing`: a server served for a block, stopped cleanly, handler errors raised."""

from __future__ import annotations

import socket
import socketserver
import threading
import time
import traceback

import pytest

from sockserve.core import BaseRequestHandler, StreamRequest, StreamServer
from sockserve.core.testing import HandlerError, Served, StartServing, serving
from tests.conftest import WAIT


class Server(StreamServer[tuple[str, int]]):
    address_family = socket.AF_INET


class Hello(BaseRequestHandler[StreamRequest, Server, tuple[str, int]]):
    def handle(self) -> None:
        word = self.request.recv(16)
        if word == b"fail":
            raise ValueError("the handler failed on purpose")
        if word == b"slow":
            time.sleep(0.3)
        self.request.sendall(b"hello")


def ask(address: object, word: bytes = b"hi") -> bytes:
    assert isinstance(address, tuple)
    with socket.create_connection(address, timeout=WAIT) as client:
        client.sendall(word)
        return client.recv(16)


def test_a_server_serves_for_the_block_and_is_closed_after() -> None:
    server = Server(("127.0.0.1", 0), Hello)
    with serving(server) as served:
        assert served.address == server.server_address
        assert served.thread.is_alive()
        assert ask(served.address) == b"hello"
    assert not served.thread.is_alive()
    assert server.socket.fileno() == -1


def test_a_request_in_flight_at_the_end_is_drained_not_dropped() -> None:
    server = Server(("127.0.0.1", 0), Hello)
    replies: list[bytes] = []
    with serving(server) as served:
        client = threading.Thread(target=lambda: replies.append(ask(served.address, b"slow")))
        client.start()
        deadline = time.monotonic() + WAIT
        while server.request_counts().active == 0:
            assert time.monotonic() < deadline
            time.sleep(0.01)
    client.join(WAIT)
    assert replies == [b"hello"]
    assert server.request_counts().completed == 1


def test_a_handler_error_fails_the_block_with_the_handlers_traceback() -> None:
    server = Server(("127.0.0.1", 0), Hello)

    def a_failing_request_then_a_good_one() -> None:
        with serving(server, raise_handler_errors=True) as served:
            assert ask(served.address, b"fail") == b""
            assert ask(served.address) == b"hello"  # the error did not stop the server

    expected = "ValueError: the handler failed on purpose"
    with pytest.raises(HandlerError, match=expected) as caught:
        a_failing_request_then_a_good_one()
    cause = caught.value.__cause__
    assert isinstance(cause, ValueError)
    frames = [frame.f_code.co_name for frame, _line in traceback.walk_tb(cause.__traceback__)]
    assert "handle" in frames  # the handler's own frame


def test_errors_are_not_collected_unless_asked(capsys: pytest.CaptureFixture[str]) -> None:
    server = Server(("127.0.0.1", 0), Hello)
    with serving(server) as served:
        assert ask(served.address, b"fail") == b""
    assert "ValueError: the handler failed on purpose" in capsys.readouterr().err


def test_the_server_is_stopped_and_closed_when_the_block_raises() -> None:
    server = Server(("127.0.0.1", 0), Hello)
    with pytest.raises(KeyError), serving(server) as served:
        raise KeyError("the test failed")
    assert not served.thread.is_alive()
    assert server.socket.fileno() == -1


def test_a_stdlib_server_is_served_and_shut_down_too() -> None:
    server = socketserver.TCPServer(("127.0.0.1", 0), Hello)  # type: ignore[arg-type]
    with serving(server) as served:
        assert ask(served.address) == b"hello"
    assert not served.thread.is_alive()


def test_the_pytest_fixture_serves_until_teardown(serve_in_background: StartServing) -> None:
    server = Server(("127.0.0.1", 0), Hello)
    served = serve_in_background(server, raise_handler_errors=True)
    assert isinstance(served, Served)
    assert ask(served.address) == b"hello"
