# mypy: allow-subclassing-any
"""TCPServer: the same handler and clients give the same bytes and the same socket state."""

from __future__ import annotations

import os
import socket
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from tests.inet.conftest import (
        Client,
        Differential,
        Flavour,
        HandlerFactory,
        MakeServer,
        Serve,
        Worker,
    )

BIND_FAILURES = 200


def echo_three_clients(
    flavour: Flavour,
    make_server: MakeServer,
    serve: Serve,
    client: Client,
    echo_handler: HandlerFactory,
    echo_lines: tuple[bytes, ...],
) -> list[list[bytes]]:
    server = make_server(flavour.TCPServer, echo_handler(flavour))
    serve(server)
    conversations: list[Worker[list[bytes]]] = [
        client.start(
            client.converse, server.server_address, [b"%d:" % n + line for line in echo_lines]
        )
        for n in range(3)
    ]
    return [conversation.result() for conversation in conversations]


def test_stream_echo_gives_identical_bytes(
    differential: Differential,
    make_server: MakeServer,
    serve: Serve,
    client: Client,
    echo_handler: HandlerFactory,
    echo_lines: tuple[bytes, ...],
) -> None:
    replies = differential(
        lambda f: echo_three_clients(f, make_server, serve, client, echo_handler, echo_lines)
    )
    assert replies == [
        [b"echo:%d:" % n + line for line in echo_lines] + [b"bye\n"] for n in range(3)
    ]


def test_server_address_is_the_bound_address(
    flavour: Flavour, make_server: MakeServer, echo_handler: HandlerFactory
) -> None:
    server = make_server(flavour.TCPServer, echo_handler(flavour), ("127.0.0.1", 0))
    assert server.server_address == server.socket.getsockname()
    assert server.server_address[0] == "127.0.0.1"
    assert server.server_address[1] > 0


def test_bind_and_activate_can_be_done_by_hand(
    flavour: Flavour,
    make_server: MakeServer,
    client: Client,
    echo_handler: HandlerFactory,
    echo_lines: tuple[bytes, ...],
    echo_replies: list[bytes],
) -> None:
    server = make_server(flavour.TCPServer, echo_handler(flavour), bind_and_activate=False)
    assert server.socket.getsockname() == ("0.0.0.0", 0)
    assert server.server_address == ("127.0.0.1", 0)
    server.server_bind()
    assert server.server_address == server.socket.getsockname() != ("127.0.0.1", 0)
    server.server_activate()
    conversation = client.start(client.converse, server.server_address, echo_lines)
    server.handle_request()
    assert conversation.result() == echo_replies


@pytest.mark.parametrize("kind", ["TCPServer", "UDPServer"])
def test_context_manager_closes_the_socket(
    flavour: Flavour, kind: str, echo_handler: HandlerFactory
) -> None:
    server = getattr(flavour, kind)(("127.0.0.1", 0), echo_handler(flavour))
    with server as entered:
        assert entered is server
        assert server.socket.fileno() != -1
    assert server.socket.fileno() == -1
    assert server.fileno() == -1


def failing_bind(flavour: Flavour) -> tuple[type[BaseException], int]:
    """Bind to port -1; return the exception type and the socket's fd afterwards."""
    sockets: list[socket.socket] = []

    base: Any = flavour.TCPServer

    class Server(base):
        def server_bind(self) -> None:
            sockets.append(self.socket)
            super().server_bind()

    try:
        Server(("127.0.0.1", -1), flavour.StreamRequestHandler)
    except Exception as exc:
        return type(exc), sockets[0].fileno()
    raise AssertionError("binding to port -1 succeeded")


def test_bind_failure_raises_the_same_error_and_closes(differential: Differential) -> None:
    assert differential(failing_bind) == (OverflowError, -1)


def test_bind_failures_leak_no_descriptors(flavour: Flavour) -> None:
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(BIND_FAILURES):
        with pytest.raises(OverflowError):
            flavour.TCPServer(("127.0.0.1", -1), flavour.StreamRequestHandler)
    assert len(os.listdir("/proc/self/fd")) == before


@pytest.mark.parametrize("kind", ["TCPServer", "UDPServer"])
@pytest.mark.parametrize(
    ("option", "flag"),
    [("allow_reuse_address", socket.SO_REUSEADDR), ("allow_reuse_port", socket.SO_REUSEPORT)],
)
@pytest.mark.parametrize("enabled", [False, True], ids=["default", "enabled"])
def test_reuse_options(
    flavour: Flavour,
    make_server: MakeServer,
    kind: str,
    option: str,
    flag: int,
    enabled: bool,
) -> None:
    cls = getattr(flavour, kind)
    if enabled:
        cls = type(cls.__name__, (cls,), {option: True})
    server = make_server(cls, flavour.BaseRequestHandler)
    assert bool(server.socket.getsockopt(socket.SOL_SOCKET, flag)) is enabled
