"""`serve_request`: the steps a request goes through in its worker, in every model."""

from __future__ import annotations

import socket
import sys

import pytest

from sockserve.core import BaseServer, Outcome, RequestLedger, serve_request

Request = str
Address = str


class Recorder(BaseServer[Request, Address]):
    """A server with no socket that records which hooks ran, in order."""

    def __init__(self, handler: object, *, verify: bool = True) -> None:
        super().__init__("server", handler)  # type: ignore[arg-type]  # a recording callable
        self.calls: list[str] = []
        self.verify = verify

    def verify_request(self, request: Request, client_address: Address) -> bool:
        self.calls.append("verify_request")
        return self.verify

    def handle_error(self, request: Request, client_address: Address) -> None:
        self.calls.append(f"handle_error {type(sys.exc_info()[1]).__name__}")

    def shutdown_request(self, request: Request) -> None:
        self.calls.append("shutdown_request")


def handled(request: Request, client_address: Address, server: Recorder) -> None:
    server.calls.append(f"handler {request} {client_address}")


def failing(request: Request, client_address: Address, server: Recorder) -> None:
    raise ValueError("the handler failed")


def exiting(request: Request, client_address: Address, server: Recorder) -> None:
    sys.exit(2)


def test_a_request_is_handled_then_shut_down() -> None:
    server = Recorder(handled)
    assert serve_request(server, "req", "client") is Outcome.COMPLETED
    assert server.calls == ["handler req client", "shutdown_request"]


def test_an_exception_is_reported_inside_the_except_block_then_the_request_shut_down() -> None:
    server = Recorder(failing)
    assert serve_request(server, "req", "client") is Outcome.FAILED
    assert server.calls == ["handle_error ValueError", "shutdown_request"]


def test_an_error_after_a_drain_cut_the_request_is_not_reported() -> None:
    server = Recorder(failing)
    ledger = RequestLedger()
    ticket = ledger.begin()
    ledger.cut_all()
    assert serve_request(server, "req", "client", ticket) is Outcome.FAILED
    assert server.calls == ["shutdown_request"]
    assert ledger.counts().cut == 1


def test_a_base_exception_propagates_after_the_request_is_shut_down() -> None:
    server = Recorder(exiting)
    with pytest.raises(SystemExit):
        serve_request(server, "req", "client")
    assert server.calls == ["shutdown_request"]


def test_with_verify_a_refused_request_is_shut_down_unhandled() -> None:
    server = Recorder(handled, verify=False)
    assert serve_request(server, "req", "client", verify=True) is Outcome.REFUSED
    assert server.calls == ["verify_request", "shutdown_request"]


def test_without_verify_the_serving_loop_is_trusted_to_have_called_it() -> None:
    server = Recorder(handled, verify=False)
    assert serve_request(server, "req", "client") is Outcome.COMPLETED
    assert "verify_request" not in server.calls


def test_it_serves_a_real_connection_of_a_socket_server() -> None:
    from .conftest import LoopbackStreamServer

    class Echo:
        def __init__(self, request: socket.socket, address: object, server: object) -> None:
            request.sendall(request.recv(100).upper())

    with LoopbackStreamServer(("127.0.0.1", 0), Echo) as server:
        with socket.create_connection(server.server_address, timeout=10) as client:
            connection, address = server.get_request()
            client.sendall(b"hi")
            assert serve_request(server, connection, address) is Outcome.COMPLETED
            assert client.recv(100) == b"HI"
            assert client.recv(100) == b""  # shut down and closed
        assert connection.fileno() == -1


@pytest.mark.parametrize(
    ("handler", "verify", "outcome"),
    [
        (handled, True, Outcome.COMPLETED),
        (failing, True, Outcome.FAILED),
        (handled, False, Outcome.REFUSED),
    ],
)
def test_the_ticket_ends_with_the_requests_outcome(
    handler: object, verify: bool, outcome: Outcome
) -> None:
    server = Recorder(handler, verify=verify)
    ledger = RequestLedger()
    serve_request(server, "req", "client", ledger.begin(), verify=True)
    counts = ledger.counts()
    assert counts.active == 0
    assert [counts.completed, counts.failed, counts.refused][outcome] == 1
