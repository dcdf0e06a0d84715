"""mypy-only proofs: the drop-in's classes are servers as typeshed types them, and sockserve's."""

from __future__ import annotations

import socket
import socketserver as stdlib
from typing import Any, assert_type

from sockserve import socketserver
from sockserve.core import BaseServer, ServerProtocol, StreamRequest
from sockserve.inet import InetAddress, TCPServer
from sockserve.mixins import ThreadingMixIn

StdlibInetAddress = (
    tuple[str | bytes | bytearray, int] | tuple[str | bytes | bytearray, int, int, int]
)


def every_predefined_server_is_any_server(
    threading_tcp: socketserver.ThreadingTCPServer,
    threading_udp: socketserver.ThreadingUDPServer,
    forking_tcp: socketserver.ForkingTCPServer,
    forking_udp: socketserver.ForkingUDPServer,
    threading_unix_stream: socketserver.ThreadingUnixStreamServer,
    threading_unix_datagram: socketserver.ThreadingUnixDatagramServer,
) -> list[ServerProtocol]:
    return [
        threading_tcp,
        threading_udp,
        forking_tcp,
        forking_udp,
        threading_unix_stream,
        threading_unix_datagram,
    ]


def typed_as_the_stdlib(server: socketserver.TCPServer, mine: stdlib.TCPServer) -> None:
    # The same member types as typeshed's TCPServer: a program checked
    # against one is checked against the other.
    assert_type(server.server_address, StdlibInetAddress)
    assert_type(mine.server_address, StdlibInetAddress)
    assert_type(server.get_request(), tuple[socket.socket, Any])
    assert_type(mine.get_request(), tuple[socket.socket, Any])


def still_a_sockserve_server(server: socketserver.ThreadingTCPServer) -> BaseServer[Any, Any]:
    server.request_counts()  # sockserve's additions stay typed
    return server


class ClassicThreadingServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    """The stdlib docs' idiom keeps the server's types."""


class ClassicOnSockserve(ThreadingMixIn, socketserver.TCPServer):
    """So does sockserve's own mix-in, unparametrised."""


class PreciseThreadingServer(ThreadingMixIn[StreamRequest, InetAddress], TCPServer):
    """Parametrised, on sockserve's TCPServer, the hooks are precise too."""


def classic_keeps_the_address_type(
    ours: ClassicThreadingServer, mixed: ClassicOnSockserve, precise: PreciseThreadingServer
) -> None:
    assert_type(ours.server_address[1], int)
    assert_type(mixed.server_address[1], int)
    assert_type(precise.server_address[1], int)
    assert_type(ours.socket, socket.socket)
    assert_type(precise.server_address, InetAddress)


def the_drop_in_rejects_what_typeshed_rejects(server: socketserver.TCPServer) -> None:
    # strict mypy reports an unused "type: ignore": each line must stay an error.
    server.server_address = "/tmp/not-an-inet-address"  # type: ignore[assignment]
    server.verify_request(server.socket, ("127.0.0.1", 1), 3)  # type: ignore[call-arg]


class StopsItsServer(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        assert_type(self.server, socketserver.BaseServer)
        assert_type(self.request, Any)
        assert_type(self.client_address, Any)
        self.server.request_shutdown()  # the documented way to stop a sync server from a handler
