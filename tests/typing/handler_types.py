"""mypy-only proofs: handlers see precise request, server and address types."""

from __future__ import annotations

import socket
import socketserver
from collections.abc import Callable
from typing import Any, assert_type

from sockserve.core import (
    BaseRequestHandler,
    BaseServer,
    DatagramRequestHandler,
    RequestHandlerProtocol,
    SocketAddress,
    StreamRequestHandler,
)
from sockserve.inet import InetAddress, TCPServer, UDPServer


class CountingServer(TCPServer):
    handled = 0


class PlainEcho(StreamRequestHandler):
    def handle(self) -> None:
        assert_type(self.request, socket.socket)
        assert_type(self.connection, socket.socket)
        assert_type(self.server, BaseServer[Any, Any])
        assert_type(self.server.request_shutdown, Callable[[], None])
        assert_type(self.client_address, SocketAddress)
        self.wfile.write(self.rfile.readline())


class TypedEcho(StreamRequestHandler[CountingServer, InetAddress]):
    def handle(self) -> None:
        assert_type(self.server, CountingServer)
        assert_type(self.client_address, InetAddress)
        self.server.handled += 1
        host = self.client_address[0]
        assert_type(host, str)


class Datagram(DatagramRequestHandler[UDPServer, InetAddress]):
    def handle(self) -> None:
        assert_type(self.request, tuple[bytes, socket.socket])
        assert_type(self.packet, bytes)
        self.wfile.write(self.rfile.read())


def servers_accept_their_handlers() -> None:
    CountingServer(("127.0.0.1", 0), TypedEcho).server_close()
    TCPServer(("127.0.0.1", 0), PlainEcho).server_close()
    UDPServer(("127.0.0.1", 0), Datagram).server_close()


def a_handler_for_another_server_is_rejected() -> None:
    TCPServer(("127.0.0.1", 0), TypedEcho)  # type: ignore[arg-type]
    UDPServer(("127.0.0.1", 0), PlainEcho)  # type: ignore[arg-type]
    # typeshed types the stdlib's handlers for the stdlib's servers only.
    TCPServer(("127.0.0.1", 0), socketserver.StreamRequestHandler)  # type: ignore[arg-type]


def handlers_satisfy_the_protocol(
    ours: TypedEcho, stdlib: socketserver.StreamRequestHandler
) -> tuple[
    RequestHandlerProtocol[socket.socket, CountingServer, InetAddress],
    RequestHandlerProtocol[socket.socket, socketserver.BaseServer, tuple[str, int]],
]:
    return ours, stdlib


def base_handler_is_generic() -> type[BaseRequestHandler[bytes, TCPServer, str]]:
    class Custom(BaseRequestHandler[bytes, TCPServer, str]):
        pass

    return Custom
