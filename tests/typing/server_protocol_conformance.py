"""mypy-only proofs: every server class satisfies the documented interface.

Checked by ``mypy --strict`` (hatch run types:check), never run. An assignment
fails to type-check if a class drifts from `ServerProtocol`; if the stdlib's
own ``TCPServer`` stopped fitting, the protocol would be stricter than the
stdlib and that would be the bug. Every new server class gets a line here.
"""

from __future__ import annotations

import socket
import socketserver

from sockserve.core import (
    DatagramRequest,
    DatagramServer,
    DrainResult,
    RequestCounts,
    ServerLifecycleProtocol,
    ServerProtocol,
    StreamRequest,
    StreamRequestHandler,
    StreamServer,
)
from sockserve.inet import InetAddress, TCPServer, UDPServer
from sockserve.servers import (
    ThreadPoolTCPServer,
    ThreadPoolUDPServer,
    ThreadPoolUnixDatagramServer,
    ThreadPoolUnixStreamServer,
)
from sockserve.unix import UnixAddress, UnixDatagramAddress

StdlibInetAddress = (
    tuple[str | bytes | bytearray, int] | tuple[str | bytes | bytearray, int, int, int]
)


def stdlib_tcp(server: socketserver.TCPServer) -> ServerProtocol[StreamRequest, StdlibInetAddress]:
    return server


def stdlib_udp(
    server: socketserver.UDPServer,
) -> ServerProtocol[DatagramRequest, StdlibInetAddress]:
    return server


def stream_server(server: StreamServer[str]) -> ServerProtocol[StreamRequest, str]:
    return server


def datagram_server(server: DatagramServer[str]) -> ServerProtocol[DatagramRequest, str]:
    return server


def tcp(server: TCPServer) -> ServerProtocol[StreamRequest, InetAddress]:
    return server


def udp(server: UDPServer) -> ServerProtocol[DatagramRequest, InetAddress]:
    return server


def lifecycle(
    ours: TCPServer, theirs: socketserver.TCPServer
) -> tuple[ServerLifecycleProtocol, ServerLifecycleProtocol]:
    return ours, theirs


def ipv6_subclass() -> ServerProtocol[StreamRequest, InetAddress]:
    class TCP6Server(TCPServer):
        address_family = socket.AF_INET6

    return TCP6Server(("::1", 0), StreamRequestHandler)


def the_protocol_is_not_vacuous(sock: socket.socket, base: socketserver.BaseServer) -> None:
    # strict mypy reports an unused "type: ignore", so these fail the check if
    # the protocol ever started accepting what is not a full server.
    not_a_server: ServerLifecycleProtocol = sock  # type: ignore[assignment]
    no_socket: ServerLifecycleProtocol = base  # type: ignore[assignment]
    wrong_request: ServerProtocol[DatagramRequest, InetAddress] = tcp_server()  # type: ignore[assignment]
    del not_a_server, no_socket, wrong_request


def tcp_server() -> TCPServer:
    return TCPServer(("127.0.0.1", 0), StreamRequestHandler)


def pooled_tcp(server: ThreadPoolTCPServer) -> ServerProtocol[StreamRequest, InetAddress]:
    return server


def pooled_udp(server: ThreadPoolUDPServer) -> ServerProtocol[DatagramRequest, InetAddress]:
    return server


def pooled_unix_stream(
    server: ThreadPoolUnixStreamServer,
) -> ServerProtocol[StreamRequest, UnixAddress]:
    return server


def pooled_unix_datagram(
    server: ThreadPoolUnixDatagramServer,
) -> ServerProtocol[DatagramRequest, UnixDatagramAddress]:
    return server


def pooled_keeps_the_address_type(server: ThreadPoolTCPServer) -> int:
    return server.server_address[1]


def counts_and_drain(server: ThreadPoolTCPServer) -> tuple[RequestCounts, DrainResult]:
    return server.request_counts(), server.drain(1.0)


def run_any(server: ServerProtocol) -> None:
    """How a user says "any server": the bare protocol."""
    server.serve_forever()


def bare_protocol_accepts_every_server(
    tcp: TCPServer,
    udp: UDPServer,
    pooled: ThreadPoolUnixDatagramServer,
    stream: StreamServer[str],
    stdlib_tcp: socketserver.TCPServer,
    stdlib_udp: socketserver.UDPServer,
    stdlib_threading: socketserver.ThreadingUnixStreamServer,
) -> None:
    for server in (tcp, udp, pooled, stream, stdlib_tcp, stdlib_udp, stdlib_threading):
        run_any(server)


def bare_protocol_rejects_what_is_not_a_server(
    sock: socket.socket, base: socketserver.BaseServer
) -> None:
    run_any(sock)  # type: ignore[arg-type]
    run_any(base)  # type: ignore[arg-type]  # typeshed's BaseServer has no socket
