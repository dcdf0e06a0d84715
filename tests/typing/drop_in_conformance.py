"""mypy-only proofs: every predefined server class of the drop-in satisfies the protocol."""

from __future__ import annotations

from typing import assert_type

from sockserve import socketserver
from sockserve.core import DatagramRequest, ServerProtocol, SocketAddress, StreamRequest
from sockserve.inet import InetAddress
from sockserve.unix import UnixAddress, UnixDatagramAddress


def threading_tcp(
    server: socketserver.ThreadingTCPServer,
) -> ServerProtocol[StreamRequest, InetAddress]:
    return server


def threading_udp(
    server: socketserver.ThreadingUDPServer,
) -> ServerProtocol[DatagramRequest, InetAddress]:
    return server


def forking_tcp(
    server: socketserver.ForkingTCPServer,
) -> ServerProtocol[StreamRequest, InetAddress]:
    return server


def forking_udp(
    server: socketserver.ForkingUDPServer,
) -> ServerProtocol[DatagramRequest, InetAddress]:
    return server


def threading_unix_stream(
    server: socketserver.ThreadingUnixStreamServer,
) -> ServerProtocol[StreamRequest, UnixAddress]:
    return server


def threading_unix_datagram(
    server: socketserver.ThreadingUnixDatagramServer,
) -> ServerProtocol[DatagramRequest, UnixDatagramAddress]:
    return server


class ClassicThreadingServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    """The classic idiom, with the mix-in unparametrised, type-checks..."""


class PreciseThreadingServer(
    socketserver.ThreadingMixIn[StreamRequest, InetAddress], socketserver.TCPServer
):
    """...but only the parametrised mix-in keeps the server's precise types."""


def classic_is_imprecise(server: ClassicThreadingServer) -> None:
    # Known limitation: the mix-in listed first lends its default type
    # arguments to BaseServer's attributes. Parametrise it for precise types.
    assert_type(server.server_address, SocketAddress)


def precise(server: PreciseThreadingServer) -> ServerProtocol[StreamRequest, InetAddress]:
    return server
